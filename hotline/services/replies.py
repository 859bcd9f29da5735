"""Automatic answers to an inbound SMS: an outbox operation with a cap and a key.

At most ``MAX_REPLIES_PER_HOUR`` automatic replies go to one member's number an hour, so two
machines can never text each other forever. Past it (the flood guard) she gets one "we have
your texts, we will read them all" for the hour, each answer held back is kept as a message
not sent (``NotSent.FLOOD``) and her text goes to the triage inbox. Answers owed whatever the
count always go: a case number (``OWED``), and everything to peer educators and coordinators,
who work cases by SMS. Each reply is keyed on the message it answers and on what it says (or,
for a once-a-day answer, on the person and the Hanoi day), so handling a message twice queues
each reply once, and two different answers to one text both go.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import Direction, Kind, Message, MessageStatus, NotSent, Person, Role
from hotline.phones import mask
from hotline.services import outbox as outbox_mod
from hotline.services.outbox import Outbox
from hotline.templates import render

log = logging.getLogger(__name__)

MAX_REPLIES_PER_HOUR = 5
# Answers that go past the flood guard: she must learn her case number.
OWED = frozenset({"case_opened", "followup_reopened", "opted_out", "erase_requested"})


def reply(session: Session, now: datetime, outbox: Outbox, msg: Message, person: Person,
          key: str, *, hotline_number: str, once_per_day: bool = False,
          **values) -> Message:
    """Queue template ``key`` as the answer to ``msg``; past the flood guard, the row of the
    answer not sent (see the module). Always returns the message row."""
    values.setdefault("hotline", hotline_number)
    body = render(key, **values)
    if person.role == Role.MEMBER and key not in OWED and _flooded(session, now, msg.phone):
        log.warning("reply limit reached for %s; held back, text to triage", mask(msg.phone))
        msg.needs_staff = True
        hour = clock.local(now).strftime("%Y-%m-%dT%H")
        outbox.enqueue(now, msg.phone, render("flood_ack"), kind=Kind.REPLY, person=person,
                       key=f"flood_ack:{person.id}:{hour}", device_id=msg.device_id)
        return outbox_mod.not_sent(session, now, outbox, msg.phone, body, NotSent.FLOOD,
                                   person=person, case_id=msg.case_id,
                                   note=f"answer to message {msg.id}")
    dedupe = f"reply:{msg.id}:{key}"
    if once_per_day:
        dedupe = f"{key}:{person.id}:{clock.local(now).date().isoformat()}"
    # From the SIM she texted (Android pool): the number she knows, on her network.
    return outbox.enqueue(now, msg.phone, body, kind=Kind.REPLY, person=person, key=dedupe,
                          device_id=msg.device_id)


def _flooded(session: Session, now: datetime, phone: str) -> bool:
    """Whether ``phone`` had its share of automatic replies in the last hour."""
    recent = session.scalar(
        select(func.count(Message.id)).where(
            Message.phone == phone,
            Message.direction == Direction.OUT,
            Message.kind == Kind.REPLY,
            Message.created_at >= now - timedelta(hours=1),
            Message.status != MessageStatus.CANCELLED,
        )
    )
    return recent >= MAX_REPLIES_PER_HOUR
