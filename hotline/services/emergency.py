"""The emergency path: danger from any door, at any hour, until a person accepts.

A text with words of immediate danger (``hotline.danger``), key 9 in the voice menu, or a
coordinator marking a case as an emergency all come here:

1. the member gets the safety reply at once (113, 115, 111, Peace House), whatever the hour,
   the daily cap or the hourly reply limit (``Kind.URGENT``);
2. every trained responder on call and every coordinator gets an urgent alert at once;
3. while nobody has accepted, every ``ACK_DEADLINE_EMERGENCY`` (10 minutes) the next person
   on the ladder (responders on call, then coordinators, then round again) gets a voice call
   through the callback queue ("bấm 1 để nhận") and a fresh SMS alert. The ladder never
   stops by itself; an unaccepted emergency shows as a banner on the console meanwhile.

Services take the session, ``now`` and the outbox; they flush and leave the commit to the
caller.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, bindparam, func, null, or_, select, type_coerce
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from hotline.models import (
    CASE_NUMBER_OFFSET,
    Case,
    CaseStatus,
    Category,
    Group,
    GroupRole,
    Kind,
    Membership,
    Message,
    Person,
    Role,
)
from hotline.services import calls, cases
from hotline.services.cases import ACK_DEADLINE_EMERGENCY, Actor
from hotline.services.outbox import Outbox
from hotline.templates import CATEGORY_WORDS, render

# Another danger text from the same person within this long joins her open emergency case.
REPEAT_WINDOW = timedelta(hours=24)


def responders(session: Session) -> list[Person]:
    """Peer educators trained for violence and on call now, in roster order."""
    return list(session.scalars(
        select(Person)
        .where(Person.role == Role.PEER_EDUCATOR, Person.trained_violence.is_(True),
               Person.on_duty.is_(True), Person.erased_at.is_(None))
        .order_by(Person.duty_order, Person.id)
    ))


def ladder(session: Session) -> list[Person]:
    """Who is called, in turn, while an emergency waits: responders (as ``responders``),
    then coordinators (as ``cases.coordinators``), each in roster order; one query. Inside
    ``one_ladder`` it is read once and kept."""
    kept = session.info.get(_ONE_LADDER)
    if kept:
        return list(kept[0])
    people = [person for person in session.scalars(_ladder_query()) if person.phone]
    if kept is not None:
        kept.append(people)
    return list(people)


@functools.cache
def _ladder_query():
    coordinator = Person.role == Role.COORDINATOR
    responder = and_(Person.role == Role.PEER_EDUCATOR, Person.trained_violence.is_(True),
                     Person.on_duty.is_(True))
    return (select(Person)
            .where(Person.erased_at.is_(None), or_(responder, coordinator))
            .order_by(sql_case((coordinator, 1), else_=0), Person.duty_order, Person.id))


_ONE_LADDER = "emergency.one_ladder"


@contextmanager
def one_ladder(session: Session) -> Iterator[None]:
    """Within: ``ladder`` reads the roster once. Key 9 needs it twice in its one request
    (the alerts, then the numbers she is connected to), where nothing changes it."""
    outer = _ONE_LADDER in session.info
    if not outer:
        session.info[_ONE_LADDER] = []
    try:
        yield
    finally:
        if not outer:
            session.info.pop(_ONE_LADDER, None)


def alert_everyone(session: Session, now: datetime, outbox: Outbox, case: Case,
                   *, except_: Person | None = None) -> None:
    """An urgent SMS alert to every responder on call and every coordinator."""
    for person in ladder(session):
        if person is except_ or person.id == case.person_id:
            continue
        cases._alert(outbox, now, case, person, "alert")
        cases.event(session, case, now, "alerted", person_id=person.id,
                    role=str(person.role))


def open_emergency_of(session: Session, person: Person, now: datetime) -> Case | None:
    """The person's emergency case opened in the last ``REPEAT_WINDOW`` and still open."""
    return session.scalar(
        select(Case)
        .where(Case.person_id == person.id, Case.emergency.is_(True),
               Case.status.in_(cases.OPEN_STATUSES), Case.created_at >= now - REPEAT_WINDOW)
        .order_by(Case.id.desc())
        .limit(1)
    )


def raise_for(session: Session, now: datetime, outbox: Outbox, person: Person, *,
              channel: str, summary: str = "", category: int | None = None,
              words: list[str] | None = None, source: str) -> Case:
    """Danger reported by ``person``: her open emergency case (a second text joins it) or a
    new one, and the safety reply at once. ``source`` names what raised it (a message or
    call id) so each report gets its own reply exactly once.

    Her open emergency, her group and (PostgreSQL, when there is none) the new case's id
    are one statement; a new case is ``_open``."""
    case, group_id, case_id = session.execute(
        _found_statement(session.get_bind().dialect.name),
        {"person_id": person.id, "since": now - REPEAT_WINDOW}).one()
    if case is None:
        return _open(session, now, outbox, person, group_id=group_id, case_id=case_id,
                     channel=channel, summary=summary, category=category, words=words,
                     source=source)
    cases.event(session, case, now, "danger", Actor(person=person), note=summary,
                words=words or [], channel=channel)
    if person.phone and person.erased_at is None:
        outbox.enqueue(now, **_safety_reply(case, person, "emergency_again", source))
    session.flush()
    return case


def _safety_reply(case: Case, person: Person, template: str, source: str) -> dict:
    """The member's safety reply (``Outbox.enqueue``'s arguments), once per report."""
    return {"to": person.phone, "body": render(template, number=case.number),
            "kind": Kind.URGENT, "person": person, "case_id": case.id,
            "key": f"emergency:{case.id}:{template}:{source}"}


def _open(session: Session, now: datetime, outbox: Outbox, person: Person, *,
          group_id: int | None, case_id: int | None, channel: str, summary: str,
          category: int | None, words: list[str] | None, source: str) -> Case:
    """Her new emergency case: what ``cases.open_case(.., emergency=True)`` (its ``route``
    at level 0, then ``alert_everyone``) and the danger event and safety reply after it
    write, the same rows in the same order, in a few statements: the roster read once
    (``Roster``), the case inserted whole with its number (on PostgreSQL its id came from
    the sequence with ``raise_for``'s look-up; SQLite numbers it after its insert), its
    events in one insert (rows, not ``CaseEvent`` objects in the session), every alert and
    her safety reply in one (``enqueue_each``).
    Nothing waits for later: all of it is in this transaction.
    ``tests/hotline/services/test_emergency_open.py`` compares it with the general path,
    roster by roster."""
    if category is not None and category not in CATEGORY_WORDS:
        category = None
    roster = Roster.read(session, group_id, person.ward_current)
    kept = session.info.get(_ONE_LADDER)
    if kept is not None and not kept:
        kept.append(roster.ladder)  # inside ``one_ladder``: what ``ladder`` answers
    # ``cases.route`` at level 0: the first candidate, else the first coordinator.
    candidates = roster.candidates(person)
    target = candidates[0] if candidates else next(iter(roster.coordinators), None)
    case = Case(person_id=person.id, group_id=group_id, category=category or Category.OTHER,
                category_hint=None, emergency=True, status=CaseStatus.NEW, channel=channel,
                summary=summary, created_at=now, escalation_level=0, reopened_count=0,
                next_action_at=now + ACK_DEADLINE_EMERGENCY)
    if target is not None:
        case.assignee_id, case.assignee, case.assigned_at = target.id, target, now
    # Short, sequential, easy to key on a phone; the id makes it unique without a race.
    if case_id is not None:  # PostgreSQL: the id from the sequence, inserted with it
        case.id, case.number = case_id, case_id + CASE_NUMBER_OFFSET
    session.add(case)
    session.flush()
    if case_id is None:  # SQLite: numbered once its id is known
        case.number = case.id + CASE_NUMBER_OFFSET
    events = [cases.event_row(case, now, "created", Actor(person=person), channel=channel)]
    messages = []
    if target is not None:
        events.append(cases.event_row(case, now, "assigned", person_id=target.id,
                                      level=case.escalation_level))
        messages.append(cases.alert_message(case, target, "alert"))
    for other in roster.ladder:  # ``alert_everyone``, but the one just assigned
        if other is target or other.id == case.person_id:
            continue
        messages.append(cases.alert_message(case, other, "alert"))
        events.append(cases.event_row(case, now, "alerted", person_id=other.id,
                                      role=str(other.role)))
    events.append(cases.event_row(case, now, "danger", Actor(person=person), note=summary,
                                  words=words or [], channel=channel))
    if person.phone and person.erased_at is None:
        messages.append(_safety_reply(case, person, "case_opened_emergency", source))
    session.flush()  # SQLite: its number
    cases.add_events(session, events)
    outbox.enqueue_each(now, [m for m in messages if m is not None])
    return case


@functools.cache
def _found_statement(dialect: str):
    """Her open emergency case (as ``open_emergency_of``), her group now (as
    ``cases.current_group``) and, on PostgreSQL when she has no open emergency, the next
    case id from the sequence: one row."""
    open_id = (select(Case.id)
               .where(Case.person_id == bindparam("person_id"), Case.emergency.is_(True),
                      Case.status.in_(cases.OPEN_STATUSES),
                      Case.created_at >= bindparam("since", type_=Case.created_at.type))
               .order_by(Case.id.desc()).limit(1).scalar_subquery())
    found = select(open_id.label("open_id")).subquery("found")
    group_id = (select(Group.id)
                .join(Membership, Membership.group_id == Group.id)
                .where(Membership.person_id == bindparam("person_id"),
                       Membership.left_at.is_(None))
                .order_by(Membership.joined_at.desc(), Membership.id.desc())
                .limit(1).scalar_subquery())
    if dialect == "postgresql":
        next_id = sql_case((found.c.open_id.is_(None),
                            func.nextval(func.pg_get_serial_sequence("cases", "id"))))
    else:
        next_id = null()
    return (select(Case, group_id.label("group_id"),
                   type_coerce(next_id, Integer).label("next_id"))
            .select_from(found).outerjoin(Case, Case.id == found.c.open_id))


@dataclass(frozen=True)
class Roster:
    """Everyone a new emergency case may go to, read in one query: the trained peer
    educators of her group, of her ward's groups and on call (``cases.candidates`` for an
    emergency case, in its three parts), and the coordinators (``cases.coordinators``);
    each list in roster order."""

    group: list[Person]
    ward: list[Person]
    on_call: list[Person]
    coordinators: list[Person]

    @classmethod
    def read(cls, session: Session, group_id: int | None, ward: str | None) -> Roster:
        rows = session.execute(_roster_statement(),
                               {"group_id": group_id, "ward": ward or None}).all()

        def trained(person: Person) -> bool:
            return person.role == Role.PEER_EDUCATOR and person.trained_violence

        return cls(
            group=[p for p, in_group, _ in rows if in_group and trained(p)],
            ward=[p for p, _, in_ward in rows if in_ward and trained(p)],
            on_call=[p for p, _, _ in rows if trained(p) and p.on_duty],
            coordinators=[p for p, _, _ in rows if p.role == Role.COORDINATOR],
        )

    def candidates(self, person: Person) -> list[Person]:
        """``cases.candidates`` of her emergency case: best first, each once, never her."""
        unique: list[Person] = []
        for other in self.group + self.ward + self.on_call:
            if other not in unique and other.id != person.id:
                unique.append(other)
        return unique

    @property
    def ladder(self) -> list[Person]:
        """``ladder``: responders on call, then coordinators, those with a phone."""
        return [p for p in self.on_call + self.coordinators if p.phone]


@functools.cache
def _roster_statement():
    led = (Membership.person_id == Person.id, Membership.left_at.is_(None),
           Membership.role == GroupRole.PEER_EDUCATOR)
    in_group = select(Membership.id).where(
        *led, Membership.group_id == bindparam("group_id", type_=Integer)).exists()
    in_ward = (select(Membership.id).join(Group, Group.id == Membership.group_id)
               .where(*led, Group.ward_current == bindparam("ward",
                                                            type_=Group.ward_current.type))
               .exists())
    trained = and_(Person.role == Role.PEER_EDUCATOR, Person.trained_violence.is_(True))
    return (select(Person, in_group.label("in_group"), in_ward.label("in_ward"))
            .where(Person.erased_at.is_(None),
                   or_(Person.role == Role.COORDINATOR,
                       and_(trained, or_(Person.on_duty.is_(True), in_group, in_ward))))
            .order_by(Person.duty_order, Person.id))


def from_text(session: Session, now: datetime, outbox: Outbox, msg: Message, person: Person,
              words: list[str], *, category: int | None = None) -> Case:
    """An SMS with words of danger (registered or not, consented or not)."""
    case = raise_for(session, now, outbox, person, channel="sms", summary=msg.body,
                     category=category, words=words, source=f"msg{msg.id}")
    msg.case_id = case.id
    msg.needs_staff = True  # a person reads her words as she wrote them
    return case


def start(session: Session, now: datetime, outbox: Outbox, case: Case,
          actor: Actor | None = None) -> None:
    """A case becomes an emergency (a coordinator marked it): the path from step 2 on.

    Not yet accepted: it needs a fresh acceptance, alerts go out at once and the 10-minute
    ladder starts. Already being worked: the assignee and coordinators are alerted."""
    case.emergency = True
    if case.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED):
        before = case.assignee
        case.status, case.acknowledged_at = CaseStatus.NEW, None
        case.escalation_level = 0
        cases.route(session, now, outbox, case)
        if before is not None and case.assignee is not before:
            cases.tell_moved(session, now, outbox, case, before)
    else:
        alert_everyone(session, now, outbox, case)
        case.next_action_at = now + ACK_DEADLINE_EMERGENCY
    cases.event(session, case, now, "emergency_marked", actor)
    session.flush()


def escalate(session: Session, now: datetime, outbox: Outbox, case: Case) -> None:
    """Nobody accepted within 10 minutes: call the next person on the ladder (and text her
    again). After the last coordinator it starts over; it never gives up."""
    people = ladder(session)
    case.escalation_level += 1
    case.next_action_at = now + ACK_DEADLINE_EMERGENCY
    if not people:
        cases.event(session, case, now, "no_responder", level=case.escalation_level)
        return
    step = case.escalation_level - 1
    target = people[step % len(people)]
    cases._alert(outbox, now, case, target, "alert")
    callback = calls.queue_alert_call(session, now, case, target)
    cases.event(session, case, now, "alert_call", person_id=target.id,
                level=case.escalation_level, round=step // len(people) + 1,
                callback_id=callback.id if callback else None)


def unaccepted(session: Session, limit: int = 20) -> list[Case]:
    """Emergencies nobody has accepted yet, oldest first (the console's banner)."""
    return list(session.scalars(
        select(Case)
        .where(Case.emergency.is_(True), Case.status == CaseStatus.NEW)
        .order_by(Case.created_at, Case.id)
        .limit(limit)
    ))
