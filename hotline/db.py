"""Database plumbing: declarative Base with a naming convention, engines, sessions.

Operations flush; the caller (route, job, CLI) commits through ``session_scope()``.
"""

from __future__ import annotations

import functools
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    return _once_more_if_dropped(lambda: _write_now(engine, work))


def _once_more_if_dropped(write: Callable[[], T]) -> T:
    try:
        return write()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return write()


def _write_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    with autocommit(engine) as conn:
        if conn.dialect.name != "sqlite":
            return work(conn)
        return _polling_for_the_lock(conn.connection, lambda: work(conn))


def _polling_for_the_lock(pooled, write: Callable[[], T]) -> T:
    """``write()`` on SQLite's pooled connection ``pooled``, tried again every millisecond
    while the write lock is taken, within the connection's own busy timeout."""
    # Settings of this connection, straight to the driver: no statement to log or count.
    sqlite = pooled.driver_connection
    info = pooled.info  # lives as long as the pooled connection
    if "busy_timeout_ms" not in info:  # read once, not on every webhook
        info["busy_timeout_ms"] = sqlite.execute("PRAGMA busy_timeout").fetchone()[0]
    patience_ms = info["busy_timeout_ms"]
    deadline = time.monotonic() + patience_ms / 1000
    sqlite.execute(f"PRAGMA busy_timeout = {SQLITE_POLL_MS}")
    try:
        while True:
            try:
                return write()
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
    finally:
        sqlite.execute(f"PRAGMA busy_timeout = {patience_ms}")


class DirectWrite:
    """A webhook's one-statement write (an SMS stored, a menu step that only moves), run on
    the pooled driver connection itself, committed by itself.

    SQLAlchemy builds and compiles the statement once per dialect (``build(dialect)``;
    ``columns``: the columns an ``INSERT`` is given), and each call binds the values as
    SQLAlchemy would (the columns' Python defaults, each type's bind processing) and hands
    the SQL to the driver. What it skips is the ``Connection`` and the execution context
    around one statement, and switching the isolation level at checkout and back at
    checkin: a third of an SMS webhook's CPU on PostgreSQL. Otherwise it is ``write_now``:
    the pool's checkout check, a write tried once more on a new connection when the one
    handed out had been dropped, SQLite's write lock polled for, driver errors raised as
    SQLAlchemy's (``OperationalError``: the webhooks' 503). Listeners of the engine's
    ``before_cursor_execute`` see the statement (the tests count statements), with no
    ``Connection``.

    ``__call__`` returns the statement's first row (a tuple), or None.
    """

    def __init__(self, build: Callable[[str], object], columns: tuple[str, ...] | None = None):
        self.build = build
        self.columns = columns
        self._compiled: dict[str, _Direct] = {}

    @classmethod
    def insert_once(cls, model, keys: tuple[str, ...], columns: tuple[str, ...]) -> DirectWrite:
        """``insert_once`` of a ``model`` row given ``columns``: its new id, or None when one
        with the same unique ``keys`` exists."""
        return cls(lambda dialect: _insert_once_stmt(dialect, model, keys), columns)

    def supported(self, engine: Engine) -> bool:
        return engine.dialect.name in _DIRECT_COMMIT

    def __call__(self, engine: Engine, values: dict) -> tuple | None:
        direct = self._for(engine.dialect)
        params = direct.bind(values)
        return _once_more_if_dropped(lambda: _run_direct(engine, direct, params))

    def within(self, conn: Connection, values: dict) -> tuple | None:
        """The statement inside ``conn``'s transaction, on its driver connection, not
        committed: what ``conn.execute`` would do, without the execution context and result
        object around it (a third of a single-row insert's CPU on PostgreSQL). The
        statement's first row, or None. ``before_cursor_execute`` listeners see it; driver
        errors are raised as SQLAlchemy's, and a dropped connection is invalidated as
        ``conn.execute`` would (the transaction is then lost either way)."""
        dialect = conn.dialect
        direct = self._for(dialect)
        params = direct.bind(values)
        pooled = conn.connection
        if conn.dispatch.before_cursor_execute:
            conn.dispatch.before_cursor_execute(conn, None, direct.sql, params, None, False)
        try:
            return _INSIDE[dialect.name](pooled.driver_connection, direct.sql, params)
        except dialect.loaded_dbapi.Error as exc:
            dropped = dialect.is_disconnect(exc, pooled.dbapi_connection, None)
            error = DBAPIError.instance(direct.sql, params, exc, dialect.loaded_dbapi.Error,
                                        connection_invalidated=dropped, dialect=dialect)
            if dropped:
                conn.invalidate(exc)
            raise error from exc

    def _for(self, dialect) -> _Direct:
        direct = self._compiled.get(dialect.name)
        if direct is None:
            direct = self._compiled[dialect.name] = _Direct.compile(
                self.build(dialect.name), dialect, self.columns)
        return direct


@dataclass(frozen=True)
class _Direct:
    sql: str
    compiled: object
    order: tuple[str, ...] | None  # positional drivers (SQLite): the parameters' order
    processors: tuple[tuple[str, Callable], ...]
    defaults: dict

    @classmethod
    def compile(cls, stmt, dialect, columns: tuple[str, ...] | None) -> _Direct:
        compiled = stmt.compile(dialect=dialect,
                                column_keys=list(columns) if columns is not None else None)
        if compiled.escaped_bind_names or compiled.post_compile_params:
            raise ValueError("DirectWrite takes plain bound parameters only")
        defaults = {}
        for column in getattr(compiled, "insert_prefetch", ()):
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"DirectWrite: {column} needs a scalar default")
            defaults[column.key] = column.default.arg
        processors = {}  # one per name, as SQLAlchemy binds a name used twice once
        for param, name in compiled.bind_names.items():
            proc = param.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                processors.setdefault(name, proc)
        order = tuple(compiled.positiontup) if compiled.positional else None
        return cls(compiled.string, compiled, order, tuple(processors.items()), defaults)

    def bind(self, values: dict):
        params = self.compiled.construct_params({**self.defaults, **values})
        for name, proc in self.processors:
            params[name] = proc(params[name])
        return params if self.order is None else tuple(params[name] for name in self.order)


def _run_direct(engine: Engine, direct: _Direct, params) -> tuple | None:
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()  # the pool's checkout check runs, as for a Connection
    except dialect.loaded_dbapi.Error as exc:  # no server: raised as a Connection would
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=dialect.is_disconnect(exc, None, None),
                                  dialect=dialect) from exc
    try:
        if engine.dispatch.before_cursor_execute:
            engine.dispatch.before_cursor_execute(None, None, direct.sql, params, None, False)
        run = _DIRECT_COMMIT[engine.dialect.name]
        try:
            if engine.dialect.name == "sqlite":
                return _polling_for_the_lock(
                    pooled, lambda: _translated(engine, pooled, direct, params, run))
            return _translated(engine, pooled, direct, params, run)
        except DBAPIError as exc:
            if exc.connection_invalidated:
                pooled.invalidate(exc.orig)
            raise
    finally:
        pooled.close()


def _translated(engine: Engine, pooled, direct: _Direct, params, run) -> tuple | None:
    """``run`` on the driver connection, its errors raised as SQLAlchemy's."""
    dialect = engine.dialect
    try:
        return run(pooled.driver_connection, direct.sql, params)
    except dialect.loaded_dbapi.Error as exc:
        dropped = dialect.is_disconnect(exc, pooled.dbapi_connection, None)
        raise DBAPIError.instance(direct.sql, params, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=dropped, dialect=dialect) from exc


def _psycopg_commit(conn, sql: str, params) -> tuple | None:
    """One round trip: the statement in autocommit (prepared, as psycopg does for a
    statement run often); the connection goes back to the pool as it came."""
    conn.autocommit = True
    try:
        return _first_row(conn.execute(sql, params, prepare=True))
    finally:
        if not conn.closed:
            conn.autocommit = False


def _sqlite_commit(conn, sql: str, params) -> tuple | None:
    before = conn.isolation_level
    conn.isolation_level = None  # autocommit: the statement is its own transaction
    try:
        return _first_row(conn.execute(sql, params))
    finally:
        conn.isolation_level = before


def _first_row(cursor) -> tuple | None:
    """The first row, the statement run to its end (SQLite commits then) and closed."""
    try:
        rows = cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()
    return tuple(rows[0]) if rows else None


_DIRECT_COMMIT = {"postgresql": _psycopg_commit, "sqlite": _sqlite_commit}


def _psycopg_inside(conn, sql: str, params) -> tuple | None:
    return _first_row(conn.execute(sql, params, prepare=True))


def _sqlite_inside(conn, sql: str, params) -> tuple | None:
    return _first_row(conn.execute(sql, params))


_INSIDE = {"postgresql": _psycopg_inside, "sqlite": _sqlite_inside}


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
