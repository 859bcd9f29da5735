"""The database locked or unreachable: webhooks answer 503 with Retry-After, never 500, and
the gateway's retry later stores the message exactly once.

Locked: SQLite with ``BEGIN EXCLUSIVE`` held by another connection (the app's busy timeout
cut to 0.2 s), PostgreSQL with ``LOCK TABLE ... ACCESS EXCLUSIVE`` (the app's
``lock_timeout`` cut to 0.2 s). Unreachable: an app pointed at a closed port (PostgreSQL)
or at a file it cannot open (SQLite).
"""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hotline.db import make_engine, make_sessionmaker
from hotline.models import Direction, Message, MessageStatus
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.factories import handle_sms
from tests.faults.support import (
    android_post,
    census,
    inbound_form,
    signed_post,
    sms_received,
    webhook_settings,
)

LOCK_WAIT_MS = 200


@pytest.fixture
def settings(settings):
    return webhook_settings(settings)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@pytest.fixture
def impatient(app):
    """The app, waiting at most LOCK_WAIT_MS for a lock instead of SQLite's 15 s."""
    rt = app.extensions["hotline"]
    url = rt.settings.database_url
    rt.engine.dispose()
    if is_sqlite(url):
        engine = make_engine(url)

        def short_busy_timeout(dbapi_conn, _record):
            dbapi_conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")

        event.listen(engine, "connect", short_busy_timeout, insert=True)
    else:
        engine = create_engine(url, connect_args={"options": f"-c lock_timeout={LOCK_WAIT_MS}"})
    rt.engine, rt.sessions = engine, make_sessionmaker(engine)
    return app


@contextmanager
def locked(database_url: str):
    """Another connection holds the database (SQLite) or the busy tables (PostgreSQL)."""
    if is_sqlite(database_url):
        conn = sqlite3.connect(make_url(database_url).database, timeout=5, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE messages, people, calls IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def assert_retry_later(resp) -> None:
    assert resp.status_code == 503, (resp.status_code, resp.data[:300])
    assert int(resp.headers["Retry-After"]) > 0


def inbound(db) -> list[Message]:
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == Direction.IN)).all()


def replies(db) -> list[Message]:
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == Direction.OUT)).all()


def test_locked_database_gives_503_then_the_retry_is_stored_and_handled_once(
    impatient, sessions, db, database_url
):
    client = impatient.test_client()
    form = inbound_form("SM" + uuid.uuid4().hex, body="DK Lan")
    before = census(sessions)
    with locked(database_url):
        started = time.monotonic()
        assert_retry_later(signed_post(client, "/sms/inbound", form))
        assert time.monotonic() - started < 5
    assert census(sessions) == before

    assert signed_post(client, "/sms/inbound", form).status_code == 200
    assert signed_post(client, "/sms/inbound", form).status_code == 200  # Twilio again
    handle_sms(impatient)
    [msg] = inbound(db)
    assert (msg.external_id, msg.body, msg.command) == (form["MessageSid"], "DK Lan", "DK")
    assert msg.handled_at is not None
    assert len(replies(db)) == 1  # the consent question, once


def test_locked_database_android_event_gives_503_then_once(impatient, sessions, db,
                                                            database_url):
    client = impatient.test_client()
    event_ = sms_received("evt-" + uuid.uuid4().hex, text="HD")
    before = census(sessions)
    with locked(database_url):
        assert_retry_later(android_post(client, event_))
    assert census(sessions) == before
    for _ in range(2):
        assert android_post(client, event_).status_code == 204
    handle_sms(impatient)
    [msg] = inbound(db)
    assert (msg.external_id, msg.command) == (event_["id"], "HD")


def test_locked_database_while_handling_keeps_the_message_for_the_next_run(
    impatient, sessions, db, database_url
):
    """The webhook stored the message; the database is locked when the job comes for it:
    the job fails, nothing is half done, and its next run answers once."""
    client = impatient.test_client()
    form = inbound_form("SM" + uuid.uuid4().hex, body="BHYT")
    assert signed_post(client, "/sms/inbound", form).status_code == 200
    with locked(database_url), pytest.raises(OperationalError):
        handle_sms(impatient)
    [msg] = inbound(db)
    assert msg.handled_at is None and replies(db) == []
    assert handle_sms(impatient) == 1
    [msg] = inbound(db)
    assert msg.command == "BHYT" and len(replies(db)) == 1


def test_locked_database_status_callback_gives_503_then_applies(impatient, db, database_url):
    client = impatient.test_client()
    msg = Outbox(db, gateway="twilio").enqueue(at("2026-12-01 10:00"), "+84912345678", "x")
    msg.external_id, msg.status = "SM" + uuid.uuid4().hex, MessageStatus.SENT
    db.commit()
    form = {"MessageSid": msg.external_id, "MessageStatus": "delivered"}
    with locked(database_url):
        assert_retry_later(signed_post(client, "/sms/status", form))
    db.expire_all()
    assert db.get(Message, msg.id).status == MessageStatus.SENT
    assert signed_post(client, "/sms/status", form).status_code == 204
    db.expire_all()
    assert db.get(Message, msg.id).status == MessageStatus.DELIVERED


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CALL = {"CallSid": "CA" + "c" * 32, "AccountSid": "AC" + "0" * 32, "From": "+84912345678",
        "To": "+15005550006", "CallStatus": "ringing", "Direction": "inbound"}
ROUTES = [
    ("/sms/inbound", inbound_form("SM" + "d" * 32)),
    ("/sms/status", {"MessageSid": "SM" + "e" * 32, "MessageStatus": "delivered"}),
    ("/ivr/status", {**CALL, "CallStatus": "completed", "CallDuration": "30"}),
]


@pytest.fixture
def down_app(settings, tmp_path):
    """An app whose database cannot be reached at all."""
    from app import create_app

    if is_sqlite(settings.database_url):
        url = f"sqlite:///{tmp_path / 'no such directory' / 'hotline.db'}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    app = create_app(settings.replace(database_url=url))
    yield app
    app.extensions["hotline"].close()


@pytest.mark.parametrize("path, form", ROUTES, ids=[p for p, _ in ROUTES])
def test_unreachable_database_gives_503_on_every_webhook(down_app, path, form):
    resp = signed_post(down_app.test_client(), path, form)
    assert_retry_later(resp)


@pytest.mark.parametrize("path", ["/ivr/incoming", "/ivr/menu?node=main&n=1"])
def test_unreachable_database_a_caller_hears_an_apology(down_app, path):
    import xml.etree.ElementTree as ET

    resp = signed_post(down_app.test_client(), path, {**CALL, "Digits": "1"})
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    root = ET.fromstring(resp.data)
    assert [el.tag for el in root] == ["Say", "Hangup"]
    assert root[0].get("language") == "vi-VN" and "gọi lại" in root[0].text


def test_unreachable_database_android_and_healthz(down_app):
    client = down_app.test_client()
    assert_retry_later(android_post(client, sms_received("evt-down")))
    assert client.get("/healthz").status_code == 503


def terminate_backends(database_url: str) -> None:
    """What a PostgreSQL restart does to the app's pooled connections."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        admin.dispose()


def test_connections_killed_under_the_app_are_replaced(app, db, database_url):
    """PostgreSQL restarted (every connection dropped): the next webhook still succeeds."""
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    client = app.test_client()
    assert signed_post(client, "/sms/inbound", inbound_form("SM" + "f" * 32)).status_code == 200
    terminate_backends(database_url)
    form = inbound_form("SM" + "0" * 32, body="HD")
    assert signed_post(client, "/sms/inbound", form).status_code == 200
    assert len(inbound(db)) == 2


def test_a_connection_dropped_an_instant_before_checkout_costs_the_webhook_nothing(
    app, db, database_url, monkeypatch
):
    """The server's goodbye not yet on the socket when the pool hands the connection out
    (so it looks alive): the webhook's one-statement write is tried again on a new one."""
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    import hotline.db

    client = app.test_client()
    assert signed_post(client, "/sms/inbound", inbound_form("SM" + "e" * 32)).status_code == 200
    terminate_backends(database_url)
    time.sleep(0.2)
    # Every socket looks quiet, as in the instant before the goodbye arrives.
    monkeypatch.setattr(hotline.db.select, "select", lambda r, w, x, t: ([], [], []))
    form = inbound_form("SM" + "d" * 32, body="HD")
    assert signed_post(client, "/sms/inbound", form).status_code == 200
    monkeypatch.undo()  # the test's own session was dropped too: let its pool see that
    assert len(inbound(db)) == 2
