"""Fixtures shared by every test: settings, a migrated database, the app, a client.

The database is chosen by ``HOTLINE_TEST_DB``: ``sqlite`` (default) or
``postgresql`` (127.0.0.1:5432, trust auth). Each run gets a database of its
own, migrated once with Alembic, and every test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from hotline.config import Settings
from hotline.db import Base, make_engine, make_sessionmaker, session_scope
from hotline.migrate import upgrade
from tests.fakes.android_server import FakeAndroid
from tests.fakes.twilio_server import FakeTwilio

PG_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKEND = os.environ.get("HOTLINE_TEST_DB", "sqlite")
AUTH_TOKEN = "test-auth-token"
# The local fakes of the gateways' APIs (tests/fakes/): one account each for every test.
TWILIO_SID, TWILIO_FROM = "AC" + "1" * 32, "+15005550006"
ANDROID_LOGIN, ANDROID_PASSWORD = "hotline", "s3cret"
PUBLIC_URL = "https://hotline.example.org"


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if BACKEND == "postgresql" and not _pg_reachable():
        skip = pytest.mark.skip(reason="PostgreSQL not reachable at " + PG_ADMIN_URL)
        for item in items:
            item.add_marker(skip)


def pytest_report_header(config):
    return f"hotline test database: {BACKEND}"


def create_database(tmp_path, migrate: bool = True) -> str:
    """A new database of the test backend (migrated unless ``migrate`` is False); drop it
    with ``drop_database``."""
    if BACKEND == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{tmp_path / f'hotline-{uuid.uuid4().hex[:6]}.db'}"
    else:
        name = f"hotline_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    if migrate:
        upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database ``create_database`` made (SQLite: delete its files)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = create_database(tmp_path_factory.mktemp("db"))
    try:
        yield url
    finally:
        if BACKEND == "postgresql":
            drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    """A session factory on a database whose tables are empty at the start of the test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    return make_sessionmaker(engine)


@pytest.fixture
def db(sessions):
    """One session for a test's own reads and setup; commit explicitly."""
    with sessions() as session:
        yield session


@pytest.fixture
def settings(database_url, tmp_path):
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        secret_key="test-secret",
        testing=True,
        audio_dir=str(tmp_path / "audio"),
        send_rate=0,
    )


@pytest.fixture
def app(settings, sessions):
    from app import create_app

    app = create_app(settings)
    yield app
    app.extensions["hotline"].close()


@pytest.fixture
def rt(app):
    """The app's Runtime: its settings, engine, sessions and gateways."""
    return app.extensions["hotline"]


@pytest.fixture
def set_clock(monkeypatch):
    """``set_clock(when)``: the instant ``clock.utcnow()`` answers from then on."""
    from hotline import clock

    def move(when: datetime) -> None:
        monkeypatch.setattr(clock, "utcnow", lambda: when)
    return move


def clock_starting_at(start: datetime):
    """A module's ``clock_at`` fixture: the webhooks see ``start`` until the test moves the
    clock with ``clock_at(when)``."""

    @pytest.fixture
    def clock_at(set_clock):
        set_clock(start)
        return set_clock

    return clock_at


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def at(value: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM' given in Hanoi time."""
    from hotline.clock import HANOI

    return datetime.fromisoformat(value).replace(tzinfo=HANOI).astimezone(UTC)


__all__ = ["AUTH_TOKEN", "PUBLIC_URL", "at", "create_database", "drop_database", "session_scope"]


def calls_through(settings: Settings, fake: FakeTwilio) -> Settings:
    """``settings`` with the line's calls placed through the real twilio client against
    ``fake`` (the account the fake was started with)."""
    return settings.replace(voice_gateway="twilio", twilio_account_sid=fake.account_sid,
                            twilio_auth_token=AUTH_TOKEN, twilio_from=TWILIO_FROM,
                            twilio_api_base_url=fake.url, gateway_timeout=2.0)


@pytest.fixture
def fake_twilio():
    """The fake Twilio REST API on a local port, for the real twilio client."""
    with FakeTwilio(account_sid=TWILIO_SID, auth_token=AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def fake_android():
    """The fake SMS Gateway for Android API on a local port, for the real client."""
    with FakeAndroid(login=ANDROID_LOGIN, password=ANDROID_PASSWORD) as server:
        yield server
