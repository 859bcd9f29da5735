"""Simulator: the default gateway on a fresh machine; nothing leaves the process.

The message row already lives in the database and the console's phone simulator shows it,
so sending only hands back a fake provider id.
"""

from __future__ import annotations

import uuid

from hotline.gateways.base import SendResult


class SimulatorGateway:
    """SMS and voice gateway that accepts everything without touching the network.

    A call it "places" rings in the console's phone simulator, which answers it through the
    voice menu's webhooks exactly as Twilio would; those know every call as a ``twilio`` one,
    so the call is recorded under that name (``webhook_gateway``) for its webhooks to find.
    """

    name = "simulator"
    webhook_gateway = "twilio"

    def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None, options=None
    ) -> SendResult:
        return SendResult(external_id=f"SM-sim-{uuid.uuid4().hex}", status="delivered")

    def place_call(self, to: str, *, url: str, status_callback: str | None = None,
                   machine_detection: str | None = None) -> SendResult:
        return SendResult(external_id=f"CA-sim-{uuid.uuid4().hex}", status="queued")

    def close(self) -> None:
        """Nothing to release."""
