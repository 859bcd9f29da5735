"""Database plumbing: one-statement writes on SQLite wait for the write lock by polling,
and a pooled connection whose server went away is replaced (see also tests/faults)."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from hotline.db import make_engine, write_now
from tests.conftest import BACKEND

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single write lock")
postgresql_only = pytest.mark.skipif(BACKEND != "postgresql", reason="a server to lose")


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    engine.dispose()


def hold_write_lock(path, seconds: float, started: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def insert(conn) -> int:
    return conn.execute(text("INSERT INTO t (x) VALUES (1)")).rowcount


@sqlite_only
def test_a_write_waits_for_the_lock_by_polling_then_restores_the_busy_timeout(engine):
    started = threading.Event()
    holder = threading.Thread(target=hold_write_lock,
                              args=(engine.url.database, 0.3, started))
    holder.start()
    started.wait(5)
    # SQLite's own wait, at 1 ms, would give up at once: the retries carry it through.
    assert write_now(engine, insert) == 1
    holder.join()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15_000
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


@sqlite_only
def test_a_write_gives_up_after_the_connections_own_busy_timeout(engine):
    with engine.connect() as conn:  # the pooled connection, made impatient (as in the faults)
        conn.exec_driver_sql("PRAGMA busy_timeout = 200")
    started = threading.Event()
    holder = threading.Thread(target=hold_write_lock,
                              args=(engine.url.database, 1.5, started))
    holder.start()
    started.wait(5)
    began = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        write_now(engine, insert)
    waited = time.monotonic() - began
    holder.join()
    assert 0.15 < waited < 1.5
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


@postgresql_only
def test_a_pooled_connection_with_a_harmless_message_waiting_is_kept(database_url):
    """Something to read on an idle pooled connection (here a notification) makes the pool
    ping it, not throw it away; one the server closed is replaced (tests/faults)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("LISTEN hotline_test")
            conn.commit()
        pid = backend_pid(engine)
        notifier = create_engine(database_url, poolclass=NullPool)
        with notifier.connect() as other:
            other.exec_driver_sql("NOTIFY hotline_test")
            other.commit()
        notifier.dispose()
        time.sleep(0.2)  # the notification reaches the idle pooled connection's socket
        assert backend_pid(engine) == pid
    finally:
        engine.dispose()
