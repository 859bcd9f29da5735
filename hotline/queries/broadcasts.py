"""Broadcasts sent and their recipients.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import (
    Broadcast,
    Person,
)
from hotline.services.broadcasts import progress, recipients_query


def recent_broadcasts(session: Session, limit: int = 20) -> list[tuple[Broadcast, dict]]:
    """The latest broadcasts with their messages counted by status (progress)."""

    rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)).all()
    return [(b, progress(session, b)) for b in rows]


def recipients_sample(session: Session, segment: dict, now: datetime, limit: int = 50
                      ) -> list[Person]:

    return list(session.scalars(recipients_query(segment, now).limit(limit)))


def recordings_in_use(session: Session) -> set[str]:
    """The staff recordings broadcasts play (their file names)."""
    return set(session.scalars(select(Broadcast.recording).where(
        Broadcast.recording.is_not(None)).distinct()))
