"""The triage inbox: inbound texts waiting for a person.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from hotline.models import (
    Direction,
    Message,
)


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
