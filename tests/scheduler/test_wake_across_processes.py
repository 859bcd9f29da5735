"""On PostgreSQL a reply committed by another process wakes the scheduler's idle drain
(``NOTIFY hotline_outbox`` in the committing transaction, ``outbox.WakeListener`` in the
scheduler): it goes in the drain run already under way, not at the next tick. No timing is
asserted, only order: the reply is sent before the run's wait ran out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import psycopg
import pytest

from hotline import clock
from hotline.db import session_scope
from hotline.models import Kind
from hotline.services import outbox
from hotline.services.outbox import WAKE_CHANNEL, Outbox, WakeListener
from scheduler import jobs, runner
from tests.conftest import BACKEND
from tests.factories import create_person
from tests.scheduler.support import in_thread, watch_drain

pytestmark = pytest.mark.skipif(BACKEND != "postgresql",
                                reason="LISTEN/NOTIFY is PostgreSQL's; SQLite keeps the tick")

# Longer than any test here may take: a run that is still waiting has not reached its end.
IDLE_WAIT = 120.0


@pytest.fixture
def listener(rt):
    listening = WakeListener(rt.engine).start()
    assert listening.listening.wait(30)
    yield listening
    listening.stop()


def listen(rt) -> psycopg.Connection:
    args, kwargs = rt.engine.dialect.create_connect_args(rt.engine.url)
    conn = psycopg.connect(*args, **kwargs, autocommit=True)
    conn.execute(f"LISTEN {WAKE_CHANNEL}")
    return conn


def queue_elsewhere(database_url: str, phone: str, body: str, kind: str) -> None:
    """Queue one message and commit, in a Python process of its own."""
    code = textwrap.dedent(f"""
        from hotline import clock
        from hotline.db import make_engine, make_sessionmaker, session_scope
        from hotline.models import Kind
        from hotline.services.outbox import Outbox
        from tests.factories import create_person
        now = clock.utcnow()
        with session_scope(make_sessionmaker(make_engine({database_url!r}))) as s:
            person = create_person(s, now, phone={phone!r})
            Outbox(s).enqueue(now, person.phone, {body!r}, kind=Kind.{kind}, person=person)
    """)
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120,
                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_a_reply_committed_by_another_process_wakes_the_idle_drain(
        rt, listener, database_url, monkeypatch):
    watched = watch_drain(rt, monkeypatch)
    thread, result = in_thread(jobs.drain_outbox, rt, clock.utcnow(), idle_wait=IDLE_WAIT)
    try:
        assert watched.looked.wait(30)  # the run found nothing and waits
        assert not watched.sent.is_set()
        queue_elsewhere(database_url, "+84912000881", "tra loi", "REPLY")
        assert watched.sent.wait(IDLE_WAIT / 2)
        assert thread.is_alive()  # the same run, still within its wait: woken, not ticked
        assert [body for _, body, _ in watched.gateway.sent] == ["tra loi"]
    finally:
        monkeypatch.setattr(jobs, "DRAIN_BUDGET", timedelta(0))  # end the run at its next look
        outbox.WAKE.set()
        thread.join(30)
    assert not thread.is_alive() and result["value"].sent == 1


def test_only_a_committed_message_of_a_waking_lane_notifies(rt):
    conn = listen(rt)
    try:
        now = clock.utcnow()
        with session_scope(rt.sessions) as s:
            person = create_person(s, now, phone="+84912000882")
        with pytest.raises(RuntimeError), session_scope(rt.sessions) as s:
            Outbox(s).enqueue(now, person.phone, "bo", kind=Kind.REPLY, person=person)
            raise RuntimeError("rolled back")
        with session_scope(rt.sessions) as s:  # a reminder does not wake anyone
            Outbox(s).enqueue(now, person.phone, "nhac", kind=Kind.NORMAL, person=person)
        with session_scope(rt.sessions) as s:  # a reply held for later does not either
            Outbox(s).enqueue(now, person.phone, "sau", kind=Kind.REPLY, person=person,
                              not_before=now + timedelta(hours=1))
        with session_scope(rt.sessions) as s:
            Outbox(s).enqueue(now, person.phone, "khan", kind=Kind.URGENT, person=person)
        # Notifications arrive in commit order: had any earlier one notified, it would
        # come first and there would be two by the time the urgent one's arrives.
        got = list(conn.notifies(timeout=30, stop_after=1))
        assert len(got) == 1 and got[0].channel == WAKE_CHANNEL
        conn.execute("SELECT 1")  # whatever else was queued for us is read now
        assert list(conn.notifies(timeout=0.01)) == []
    finally:
        conn.close()


def test_the_listener_comes_back_after_losing_its_connection(rt, listener):
    with psycopg.connect(*rt.engine.dialect.create_connect_args(rt.engine.url)[0],
                         **rt.engine.dialect.create_connect_args(rt.engine.url)[1],
                         autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE query = %s AND pid <> pg_backend_pid()",
                      (f"LISTEN {WAKE_CHANNEL}",))
    outbox.WAKE.clear()
    # It notices, opens a new connection and sets WAKE for what it may have missed.
    assert outbox.WAKE.wait(60)
    assert listener.listening.wait(60)


def test_the_scheduler_listens_on_postgresql_only(rt, monkeypatch):
    started = runner.listen_for_wakes(rt)
    try:
        assert started is not None and started.listening.wait(30)
    finally:
        started.stop()
    monkeypatch.setattr(rt.engine.dialect, "name", "sqlite")
    assert runner.listen_for_wakes(rt) is None
