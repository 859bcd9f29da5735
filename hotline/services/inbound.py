"""Inbound SMS: stored exactly once, whatever the gateway retries, then acted on; the one
way in for an inbound SMS, whichever door it came through (``receive_text``), and the one
place where stored messages are acted on (``handle_pending``).

A webhook only stores (``store``: one insert and a commit), so a gateway is answered in a
few milliseconds however busy the line is, and a fault in a command handler can never turn
into an error the gateway would retry. The scheduler's ``handle_inbound`` job then acts on
each stored message in arrival order (``pending``, ``claim``,
``hotline.services.commands.handle``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline import clock
from hotline.db import (
    DirectWrite,
    hand_over_write_lock,
    insert_once,
    session_scope,
    write_now,
)
from hotline.models import Direction, Message, MessageStatus
from hotline.models.messages import HANDLING_FAILED
from hotline.phones import PhoneError, mask, normalize
from hotline.services import commands, devices, job_rows, people
from hotline.text import clean

log = logging.getLogger(__name__)

# The Android gateway may resend the same text with a new id within seconds.
RESEND_WINDOW = timedelta(seconds=30)
# Messages one ``handle_pending`` call takes on; the next run takes the rest.
HANDLE_BATCH = 200


def store(
    session: Session | Connection,
    now: datetime,
    *,
    gateway: str,
    external_id: str | None,
    sender: str,
    body: str,
    dedupe_window: timedelta | None = None,
    device_id: int | None = None,
) -> tuple[int, bool]:
    """Store an inbound SMS, not yet handled; returns (message id, created). A repeat
    (same gateway and id, or with ``dedupe_window`` the same text from the same number
    within it) returns the first row's id.

    The body is stored NFC exactly as received (see ``hotline.text.clean``); a sender that
    is no phone number keeps its raw value. The person is found when it is handled.
    Works on a session or on a connection (``hotline.db.autocommit``: the webhooks).
    ``device_id`` is the Android SIM it came in on (``hotline.services.devices``).
    """
    values = _inbound_row(now, gateway, external_id, sender, body, device_id)
    if dedupe_window:
        twin = session.scalar(
            select(Message.id).where(
                Message.direction == Direction.IN,
                Message.gateway == gateway,
                Message.phone == values["phone"],
                Message.body == values["body"],
                Message.created_at >= now - dedupe_window,
            ).limit(1)
        )
        if twin is not None:
            return twin, False
    msg_id = insert_once(session, Message, values, ("gateway", "external_id"))
    if msg_id is not None:
        return msg_id, True
    # The same webhook again, or raced in on another worker and stored first.
    return session.execute(
        select(Message.id).where(Message.gateway == gateway, Message.external_id == external_id)
    ).scalar_one(), False


def _inbound_row(now: datetime, gateway: str, external_id: str | None, sender: str, body: str,
                 device_id: int | None) -> dict:
    body = clean(body)
    try:
        phone = normalize(sender)
    except PhoneError:
        phone = clean(sender)[:64]
    return {"direction": Direction.IN, "gateway": gateway, "external_id": external_id or None,
            "phone": phone, "body": body, "status": MessageStatus.RECEIVED, "kind": "in",
            "created_at": now, "device_id": device_id}


# ``store`` without a dedupe window or a SIM (Twilio's webhook), as one direct write.
_STORE = DirectWrite.insert_once(
    Message, ("gateway", "external_id"),
    ("direction", "gateway", "external_id", "phone", "body", "status", "kind", "created_at",
     "device_id"))


def pending(session: Session, limit: int) -> list[int]:
    """Ids of stored inbound messages not yet handled, oldest first."""
    return list(session.scalars(
        select(Message.id)
        .where(Message.direction == Direction.IN, Message.handled_at.is_(None))
        .order_by(Message.id)
        .limit(limit)
    ))


# A row another transaction is handling right now is skipped, not waited for (PostgreSQL;
# SQLite has one writer and no row locks): scheduler processes sharing the queue
# (``scheduler_mode`` shared) each take the next message nobody holds.
_locked = Message.__table__.alias("locked")
_UNLOCKED = (select(_locked.c.id).where(_locked.c.id == bindparam("msg_id"))
             .with_for_update(skip_locked=True))


def claim(session: Session, now: datetime, msg_id: int) -> Message | None:
    """Take message ``msg_id`` for handling in this transaction, with its sender's person
    (found or created); None when it was handled already, or is being handled by another
    transaction right now (skipped: that one acts on it, or a later run if it fails)."""
    claimed = session.execute(
        update(Message)
        .where(Message.id == msg_id, Message.handled_at.is_(None),
               Message.id.in_(_UNLOCKED))
        .values(handled_at=now)
        .execution_options(synchronize_session=False),
        {"msg_id": msg_id},
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


def receive_text(rt, gateway: str, external_id: str | None, sender: str, body: str,
                 *, resends: bool = False, phone_id: str | None = None,
                 sim_number: int | None = None) -> tuple[int, bool]:
    """Store an inbound SMS once; every door (gateways, simulator) comes here. Returns
    (message id, created). Acting on it is ``handle_pending``'s work. ``phone_id`` and
    ``sim_number`` name the Android phone and SIM it came in on (the reply leaves there)."""
    now = clock.utcnow()
    row = None
    if not resends and phone_id is None and external_id and _STORE.supported(rt.engine):
        row = _STORE(rt.engine, _inbound_row(now, gateway, external_id, sender, body, None))
    if row is not None:  # stored now, in one statement
        msg_id, created = row[0], True
    else:  # a repeat (its first row's id is looked up), a resend window, a SIM
        msg_id, created = write_now(rt.engine, lambda conn: store(  # one INSERT
            conn, now, gateway=gateway, external_id=external_id, sender=sender, body=body,
            dedupe_window=RESEND_WINDOW if resends else None,
            device_id=devices.came_in_on(conn, now, phone_id, sim_number) if phone_id else None,
        ))
    if created:
        log.info("sms in %s from %s", msg_id, mask(sender))
    return msg_id, created


def handle_pending(rt, now: datetime, *, limit: int = HANDLE_BATCH) -> int:
    """Act on stored inbound messages in arrival order, each in a transaction of its own;
    returns how many were taken.

    A message whose handling raises is marked for staff (``give_up``) and the next
    one goes on; a database error stops the run, leaving the rest for the next one.
    """
    with rt.sessions() as session:
        ids = pending(session, limit)
    for msg_id in ids:
        try:
            with session_scope(rt.sessions) as session:
                msg = claim(session, now, msg_id)
                if msg is not None:
                    # Never act "before" the message came (a run that started just earlier).
                    commands.handle(session, max(now, msg.created_at), msg, rt.settings)
        except OperationalError:
            raise
        except Exception as exc:
            log.exception("sms %s: handling failed; left for staff to read", msg_id)
            with session_scope(rt.sessions) as session:
                give_up(session, now, msg_id)
            job_rows.record_failure(rt.sessions, now, "handle_inbound", "message", msg_id, exc)
        hand_over_write_lock(rt.engine)
    return len(ids)
