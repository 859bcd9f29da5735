"""SMS in both directions. Outbound rows are the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base
from hotline.models.enums import Direction, Kind, Lane

UNHANDLED = text("direction = 'in' AND handled_at IS NULL")
CANCEL_REQUESTED = text("cancel_requested_at IS NOT NULL")
# The SMS that tells an erased person it is done (``people.CONFIRMATION_KEY``): the retention
# job's due rows. Spelled out in its query as here (a partial index is used only for a query
# that repeats its condition, bound parameters do not).
ERASURE_CONFIRMATION = text("idempotency_key LIKE 'erased:%'")
# error_message of an inbound text the line failed to act on (it went to staff, unanswered).
HANDLING_FAILED = "handler failed"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("gateway", "external_id"),
        Index("ix_messages_status_due", "status", "due_at"),
        # The drain's due-row query: one index range per lane (see outbox._due_ids).
        Index("ix_messages_status_lane_due", "status", "lane", "due_at"),
        Index("ix_messages_person_kind_due", "person_id", "kind", "due_at"),
        Index("ix_messages_phone_created", "phone", "created_at"),
        Index("ix_messages_needs_staff", "needs_staff", "triaged_at"),
        Index("ix_messages_hold_reason_created", "hold_reason", "created_at"),
        # The ``handle_inbound`` job's queue: only the few inbound rows not yet handled.
        Index("ix_messages_unhandled", "id", sqlite_where=UNHANDLED, postgresql_where=UNHANDLED),
        # Each SIM's sends today (rate and daily limit) and its queue (moved when it is silent).
        Index("ix_messages_device_sent", "device_id", "sent_at"),
        Index("ix_messages_cancel_requested", "id", sqlite_where=CANCEL_REQUESTED,
              postgresql_where=CANCEL_REQUESTED),
        Index("ix_messages_erasure_confirmation", "id", sqlite_where=ERASURE_CONFIRMATION,
              postgresql_where=ERASURE_CONFIRMATION),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # E.164 when it parses; inbound from unparseable senders keeps the raw value.
    phone: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8), default=Kind.NORMAL)
    # Outbound: the priority lane (``Lane``); inbound rows keep the default.
    lane: Mapped[int] = mapped_column(SmallInteger, default=Lane.REMINDER,
                                      server_default=text(str(int(Lane.REMINDER))))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # Outbound: when the drain may next try it.
    due_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )
    # Not worth sending after this moment (a reminder once the meeting has begun).
    expires_at: Mapped[datetime | None]
    # Why it did not go when queued (``NotSent``): held, or cancelled for good.
    hold_reason: Mapped[str | None] = mapped_column(String(16))
    # Set when a send was started but its outcome is unknown (crash mid-send).
    maybe_duplicate: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    # Inbound: what the parser made of it, for the triage inbox and reports.
    command: Mapped[str | None] = mapped_column(String(12))
    # Inbound that needs a person (free text, erasure requests) until staff deal with it.
    needs_staff: Mapped[bool] = mapped_column(default=False)
    triaged_at: Mapped[datetime | None]
    triaged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    # Android: the SIM it came in on, or the one it is to leave from (see GatewayDevice).
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("gateway_devices.id", ondelete="SET NULL"))
    # Set when a message the gateway still holds is to be cancelled there (HUY).
    cancel_requested_at: Mapped[datetime | None]

    person: Mapped["Person | None"] = relationship()  # noqa: F821

    @property
    def handling_failed(self) -> bool:
        """An inbound text the line could not act on: nobody has answered it yet."""
        return self.direction == Direction.IN and self.error_message == HANDLING_FAILED
