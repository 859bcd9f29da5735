"""What /healthz and the dashboard both report: the scheduler's heartbeat, the backlogs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import Direction, Message, MessageStatus, SchedulerState

# The scheduler's row in ``scheduler_state`` (its lease and heartbeat).
SCHEDULER = "scheduler"


def heartbeat_at(session: Session) -> datetime | None:
    """When the scheduler last said it was alive, or None if it never ran."""
    return session.scalar(
        select(SchedulerState.heartbeat_at).where(SchedulerState.name == SCHEDULER)
    )


def heartbeat_age_s(session: Session, now: datetime) -> float | None:
    """Seconds since the scheduler's heartbeat, to a tenth; None if it never ran."""
    beat = heartbeat_at(session)
    return None if beat is None else round((now - beat).total_seconds(), 1)


def outbox_backlog(session: Session, now: datetime) -> int:
    """Outbound messages due and not yet sent."""
    return session.scalar(
        select(func.count(Message.id)).where(
            Message.direction == Direction.OUT,
            Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
            Message.due_at <= now,
        )
    ) or 0


def inbound_backlog(session: Session) -> int:
    """SMS the webhooks stored and the scheduler has not acted on: grows while it is down."""
    return session.scalar(
        select(func.count(Message.id)).where(
            Message.direction == Direction.IN, Message.handled_at.is_(None))
    ) or 0
