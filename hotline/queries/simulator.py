"""What the phone simulator shows of one phone: texts, callbacks ringing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import (
    Call,
    CallbackRequest,
    CallbackStatus,
    CallStatus,
    Direction,
    Message,
    MessageStatus,
    Person,
    Recording,
)
from hotline.services.calls import next_allowed

SHOWN_ON_PHONE = (MessageStatus.SENT, MessageStatus.DELIVERED)


def phone_inbox(session: Session, phone: str, limit: int = 30) -> list[Message]:
    """Texts the line sent to ``phone`` that have left the outbox, newest first."""
    return list(session.scalars(
        select(Message).where(
            Message.direction == Direction.OUT,
            Message.phone == phone,
            Message.status.in_(SHOWN_ON_PHONE),
        ).order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)
    ))


def phone_pending(session: Session, phone: str) -> int:
    """Texts to ``phone`` still waiting in the outbox (quiet hours, the daily cap)."""
    return session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.OUT, Message.phone == phone,
        Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
    )) or 0


# A placed call rings until it is answered (in-progress) or ends (an outcome).
RINGING_STATUSES = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING)


@dataclass(frozen=True)
class RingingCallback:
    callback_id: int
    call_sid: str  # the external id the voice gateway returned for the placed call
    reason: str
    since: datetime


def ringing_callbacks(session: Session, phone: str, callback_id: int | None = None
                      ) -> list[RingingCallback]:
    """Callbacks the line is placing to ``phone`` right now (status ``calling``, the call
    recorded and not yet answered or ended), oldest first."""
    query = (
        select(CallbackRequest.id, Call.external_id, CallbackRequest.reason, Call.started_at)
        .join(Call, Call.id == CallbackRequest.call_id)
        .where(CallbackRequest.status == CallbackStatus.CALLING,
               CallbackRequest.phone == phone,
               Call.outcome.is_(None), Call.status.in_(RINGING_STATUSES))
        .order_by(CallbackRequest.id)
    )
    if callback_id is not None:
        query = query.where(CallbackRequest.id == callback_id)
    return [RingingCallback(*row) for row in session.execute(query)]


def open_callback(session: Session, phone: str, now: datetime, settings
                  ) -> tuple[CallbackRequest, datetime] | None:
    """The callback still to be made to ``phone`` (queued or being placed), if any, and the
    first moment the line may place it (call hours, the person's safe-contact window)."""

    callback = session.scalar(
        select(CallbackRequest)
        .where(CallbackRequest.phone == phone,
               CallbackRequest.status.in_([CallbackStatus.QUEUED, CallbackStatus.CALLING]))
        .order_by(CallbackRequest.id).limit(1)
    )
    if callback is None:
        return None
    if callback.status == CallbackStatus.CALLING:
        return callback, now
    person = session.get(Person, callback.person_id) if callback.person_id else None
    return callback, next_allowed(max(now, callback.due_at), callback, person, settings)


def recording_by_media(session: Session, suffix: str) -> Recording | None:
    """The recording whose media URL ends with ``suffix`` (a simulator recording's sid)."""
    return session.scalar(select(Recording).where(Recording.media_url.endswith(suffix)).limit(1))
