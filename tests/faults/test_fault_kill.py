"""The scheduler process killed with SIGKILL in the middle of a drain, then restarted.

Real processes: ``flask scheduler run`` on the test database, sending through the real
``twilio`` client to the fake Twilio in this process, which holds every request a little
so the kill lands while a send is in flight. After the kill the clock is moved on (the
dead holder's lease and its claims expire) and a second scheduler process finishes the
job. Nothing may be lost; a message may go twice only if its row says ``maybe_duplicate``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from hotline import clock
from hotline.db import session_scope
from hotline.models import Kind, Message, MessageStatus, SchedulerState
from hotline.services.outbox import Outbox
from tests.conftest import PUBLIC_URL
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
SID, TOKEN, FROM = "AC" + "3" * 32, "kill-token", "+15005550006"
N = 40
PER_REQUEST = 0.08  # seconds the fake holds each send: a drain of N takes ~3 s


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def scheduler_env(database_url: str, fake: FakeTwilio) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_PUBLIC_URL=PUBLIC_URL,
        HOTLINE_SMS_GATEWAY="twilio",
        HOTLINE_SEND_RATE="0",
        HOTLINE_GATEWAY_TIMEOUT="5",
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM=FROM,
        TWILIO_API_BASE_URL=fake.url,
    )
    return env


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [FLASK, "--app", "app:create_app", "scheduler", "run"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def statuses(sessions) -> Counter:
    with sessions() as s:
        return Counter(dict(s.execute(
            select(Message.status, func.count()).group_by(Message.status)).all()))


def test_sigkill_mid_drain_loses_nothing_and_counts_possible_duplicates(
    database_url, sessions, tmp_path
):
    now = clock.utcnow()
    with session_scope(sessions) as s:
        box = Outbox(s, gateway="twilio")
        for i in range(N):
            box.enqueue(now, f"+849130{i:05d}", f"Khan {i:03d}: lien he ngay", kind=Kind.URGENT)
    log = tmp_path / "scheduler.log"
    first = second = None
    with FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
        fake.delay_next(3 * N, seconds=PER_REQUEST)
        env = scheduler_env(database_url, fake)
        try:
            first = start_scheduler(env, log)
            # Some sent, not all, and one request in flight: kill the process right there.
            wait_for(lambda: first.poll() is not None or (
                N // 5 <= len(fake.messages) < N - 5 and len(fake.requests) > len(fake.messages)
            ), 60, "the first scheduler to be half way through its drain")
            assert first.poll() is None, log.read_text()
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            killed_at = len(fake.messages)
            # The request in flight is answered (and so created) after its sender died.
            wait_for(lambda: len(fake.messages) == len(fake.requests), 10, "in-flight send")
            after_kill = statuses(sessions)
            assert after_kill[MessageStatus.QUEUED] > 0, "the kill came too late"

            # Two minutes later, as far as the database is concerned: the dead process's
            # lease has lapsed and its unfinished claim is past CLAIM_TIMEOUT.
            with session_scope(sessions) as s:
                past = clock.utcnow() - timedelta(seconds=1)
                s.execute(update(SchedulerState).values(lease_until=past))
                s.execute(update(Message).where(Message.status == MessageStatus.SENDING)
                          .values(due_at=past))

            second = start_scheduler(env, log)
            wait_for(lambda: second.poll() is not None
                     or statuses(sessions)[MessageStatus.SENT] == N,
                     60, "the restarted scheduler to send the rest")
            assert second.poll() is None, log.read_text()
        finally:
            stop(first)
            stop(second)
        wait_for(lambda: len(fake.messages) == len(fake.requests), 10, "last answers")
        sent = [item["body"] for item in fake.messages]

    with sessions() as s:
        rows = s.scalars(select(Message).order_by(Message.id)).all()
    assert {m.status for m in rows} == {MessageStatus.SENT}, log.read_text()
    flagged = {m.body for m in rows if m.maybe_duplicate}
    copies = Counter(sent)
    assert set(copies) == {m.body for m in rows}, "a message was lost"
    twice = {body for body, times in copies.items() if times > 1}
    assert twice <= flagged, "a message went twice without being flagged"
    assert N <= len(sent) <= N + len(flagged)
    print(
        f"\nSIGKILL after {killed_at} of {N} sent (rows then: {dict(after_kill)}); "
        f"restarted; all {N} SENT; Twilio received {len(sent)} messages: "
        f"{len(sent) - N} duplicate(s), {len(flagged)} row(s) flagged maybe_duplicate"
    )

