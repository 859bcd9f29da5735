"""SMS in both directions. Outbound rows are the outbox."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base


class Direction(StrEnum):
    """Of a message and of a call: ``in`` reached the line, ``out`` the line sent or placed."""

    IN = "in"
    OUT = "out"

    @classmethod
    def from_twilio(cls, value: str) -> "Direction":
        """Twilio's ``Direction`` field: ``inbound``, or ``outbound-api`` / ``outbound-dial``."""
        return cls.OUT if value.startswith("outbound") else cls.IN


class MessageStatus(StrEnum):
    """Outbound::

        queued --> sending --> sent --> delivered
          ^  |        |          +----> undelivered
          |  |        +--(transient error)--> queued (due_at = backoff)
          |  |        +--(permanent error)--> failed
          |  +--> cancelled (opted out / erased before sending)

    Provider status callbacks only move a message forward (see ``STATUS_RANK``).
    Inbound messages are ``received``; ``handled_at`` marks them processed.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECEIVED = "received"


STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.CANCELLED: 3,
}
TERMINAL = frozenset(s for s, rank in STATUS_RANK.items() if rank == 3)


class Kind(StrEnum):
    """Why a message goes out; decides quiet hours and the daily cap.

    ``reply`` answers something the person just sent, ``urgent`` is an emergency:
    both go at once. ``normal`` (alerts, reminders, follow-ups, broadcasts) keeps
    quiet hours and counts towards the daily cap.
    """

    REPLY = "reply"
    URGENT = "urgent"
    NORMAL = "normal"


class Lane(IntEnum):
    """The outbox's priority lanes, sent in this order within each gateway's rate
    (ARCHITECTURE rule 8): a lower number always goes first, so a broadcast never holds up
    an answer. Set by whoever enqueues; ``Lane.for_kind`` is the default for a kind."""

    EMERGENCY = 0  # danger: alerts and answers of an emergency
    REPLY = 1  # answers to what a person just sent (SMS command, call, staff answer)
    ALERT = 2  # case alerts to peer educators and coordinators
    REMINDER = 3  # meeting reminders, case follow-ups, renewals, member updates
    BROADCAST = 4  # a group broadcast

    @classmethod
    def for_kind(cls, kind: str) -> "Lane":
        return {Kind.URGENT: cls.EMERGENCY, Kind.REPLY: cls.REPLY}.get(kind, cls.REMINDER)


class NotSent(StrEnum):
    """Why an outbound message did not go when it was queued: held until later, or never sent.
    Every such decision is kept on the message row (``Message.hold_reason``), so staff see it
    on the person's and the case's timeline and counted on the dashboard."""

    QUIET_HOURS = "quiet_hours"  # held until the morning
    DAILY_CAP = "daily_cap"  # held until a day with room under the cap
    SAFE_WINDOW = "safe_window"  # held until the person's safe-contact hours
    FLOOD = "flood"  # an automatic reply over the hourly limit; the text went to triage
    OPTED_OUT = "opted_out"
    ERASED = "erased"
    EXPIRED = "expired"  # it could only have arrived after it mattered
    DUPLICATE = "duplicate"  # other words under a key already used
    CHANGED = "changed"  # what it announced changed (a meeting moved or cancelled)
    # Her notices come by voice call (``notify_channel`` voice): the SMS is kept, not sent,
    # and goes after all only if the calls fail (then ``voice_failed``).
    VOICE_INSTEAD = "voice_instead"
    VOICE_FAILED = "voice_failed"  # sent late: the calls that stood for it were not answered


# Reasons after which the message is never sent (the others only hold it).
NEVER_SENT = frozenset({NotSent.FLOOD, NotSent.OPTED_OUT, NotSent.ERASED, NotSent.EXPIRED,
                        NotSent.DUPLICATE, NotSent.CHANGED})


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
