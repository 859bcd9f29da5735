"""Two scheduler processes sharing the work on PostgreSQL (``HOTLINE_SCHEDULER_MODE=shared``):
both drain the outbox and handle inbound SMS at once, and nothing goes twice.

Real processes (``flask scheduler run``), the real twilio client, the fake Twilio in this
process; each process sends from a number of its own, so the fake tells who sent what.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import func, insert, select

from hotline import clock
from hotline.config import Settings
from hotline.db import session_scope
from hotline.models import Direction, Kind, Lane, Message, MessageStatus
from hotline.services import inbound
from tests.conftest import BACKEND
from tests.fakes.twilio_server import FakeTwilio
from tests.faults.test_fault_kill import SID, TOKEN, scheduler_env, start_scheduler, stop

pytestmark = pytest.mark.skipif(BACKEND != "postgresql",
                                reason="shared mode is PostgreSQL only (SQLite: one scheduler)")

OUTBOUND, INBOUND = 10_000, 300


def queue_outbound(sessions, now) -> None:
    rows = [{"direction": Direction.OUT, "gateway": "twilio", "phone": f"+8491{i:07d}",
             "body": f"Tin {i}", "status": MessageStatus.QUEUED, "kind": Kind.REPLY,
             "lane": i % len(Lane), "idempotency_key": f"shared:{i}", "due_at": now,
             "segments": 1, "created_at": now} for i in range(OUTBOUND)]
    with session_scope(sessions) as s:
        s.execute(insert(Message), rows)


def store_texts(sessions, now) -> None:
    with session_scope(sessions) as s:
        for i in range(INBOUND):
            inbound.store(s, now, gateway="twilio", external_id=f"SMin{i}",
                          sender=f"+8497{i:07d}", body="BHYT")  # one reply each (HD is two)


def wait_while_progress(count, target: int, procs, stall: float = 60.0) -> None:
    """Until ``count()`` reaches ``target``; fails when it stops moving for ``stall`` s
    (a shared machine may be slow, a stuck drain is not) or a process exits."""
    last, since = -1, time.monotonic()
    while (now := count()) < target:
        assert all(p.poll() is None for p in procs), "a scheduler process exited"
        if now != last:
            last, since = now, time.monotonic()
        assert time.monotonic() - since < stall, f"stuck at {now} of {target}"
        time.sleep(0.2)


def test_two_drains_send_ten_thousand_messages_exactly_once(database_url, sessions, tmp_path):
    now = clock.utcnow()
    queue_outbound(sessions, now)
    store_texts(sessions, now)
    procs = []
    with FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
        try:
            for n in (1, 2):
                env = {**scheduler_env(database_url, fake), "HOTLINE_SCHEDULER_MODE": "shared",
                       "TWILIO_FROM": f"+1500555000{n}"}
                procs.append(start_scheduler(env, tmp_path / f"scheduler-{n}.log"))
            wait_while_progress(lambda: len(fake.messages), OUTBOUND + INBOUND, procs)
        finally:
            for proc in procs:
                stop(proc)
        sent = list(fake.messages)
    logs = "".join((tmp_path / f"scheduler-{n}.log").read_text() for n in (1, 2))
    assert "Traceback" not in logs
    to = Counter(m["to"] for m in sent)
    assert len(sent) == OUTBOUND + INBOUND
    assert len(to) == OUTBOUND + INBOUND and set(to.values()) == {1}  # each once
    by_process = Counter(m["from"] for m in sent)
    assert set(by_process) == {"+15005550001", "+15005550002"}
    assert min(by_process.values()) > OUTBOUND // 10  # both really drained
    with sessions() as s:
        rows = dict(s.execute(select(Message.status, func.count()).where(
            Message.direction == Direction.OUT).group_by(Message.status)).all())
        unhandled = s.scalar(select(func.count()).select_from(Message).where(
            Message.direction == Direction.IN, Message.handled_at.is_(None)))
        doubtful = s.scalar(select(func.count()).select_from(Message).where(
            Message.maybe_duplicate.is_(True)))
    assert rows == {MessageStatus.SENT: OUTBOUND + INBOUND}
    assert unhandled == 0 and doubtful == 0


def test_shared_mode_needs_postgresql():
    with pytest.raises(ValueError, match="PostgreSQL"):
        Settings(database_url="sqlite:///x.db", scheduler_mode="shared").validate()
    Settings(database_url="postgresql+psycopg://h/db", scheduler_mode="shared").validate()
