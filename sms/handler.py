"""The one way in for an inbound SMS, whichever door it came through."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from hotline import clock
from hotline.db import session_scope
from hotline.models import Message
from hotline.phones import mask
from hotline.services import inbound

log = logging.getLogger(__name__)


def receive_text(rt, gateway: str, external_id: str | None, sender: str, body: str,
                 *, resends: bool = False) -> Message:
    """Store an inbound SMS once and act on it; every door (gateways, simulator) comes here."""
    now = clock.utcnow()
    with session_scope(rt.sessions) as session:
        msg, created = inbound.receive(
            session, now, gateway=gateway, external_id=external_id, sender=sender, body=body,
            dedupe_window=inbound.RESEND_WINDOW if resends else None,
        )
        if created:
            log.info("sms in %s from %s", msg.id, mask(msg.phone))
            handle(session, now, msg, rt.settings)
    return msg


def handle(session: Session, now: datetime, msg: Message, settings) -> None:
    """Act on ``msg`` (see ``sms.commands``)."""
    from sms.commands import handle as run_command

    run_command(session, now, msg, settings)
