"""The Android gateway phones: one row per SIM the line sends and receives on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base

# A phone that has sent no event (``system:ping`` comes every few minutes) for this long is
# silent: in the daytime the coordinator is told and its queue moves to a healthy SIM.
SILENT_AFTER_MINUTES = 15


class GatewayDevice(Base):
    """One SIM in one phone running SMS Gateway for Android (a dual-SIM phone is two rows).

    ``app_device_id`` is the id the app reports (``deviceId`` of its events and API);
    ``sim_number`` its SIM slot (1-3; None: the phone's default). ``webhook_secret`` is the
    signing key copied from that phone's app (each phone has its own). ``send_rate`` is in
    messages per minute and ``daily_limit`` per Hanoi day: real SIMs send a few a minute, and
    Android asks for confirmation past 30 in 30 minutes unless the limit is raised.
    """

    __tablename__ = "gateway_devices"
    __table_args__ = (UniqueConstraint("app_device_id", "sim_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    app_device_id: Mapped[str] = mapped_column(String(64), index=True)
    sim_number: Mapped[int | None]
    # The SIM's own number (E.164) and its network, found from the number.
    phone: Mapped[str | None] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(20))
    send_rate: Mapped[int] = mapped_column(default=6)
    daily_limit: Mapped[int] = mapped_column(default=400)
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None]
    last_event: Mapped[str | None] = mapped_column(String(32))
    # When the coordinator was last told this SIM went silent (once per silence).
    silent_alerted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeliveryReport(Base):
    """One delivery event for an outbound message, stored once (the gateway retries events).

    A multipart SMS gets a report per part: it is delivered when every part is and failed as
    soon as one part fails (``hotline.services.outbox.record_part``).
    """

    __tablename__ = "delivery_reports"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(12))
    event_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
