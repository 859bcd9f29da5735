"""One scheduler at a time: a second runner waits for the lease."""

from __future__ import annotations

from datetime import timedelta

from hotline.db import session_scope
from hotline.queries import health
from scheduler import lease
from tests.conftest import at

T0 = at("2026-12-01 12:00")


def test_second_holder_waits_until_the_lease_expires(sessions):
    with session_scope(sessions) as s:
        assert lease.acquire(s, T0, "a")
    with session_scope(sessions) as s:
        assert not lease.acquire(s, T0 + timedelta(seconds=10), "b")
        assert lease.acquire(s, T0 + timedelta(seconds=10), "a")  # renewal
    with session_scope(sessions) as s:
        assert not lease.acquire(s, T0 + timedelta(seconds=39), "b")
        assert lease.acquire(s, T0 + timedelta(seconds=41), "b")  # a went quiet
    with session_scope(sessions) as s:
        assert not lease.acquire(s, T0 + timedelta(seconds=42), "a")
        assert health.heartbeat_at(s) == T0 + timedelta(seconds=41)


def test_release_lets_the_next_one_in_at_once(sessions):
    with session_scope(sessions) as s:
        lease.acquire(s, T0, "a")
        lease.release(s, "a")
    with session_scope(sessions) as s:
        assert lease.acquire(s, T0 + timedelta(seconds=1), "b")


def test_runner_skips_jobs_without_the_lease(app, sessions):
    from scheduler.runner import Job, Runner

    rt = app.extensions["hotline"]
    ran = []
    job = Job("probe", lambda rt, now: ran.append(now), 1)
    first, second = Runner(rt, holder="first"), Runner(rt, holder="second")
    first.run(job)
    second.run(job)
    assert len(ran) == 1
    first.release()
    second.run(job)
    assert len(ran) == 2


def test_a_failing_job_does_not_stop_the_runner(app, caplog):
    from scheduler.runner import Job, Runner

    def boom(rt, now):
        raise RuntimeError("boom")

    Runner(app.extensions["hotline"], holder="x").run(Job("boom", boom, 1))
    assert "job boom failed" in caplog.text
