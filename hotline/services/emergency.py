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
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from hotline.models import Case, CaseStatus, Kind, Message, Person, Role
from hotline.services import calls, cases
from hotline.services.cases import ACK_DEADLINE_EMERGENCY, Actor
from hotline.services.outbox import Outbox
from hotline.templates import render

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
    call id) so each report gets its own reply exactly once."""
    case = open_emergency_of(session, person, now)
    template = "emergency_again"
    if case is None:
        case = cases.open_case(session, now, outbox, person=person, channel=channel,
                               summary=summary, category=category, emergency=True)
        template = "case_opened_emergency"
    cases.event(session, case, now, "danger", Actor(person=person), note=summary,
                words=words or [], channel=channel)
    if person.phone and person.erased_at is None:
        outbox.enqueue(
            now, person.phone, render(template, number=case.number), kind=Kind.URGENT,
            person=person, case_id=case.id, key=f"emergency:{case.id}:{template}:{source}",
        )
    session.flush()
    return case


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
