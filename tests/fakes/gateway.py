"""An in-memory SMS gateway with a script of failures, for outbox tests."""

from __future__ import annotations

import uuid

from hotline.gateways.base import GatewayError, SendResult


class ScriptedGateway:
    """Records each send; raises the scripted errors first, in order."""

    name = "simulator"

    def __init__(self, *errors: GatewayError | Exception) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, str, str | None]] = []

    def send_sms(self, to, body, *, status_callback=None, options=None):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((to, body, status_callback))
        return SendResult(external_id="SM" + uuid.uuid4().hex, status="queued")
