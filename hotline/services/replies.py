"""Automatic answers to an inbound SMS: an outbox operation with a cap and a key.

At most ``MAX_REPLIES_PER_HOUR`` automatic replies go to one number an hour, so two
machines can never text each other forever; each reply is keyed on the message it answers
(or, for a once-a-day answer, on the person and the Hanoi day), so handling a message twice
queues one reply.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import Direction, Kind, Message, Person
from hotline.phones import mask
from hotline.services.outbox import Outbox
from hotline.templates import render

log = logging.getLogger(__name__)

MAX_REPLIES_PER_HOUR = 5


def reply(session: Session, now: datetime, outbox: Outbox, msg: Message, person: Person,
          key: str, *, hotline_number: str, once_per_day: bool = False,
          **values) -> Message | None:
    """Queue template ``key`` as the answer to ``msg``, unless this number already had its
    share this hour (then None, logged)."""
    values.setdefault("hotline", hotline_number)
    recent = session.scalar(
        select(func.count(Message.id)).where(
            Message.phone == msg.phone,
            Message.direction == Direction.OUT,
            Message.kind == Kind.REPLY,
            Message.created_at >= now - timedelta(hours=1),
        )
    )
    if recent >= MAX_REPLIES_PER_HOUR:
        log.warning("reply limit reached for %s; not answering", mask(msg.phone))
        return None
    dedupe = f"reply:{msg.id}"
    if once_per_day:
        dedupe = f"{key}:{person.id}:{clock.local(now).date().isoformat()}"
    return outbox.enqueue(now, msg.phone, render(key, **values), kind=Kind.REPLY,
                          person=person, key=dedupe)
