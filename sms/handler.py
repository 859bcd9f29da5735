"""The one way in for an inbound SMS, whichever door it came through, and the one place
where stored messages are acted on."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline import clock
from hotline.db import hand_over_write_lock, session_scope, write_now
from hotline.models import Message
from hotline.phones import mask
from hotline.services import inbound

log = logging.getLogger(__name__)

# Messages one ``handle_pending`` call takes on; the next run takes the rest.
HANDLE_BATCH = 200


def receive_text(rt, gateway: str, external_id: str | None, sender: str, body: str,
                 *, resends: bool = False) -> tuple[int, bool]:
    """Store an inbound SMS once; every door (gateways, simulator) comes here. Returns
    (message id, created). Acting on it is ``handle_pending``'s work."""
    now = clock.utcnow()
    msg_id, created = write_now(rt.engine, lambda conn: inbound.store(  # one INSERT
        conn, now, gateway=gateway, external_id=external_id, sender=sender, body=body,
        dedupe_window=inbound.RESEND_WINDOW if resends else None,
    ))
    if created:
        log.info("sms in %s from %s", msg_id, mask(sender))
    return msg_id, created


def handle_pending(rt, now: datetime, *, limit: int = HANDLE_BATCH) -> int:
    """Act on stored inbound messages in arrival order, each in a transaction of its own;
    returns how many were taken.

    A message whose handling raises is marked for staff (``inbound.give_up``) and the next
    one goes on; a database error stops the run, leaving the rest for the next one.
    """
    with rt.sessions() as session:
        ids = inbound.pending(session, limit)
    for msg_id in ids:
        try:
            with session_scope(rt.sessions) as session:
                msg = inbound.claim(session, now, msg_id)
                if msg is not None:
                    # Never act "before" the message came (a run that started just earlier).
                    handle(session, max(now, msg.created_at), msg, rt.settings)
        except OperationalError:
            raise
        except Exception:
            log.exception("sms %s: handling failed; left for staff to read", msg_id)
            with session_scope(rt.sessions) as session:
                inbound.give_up(session, now, msg_id)
        hand_over_write_lock(rt.engine)
    return len(ids)


def handle(session: Session, now: datetime, msg: Message, settings) -> None:
    """Act on ``msg`` (see ``sms.commands``)."""
    from sms.commands import handle as run_command

    run_command(session, now, msg, settings)
