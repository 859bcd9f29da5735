"""Database plumbing: declarative Base with a naming convention, engines, sessions.

Operations flush; the caller (route, job, CLI) commits through ``session_scope()``.
"""

from __future__ import annotations

import functools
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend, hands back aware UTC datetimes.

    SQLite has no time zones; keeping the column naive everywhere makes SQLite
    and PostgreSQL behave the same, and the aware values make mistakes loud.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5)
    event.listen(engine, "checkout", _drop_if_closed_by_server)
    return engine


def _drop_if_closed_by_server(dbapi_conn, _record, _proxy) -> None:
    """Replace a pooled connection the server has dropped (restart, terminated backend).

    An idle connection has nothing to read; one the server closed has its goodbye (or the
    end of the stream) waiting on the socket. Looking costs no round trip, where
    ``pool_pre_ping`` spent one (and a BEGIN) on every checkout of every request. Only
    when there is something to read is the connection pinged, so a harmless message (a
    notice) does not cost a reconnection.
    """
    try:
        if dbapi_conn.closed:
            raise OSError("closed")
        if not select.select([dbapi_conn.fileno()], [], [], 0)[0]:
            return
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_conn.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure means: not usable
        raise DisconnectionError("connection closed by the server; the pool replaces it"
                                 ) from exc


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}


def dialect_insert(dialect: str):
    """The dialect's ``insert``, which knows ``ON CONFLICT``; None where there is none."""
    return _INSERTS.get(dialect)


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection on which every statement commits by itself: a one-statement write (a
    webhook storing what it got) is then one round trip instead of BEGIN, it and COMMIT."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


# SQLite: how long a webhook's write waits inside SQLite before trying again itself, and the
# pause the handle_inbound job leaves between two messages so such a write gets its turn.
SQLITE_POLL_MS = 1
SQLITE_HANDOFF_S = 0.002


def write_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work(conn)`` on an ``autocommit`` connection: a webhook's one-statement write.

    A pooled connection the server dropped an instant ago (its goodbye not yet on the
    socket when it was checked out) fails the statement; the pool is then invalidated and
    the write is tried once more on a new connection. ``work`` must be safe to repeat
    (the webhooks' inserts are ``ON CONFLICT DO NOTHING``).

    On SQLite, a writer that finds the one write lock taken is put to sleep by SQLite's busy
    handler for 1, 2, 5 ... 100 ms between tries. Against the handle_inbound job, which takes
    the lock for a few milliseconds per message (and leaves ``SQLITE_HANDOFF_S`` between
    two), webhooks then waited up to half a second (p99 409 ms at 100 SMS/s). Here the
    write tries again every millisecond instead, for as long as the connection's busy
    timeout allows. PostgreSQL has row locks: ``work`` just runs.
    """
    try:
        return _write_now(engine, work)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return _write_now(engine, work)


def _write_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    with autocommit(engine) as conn:
        if conn.dialect.name != "sqlite":
            return work(conn)
        # Settings of this connection, straight to the driver: no statement to log or count.
        sqlite = conn.connection.driver_connection
        info = conn.connection.info  # lives as long as the pooled connection
        if "busy_timeout_ms" not in info:  # read once, not on every webhook
            info["busy_timeout_ms"] = sqlite.execute("PRAGMA busy_timeout").fetchone()[0]
        patience_ms = info["busy_timeout_ms"]
        deadline = time.monotonic() + patience_ms / 1000
        sqlite.execute(f"PRAGMA busy_timeout = {SQLITE_POLL_MS}")
        try:
            while True:
                try:
                    return work(conn)
                except OperationalError as exc:
                    if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                        raise
        finally:
            sqlite.execute(f"PRAGMA busy_timeout = {patience_ms}")


def hand_over_write_lock(engine: Engine) -> None:
    """Between two transactions of a busy job on SQLite, leave the write lock free for a
    moment so the webhooks' ``write_now`` gets it (SQLite does not queue writers fairly)."""
    if engine.dialect.name == "sqlite":
        time.sleep(SQLITE_HANDOFF_S)


def insert_once(session: Session | Connection, model, values: dict, keys: tuple[str, ...]
                ) -> int | None:
    """Insert a ``model`` row unless one with the same unique ``keys`` exists; the new row's
    id, or None when it existed. Not through the ORM: the row is not in the session.

    SQLite and PostgreSQL: one ``INSERT .. ON CONFLICT DO NOTHING RETURNING id`` (webhooks'
    hot path), which also makes this transaction the writer from here on (on SQLite a
    SAVEPOINT that opens the transaction would commit early when released, letting a racing
    request see half of it). Elsewhere: a savepoint.
    """
    bind = session if isinstance(session, Connection) else session.get_bind()
    if bind.dialect.name in _INSERTS:
        return session.execute(_insert_once_stmt(bind.dialect.name, model, keys),
                               values).scalar()
    row = model(**values)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    session.expunge(row)
    return row.id


@functools.cache
def _insert_once_stmt(dialect: str, model, keys: tuple[str, ...]):
    # Built once: building and keying the statement per call cost more than running it.
    table = model.__table__
    return (_INSERTS[dialect](table).on_conflict_do_nothing(index_elements=list(keys))
            .returning(table.c.id))
