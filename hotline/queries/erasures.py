"""Erasure requests (``XOA``) and the promise made to each: done within 2 working days.

A request is an inbound ``XOA`` text. It is open until the person's data is erased or staff
file the text without erasing (she changed her mind on the phone); each open request is due
at the end of the second working day after the day it came (``hotline.workdays``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from hotline import workdays
from hotline.models import (
    Call,
    Case,
    Direction,
    Membership,
    Message,
    MessageStatus,
    Person,
    PersonPhone,
    Recording,
)

WORKING_DAYS = 2
ERASE_COMMAND = "XOA"


@dataclass
class ErasureRequest:
    message: Message
    person: Person | None
    due_at: datetime
    # "open", "erased" (done) or "filed" (closed by staff without erasing).
    state: str
    overdue: bool

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def _request(msg: Message, now: datetime, holidays: Iterable[date]) -> ErasureRequest:
    due = workdays.deadline(msg.created_at, WORKING_DAYS, holidays)
    person = msg.person
    if person is not None and person.erased_at is not None:
        state = "erased"
    elif msg.triaged_at is not None:
        state = "filed"
    else:
        state = "open"
    return ErasureRequest(msg, person, due, state, state == "open" and now >= due)


def requests(session: Session, now: datetime, holidays: Iterable[date] = (), *,
             open_only: bool = False, person_id: int | None = None,
             limit: int = 200) -> list[ErasureRequest]:
    """Erasure requests, the earliest deadline first; open ones only with ``open_only``."""
    query = (select(Message)
             .where(Message.direction == Direction.IN, Message.command == ERASE_COMMAND)
             .options(selectinload(Message.person)))
    if open_only:
        query = query.where(Message.triaged_at.is_(None))
    if person_id is not None:
        query = query.where(Message.person_id == person_id)
    found = [_request(m, now, holidays) for m in session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit))]
    if open_only:
        found = [r for r in found if r.is_open]
    return sorted(found, key=lambda r: (r.due_at, r.message.id))


def open_for_person(session: Session, now: datetime, person: Person,
                    holidays: Iterable[date] = ()) -> ErasureRequest | None:
    """Her earliest open request (the one whose deadline counts), if any."""
    found = requests(session, now, holidays, open_only=True, person_id=person.id, limit=20)
    return found[0] if found else None


@dataclass
class ErasePreview:
    """What ``people.erase`` would remove or stop, counted the way it does, for the form."""

    messages: int
    queued: int
    cases: int
    recordings: int
    calls: int
    groups: int
    confirmation_to: str | None


def preview(session: Session, person: Person) -> ErasePreview:
    numbers = set(session.scalars(
        select(PersonPhone.phone).where(PersonPhone.person_id == person.id)))
    if person.phone:
        numbers.add(person.phone)
    mine = or_(Message.person_id == person.id, Message.phone.in_(numbers or {""}))
    case_ids = select(Case.id).where(Case.person_id == person.id)
    call_ids = select(Call.id).where(
        or_(Call.person_id == person.id, Call.phone.in_(numbers or {""})))

    def count(query) -> int:
        return session.scalar(query) or 0

    return ErasePreview(
        messages=count(select(func.count(Message.id)).where(mine)),
        queued=count(select(func.count(Message.id)).where(
            mine, Message.direction == Direction.OUT, Message.status == MessageStatus.QUEUED)),
        cases=count(select(func.count()).select_from(case_ids.subquery())),
        recordings=count(select(func.count(Recording.id)).where(or_(
            Recording.case_id.in_(case_ids), Recording.call_id.in_(call_ids)))),
        calls=count(select(func.count()).select_from(call_ids.subquery())),
        groups=count(select(func.count(Membership.id)).where(
            Membership.person_id == person.id, Membership.left_at.is_(None))),
        confirmation_to=person.phone,
    )
