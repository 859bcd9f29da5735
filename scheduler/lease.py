"""A database lease so exactly one scheduler runs jobs, and its heartbeat."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.models import SchedulerState
from hotline.queries.health import SCHEDULER

LEASE_NAME = SCHEDULER
LEASE_TTL = timedelta(seconds=30)


def acquire(session: Session, now: datetime, holder: str, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the lease; False while another live holder has it."""
    if session.get(SchedulerState, LEASE_NAME) is None:
        try:
            with session.begin_nested():
                session.add(SchedulerState(name=LEASE_NAME, holder=holder, lease_until=now + ttl,
                                           heartbeat_at=now))
            return True
        except IntegrityError:
            pass  # another runner created it first; fall through to the update
    taken = session.execute(
        update(SchedulerState)
        .where(
            SchedulerState.name == LEASE_NAME,
            or_(
                SchedulerState.holder == holder,
                SchedulerState.lease_until.is_(None),
                SchedulerState.lease_until < now,
            ),
        )
        .values(holder=holder, lease_until=now + ttl, heartbeat_at=now)
    ).rowcount
    return bool(taken)


def release(session: Session, holder: str) -> None:
    session.execute(
        update(SchedulerState)
        .where(SchedulerState.name == LEASE_NAME, SchedulerState.holder == holder)
        .values(lease_until=None)
    )

