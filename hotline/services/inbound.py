"""Inbound SMS: stored exactly once, whatever the gateway retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.models import Direction, Message, MessageStatus
from hotline.phones import PhoneError, normalize
from hotline.services import people
from hotline.text import clean

# The Android gateway may resend the same text with a new id within seconds.
RESEND_WINDOW = timedelta(seconds=30)


def receive(
    session: Session,
    now: datetime,
    *,
    gateway: str,
    external_id: str | None,
    sender: str,
    body: str,
    dedupe_window: timedelta | None = None,
) -> tuple[Message, bool]:
    """Store an inbound SMS; returns (message, created). A repeat returns the first row.

    The body is stored NFC exactly as received (see ``hotline.text.clean``); a
    sender that is no phone number keeps its raw value and gets no person.
    """
    if external_id:
        existing = session.scalar(
            select(Message).where(Message.gateway == gateway, Message.external_id == external_id)
        )
        if existing is not None:
            return existing, False
    body = clean(body)
    try:
        phone = normalize(sender)
    except PhoneError:
        phone, person = clean(sender)[:64], None
    else:
        person, _ = people.get_or_create(session, now, phone)
    if dedupe_window:
        twin = session.scalar(
            select(Message).where(
                Message.direction == Direction.IN,
                Message.gateway == gateway,
                Message.phone == phone,
                Message.body == body,
                Message.created_at >= now - dedupe_window,
            )
        )
        if twin is not None:
            return twin, False
    msg = Message(
        direction=Direction.IN,
        gateway=gateway,
        external_id=external_id or None,
        person_id=person.id if person else None,
        person=person,  # already loaded: the handler needs it, no second SELECT
        phone=phone,
        body=body,
        status=MessageStatus.RECEIVED,
        kind="in",
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(msg)
    except IntegrityError:
        # The same webhook raced in on another worker.
        existing = session.scalar(
            select(Message).where(Message.gateway == gateway, Message.external_id == external_id)
        )
        return existing, False
    return msg, True
