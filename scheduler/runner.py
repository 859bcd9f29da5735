"""Runs the jobs table on APScheduler 3, only while holding the database lease."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from hotline import clock
from hotline.db import session_scope
from hotline.runtime import Runtime
from hotline.services.outbox import WakeListener
from scheduler import jobs, lease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable
    seconds: int
    options: dict = field(default_factory=dict)  # keyword arguments of the scheduled runs


# The schedule: every job, how often. Jobs find their own due rows. The two on a member's
# way to her answer keep going for most of their tick (returning before the next one, which
# would otherwise be skipped): handle_inbound looks for new texts every 0.2 s, drain_outbox
# waits for a reply to be queued and sends it at once.
JOBS = [
    Job("handle_inbound", jobs.handle_inbound, 1, {"poll_every": 0.2, "poll_for": 0.7}),
    Job("drain_outbox", jobs.drain_outbox, 2, {"idle_wait": 1.5}),
    Job("reconcile_statuses", jobs.reconcile_statuses, 300),
    Job("cancel_at_gateway", jobs.cancel_at_gateway, 10),
    Job("watch_devices", jobs.watch_devices, 60),
    Job("escalate_cases", jobs.escalate_cases, 30),
    Job("follow_up_cases", jobs.follow_up_cases, 300),
    Job("plan_meetings", jobs.plan_meetings, 3600),
    Job("send_meeting_reminders", jobs.send_meeting_reminders, 60),
    Job("queue_broadcasts", jobs.queue_broadcasts, 15),
    Job("remind_bhyt_renewals", jobs.remind_bhyt_renewals, 3600),
    Job("remind_forum_follow_ups", jobs.remind_forum_follow_ups, 300),
    Job("place_callbacks", jobs.place_callbacks, 15),
    Job("apply_retention", jobs.apply_retention, 3600),
]


# Jobs that claim each row (SKIP LOCKED) and so may run in every scheduler process at
# once with ``HOTLINE_SCHEDULER_MODE=shared`` (PostgreSQL); the rest keep to the lease.
SHARED_JOBS = frozenset({"handle_inbound", "drain_outbox"})


class Runner:
    """Holds the lease and runs a job only while it is ours (shared jobs in shared mode:
    always)."""

    def __init__(self, rt: Runtime, holder: str | None = None) -> None:
        self.rt = rt
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"

    def hold(self) -> bool:
        """Renew the lease (and heartbeat); False while another runner holds it."""
        with session_scope(self.rt.sessions) as session:
            return lease.acquire(session, clock.utcnow(), self.holder)

    def run(self, job: Job) -> None:
        shared = self.rt.settings.scheduler_mode == "shared" and job.name in SHARED_JOBS
        if not shared and not self.hold():
            log.debug("lease held elsewhere; %s waits", job.name)
            return
        try:
            job.func(self.rt, clock.utcnow(), **job.options)
        except Exception:
            # One failing job must not stop the clock; the next tick tries again.
            log.exception("job %s failed", job.name)

    def release(self) -> None:
        with session_scope(self.rt.sessions) as session:
            lease.release(session, self.holder)

    def schedule_on(self, scheduler) -> None:
        scheduler.add_job(self.hold, "interval", seconds=5, id="heartbeat",
                          max_instances=1, coalesce=True)
        for job in JOBS:
            scheduler.add_job(self.run, "interval", args=[job], seconds=job.seconds, id=job.name,
                              max_instances=1, coalesce=True)


def start_background(rt: Runtime) -> BackgroundScheduler:
    """Jobs in a thread beside the web server (``python app.py``, local use only)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    Runner(rt).schedule_on(scheduler)
    quiet_job_logs()
    listen_for_wakes(rt)
    scheduler.start()
    return scheduler


def listen_for_wakes(rt: Runtime) -> WakeListener | None:
    """On PostgreSQL, wake this process's idle drain when another process commits a reply,
    an emergency or an alert (``outbox.WakeListener``); SQLite keeps the drain's tick."""
    listener = WakeListener.for_engine(rt.engine)
    return listener.start() if listener is not None else None


def run_forever(rt: Runtime) -> None:
    """``flask scheduler run``: the one scheduler process in production.

    SIGTERM (a deploy, ``systemctl stop``) lets running jobs finish and releases the lease,
    so the next scheduler starts at once instead of waiting for the lease to lapse.
    """
    runner = Runner(rt)
    scheduler = BlockingScheduler(timezone="UTC")
    runner.schedule_on(scheduler)
    quiet_job_logs()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    log.info("scheduler %s starting", runner.holder)
    listener = listen_for_wakes(rt)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler %s stopping", runner.holder)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if listener is not None:
            listener.stop()
        runner.release()


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def quiet_job_logs() -> None:
    """APScheduler logs two INFO lines per job run: with jobs every second that drowns the
    log. Failures still show (the runner logs them; missed runs are warnings)."""
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
