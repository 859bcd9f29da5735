"""``flask scheduler run`` as a process: SIGTERM (a deploy) hands the lease back at once,
and SMS the webhooks stored are acted on by its ``handle_inbound`` job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from hotline import clock
from hotline.db import session_scope
from hotline.models import Direction, Message, SchedulerState
from hotline.services import inbound
from tests.conftest import PUBLIC_URL

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def start(database_url: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(PYTHONPATH=str(ROOT), HOTLINE_DATABASE_URL=database_url,
               HOTLINE_PUBLIC_URL=PUBLIC_URL, HOTLINE_SMS_GATEWAY="simulator")
    with log.open("ab") as out:
        return subprocess.Popen([FLASK, "--app", "app:create_app", "scheduler", "run"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def lease(sessions) -> SchedulerState | None:
    with sessions() as s:
        return s.get(SchedulerState, "scheduler")


def test_sigterm_releases_the_lease_after_acting_on_stored_sms(database_url, sessions,
                                                                tmp_path):
    with session_scope(sessions) as s:
        inbound.store(s, clock.utcnow(), gateway="twilio", external_id="SM-proc-1",
                      sender="+84912345678", body="HD")
    proc = start(database_url, tmp_path / "scheduler.log")
    try:
        wait_for(lambda: (state := lease(sessions)) is not None
                 and state.holder.endswith(f":{proc.pid}"), 30, "the lease")

        def answered() -> bool:
            with sessions() as s:
                return s.scalar(select(Message.id).where(
                    Message.direction == Direction.OUT)) is not None

        wait_for(answered, 30, "the reply to the stored SMS")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    state = lease(sessions)
    assert state.lease_until is None  # the next scheduler need not wait for it to lapse
    log = (tmp_path / "scheduler.log").read_text()
    assert "stopping" in log and "Traceback" not in log
