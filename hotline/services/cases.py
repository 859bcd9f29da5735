"""Cases: open, route, alert, accept, note, refer, resolve, give back, reopen.

Every verb takes the session, ``now`` and (where it tells someone) the outbox; it
records a timeline event, flushes, and leaves the commit to the caller. An actor
is a Person (acting by SMS) or a StaffUser (acting in the console).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, false, insert, or_, select, true
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import (
    CASE_NUMBER_OFFSET,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Group,
    GroupRole,
    Kind,
    Lane,
    Membership,
    Person,
    Provider,
    Referral,
    Role,
    StaffRole,
    StaffUser,
)
from hotline.services import voice_notices
from hotline.services.outbox import Outbox
from hotline.templates import CATEGORY_WORDS, STATUS_WORDS, render

ACK_DEADLINE = timedelta(hours=24)
# An emergency nobody accepted within this long: the next responder is called (see
# ``hotline.services.emergency``).
ACK_DEADLINE_EMERGENCY = timedelta(minutes=10)
# Accepted but untouched this long: remind the assignee, then the coordinator.
STALE_AFTER = timedelta(days=3)
FOLLOWUP_AFTER = timedelta(days=3)
FOLLOWUP_WAIT = timedelta(days=4)


class CaseError(Exception):
    """An action that is not allowed; the message is for logs, never for the member."""


@dataclass(frozen=True)
class Actor:
    person: Person | None = None
    user: StaffUser | None = None

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person else None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


def event(session: Session, case: Case, now: datetime, kind: str, actor: Actor | None = None,
          note: str = "", **data) -> CaseEvent:
    ev = CaseEvent(**event_row(case, now, kind, actor, note, **data))
    session.add(ev)
    return ev


def event_row(case: Case, now: datetime, kind: str, actor: Actor | None = None,
              note: str = "", **data) -> dict:
    """The ``case_events`` row ``event`` adds (for many inserted at once)."""
    return {"case_id": case.id, "at": now, "kind": kind, "note": note, "data": data or None,
            "actor_person_id": actor.person_id if actor else None,
            "actor_user_id": actor.user_id if actor else None}


def add_events(session: Session, rows: list[dict]) -> None:
    """``event_row`` rows inserted in one statement, in order: rows, not ``CaseEvent``
    objects in the session (the ORM inserts those one by one on SQLite to learn each id);
    the timeline reads them from the table."""
    if rows:
        session.connection().execute(insert(CaseEvent.__table__), rows)


def current_group(session: Session, person: Person) -> Group | None:
    return session.scalar(
        select(Group)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.person_id == person.id, Membership.left_at.is_(None))
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
        .limit(1)
    )


def open_case(
    session: Session,
    now: datetime,
    outbox: Outbox,
    *,
    person: Person,
    channel: str,
    summary: str = "",
    category: int | None = None,
    emergency: bool = False,
    member_chose: bool = False,
) -> Case:
    """Open a case for ``person``, route it and alert whoever should act. ``member_chose``:
    the category is the number she gave (KN 6, a voice key), kept as a hint to confirm."""
    if category is not None and category not in CATEGORY_WORDS:
        category = None
    group = current_group(session, person)
    case = Case(
        person_id=person.id,
        group_id=group.id if group else None,
        category=category or Category.OTHER,
        category_hint=category if member_chose else None,
        emergency=emergency,
        status=CaseStatus.NEW,
        channel=channel,
        summary=summary,
        created_at=now,
    )
    session.add(case)
    session.flush()
    # Short, sequential, easy to key on a phone; the id makes it unique without a race.
    case.number = case.id + CASE_NUMBER_OFFSET
    event(session, case, now, "created", Actor(person=person), channel=channel)
    route(session, now, outbox, case)
    session.flush()
    return case


def candidates(session: Session, case: Case) -> list[Person]:
    """Who may take ``case``, best first: the group's peer educators, then the ward's,
    then those on duty; violence and emergency cases only to people trained for them."""
    pe = select(Person).where(Person.role == Role.PEER_EDUCATOR, Person.erased_at.is_(None),
                              trained_for(case.category, case.emergency))
    found: list[Person] = []
    if case.group_id is not None:
        found += session.scalars(
            pe.join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == case.group_id, Membership.left_at.is_(None),
                   Membership.role == GroupRole.PEER_EDUCATOR)
            .order_by(Person.duty_order, Person.id)
        ).all()
    ward = case.person.ward_current if case.person else None
    if ward:
        found += session.scalars(
            pe.join(Membership, Membership.person_id == Person.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.ward_current == ward, Membership.left_at.is_(None),
                   Membership.role == GroupRole.PEER_EDUCATOR)
            .order_by(Person.duty_order, Person.id)
        ).all()
    found += session.scalars(pe.where(Person.on_duty.is_(True))
                             .order_by(Person.duty_order, Person.id)).all()
    unique: list[Person] = []
    for person in found:
        if person not in unique and person.id != case.person_id:
            unique.append(person)
    return unique


def coordinators(session: Session) -> list[Person]:
    return list(session.scalars(
        select(Person)
        .where(Person.role == Role.COORDINATOR, Person.erased_at.is_(None))
        .order_by(Person.duty_order, Person.id)
    ))


def route(session: Session, now: datetime, outbox: Outbox, case: Case) -> Person | None:
    """Assign ``case`` to the person at its escalation level and alert them.

    Level n is the n-th candidate; past the last candidate the coordinator takes it.
    Violence and emergency cases alert the coordinator at once as well.
    """
    people = candidates(session, case)
    coords = coordinators(session)
    level = case.escalation_level
    target = people[level] if level < len(people) else (coords[0] if coords else None)
    if target is not None:
        assign(session, now, outbox, case, target, alert_key="alert")
    deadline = ACK_DEADLINE_EMERGENCY if case.emergency else ACK_DEADLINE
    case.next_action_at = now + deadline
    if level == 0 and case.emergency:
        from hotline.services import emergency

        emergency.alert_everyone(session, now, outbox, case, except_=target)
    elif level == 0 and case.category == Category.VIOLENCE:
        for coord in coords:
            if coord is not target:
                _alert(outbox, now, case, coord, "alert")
                event(session, case, now, "alerted", person_id=coord.id, role="coordinator")
    return target


def assign(session: Session, now: datetime, outbox: Outbox, case: Case, to: Person,
           *, actor: Actor | None = None, alert_key: str = "alert") -> None:
    case.assignee_id = to.id
    case.assignee = to
    case.assigned_at = now
    event(session, case, now, "assigned", actor, person_id=to.id, level=case.escalation_level)
    _alert(outbox, now, case, to, alert_key)


def _alert(outbox: Outbox, now: datetime, case: Case, to: Person, key: str, **values) -> None:
    message = alert_message(case, to, key, **values)
    if message is not None:
        outbox.enqueue(now, **message)


def alert_message(case: Case, to: Person, key: str, **values) -> dict | None:
    """The alert ``key`` about ``case`` to ``to``, as ``Outbox.enqueue``'s arguments (None:
    she has no phone)."""
    if case.emergency and key == "alert":
        key = "alert_emergency"
    if not to.phone:
        return None
    return {
        "to": to.phone,
        "body": render(key, number=case.number, category=CATEGORY_WORDS[case.category],
                       **values),
        "kind": Kind.URGENT if case.emergency else Kind.NORMAL,
        "lane": Lane.EMERGENCY if case.emergency else Lane.ALERT,
        "person": to, "case_id": case.id,
        "key": f"case:{case.id}:{key}:{to.id}:{case.escalation_level}:{case.reopened_count}",
    }


def tell_moved(session: Session, now: datetime, outbox: Outbox, case: Case,
               before: Person) -> None:
    """``before`` no longer has ``case`` (it went to someone else): she is told, once."""
    if before.phone and before.erased_at is None:
        outbox.enqueue(
            now, before.phone, render("case_moved", number=case.number),
            kind=Kind.URGENT if case.emergency else Kind.NORMAL, person=before,
            lane=Lane.EMERGENCY if case.emergency else Lane.ALERT, case_id=case.id,
            key=f"case:{case.id}:case_moved:{before.id}:{case.assignee_id}",
        )
    event(session, case, now, "moved_from", person_id=before.id)


def _tell_member(outbox: Outbox, now: datetime, case: Case, key: str, *, what: str = "",
                 voice: dict | None = None, **values) -> None:
    """Tell the member ``key`` about her case, once per case life; ``what`` names what is
    said when the same template can say something new (a second referral). ``voice``: what
    a voice notice says beyond the SMS's values (``voice_notices``)."""
    member = case.person
    if member is None or not member.phone or member.erased_at:
        return
    key_sent = f"case:{case.id}:{key}:{case.reopened_count}" + (f":{what}" if what else "")
    msg = outbox.enqueue(
        now, member.phone, render(key, number=case.number, **values),
        kind=Kind.NORMAL, person=member, case_id=case.id, key=key_sent,
    )
    # Told by a call instead (or as well) when she asked for voice: the same words, spoken.
    voice_notices.tell(outbox.session, now, member, key, msg, ref=key_sent,
                       say={"number": case.number, **(voice or {}),
                            **{k: v for k, v in values.items() if k in ("provider", "phone")}})


def groups_led_by(session: Session, person: Person) -> list[int]:
    """Groups in which ``person`` is the peer educator now."""
    return list(session.scalars(
        select(Membership.group_id).where(
            Membership.person_id == person.id, Membership.left_at.is_(None),
            Membership.role == GroupRole.PEER_EDUCATOR)
    ))


def _acting_person(session: Session, actor: Actor) -> Person | None | bool:
    """The person whose rights decide what ``actor`` may work: True for staff who may work
    every case, None for those who may work none."""
    if actor.user is not None:
        user = actor.user
        if user.role in (StaffRole.ADMIN, StaffRole.COORDINATOR):
            return True
        if user.role != StaffRole.PEER_EDUCATOR or user.person_id is None:
            return None
        person = session.get(Person, user.person_id)
    else:
        person = actor.person
    if person is None or person.erased_at is not None:
        return None
    if person.role == Role.COORDINATOR:
        return True
    return person if person.role == Role.PEER_EDUCATOR else None


def needs_training(category: int | None, emergency: bool = False) -> bool:
    """The training rule: violence and emergency cases are worked only by people trained
    for them (coordinators always may)."""
    return category == Category.VIOLENCE or bool(emergency)


def trained_for(category: int | None, emergency: bool = False) -> ColumnElement[bool]:
    """The training rule on people: who may work a case of ``category``."""
    if not needs_training(category, emergency):
        return true()
    return or_(Person.role == Role.COORDINATOR, Person.trained_violence.is_(True))


def cases_trained_for(person: Person) -> ColumnElement[bool]:
    """The same rule on cases: those ``person`` may work."""
    if person.role == Role.COORDINATOR or person.trained_violence:
        return true()
    return and_(Case.category != Category.VIOLENCE, Case.emergency.is_(False))


def visible(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The one rule for who may see and work a case, as a WHERE condition on ``Case``:
    its assignee, a peer educator of its group or (an emergency) anyone on call, violence
    and emergencies only when trained (``needs_training``); every coordinator and admin.
    ``may_act`` applies it to a single case."""
    person = _acting_person(session, actor)
    if person is True:
        return true()
    if person is None:
        return false()
    return _works_on(person)


def _works_on(person: Person) -> ColumnElement[bool]:
    own_groups = select(Membership.group_id).where(
        Membership.person_id == person.id,
        Membership.left_at.is_(None),
        Membership.role == GroupRole.PEER_EDUCATOR,
    )
    mine = [Case.assignee_id == person.id, Case.group_id.in_(own_groups)]
    if person.on_duty:  # every trained responder on call is alerted to an emergency
        mine.append(Case.emergency.is_(True))
    return and_(or_(*mine), cases_trained_for(person))


def may_act(session: Session, case: Case, actor: Actor) -> bool:
    """Whether ``actor`` may work ``case``: ``visible``, for one case."""
    person = _acting_person(session, actor)
    if person is True or person is None:
        return person is True
    return session.scalar(
        select(Case.id).where(Case.id == case.id, _works_on(person)).limit(1)
    ) is not None


def _require(session: Session, case: Case, actor: Actor) -> None:
    if not may_act(session, case, actor):
        raise CaseError("not allowed on this case")


def accept(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor) -> None:
    """The peer educator takes the case; the member hears someone has it."""
    _require(session, case, actor)
    if not case.is_open:
        raise CaseError("case is not open")
    if actor.person is not None and case.assignee_id != actor.person.id:
        case.assignee_id, case.assigned_at = actor.person.id, case.assigned_at or now
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    if case.status == CaseStatus.NEW:
        case.status = CaseStatus.ACKNOWLEDGED
    case.next_action_at = now + STALE_AFTER
    case.escalation_level = 0
    event(session, case, now, "accepted", actor)
    _tell_member(outbox, now, case, "case_accepted")
    session.flush()


def add_note(session: Session, now: datetime, case: Case, actor: Actor, note: str,
             *, contacted: bool = True) -> None:
    """A note on the timeline; it counts as contact with the member and as progress."""
    _require(session, case, actor)
    if contacted and case.first_contact_at is None:
        case.first_contact_at = now
    if case.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED):
        case.acknowledged_at = case.acknowledged_at or now
        case.status = CaseStatus.IN_PROGRESS
    if case.is_open and case.status != CaseStatus.NEW:
        case.next_action_at = now + STALE_AFTER
        case.escalation_level = 0
    event(session, case, now, "note", actor, note=note)
    session.flush()


def find_provider(session: Session, code: str) -> Provider | None:
    return session.scalar(
        select(Provider).where(Provider.code == code.strip().upper(), Provider.active.is_(True))
    )


def refer(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor,
          provider: Provider) -> Referral:
    """Refer to a provider; the member gets its name and number by SMS."""
    _require(session, case, actor)
    if not case.is_open:
        raise CaseError("case is not open")
    referral = Referral(case_id=case.id, provider_id=provider.id, referred_at=now,
                        by_person_id=actor.person_id)
    session.add(referral)
    session.flush()  # its id names what the member is told
    case.status = CaseStatus.REFERRED
    case.escalation_level = 0
    case.acknowledged_at = case.acknowledged_at or now
    case.first_contact_at = case.first_contact_at or now
    case.next_action_at = now + STALE_AFTER
    event(session, case, now, "referred", actor, provider=provider.code)
    if (provider.phone or "").strip():
        _tell_member(outbox, now, case, "case_referred", provider=provider.name[:40],
                     phone=provider.phone.strip(), what=f"referral{referral.id}")
    else:
        # Never "so -": the member hears someone will bring her to the service instead.
        _tell_member(outbox, now, case, "case_referred_no_phone", provider=provider.name[:40],
                     what=f"referral{referral.id}")
    session.flush()
    return referral


def resolve(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor,
            note: str = "") -> None:
    """Resolved: the member is told, and asked some days later whether it was solved."""
    _require(session, case, actor)
    if not case.is_open:
        raise CaseError("case is not open")
    case.status = CaseStatus.RESOLVED
    case.resolved_at = now
    case.acknowledged_at = case.acknowledged_at or now
    case.next_action_at = None
    case.followup_due_at = now + FOLLOWUP_AFTER
    case.followup_answer = None
    event(session, case, now, "resolved", actor, note=note)
    _tell_member(outbox, now, case, "case_resolved")
    session.flush()


def give_back(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor) -> None:
    """The assignee cannot take it: route to the next person on the ladder now."""
    _require(session, case, actor)
    if not case.is_open:
        raise CaseError("case is not open")
    event(session, case, now, "returned", actor)
    case.status = CaseStatus.NEW
    case.acknowledged_at = None
    case.escalation_level += 1
    route(session, now, outbox, case)
    session.flush()


def close(session: Session, now: datetime, case: Case, actor: Actor, status: CaseStatus,
          note: str = "") -> None:
    """Close without resolution (unresolved, lost contact)."""
    _require(session, case, actor)
    case.status = status
    case.closed_at = now
    case.next_action_at = None
    event(session, case, now, "closed", actor, note=note, status=str(status))
    session.flush()


def reopen(session: Session, now: datetime, outbox: Outbox, case: Case,
           actor: Actor | None = None, reason: str = "") -> None:
    """Back to work: the same assignee is alerted again (the ladder restarts)."""
    case.reopened_count += 1
    case.status = CaseStatus.NEW
    case.resolved_at = None
    case.closed_at = None
    case.acknowledged_at = None
    case.followup_due_at = None
    case.escalation_level = 0
    event(session, case, now, "reopened", actor, note=reason)
    if case.assignee is not None:
        _alert(outbox, now, case, case.assignee, "reopened_alert")
        case.next_action_at = now + (ACK_DEADLINE_EMERGENCY if case.emergency else ACK_DEADLINE)
    else:
        route(session, now, outbox, case)
    session.flush()


def recategorize(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor,
                 category: int, *, emergency: bool) -> int:
    """Staff set the category and the emergency flag. Violence (or an emergency) held by
    someone not trained for it goes to a trained person, and the one who loses it is told;
    a case newly marked an emergency starts the emergency path. Returns the category it had."""
    before = (case.category, case.emergency)
    case.category = category
    case.category_hint = None  # confirmed by staff
    event(session, case, now, "recategorized", actor, category=category, emergency=emergency,
          was=before[0])
    if emergency and not before[1]:
        from hotline.services import emergency as emergency_path

        emergency_path.start(session, now, outbox, case, actor)
        return before[0]
    case.emergency = emergency
    holder = case.assignee
    if needs_training(category, emergency) and case.is_open and holder is not None \
            and holder.role == Role.PEER_EDUCATOR and not holder.trained_violence:
        trained = candidates(session, case)
        target = trained[0] if trained else next(iter(coordinators(session)), None)
        if target is not None:
            assign(session, now, outbox, case, target, actor=actor)
            case.next_action_at = now + (ACK_DEADLINE_EMERGENCY if case.emergency
                                         else ACK_DEADLINE)
            if case.status != CaseStatus.NEW:
                case.status, case.acknowledged_at = CaseStatus.NEW, None
            tell_moved(session, now, outbox, case, holder)
    session.flush()
    return before[0]


def for_member(session: Session, person: Person, number: int) -> Case | None:
    """The member's own case with that number; another person's case is never found."""
    return session.scalar(
        select(Case).where(Case.number == number, Case.person_id == person.id)
    )


def by_number(session: Session, number: int) -> Case | None:
    return session.scalar(select(Case).where(Case.number == number))


def status_words(case: Case) -> str:
    return STATUS_WORDS.get(case.status, STATUS_WORDS["new"])


def open_cases_of(session: Session, person: Person) -> list[Case]:
    return list(session.scalars(
        select(Case)
        .where(Case.assignee_id == person.id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.number)
    ))


def provider_codes(session: Session) -> list[str]:
    return list(session.scalars(
        select(Provider.code).where(Provider.active.is_(True)).order_by(Provider.code)
    ))


def record_followup(session: Session, now: datetime, outbox: Outbox, case: Case,
                    *, solved: bool) -> None:
    """The member's answer to "was it solved?": yes closes, no reopens and alerts again."""
    case.followup_answer = "solved" if solved else "not_solved"
    case.followup_due_at = None
    event(session, case, now, "followup", Actor(person=case.person),
          answer=case.followup_answer)
    if solved:
        case.status = CaseStatus.CLOSED
        case.closed_at = now
    else:
        reopen(session, now, outbox, case, reason="follow-up: not solved")
    session.flush()


# --- the clock: escalation and follow-up ---------------------------------------------------

BATCH = 200
# How many coordinator reminders an unaccepted case gets before the ladder stops.
COORDINATOR_REMINDERS = 3


# Loader options for a case read to act on it (the scheduler's escalations and follow-ups):
# her and whoever has it, in the case's own statement rather than one more each.
WITH_PEOPLE = (joinedload(Case.person), joinedload(Case.assignee))


def due_for_action(session: Session, now: datetime, limit: int = BATCH,
                   skip: Collection[int] = ()) -> list[Case]:
    """Open cases whose deadline has passed (index: status, next_action_at), but ``skip``."""
    query = select(Case).where(Case.status.in_(OPEN_STATUSES), Case.next_action_at <= now)
    if skip:
        query = query.where(Case.id.not_in(skip))
    return list(session.scalars(query.order_by(Case.next_action_at, Case.id).limit(limit)))


def escalate(session: Session, now: datetime, outbox: Outbox, case: Case) -> None:
    """One step up the ladder for a case whose deadline passed.

    Not accepted: the next peer educator on the roster, then the coordinator (who is
    reminded a few times). Accepted but not moved: remind the assignee, then tell the
    coordinator.
    """
    if case.status == CaseStatus.NEW and case.emergency:
        from hotline.services import emergency

        emergency.escalate(session, now, outbox, case)
        return
    if case.status == CaseStatus.NEW:
        last = len(candidates(session, case)) + COORDINATOR_REMINDERS
        if case.escalation_level >= last:
            case.next_action_at = None
            event(session, case, now, "escalation_exhausted")
            return
        case.escalation_level += 1
        event(session, case, now, "escalated", level=case.escalation_level)
        before = case.assignee
        route(session, now, outbox, case)
        if before is not None and case.assignee is not before:
            tell_moved(session, now, outbox, case, before)  # she is not left wondering
        if case.escalation_level == 1:  # past its first deadline: she hears it, once
            _tell_member(outbox, now, case, "case_waiting", hotline=outbox.hotline or "-")
        return
    if case.escalation_level == 0 and case.assignee is not None:
        # The case's changes first: the alert's insert flushes them in one UPDATE.
        case.escalation_level = 1
        case.next_action_at = now + timedelta(days=2)
        days = max(1, (now - (case.acknowledged_at or case.created_at)).days)
        _alert(outbox, now, case, case.assignee, "reminder_stale", days=days)
        event(session, case, now, "reminded", person_id=case.assignee_id)
        return
    case.escalation_level += 1
    for coord in coordinators(session):
        _alert(outbox, now, case, coord, "reminder_stale",
               days=max(1, (now - (case.acknowledged_at or case.created_at)).days))
    event(session, case, now, "escalated", level=case.escalation_level, stale=True)
    case.next_action_at = None if case.escalation_level > 2 else now + STALE_AFTER


def due_followups(session: Session, now: datetime, limit: int = BATCH,
                  skip: Collection[int] = ()) -> list[Case]:
    query = select(Case).where(Case.status == CaseStatus.RESOLVED, Case.followup_due_at <= now)
    if skip:
        query = query.where(Case.id.not_in(skip))
    return list(session.scalars(query.order_by(Case.followup_due_at, Case.id).limit(limit)))


def follow_up(session: Session, now: datetime, outbox: Outbox, case: Case) -> None:
    """Ask the member whether it was solved; later, close an unanswered question."""
    from hotline.services import people

    member = case.person
    if case.followup_answer is None:
        case.followup_answer = "asked"
        case.followup_due_at = now + FOLLOWUP_WAIT
        event(session, case, now, "followup_asked")
        if member is not None and member.phone and not member.erased_at:
            referral = session.scalar(
                select(Referral).where(Referral.case_id == case.id)
                .order_by(Referral.referred_at.desc(), Referral.id.desc()).limit(1))
            if referral is None:
                _tell_member(outbox, now, case, "followup_ask")
            else:
                # Service monitoring: the same question tells whether the provider helped.
                _tell_member(outbox, now, case, "followup_ask_referral",
                             code=referral.provider.code,
                             voice={"provider": referral.provider.name[:40]})
            people.set_pending(member, now, "followup", case.id, ttl=FOLLOWUP_WAIT)
        return
    case.followup_answer = "unanswered"
    case.followup_due_at = None
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    event(session, case, now, "followup_unanswered")
    if member is not None and member.pending_kind == "followup" and member.pending_ref == case.id:
        people.clear_pending(member)


def timings(case: Case) -> dict[str, float | None]:
    """Hours from intake and from assignment to acceptance, first contact, resolution."""

    def hours(start, end):
        return None if start is None or end is None else (end - start).total_seconds() / 3600

    return {
        "intake_to_acceptance": hours(case.created_at, case.acknowledged_at),
        "intake_to_first_contact": hours(case.created_at, case.first_contact_at),
        "intake_to_resolution": hours(case.created_at, case.resolved_at),
        "assignment_to_acceptance": hours(case.assigned_at, case.acknowledged_at),
        "assignment_to_resolution": hours(case.assigned_at, case.resolved_at),
    }
