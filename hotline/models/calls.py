"""Voice: calls, their menu steps, recordings and queued callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base
from hotline.models.enums import CallbackStatus, CallStatus, RecordingPurpose, RecordingStatus


class Call(Base):
    """One phone call, in or out, as its gateway reported it."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("gateway", "external_id"),
        # Today's calls to a number (the daily cap of voice notices).
        Index("ix_calls_phone_started", "phone", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # a messages.Direction
    phone: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.RINGING)
    # The final CallStatus, or MISSED for a missed call; None while the call goes on.
    outcome: Mapped[str | None] = mapped_column(String(24))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None]
    # Twilio's answering-machine detection (``AnsweredBy``: human, machine_end_beep, ...).
    answered_by: Mapped[str | None] = mapped_column(String(24))

    steps: Mapped[list[CallStep]] = relationship(back_populates="call", order_by="CallStep.id")


class CallStep(Base):
    """One request of a call through the menu, stored once per (call, step)."""

    __tablename__ = "call_steps"
    __table_args__ = (UniqueConstraint("call_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(40))
    digits: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]

    call: Mapped[Call] = relationship(back_populates="steps")


class Recording(Base):
    """A spoken complaint or voicemail, or a caller's name. The media stays private: staff
    listen via the console."""

    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("gateway", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    media_url: Mapped[str] = mapped_column(Text, default="")
    local_path: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=RecordingStatus.IN_PROGRESS)
    purpose: Mapped[str] = mapped_column(String(12), default=RecordingPurpose.COMPLAINT,
                                         server_default=RecordingPurpose.COMPLAINT.value)
    created_at: Mapped[datetime]


class CallbackRequest(Base):
    """A call the line owes or places: a callback she asked for, an emergency alert to a
    responder, or a notice told by voice; the callback job dials the due ones."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        Index("ix_callback_requests_status_due", "status", "due_at"),
        # One call per notice: a job run twice queues it once (NULLs differ: callbacks).
        UniqueConstraint("person_id", "notice", "notice_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default=CallbackStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime]
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    # Set for an emergency alert call to a responder (``reason`` "emergency"): the case she is
    # asked to accept. A member's callback has none.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    # A voice notice (``reason`` "notice"): its kind (``voice_notices.KINDS``), what it is
    # about (a case, a referral, a meeting), and the SMS it stands for (stored, not sent; the
    # fallback when the calls fail).
    notice: Mapped[str | None] = mapped_column(String(24))
    notice_ref: Mapped[str | None] = mapped_column(String(64))
    # What the call says besides its fixed prompts (case number, provider, phone ...).
    notice_args: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
