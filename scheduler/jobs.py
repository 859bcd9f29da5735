"""Scheduler jobs: plain functions ``job(rt, now)`` that find due rows.

Each is safe to run twice, late or after a crash: it only acts on rows that are
due and not yet done, and marks them done in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from hotline.runtime import Runtime
from hotline.services import outbox


def drain_outbox(rt: Runtime, now: datetime) -> outbox.DrainReport:
    """Send due outbound SMS through the configured gateway."""
    return outbox.drain(rt.sessions, now, rt.sms_gateway, rt.settings)
