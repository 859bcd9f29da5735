"""Awareness broadcasts: the information texts (rights when fined or when goods are seized,
gender equality, safety, legal aid, insurance) as ready drafts for the Broadcasts page.

The texts are the SMS information templates with today's figures (``hotline.figures``),
so a draft says what ``TRATTU``, ``ANTOAN``... answer. Staff choose the recipients and send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import clock, figures
from hotline.models import Broadcast, BroadcastStatus
from hotline.templates import render

TOPICS = ("info_trattu", "info_binhdang", "info_antoan", "info_phaply", "info_bhxh",
          "info_bhyt", "info_tamtru")


def draft_texts(now: datetime) -> list[str]:
    values = figures.sms_values(clock.local(now).date())
    return [render(key, **values) for key in TOPICS]


def create_drafts(session: Session, now: datetime) -> list[Broadcast]:
    """A draft broadcast for every awareness text not already drafted; returns the new ones."""
    existing = set(session.scalars(select(Broadcast.body)))
    made = [Broadcast(body=body, segment={}, status=BroadcastStatus.DRAFT, created_at=now)
            for body in draft_texts(now) if body not in existing]
    session.add_all(made)
    session.flush()
    return made
