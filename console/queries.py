"""The reads behind the console's pages: small functions taking a session, returning rows.

Writes live in services (``console.services``, ``hotline.services.*``); views only call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import (
    OPEN_STATUSES,
    Attendance,
    AuditLog,
    Broadcast,
    Call,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseEvent,
    CaseStatus,
    Direction,
    Group,
    GroupRole,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Message,
    MessageStatus,
    Person,
    Provider,
    Recording,
    Referral,
    Role,
    SchedulerState,
    StaffRole,
    StaffUser,
)
from hotline.services.cases import ACK_DEADLINE, ACK_DEADLINE_EMERGENCY, VIOLENCE

FAILED_WINDOW = timedelta(days=7)
HEARTBEAT_STALE_S = 60


# --------------------------------------------------------------------------------------------
# Who sees which cases (mirrors hotline.services.cases.may_act, as a query condition)
# --------------------------------------------------------------------------------------------


def visible_cases(session: Session, user: StaffUser) -> ColumnElement[bool]:
    """A WHERE condition for the cases ``user`` may see and work."""
    if user.role in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        return true()
    if user.role != StaffRole.PEER_EDUCATOR or user.person_id is None:
        return false()
    person = session.get(Person, user.person_id)
    if person is None or person.erased_at is not None:
        return false()
    if person.role == Role.COORDINATOR:
        return true()
    if person.role != Role.PEER_EDUCATOR:
        return false()
    own_groups = select(Membership.group_id).where(
        Membership.person_id == person.id,
        Membership.left_at.is_(None),
        Membership.role == GroupRole.PEER_EDUCATOR,
    )
    mine = or_(Case.assignee_id == person.id, Case.group_id.in_(own_groups))
    if person.trained_violence:
        return mine
    return and_(mine, Case.category != VIOLENCE)


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    open_emergency: int = 0
    open_normal: int = 0
    open_by_status: list[tuple[str, int]] = field(default_factory=list)
    open_by_category: list[tuple[int, int]] = field(default_factory=list)
    overdue: list[Case] = field(default_factory=list)
    overdue_count: int = 0
    backlog: int = 0
    deferred: int = 0
    failed_count: int = 0
    failed: list[Message] = field(default_factory=list)
    heartbeat_age_s: float | None = None
    triage_waiting: int = 0

    @property
    def heartbeat_ok(self) -> bool:
        return self.heartbeat_age_s is not None and self.heartbeat_age_s < HEARTBEAT_STALE_S


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Cases nobody has acknowledged within the deadline (15 min emergency, 24 h else), or
    whose escalation step is past due (the scheduler is behind)."""
    late = or_(
        and_(Case.emergency.is_(True), Case.created_at <= now - ACK_DEADLINE_EMERGENCY),
        and_(Case.emergency.is_(False), Case.created_at <= now - ACK_DEADLINE),
        Case.next_action_at <= now,
    )
    return and_(Case.status == CaseStatus.NEW, Case.acknowledged_at.is_(None), late)


def dashboard(session: Session, now: datetime, user: StaffUser) -> Dashboard:
    seen = visible_cases(session, user)
    is_open = and_(Case.status.in_(OPEN_STATUSES), seen)
    d = Dashboard()
    for emergency, count in session.execute(
        select(Case.emergency, func.count(Case.id)).where(is_open).group_by(Case.emergency)
    ):
        if emergency:
            d.open_emergency = count
        else:
            d.open_normal = count
    d.open_by_status = [
        (status, count)
        for status, count in session.execute(
            select(Case.status, func.count(Case.id)).where(is_open).group_by(Case.status)
        )
    ]
    order = {s: i for i, s in enumerate(OPEN_STATUSES)}
    d.open_by_status.sort(key=lambda row: order.get(row[0], 99))
    d.open_by_category = sorted(
        session.execute(
            select(Case.category, func.count(Case.id)).where(is_open).group_by(Case.category)
        ).all()
    )
    d.overdue_count = session.scalar(
        select(func.count(Case.id)).where(seen, overdue_condition(now))
    ) or 0
    d.overdue = list(
        session.scalars(
            select(Case)
            .where(seen, overdue_condition(now))
            .options(selectinload(Case.assignee))
            .order_by(Case.emergency.desc(), Case.created_at)
            .limit(20)
        )
    )
    outbound = Message.direction == Direction.OUT
    d.backlog = session.scalar(
        select(func.count(Message.id)).where(
            outbound,
            Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
            Message.due_at <= now,
        )
    ) or 0
    d.deferred = session.scalar(
        select(func.count(Message.id)).where(
            outbound, Message.status == MessageStatus.QUEUED, Message.due_at > now
        )
    ) or 0
    failed = and_(
        outbound,
        Message.status.in_([MessageStatus.FAILED, MessageStatus.UNDELIVERED]),
        Message.created_at >= now - FAILED_WINDOW,
    )
    d.failed_count = session.scalar(select(func.count(Message.id)).where(failed)) or 0
    d.failed = list(
        session.scalars(select(Message).where(failed).order_by(Message.id.desc()).limit(10))
    )
    beat = session.scalar(
        select(SchedulerState.heartbeat_at).where(SchedulerState.name == "scheduler")
    )
    d.heartbeat_age_s = None if beat is None else round((now - beat).total_seconds(), 1)
    d.triage_waiting = triage_count(session)
    return d


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    status: str = "open"  # open, all, or one status
    category: int | None = None
    emergency: bool = False
    assignee: str = ""  # "", "me", "none", or a person id
    group_id: int | None = None
    channel: str = ""
    number: int | None = None


def case_inbox(session: Session, user: StaffUser, f: CaseFilters, page: int = 1,
               size: int = 50) -> tuple[list[Case], int]:
    """The cases ``user`` may see, filtered; (one page of them, how many in all)."""
    where = [visible_cases(session, user)]
    if f.status == "open":
        where.append(Case.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        where.append(Case.status == f.status)
    if f.category:
        where.append(Case.category == f.category)
    if f.emergency:
        where.append(Case.emergency.is_(True))
    if f.assignee == "me":
        where.append(Case.assignee_id == (user.person_id or -1))
    elif f.assignee == "none":
        where.append(Case.assignee_id.is_(None))
    elif f.assignee.isdigit():
        where.append(Case.assignee_id == int(f.assignee))
    if f.group_id:
        where.append(Case.group_id == f.group_id)
    if f.channel:
        where.append(Case.channel == f.channel)
    if f.number is not None:
        where.append(Case.number == f.number)
    total = session.scalar(select(func.count(Case.id)).where(*where)) or 0
    rows = session.scalars(
        select(Case)
        .where(*where)
        .options(selectinload(Case.person), selectinload(Case.assignee))
        .order_by(Case.emergency.desc(), Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return list(rows), total


def case_filter_choices(session: Session, user: StaffUser) -> dict:
    """Groups, assignees and channels to offer in the inbox filters."""
    seen = visible_cases(session, user)
    groups = session.scalars(
        select(Group).where(Group.id.in_(select(Case.group_id).where(seen))).order_by(Group.code)
    ).all()
    assignees = session.scalars(
        select(Person).where(Person.id.in_(select(Case.assignee_id).where(seen)))
        .order_by(Person.name)
    ).all()
    channels = session.scalars(select(Case.channel).where(seen).distinct()).all()
    return {"groups": groups, "assignees": assignees, "channels": sorted(channels)}


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # event, message, recording, referral
    row: object


@dataclass
class CaseDetail:
    case: Case
    group: Group | None
    timeline: list[TimelineItem]
    recordings: list[Recording]
    referrals: list[Referral]
    assignable: list[Person]
    providers: list[Provider]
    actors: dict[int, str]


def case_detail(session: Session, case: Case) -> CaseDetail:
    """Everything the case page shows, its timeline oldest first."""
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    messages = session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id)
    ).all()
    recordings = session.scalars(
        select(Recording).where(Recording.case_id == case.id).order_by(Recording.id)
    ).all()
    referrals = session.scalars(
        select(Referral).where(Referral.case_id == case.id)
        .options(selectinload(Referral.provider)).order_by(Referral.id)
    ).all()
    items = [TimelineItem(e.at, "event", e) for e in events]
    items += [TimelineItem(m.created_at, "message", m) for m in messages]
    items += [TimelineItem(r.created_at, "recording", r) for r in recordings]
    items.sort(key=lambda i: (i.at, i.kind != "event"))
    people_ids = {e.actor_person_id for e in events if e.actor_person_id}
    people_ids |= {e.data.get("person_id") for e in events if e.data and e.data.get("person_id")}
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    actors = {}
    if people_ids:
        for p in session.scalars(select(Person).where(Person.id.in_(people_ids))):
            actors[p.id] = p.name or p.phone or f"#{p.id}"
    users = {}
    if user_ids:
        users = {u.id: u.name or u.username
                 for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(user_ids)))}
    actors.update({-uid: name for uid, name in users.items()})
    group = session.get(Group, case.group_id) if case.group_id else None
    return CaseDetail(
        case=case, group=group, timeline=items, recordings=list(recordings),
        referrals=list(referrals), assignable=assignable_people(session, case),
        providers=list(session.scalars(
            select(Provider).where(Provider.active.is_(True)).order_by(Provider.code)
        )),
        actors=actors,
    )


def assignable_people(session: Session, case: Case) -> list[Person]:
    """Peer educators (trained ones for violence cases) and coordinators, group's first."""
    query = select(Person).where(
        Person.erased_at.is_(None),
        Person.role.in_([Role.PEER_EDUCATOR, Role.COORDINATOR]),
    )
    if case.category == VIOLENCE:
        query = query.where(
            or_(Person.role == Role.COORDINATOR, Person.trained_violence.is_(True))
        )
    people = list(session.scalars(query.order_by(Person.role.desc(), Person.name)))
    if case.group_id:
        in_group = set(session.scalars(
            select(Membership.person_id).where(
                Membership.group_id == case.group_id, Membership.left_at.is_(None)
            )
        ))
        people.sort(key=lambda p: p.id not in in_group)
    return people


# --------------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------------


def _waiting():
    return and_(
        Message.direction == Direction.IN,
        Message.needs_staff.is_(True),
        Message.triaged_at.is_(None),
    )


def triage_count(session: Session) -> int:
    return session.scalar(select(func.count(Message.id)).where(_waiting())) or 0


def triage_inbox(session: Session, limit: int = 100) -> list[Message]:
    """Inbound messages a person has to read, oldest first."""
    return list(session.scalars(
        select(Message).where(_waiting()).options(selectinload(Message.person))
        .order_by(Message.created_at, Message.id).limit(limit)
    ))


def triage_recent(session: Session, limit: int = 20) -> list[Message]:
    return list(session.scalars(
        select(Message)
        .where(Message.direction == Direction.IN, Message.needs_staff.is_(True),
               Message.triaged_at.is_not(None))
        .options(selectinload(Message.person))
        .order_by(Message.triaged_at.desc(), Message.id.desc()).limit(limit)
    ))


def conversation(session: Session, phone: str, limit: int = 10) -> list[Message]:
    """The latest messages to and from ``phone``, oldest first."""
    rows = session.scalars(
        select(Message).where(Message.phone == phone)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    ).all()
    return list(reversed(rows))


# --------------------------------------------------------------------------------------------
# Groups and meetings
# --------------------------------------------------------------------------------------------


def groups_overview(session: Session) -> list[tuple[Group, int, datetime | None]]:
    """Every group with its current member count and next scheduled meeting."""
    members = dict(session.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.left_at.is_(None)).group_by(Membership.group_id)
    ).all())
    upcoming = dict(session.execute(
        select(Meeting.group_id, func.min(Meeting.starts_at))
        .where(Meeting.status == "scheduled").group_by(Meeting.group_id)
    ).all())
    groups = session.scalars(select(Group).order_by(Group.active.desc(), Group.code)).all()
    return [(g, members.get(g.id, 0), upcoming.get(g.id)) for g in groups]


def group_members(session: Session, group: Group) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.left_at.is_(None))
        .options(selectinload(Membership.person)).order_by(Membership.role, Membership.id)
    ))


def group_meetings(session: Session, group: Group, limit: int = 30) -> list[Meeting]:
    return list(session.scalars(
        select(Meeting).where(Meeting.group_id == group.id)
        .order_by(Meeting.starts_at.desc()).limit(limit)
    ))


@dataclass(frozen=True)
class SeriesRow:
    series: MeetingSeries
    upcoming: list[Meeting]  # its scheduled meetings still ahead, soonest first
    planned: int  # how many of them there are in all


def group_series(session: Session, group: Group, now: datetime, show: int = 4
                 ) -> list[SeriesRow]:
    """The group's recurring meetings, running ones first, each with what is still ahead."""
    series = session.scalars(
        select(MeetingSeries).where(MeetingSeries.group_id == group.id)
        .order_by(MeetingSeries.active.desc(), MeetingSeries.id.desc())
    ).all()
    if not series:
        return []
    ahead: dict[int, list[Meeting]] = {s.id: [] for s in series}
    for meeting in session.scalars(
        select(Meeting).where(Meeting.series_id.in_(ahead),
                              Meeting.status == MeetingStatus.SCHEDULED,
                              Meeting.starts_at > now)
        .order_by(Meeting.starts_at, Meeting.id)
    ):
        ahead[meeting.series_id].append(meeting)
    return [SeriesRow(s, ahead[s.id][:show], len(ahead[s.id])) for s in series]


def meeting_attendance(session: Session, meeting: Meeting
                       ) -> list[tuple[Person, Attendance | None]]:
    """The group's current members (and anyone already recorded) with their attendance row."""
    rows = {a.person_id: a for a in session.scalars(
        select(Attendance).where(Attendance.meeting_id == meeting.id)
    )}
    people = {m.person.id: m.person for m in group_members(session, meeting.group)}
    if rows:
        for p in session.scalars(select(Person).where(Person.id.in_(rows))):
            people.setdefault(p.id, p)
    ordered = sorted(people.values(), key=lambda p: (p.name or "", p.id))
    return [(p, rows.get(p.id)) for p in ordered]


# --------------------------------------------------------------------------------------------
# Directory, audit, people
# --------------------------------------------------------------------------------------------


def providers(session: Session) -> list[Provider]:
    return list(session.scalars(select(Provider).order_by(Provider.active.desc(), Provider.code)))


def audit_entries(session: Session, *, action: str = "", user: str = "", object_type: str = "",
                  object_id: str = "", page: int = 1, size: int = 100
                  ) -> tuple[list[AuditLog], int]:
    where = []
    if action:
        where.append(AuditLog.action == action)
    if user:
        where.append(AuditLog.actor == user)
    if object_type:
        where.append(AuditLog.object_type == object_type)
    if object_id:
        where.append(AuditLog.object_id == object_id)
    total = session.scalar(select(func.count(AuditLog.id)).where(*where)) or 0
    rows = session.scalars(
        select(AuditLog).where(*where).order_by(AuditLog.id.desc())
        .offset((page - 1) * size).limit(size)
    ).all()
    return list(rows), total


def audit_actions(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditLog.action).distinct()))


def person_cases(session: Session, person: Person, user: StaffUser) -> list[Case]:
    return list(session.scalars(
        select(Case).where(Case.person_id == person.id, visible_cases(session, user))
        .order_by(Case.created_at.desc())
    ))


def person_memberships(session: Session, person: Person) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.person_id == person.id)
        .options(selectinload(Membership.group)).order_by(Membership.joined_at.desc())
    ))


def person_activity(session: Session, person: Person) -> dict[str, int]:
    return {
        "messages_in": session.scalar(select(func.count(Message.id)).where(
            Message.person_id == person.id, Message.direction == Direction.IN)) or 0,
        "messages_out": session.scalar(select(func.count(Message.id)).where(
            Message.person_id == person.id, Message.direction == Direction.OUT)) or 0,
        "calls": session.scalar(select(func.count(Call.id)).where(
            Call.person_id == person.id)) or 0,
    }


def all_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).where(Group.active.is_(True)).order_by(Group.code)))


def wards(session: Session) -> list[str]:
    """Every ward name known (old and current), for filters."""
    names = set()
    for col in (Person.ward_old, Person.ward_current, Group.ward_old, Group.ward_current):
        names.update(n for n in session.scalars(select(col).distinct()) if n)
    return sorted(names)


# --------------------------------------------------------------------------------------------
# Console users
# --------------------------------------------------------------------------------------------


def staff_users(session: Session) -> list[tuple[StaffUser, Person | None]]:
    """Every console login with the person it stands for; active ones first."""
    rows = session.execute(
        select(StaffUser, Person).outerjoin(Person, Person.id == StaffUser.person_id)
        .order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username)
    ).all()
    return [(user, person) for user, person in rows]


def linkable_people(session: Session) -> list[Person]:
    """People a login may stand for: peer educators and coordinators."""
    return list(session.scalars(
        select(Person).where(Person.erased_at.is_(None),
                             Person.role.in_([Role.PEER_EDUCATOR, Role.COORDINATOR]))
        .order_by(Person.role, Person.name, Person.id)
    ))


# --------------------------------------------------------------------------------------------
# Phone simulator
# --------------------------------------------------------------------------------------------


SHOWN_ON_PHONE = (MessageStatus.SENT, MessageStatus.DELIVERED)


def phone_inbox(session: Session, phone: str, limit: int = 30) -> list[Message]:
    """Texts the line sent to ``phone`` that have left the outbox, newest first."""
    return list(session.scalars(
        select(Message).where(
            Message.direction == Direction.OUT,
            Message.phone == phone,
            Message.status.in_(SHOWN_ON_PHONE),
        ).order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)
    ))


def phone_pending(session: Session, phone: str) -> int:
    """Texts to ``phone`` still waiting in the outbox (quiet hours, the daily cap)."""
    return session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.OUT, Message.phone == phone,
        Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
    )) or 0


# A placed call rings until it is answered (in-progress) or ends (an outcome).
RINGING_STATUSES = ("queued", "initiated", "ringing")


@dataclass(frozen=True)
class RingingCallback:
    callback_id: int
    call_sid: str  # the external id the voice gateway returned for the placed call
    reason: str
    since: datetime


def ringing_callbacks(session: Session, phone: str, callback_id: int | None = None
                      ) -> list[RingingCallback]:
    """Callbacks the line is placing to ``phone`` right now (status ``calling``, the call
    recorded and not yet answered or ended), oldest first."""
    query = (
        select(CallbackRequest.id, Call.external_id, CallbackRequest.reason, Call.started_at)
        .join(Call, Call.id == CallbackRequest.call_id)
        .where(CallbackRequest.status == CallbackStatus.CALLING,
               CallbackRequest.phone == phone,
               Call.outcome.is_(None), Call.status.in_(RINGING_STATUSES))
        .order_by(CallbackRequest.id)
    )
    if callback_id is not None:
        query = query.where(CallbackRequest.id == callback_id)
    return [RingingCallback(*row) for row in session.execute(query)]


def open_callback(session: Session, phone: str, now: datetime, settings
                  ) -> tuple[CallbackRequest, datetime] | None:
    """The callback still to be made to ``phone`` (queued or being placed), if any, and the
    first moment the line may place it (call hours, the person's safe-contact window)."""
    from hotline.services.calls import next_allowed

    callback = session.scalar(
        select(CallbackRequest)
        .where(CallbackRequest.phone == phone,
               CallbackRequest.status.in_([CallbackStatus.QUEUED, CallbackStatus.CALLING]))
        .order_by(CallbackRequest.id).limit(1)
    )
    if callback is None:
        return None
    if callback.status == CallbackStatus.CALLING:
        return callback, now
    person = session.get(Person, callback.person_id) if callback.person_id else None
    return callback, next_allowed(max(now, callback.due_at), callback, person, settings)


def known_phones(session: Session, limit: int = 50) -> list[Person]:
    return list(session.scalars(
        select(Person).where(Person.phone.is_not(None), Person.erased_at.is_(None))
        .order_by(Person.role.desc(), Person.name, Person.id).limit(limit)
    ))


# --------------------------------------------------------------------------------------------
# Broadcasts
# --------------------------------------------------------------------------------------------


def recent_broadcasts(session: Session, limit: int = 20) -> list[tuple[Broadcast, dict]]:
    """The latest broadcasts with their messages counted by status (progress)."""
    from hotline.services.broadcasts import progress

    rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)).all()
    return [(b, progress(session, b)) for b in rows]


def recipients_sample(session: Session, segment: dict, now: datetime, limit: int = 50
                      ) -> list[Person]:
    from hotline.services.broadcasts import recipients_query

    return list(session.scalars(recipients_query(segment, now).limit(limit)))


def occupations(session: Session) -> list[str]:
    return sorted(o for o in session.scalars(select(Person.occupation).distinct()) if o)


def recording_by_media(session: Session, suffix: str) -> Recording | None:
    """The recording whose media URL ends with ``suffix`` (a simulator recording's sid)."""
    return session.scalar(select(Recording).where(Recording.media_url.endswith(suffix)).limit(1))
