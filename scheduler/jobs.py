"""Scheduler jobs: plain functions ``job(rt, now)`` that find due rows.

Each is safe to run twice, late or after a crash: it only acts on rows that are
due and not yet done, and marks them done in the same transaction. Each row gets a
transaction of its own: a row that raises is rolled back, recorded with its reason
(``hotline.services.job_rows``, shown on the dashboard) and skipped from then on, and the
job goes on with the next.
"""

from __future__ import annotations

import logging
import time as _time
from datetime import datetime, timedelta

from hotline import clock
from hotline.db import session_scope
from hotline.models import Case, Message, Recording
from hotline.runtime import Runtime
from hotline.services import (
    broadcasts,
    cases,
    devices,
    inbound,
    job_rows,
    meetings,
    outbox,
    people,
    retention,
    voice,
)
from hotline.services.outbox import Outbox

log = logging.getLogger(__name__)

# Messages per drain call, and how long one run of the job keeps going while calls come back
# full (the lease is renewed meanwhile by the heartbeat job).
DRAIN_BATCH = 500
DRAIN_BUDGET = timedelta(seconds=60)
HANDLE_BUDGET = timedelta(seconds=30)


def handle_inbound(rt: Runtime, now: datetime, *, poll_every: float = 0.0,
                   poll_for: float = 0.0) -> int:
    """Act on the inbound SMS the webhooks stored (commands, complaints, free text), oldest
    first, each in its own transaction; batches that come back full are followed by the next
    for up to ``HANDLE_BUDGET``. Replies and alerts go into the outbox for ``drain_outbox``.

    With ``poll_for`` (the scheduler: most of its 1 s tick), a run that found nothing more
    looks again every ``poll_every`` seconds until then: the webhooks store in another
    process, so there is nothing to wait on, and one look is one index-only query, where
    waiting for the next tick cost a text half a second on average."""
    started = _time.monotonic()
    total, elapsed = 0, timedelta(0)
    while True:
        taken = inbound.handle_pending(rt, now + elapsed)
        total += taken
        elapsed = timedelta(seconds=_time.monotonic() - started)
        if elapsed >= HANDLE_BUDGET:
            return total
        if taken < inbound.HANDLE_BATCH:
            if elapsed.total_seconds() + poll_every > poll_for:
                return total
            _time.sleep(poll_every)
            elapsed = timedelta(seconds=_time.monotonic() - started)


def drain_outbox(rt: Runtime, now: datetime, *, idle_wait: float = 0.0
                 ) -> outbox.DrainReport:
    """Send due outbound SMS through the configured gateway.

    A batch that came back full is followed by the next one at once, for up to
    ``DRAIN_BUDGET``: a backlog (a broadcast) then goes at the configured send rate, where
    waiting for the next tick after every batch cost up to a tick per 500 messages (a
    10,000-member broadcast drained at 84 msg/s with ``HOTLINE_SEND_RATE=100``).

    With ``idle_wait`` (the scheduler: most of its 2 s tick), a run with nothing more to
    send waits until then for ``outbox.WAKE`` (a reply, an emergency or an alert committed
    in this process, by ``handle_inbound``, or on PostgreSQL in any other process: the IVR's
    workers, the console, another scheduler, through ``outbox.WakeListener``) and drains
    again at once: a reply no longer waits for the next tick, and nothing polls faster for
    the other lanes. On SQLite what another process queues waits for the tick.
    """
    started = _time.monotonic()
    total = outbox.DrainReport()
    while True:
        outbox.WAKE.clear()  # what is committed from here on wakes the wait below
        elapsed = timedelta(seconds=_time.monotonic() - started)
        report = outbox.drain(rt.sessions, now + elapsed, rt.sms_gateway, rt.settings,
                              limit=DRAIN_BATCH, pacer=rt.pacer,
                              others=rt.other_sms_gateways)
        total += report
        if elapsed >= DRAIN_BUDGET:
            return total
        if report.handled < DRAIN_BATCH:
            left = idle_wait - (_time.monotonic() - started)
            if left <= 0 or not outbox.WAKE.wait(left):
                return total


def reconcile_statuses(rt: Runtime, now: datetime) -> int:
    """Ask the SMS providers about messages whose status callback never came, each through
    the gateway that sent it (whatever the gateway setting is now)."""
    return outbox.reconcile(rt.sessions, now, rt.sms_gateway_named)


def cancel_at_gateway(rt: Runtime, now: datetime) -> int:
    """Cancel at the gateway what a member's HUY stopped after the gateway took it."""
    with session_scope(rt.sessions) as session:
        return outbox.cancel_held(session, now, rt.sms_gateway)


def watch_devices(rt: Runtime, now: datetime) -> devices.WatchReport:
    """Android SIMs silent for 15 minutes: tell the coordinators (daytime), move the queue."""
    with session_scope(rt.sessions) as session:
        return devices.watch(session, now, Outbox.for_settings(session, rt.settings),
                             rt.settings)


def _each_due(rt: Runtime, now: datetime, job: str, object_type: str, find, act,
              load=()) -> int:
    """``act(session, now, outbox, row)`` for every row ``find(session, now, skip=...)``
    returns, each row in its own transaction, a failing one recorded and skipped (and left
    out of the next finds); how many acted. ``load``: loader options for each row's read."""
    return job_rows.each_row(
        rt.sessions, now, job, object_type, lambda session, skip: find(session, now, skip=skip),
        lambda session, row: act(session, now, Outbox.for_settings(session, rt.settings), row),
        load=load)


def escalate_cases(rt: Runtime, now: datetime) -> int:
    """Move unaccepted or stalled cases up the escalation ladder."""
    return _each_due(rt, now, "escalate_cases", "case", cases.due_for_action, cases.escalate,
                     load=cases.WITH_PEOPLE)


def follow_up_cases(rt: Runtime, now: datetime) -> int:
    """Ask members whether resolved cases were solved; close unanswered questions."""
    return _each_due(rt, now, "follow_up_cases", "case", cases.due_followups, cases.follow_up,
                     load=cases.WITH_PEOPLE)


def remind_forum_follow_ups(rt: Runtime, now: datetime) -> int:
    """Remind coordinators to check a forum's commitments on its follow-up day."""
    return _each_due(rt, now, "remind_forum_follow_ups", "forum", voice.due_forum_follow_ups,
                     voice.remind_forum_follow_up)


def plan_meetings(rt: Runtime, now: datetime) -> int:
    """Create the coming meetings of recurring series (with their reminder moments)."""
    planned = []
    job_rows.each_row(
        rt.sessions, now, "plan_meetings", "meeting_series",
        lambda session, skip: meetings.active_series(session),  # all of them: no batch
        lambda session, series: planned.extend(meetings.plan_series(session, now, series)))
    return len(planned)


def send_meeting_reminders(rt: Runtime, now: datetime) -> int:
    """Queue due meeting reminders; moments long gone are skipped, not sent late."""
    return _each_due(rt, now, "send_meeting_reminders", "meeting_reminder",
                     meetings.due_reminders, meetings.send_reminder)


def queue_broadcasts(rt: Runtime, now: datetime) -> int:
    """Queue the messages of broadcasts whose time has come."""
    queued = []

    def queue(session, broadcast):
        box = Outbox.for_settings(session, rt.settings)
        queued.append(broadcasts.queue(session, now, box, broadcast))

    job_rows.each_row(rt.sessions, now, "queue_broadcasts", "broadcast",
                      lambda session, skip: broadcasts.due(session, now), queue)  # no batch
    return sum(queued)


def remind_bhyt_renewals(rt: Runtime, now: datetime) -> int:
    """Remind members 30 and 7 days before their health-insurance card ends (by a call too
    for those told by voice)."""
    today = clock.local(now).date()

    def remind(session, person):
        people.remind_bhyt(session, now, Outbox.for_settings(session, rt.settings), person,
                           today)

    return job_rows.each_row(rt.sessions, now, "remind_bhyt_renewals", "person",
                             lambda session, skip: people.bhyt_due(session, today),  # no batch
                             remind)


def place_callbacks(rt: Runtime, now: datetime):
    """Call back members who rang the missed-call number or asked for it, in call hours."""
    from hotline.services import calls  # imported here to keep the voice job self-contained

    return calls.place_due(rt.sessions, now, rt.voice_gateway, rt.settings)


def apply_retention(rt: Runtime, now: datetime) -> int:
    """Recordings of cases closed ``HOTLINE_RECORDING_RETENTION_MONTHS`` ago, then what
    identifies the person on cases closed ``HOTLINE_RETENTION_MONTHS`` ago, then the number
    on each erasure confirmation that has gone. One transaction
    per row: a row that fails is rolled back, written in the audit log and skipped until the
    next run, and the others go on."""
    s = rt.settings
    steps = (
        ("recording", Recording,
         lambda db, skip: retention.due_recordings(db, now, s.recording_retention_months, skip),
         lambda db, rec: retention.remove_recording(db, now, rec, s.audio_dir)),
        ("case", Case,
         lambda db, skip: retention.due_cases(db, now, s.retention_months, skip),
         lambda db, case: retention.anonymise_case(db, now, case, s.audio_dir)),
        ("erasure_confirmation", Message,
         lambda db, skip: retention.due_confirmations(db, skip),
         lambda db, msg: retention.forget_confirmation_number(db, now, msg)),
    )
    done = 0
    for what, model, find, act in steps:
        skip: set[int] = set()
        while True:
            with rt.sessions() as session:
                ids = [row.id for row in find(session, skip)]
            if not ids:
                break
            for row_id in ids:
                try:
                    with session_scope(rt.sessions) as session:
                        act(session, session.get(model, row_id))
                    done += 1
                except Exception as exc:  # noqa: BLE001 - one bad row must not stop the rest
                    log.exception("retention: %s %s failed", what, row_id)
                    skip.add(row_id)
                    with session_scope(rt.sessions) as session:
                        retention.failed(session, now, what, row_id, exc)
    return done
