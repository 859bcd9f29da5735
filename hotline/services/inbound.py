"""Inbound SMS: stored exactly once, whatever the gateway retries, then acted on.

A webhook only stores (``store``: one insert and a commit), so a gateway is answered in a
few milliseconds however busy the line is, and a fault in a command handler can never turn
into an error the gateway would retry. The scheduler's ``handle_inbound`` job then acts on
each stored message in arrival order (``pending``, ``claim``, ``sms.commands.handle``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hotline.db import insert_once
from hotline.models import Direction, Message, MessageStatus
from hotline.models.messages import HANDLING_FAILED
from hotline.phones import PhoneError, normalize
from hotline.services import people
from hotline.text import clean

# The Android gateway may resend the same text with a new id within seconds.
RESEND_WINDOW = timedelta(seconds=30)


def store(
    session: Session | Connection,
    now: datetime,
    *,
    gateway: str,
    external_id: str | None,
    sender: str,
    body: str,
    dedupe_window: timedelta | None = None,
) -> tuple[int, bool]:
    """Store an inbound SMS, not yet handled; returns (message id, created). A repeat
    (same gateway and id, or with ``dedupe_window`` the same text from the same number
    within it) returns the first row's id.

    The body is stored NFC exactly as received (see ``hotline.text.clean``); a sender that
    is no phone number keeps its raw value. The person is found when it is handled.
    Works on a session or on a connection (``hotline.db.autocommit``: the webhooks).
    """
    body = clean(body)
    try:
        phone = normalize(sender)
    except PhoneError:
        phone = clean(sender)[:64]
    if dedupe_window:
        twin = session.scalar(
            select(Message.id).where(
                Message.direction == Direction.IN,
                Message.gateway == gateway,
                Message.phone == phone,
                Message.body == body,
                Message.created_at >= now - dedupe_window,
            ).limit(1)
        )
        if twin is not None:
            return twin, False
    values = {"direction": Direction.IN, "gateway": gateway, "external_id": external_id or None,
              "phone": phone, "body": body, "status": MessageStatus.RECEIVED, "kind": "in",
              "created_at": now}
    msg_id = insert_once(session, Message, values, ("gateway", "external_id"))
    if msg_id is not None:
        return msg_id, True
    # The same webhook again, or raced in on another worker and stored first.
    return session.execute(
        select(Message.id).where(Message.gateway == gateway, Message.external_id == external_id)
    ).scalar_one(), False


def pending(session: Session, limit: int) -> list[int]:
    """Ids of stored inbound messages not yet handled, oldest first."""
    return list(session.scalars(
        select(Message.id)
        .where(Message.direction == Direction.IN, Message.handled_at.is_(None))
        .order_by(Message.id)
        .limit(limit)
    ))


def claim(session: Session, now: datetime, msg_id: int) -> Message | None:
    """Take message ``msg_id`` for handling in this transaction, with its sender's person
    (found or created); None when it was handled already (by another run, or concurrently:
    the update waits for the other transaction and then matches nothing)."""
    claimed = session.execute(
        update(Message)
        .where(Message.id == msg_id, Message.handled_at.is_(None))
        .values(handled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    msg = session.get(Message, msg_id, populate_existing=True)
    if msg.person_id is None:
        try:
            phone = normalize(msg.phone)
        except PhoneError:
            return msg  # not a phone number: kept for staff, never answered
        msg.person, _ = people.get_or_create(session, now, phone)
    return msg


def give_up(session: Session, now: datetime, msg_id: int) -> None:
    """Handling ``msg_id`` failed: mark it handled and put it before a person (the triage
    inbox), so what the member wrote is read rather than retried forever."""
    session.execute(
        update(Message)
        .where(Message.id == msg_id)
        .values(handled_at=now, needs_staff=True, error_message=HANDLING_FAILED)
        .execution_options(synchronize_session=False)
    )
