"""Turns a stored inbound SMS into service calls. Filled in by the text-line work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.models import Message


def handle(session: Session, now: datetime, msg: Message, settings) -> None:
    """Act on ``msg``. Until commands exist every message waits in the triage inbox."""
    return None
