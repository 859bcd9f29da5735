"""Cases as the console lists and shows them, seen through ``cases.visible``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from hotline.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Group,
    Membership,
    Message,
    Person,
    Provider,
    Recording,
    Referral,
    Role,
    StaffUser,
)
from hotline.queries.people import as_phone, has_number
from hotline.services import cases
from hotline.services.cases import Actor


@dataclass(frozen=True)
class CaseFilters:
    status: str = "open"  # open, all, or one status
    category: int | None = None
    emergency: bool = False
    assignee: str = ""  # "", "me", "none", or a person id
    group_id: int | None = None
    channel: str = ""
    number: int | None = None
    q: str = ""  # a case number, a phone number in any format, a name or words of the story
    ward: str = ""  # the member's ward, old or current


def _search(q: str):
    """The condition for ``q``: a phone number (current or earlier, any format), a case
    number, or words found in the member's name or in the case's summary."""
    phone = as_phone(q)
    if phone is not None:
        return Case.person_id.in_(select(Person.id).where(has_number(phone)))
    if q.isdigit():
        return Case.number == int(q)
    words = q.split()[:6]
    named = select(Person.id).where(*[Person.name.ilike(f"%{w}%") for w in words])
    return or_(Case.person_id.in_(named),
               and_(*[Case.summary.ilike(f"%{w}%") for w in words]))


def case_inbox(session: Session, user: StaffUser, f: CaseFilters, page: int = 1,
               size: int = 50) -> tuple[list[Case], int]:
    """The cases ``user`` may see, filtered; (one page of them, how many in all)."""
    where = [cases.visible(session, Actor(user=user))]
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
    if f.q.strip():
        where.append(_search(f.q.strip()[:80]))
    if f.ward:
        where.append(Case.person_id.in_(select(Person.id).where(
            or_(Person.ward_current == f.ward, Person.ward_old == f.ward))))
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
    seen = cases.visible(session, Actor(user=user))
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
    """Peer educators (trained ones for violence and emergency cases) and coordinators,
    group's first."""
    query = select(Person).where(
        Person.erased_at.is_(None),
        Person.role.in_([Role.PEER_EDUCATOR, Role.COORDINATOR]),
        cases.trained_for(case.category, case.emergency),
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


def person_cases(session: Session, person: Person, user: StaffUser) -> list[Case]:
    return list(session.scalars(
        select(Case).where(Case.person_id == person.id, cases.visible(session, Actor(user=user)))
        .order_by(Case.created_at.desc())
    ))
