"""What the line decided not to send now, and why (``Message.hold_reason``), for the
dashboard, a person's page, a meeting's page; and the emergencies nobody has accepted yet,
for the banner on every console page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import Case, CaseStatus, Direction, Message, MessageStatus, Person

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    held: int  # still queued, for later
    never: int  # cancelled: will not be sent


def counts(session: Session, now: datetime, window: timedelta = WINDOW) -> list[ReasonCount]:
    """Decisions not to send now taken in the last ``window``, by reason (index: hold_reason,
    created_at)."""
    rows = session.execute(
        select(Message.hold_reason, Message.status, func.count(Message.id))
        .where(Message.hold_reason.is_not(None), Message.created_at >= now - window,
               Message.direction == Direction.OUT)
        .group_by(Message.hold_reason, Message.status)
    ).all()
    found: dict[str, list[int]] = {}
    for reason, status, n in rows:
        slot = found.setdefault(reason, [0, 0])
        if status == MessageStatus.CANCELLED:
            slot[1] += n
        elif status == MessageStatus.QUEUED:
            slot[0] += n
    return [ReasonCount(r, held, never) for r, (held, never) in sorted(found.items())]


def for_person(session: Session, person: Person, limit: int = 20) -> list[Message]:
    """The latest messages to ``person`` not sent when queued, newest first."""
    return list(session.scalars(
        select(Message)
        .where(Message.person_id == person.id, Message.direction == Direction.OUT,
               Message.hold_reason.is_not(None))
        .order_by(Message.id.desc()).limit(limit)
    ))


def not_reminded(session: Session, meeting_id: int) -> list[tuple[Person | None, Message]]:
    """Members whose reminder of meeting ``meeting_id`` did not go, and why (the cap or
    quiet hours pushed it past the meeting; the meeting changed)."""
    rows = session.execute(
        select(Person, Message)
        .join(Person, Person.id == Message.person_id, isouter=True)
        .where(Message.idempotency_key.like(f"meeting:{meeting_id}:%"),
               Message.status == MessageStatus.CANCELLED)
        .order_by(Message.id)
    ).all()
    return [(person, msg) for person, msg in rows]


@dataclass(frozen=True)
class Waiting:
    case_id: int
    number: int
    minutes: int  # since it was opened


def unaccepted_emergencies(session: Session, now: datetime, limit: int = 10) -> list[Waiting]:
    """Emergencies nobody has accepted, oldest first, with their age."""
    rows = session.execute(
        select(Case.id, Case.number, Case.created_at)
        .where(Case.emergency.is_(True), Case.status == CaseStatus.NEW)
        .order_by(Case.created_at, Case.id).limit(limit)
    ).all()
    return [Waiting(i, n, max(0, int((now - at).total_seconds() // 60))) for i, n, at in rows]
