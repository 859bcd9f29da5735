"""Scheduler jobs: plain functions ``job(rt, now)`` that find due rows.

Each is safe to run twice, late or after a crash: it only acts on rows that are
due and not yet done, and marks them done in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from hotline.db import session_scope
from hotline.runtime import Runtime
from hotline.services import cases, outbox
from hotline.services.outbox import Outbox


def drain_outbox(rt: Runtime, now: datetime) -> outbox.DrainReport:
    """Send due outbound SMS through the configured gateway."""
    return outbox.drain(rt.sessions, now, rt.sms_gateway, rt.settings)


def escalate_cases(rt: Runtime, now: datetime) -> int:
    """Move unaccepted or stalled cases up the escalation ladder."""
    done = 0
    with session_scope(rt.sessions) as session:
        box = Outbox.for_settings(session, rt.settings)
        for case in cases.due_for_action(session, now):
            cases.escalate(session, now, box, case)
            done += 1
    return done


def follow_up_cases(rt: Runtime, now: datetime) -> int:
    """Ask members whether resolved cases were solved; close unanswered questions."""
    done = 0
    with session_scope(rt.sessions) as session:
        box = Outbox.for_settings(session, rt.settings)
        for case in cases.due_followups(session, now):
            cases.follow_up(session, now, box, case)
            done += 1
    return done
