"""The outbox: every outbound SMS is a row first; the drain job sends it.

``Outbox.enqueue`` decides *when* a message may go (quiet hours, the daily cap,
the person's safe-contact window) and never drops one; ``drain`` hands due rows
to a gateway with retries; ``record_status`` applies provider callbacks, only
ever moving a message forward.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time as _time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache, lru_cache

from sqlalchemy import Integer, bindparam, event, func, or_, select, true, union_all, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    Session,
    aliased,
    configure_mappers,
    make_transient_to_detached,
    object_session,
    sessionmaker,
)

from hotline import clock
from hotline.db import DirectWrite, dialect_insert, insert_once, session_scope
from hotline.gateways.base import GatewayError, SendOptions, SmsGateway, StatusEvent
from hotline.models import (
    STATUS_RANK,
    DeliveryReport,
    Direction,
    GatewayDevice,
    Kind,
    Lane,
    Message,
    MessageStatus,
    NotSent,
    Person,
    Role,
    SchedulerState,
)
from hotline.phones import mask
from hotline.services import devices
from hotline.services.job_rows import JobReport
from hotline.text import segments, unaccent

log = logging.getLogger(__name__)

# Set when a unit of work that queued a message of a lane up to ``WAKE_LANES`` (a reply, an
# emergency, an alert), due now, has committed: the scheduler's drain, idle between its
# ticks, waits on it (``scheduler.jobs.drain_outbox``) and sends at once instead of at the
# next tick. In this process the commit sets it; on PostgreSQL the same commit also sends
# ``NOTIFY hotline_outbox`` (delivered only if it commits), and ``WakeListener`` sets it in
# every scheduler process when that arrives: a reply queued by the IVR's gunicorn worker, a
# console or another scheduler wakes the drain too. SQLite has no such channel: what another
# process queues waits for the drain's tick (at most 2 s).
WAKE = threading.Event()
WAKE_LANES = Lane.ALERT
WAKE_CHANNEL = "hotline_outbox"
_WAKE_KEY = "outbox_wake"
# The outboxes of a session (weak references in ``Session.info``), so a message given up
# for a voice call (``instead_by_voice``) leaves the daily-cap count of the outbox that
# counted it.
_OUTBOXES_KEY = "outboxes"


@event.listens_for(Session, "before_commit")
def _notify_before_commit(session: Session) -> None:
    if session.info.get(_WAKE_KEY):
        conn = session.connection()
        if conn.dialect.name == "postgresql":  # transactional: dropped on rollback
            conn.exec_driver_sql(f"NOTIFY {WAKE_CHANNEL}")


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE_KEY, False):
        WAKE.set()


@event.listens_for(Session, "after_rollback")
def _no_wake_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


class WakeListener:
    """``LISTEN hotline_outbox`` on a connection of its own, in a thread: each notification
    sets ``WAKE``, so the idle drain of this process sends what another process queued at
    once. PostgreSQL only (``for_engine`` gives None elsewhere). A lost connection is opened
    again (every ``retry`` seconds) and ``WAKE`` set then, for what was missed meanwhile."""

    def __init__(self, engine: Engine, retry: float = 1.0) -> None:
        self.engine, self.retry = engine, retry
        self.listening = threading.Event()  # set while LISTEN is in place (tests wait on it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-wake", daemon=True)

    @classmethod
    def for_engine(cls, engine: Engine) -> WakeListener | None:
        return cls(engine) if engine.dialect.name == "postgresql" else None

    def start(self) -> WakeListener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        while not self._stop.is_set():
            try:
                with psycopg.connect(*args, **kwargs, autocommit=True) as conn:
                    conn.execute(f"LISTEN {WAKE_CHANNEL}")
                    self.listening.set()
                    WAKE.set()  # anything committed while nobody listened
                    while not self._stop.is_set():
                        # Wakes at least once a second to see ``stop``.
                        for _ in conn.notifies(timeout=1.0):
                            WAKE.set()
            except Exception as exc:  # noqa: BLE001 - the tick still drains; try again
                log.warning("outbox wake listener lost its connection (%s); again in %.0f s",
                            type(exc).__name__, self.retry)
            finally:
                self.listening.clear()
            self._stop.wait(self.retry)

# Twilio error codes with a meaning of their own.
OPTED_OUT_CODES = {"21610"}
# Gateway errors after which the provider may have accepted the message all the same (no
# answer, or one we could not read): a retry may send it twice, so the row is flagged.
UNKNOWN_OUTCOME_CODES = frozenset({"timeout", "connection", "bad_response"})
MAX_ATTEMPTS = 8
# A claimed row whose send never finished is looked at again after this long.
CLAIM_TIMEOUT = timedelta(minutes=2)
BACKOFF = [30, 60, 120, 300, 600, 1800, 3600]
# After this many people's cap counts looked up one by one for the same day, one grouped
# query fetches everyone's for that day (a job texting thousands costs one query, not one
# per person; a webhook's one or two messages keep their indexed per-person count).
WHOLE_DAY_AFTER = 32
# What counts towards the daily cap (all but these); spelled as an IN list so the grouped
# query can use the (status, due_at) index.
NOT_CAPPED = (MessageStatus.CANCELLED, MessageStatus.FAILED)
CAPPED = tuple(s for s in MessageStatus if s not in NOT_CAPPED)


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (1-based)."""
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


@dataclass
class Outbox:
    """Queues outbound SMS for one unit of work. Flushes; the caller commits."""

    session: Session
    gateway: str = "simulator"
    quiet: tuple[time, time] = (time(21), time(7))
    daily_cap: int = 3
    # The line's own number, for messages that tell a member whom to call.
    hotline: str = ""
    # Counts of capped messages per (person, Hanoi day) seen in this unit of work.
    _counts: dict[tuple[int, datetime], int] = field(default_factory=dict, repr=False)
    # Per Hanoi day: people counted one by one so far, or None once the whole day is known
    # (then anyone not in ``_counts`` has nothing that day).
    _lookups: dict[datetime, int | None] = field(default_factory=dict, repr=False)
    # Per person: the Hanoi day from which all their capped messages are in ``_counts`` (a day
    # missing there has none), loaded in one query once a day of theirs was found full.
    _known_from: dict[int, datetime] = field(default_factory=dict, repr=False)
    # The Android SIM pool, loaded on first use (False: not loaded yet; None: no pool).
    _sims: object = field(default=False, repr=False)
    # The messages counted in ``_counts`` (by id, or ("key", idempotency key) for those
    # queued in bulk): the (person, day) each was counted on.
    _counted: dict[object, tuple[int, datetime]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.session.info.setdefault(_OUTBOXES_KEY, []).append(weakref.ref(self))

    @classmethod
    def for_settings(cls, session: Session, settings) -> "Outbox":
        return cls(session, settings.sms_gateway, settings.quiet, settings.daily_cap,
                   hotline=settings.hotline_number)

    def enqueue(
        self,
        now: datetime,
        to: str,
        body: str,
        *,
        kind: Kind = Kind.NORMAL,
        person: Person | None = None,
        key: str | None = None,
        not_before: datetime | None = None,
        case_id: int | None = None,
        expires_at: datetime | None = None,
        broadcast_id: int | None = None,
        lane: Lane | None = None,
        device_id: int | None = None,
        gateway: str | None = None,
    ) -> Message:
        """Queue ``body`` (sent unaccented) to ``to``; with ``key`` at most once ever.

        ``lane`` is the message's priority (``Lane``); by default the one its kind implies
        (urgent: emergency, reply: reply, normal: reminder). Alerts to responders pass
        ``Lane.ALERT``; ``enqueue_many`` queues in ``Lane.BROADCAST``.

        Never drops a message without a word: a message held past now carries why
        (``hold_reason``: quiet hours, the cap, the safe window); one whose first allowed
        moment is past ``expires_at`` (a reminder that could only arrive after the meeting
        began) is stored cancelled with the reason that pushed it there; other words under a
        key already used are stored cancelled as a duplicate. Always returns the row.

        On the Android gateway the message is given a SIM of the pool
        (``hotline.services.devices``): ``device_id``, the SIM the person texted, when it is
        healthy. ``gateway`` sends this one message through another gateway than the
        outbox's (an alert that a SIM is down, through Twilio).

        One statement per new message: ``INSERT .. ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id``, so a key queued before, or by another worker a moment ago, needs no
        look-up first and no savepoint; the ``Message`` returned is put in the session as
        the row it inserted, without reading it back.
        """
        values = self._row(now, to, body, kind=kind, person=person, key=key,
                           not_before=not_before, case_id=case_id, expires_at=expires_at,
                           broadcast_id=broadcast_id, lane=lane, device_id=device_id,
                           gateway=gateway)
        queued = values["status"] == MessageStatus.QUEUED  # as asked: counted on the cap
        self.session.flush()  # what the unit of work holds goes first, as a query would do
        message_id = _insert_row(self.session, values)
        if message_id is None:  # the key was queued before: that message, not a second one
            existing = self._existing(key)
            if existing is not None and existing.body == values["body"]:
                return existing  # the same words again (a job run twice): nothing new to say
            # Other words under a used key: kept, not sent, so the collision shows.
            values.update(idempotency_key=None, status=MessageStatus.CANCELLED,
                          hold_reason=NotSent.DUPLICATE, error_message=f"key {key} used")
            message_id = _insert_row(self.session, values)
        return self._stored(now, values, message_id, person, queued)

    def _row(self, now: datetime, to: str, body: str, *, kind: Kind, person: Person | None,
             key: str | None, not_before: datetime | None, case_id: int | None,
             expires_at: datetime | None, broadcast_id: int | None, lane: Lane | None,
             device_id: int | None, gateway: str | None) -> dict:
        """The row ``enqueue`` inserts: when it may go, why it waits, its lane and SIM."""
        text, parts = _prepare(body)
        due = max(now, not_before or now)
        reason = None
        if kind == Kind.NORMAL:
            due, reason = self.hold(due, person)
        status = MessageStatus.QUEUED
        if expires_at is not None and due >= expires_at:
            status, reason = MessageStatus.CANCELLED, reason or NotSent.EXPIRED
        gateway = gateway or self.gateway
        return {
            "direction": Direction.OUT,
            "gateway": gateway,
            "device_id": self.choose_sim(now, to, device_id) if gateway == "android" else None,
            "person_id": person.id if person else None,
            "phone": to,
            "body": text,
            "status": status,
            "kind": kind,
            "lane": int(Lane.for_kind(kind) if lane is None else lane),
            "idempotency_key": key,
            "due_at": due,
            "hold_reason": reason,
            "error_message": "past its moment" if status == MessageStatus.CANCELLED else None,
            "segments": parts,
            "case_id": case_id,
            "broadcast_id": broadcast_id,
            "expires_at": expires_at,
            "created_at": now,
        }

    def _stored(self, now: datetime, values: dict, message_id: int, person: Person | None,
                queued: bool) -> Message:
        """The row just inserted, put in the session as loaded (no read back); its wake and
        (``queued``: it was asked for as queued) its count towards the person's daily cap."""
        msg = _as_inserted(values, message_id)
        self.session.add(msg)
        if (msg.status == MessageStatus.QUEUED and msg.lane <= WAKE_LANES
                and msg.due_at <= now):
            self.session.info[_WAKE_KEY] = True  # WAKE once committed
        if queued and msg.kind == Kind.NORMAL and person is not None:
            day = clock.local_day_bounds(msg.due_at)[0]
            self._counts[(person.id, day)] = self._counts.get((person.id, day), 0) + 1
            self._counted[message_id] = (person.id, day)
        return msg

    def enqueue_each(self, now: datetime, messages: list[dict]) -> list[Message]:
        """``enqueue(now, **m)`` for each of ``messages``, in that order, the new ones in one
        ``INSERT .. ON CONFLICT (idempotency_key) DO NOTHING RETURNING`` (an emergency's
        alerts and the member's safety reply: one round trip, not one each).

        Same rules and rows as ``enqueue``, one by one; each needs its idempotency ``key``
        (the insert's answer names the rows by it) and a kind that is not held by the daily
        cap (a capped message counts towards the next one's hold). A key queued before takes
        ``enqueue``'s own way afterwards (the same words: that message; other words: kept
        cancelled as a duplicate). Returns the messages, in order.
        """
        rows = []
        for m in messages:
            if m.get("key") is None or m.get("kind", Kind.NORMAL) == Kind.NORMAL:
                raise ValueError("enqueue_each takes keyed messages that the cap does not hold")
            rows.append(self._row(now, m["to"], m["body"], kind=m["kind"],
                                  person=m.get("person"), key=m["key"],
                                  not_before=m.get("not_before"), case_id=m.get("case_id"),
                                  expires_at=m.get("expires_at"),
                                  broadcast_id=m.get("broadcast_id"), lane=m.get("lane"),
                                  device_id=m.get("device_id"), gateway=m.get("gateway")))
        if not rows:
            return []
        if len({row["idempotency_key"] for row in rows}) < len(rows):
            raise ValueError("enqueue_each: a key given twice")
        self.session.flush()  # what the unit of work holds goes first, as a query would do
        ids = {key: id_ for id_, key in self.session.connection().execute(
            _upsert_returning_keys(self.session), rows)}
        out = []
        for m, row in zip(messages, rows, strict=True):
            message_id = ids.get(row["idempotency_key"])
            if message_id is None:  # queued before: ``enqueue`` finds it, or keeps the clash
                out.append(self.enqueue(now, **m))
            else:
                out.append(self._stored(now, row, message_id, m.get("person"),
                                        row["status"] == MessageStatus.QUEUED))
        return out

    def uncount(self, msg: Message) -> None:
        """``msg``, counted towards its person's daily cap here, was given up before it was
        sent (held for a voice call): it no longer counts, as in the database's count."""
        found = self._counted.pop(msg.id, None)
        if found is None and msg.idempotency_key is not None:
            found = self._counted.pop(("key", msg.idempotency_key), None)
        if found is not None and self._counts.get(found, 0) > 0:
            self._counts[found] -= 1

    def sims(self, now: datetime):
        """The Android SIM pool for this unit of work (None when none is set up)."""
        if self._sims is False:
            from hotline.services import devices

            self._sims = devices.pool(self.session, now)
        return self._sims

    def choose_sim(self, now: datetime, to: str, texted: int | None = None,
                   *, conversation: bool = True) -> int | None:
        """The SIM a message to ``to`` leaves from: ``texted`` (the SIM the reply answers),
        else with ``conversation`` the SIM ``to`` last texted, else by network and room."""
        sims = self.sims(now)
        if sims is None:
            return None
        if texted is None and conversation:
            from hotline.services import devices

            texted = devices.last_texted(self.session, to)
        return sims.choose(to, texted=texted)

    def _existing(self, key: str | None) -> Message | None:
        if key is None:
            return None
        return self.session.scalar(select(Message).where(Message.idempotency_key == key))

    def enqueue_many(
        self,
        now: datetime,
        recipients: list[Person],
        body: str,
        *,
        key_prefix: str,
        not_before: datetime | None = None,
        broadcast_id: int | None = None,
        lane: Lane = Lane.BROADCAST,
    ) -> int:
        """Queue one normal message to each recipient in bulk (broadcasts).

        Same rules as ``enqueue`` (quiet hours, cap, safe window, once per
        ``key_prefix:person``), with the keys already queued and the cap counts fetched in
        a few grouped queries and rows inserted in chunks, so 10,000 recipients take well
        under 2 s. Returns how many were queued now.
        """
        text = unaccent(body)
        parts = segments(text)
        asked = max(now, not_before or now)
        start = clock.next_in_window(asked, self.quiet[1], self.quiet[0])
        day = clock.local_day_bounds(start)
        # Queued before (the job ran again): skipped, so they neither count towards the cap
        # twice nor need the insert to report what it did.
        queued = self._existing_keys([f"{key_prefix}:{p.id}" for p in recipients])
        recipients = [p for p in recipients if f"{key_prefix}:{p.id}" not in queued]
        self._prefetch_counts([p.id for p in recipients], day)
        rows = []
        android = self.gateway == "android"
        for person in recipients:
            due, reason = self.hold(start, person)
            if reason is None and start > asked:
                reason = NotSent.QUIET_HOURS
            # By network and room only: a query per recipient for her last SIM would cost
            # more than the whole broadcast's insert.
            sim = self.choose_sim(now, person.phone, conversation=False) if android else None
            rows.append({
                "direction": Direction.OUT, "gateway": self.gateway, "device_id": sim,
                "person_id": person.id,
                "phone": person.phone, "body": text, "status": MessageStatus.QUEUED,
                "kind": Kind.NORMAL, "lane": int(lane),
                "idempotency_key": f"{key_prefix}:{person.id}",
                "due_at": due, "segments": parts, "broadcast_id": broadcast_id,
                "hold_reason": reason,
                "created_at": now, "attempts": 0, "maybe_duplicate": False,
                "needs_staff": False,
            })
            cap_day = clock.local_day_bounds(due)[0]
            self._counts[(person.id, cap_day)] = self._counts.get((person.id, cap_day), 0) + 1
            self._counted[("key", f"{key_prefix}:{person.id}")] = (person.id, cap_day)
        # No RETURNING: a plain executemany is three times faster on PostgreSQL (psycopg
        # re-parses a multi-row VALUES with RETURNING for every chunk). ON CONFLICT still
        # keeps a key queued by someone else meanwhile from being queued twice.
        connection = self.session.connection()
        insert = dialect_insert(connection.dialect.name)
        stmt = insert(Message).on_conflict_do_nothing(index_elements=["idempotency_key"])
        for chunk in _chunks(rows, 1000):
            connection.execute(stmt, chunk)
        return len(rows)

    def _existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(keys, 900):
            found.update(self.session.scalars(
                select(Message.idempotency_key).where(Message.idempotency_key.in_(chunk))))
        return found

    def _prefetch_counts(self, person_ids: list[int], day: tuple[datetime, datetime]) -> None:
        start, end = day
        missing = [pid for pid in person_ids if (pid, start) not in self._counts]
        for chunk in _chunks(missing, 900):
            found = dict(self.session.execute(
                select(Message.person_id, func.count(Message.id))
                .where(
                    Message.person_id.in_(chunk),
                    Message.kind == Kind.NORMAL,
                    Message.due_at >= start,
                    Message.due_at < end,
                    Message.status.not_in([MessageStatus.CANCELLED, MessageStatus.FAILED]),
                )
                .group_by(Message.person_id)
            ).all())
            for pid in chunk:
                self._counts[(pid, start)] = found.get(pid, 0)

    def next_allowed(self, due: datetime, person: Person | None) -> datetime:
        """The first moment at or after ``due`` outside quiet hours, inside the
        person's safe-contact window, on a day with room under the daily cap."""
        return self.hold(due, person)[0]

    def hold(self, due: datetime, person: Person | None) -> tuple[datetime, NotSent | None]:
        """``next_allowed`` and why it is later than ``due`` (None: it is not): the first
        rule that held it back (the cap, the safe window, quiet hours).

        The cap protects members from being texted too much; peer educators and
        coordinators get every alert about their work (quiet hours still hold)."""
        quiet_start, quiet_end = self.quiet
        capped = person is not None and person.id is not None and person.role == Role.MEMBER
        asked, reason = due, None
        for _ in range(366):
            due = clock.next_in_window(due, quiet_end, quiet_start)
            if due != asked and reason is None:
                reason = NotSent.QUIET_HOURS
            if person is not None and person.safe_contact_start and person.safe_contact_end:
                safe = clock.next_in_window(
                    due, person.safe_contact_start, person.safe_contact_end
                )
                if safe != due:
                    due, reason = safe, reason or NotSent.SAFE_WINDOW
                    continue
            if not capped or self._count(person.id, due) < self.daily_cap:
                return due, reason
            reason = NotSent.DAILY_CAP
            due = clock.local_day_bounds(due)[1]
            self._load_days_from(person.id, due)
        return due, reason

    def _count(self, person_id: int, due: datetime) -> int:
        start, end = clock.local_day_bounds(due)
        if (person_id, start) in self._counts:
            return self._counts[(person_id, start)]
        if person_id in self._known_from and start >= self._known_from[person_id]:
            self._counts[(person_id, start)] = 0
            return 0
        looked_up = self._lookups.get(start, 0)
        if looked_up is not None and looked_up >= WHOLE_DAY_AFTER:
            self._fetch_whole_day(start, end)
            looked_up = None
        if looked_up is None:  # the whole day is known: nothing fetched means nothing queued
            self._counts[(person_id, start)] = 0
        else:
            self._lookups[start] = looked_up + 1
            self._counts[(person_id, start)] = self.session.scalar(
                select(func.count(Message.id)).where(
                    Message.person_id == person_id,
                    Message.kind == Kind.NORMAL,
                    Message.due_at >= start,
                    Message.due_at < end,
                    Message.status.not_in([MessageStatus.CANCELLED, MessageStatus.FAILED]),
                )
            ) or 0
        return self._counts[(person_id, start)]

    def _load_days_from(self, person_id: int, day_start: datetime) -> None:
        """The person's cap counts for every day from ``day_start`` on, in one query, once per
        unit of work: someone whose day is full (a peer educator alerted about many cases) may
        have many full days ahead, and looking them up one day at a time cost a query per day
        (hundreds for one message once the backlog was months deep)."""
        if person_id in self._known_from and self._known_from[person_id] <= day_start:
            return
        counts: dict[datetime, int] = {}
        for due_at in self.session.scalars(
            select(Message.due_at).where(
                Message.person_id == person_id,
                Message.kind == Kind.NORMAL,
                Message.due_at >= day_start,
                Message.status.not_in([MessageStatus.CANCELLED, MessageStatus.FAILED]),
            )
        ):
            day = clock.local_day_bounds(due_at)[0]
            counts[day] = counts.get(day, 0) + 1
        for day, count in counts.items():  # days seen in this unit of work keep their count
            self._counts.setdefault((person_id, day), count)
        self._known_from[person_id] = day_start

    def _fetch_whole_day(self, start: datetime, end: datetime) -> None:
        """Everyone's cap count for the Hanoi day ``[start, end)`` in one grouped query."""
        found = self.session.execute(
            select(Message.person_id, func.count(Message.id))
            .where(
                Message.status.in_(CAPPED),
                Message.due_at >= start,
                Message.due_at < end,
                Message.kind == Kind.NORMAL,
                Message.person_id.is_not(None),
            )
            .group_by(Message.person_id)
        ).all()
        for person_id, count in found:
            self._counts.setdefault((person_id, start), count)
        self._lookups[start] = None


@lru_cache(maxsize=256)
def _prepare(body: str) -> tuple[str, int]:
    """The unaccented text sent for ``body`` and its segment count (bodies repeat in jobs)."""
    text = unaccent(body)
    return text, segments(text)


_UPSERTS: dict[str, object] = {}


def _upsert(session: Session):
    """``INSERT .. ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`` for messages."""
    return _upsert_statement(session.get_bind().dialect.name)


def _upsert_statement(dialect: str):
    if dialect not in _UPSERTS:
        insert = dialect_insert(dialect)
        table = Message.__table__  # Core, not the ORM statement: a third of the time
        _UPSERTS[dialect] = (
            insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
            .returning(table.c.id)
        )
    return _UPSERTS[dialect]


# The columns ``Outbox._row`` gives (in its order); the others take their defaults.
_ROW_COLUMNS = (
    "direction", "gateway", "device_id", "person_id", "phone", "body", "status", "kind",
    "lane", "idempotency_key", "due_at", "hold_reason", "error_message", "segments",
    "case_id", "broadcast_id", "expires_at", "created_at",
)
# ``_upsert`` run on the driver connection inside the session's transaction
# (``DirectWrite.within``): one statement per ``enqueue``, without SQLAlchemy's execution
# context around it, which cost as much CPU as psycopg's own part of the round trip.
_DIRECT_UPSERT = DirectWrite(lambda dialect: _upsert_statement(dialect), _ROW_COLUMNS)


def _insert_row(session: Session, values: dict) -> int | None:
    """``values`` inserted unless its key is queued: the new id, or None."""
    conn = session.connection()
    if _DIRECT_UPSERT.supported(conn.engine):
        row = _DIRECT_UPSERT.within(conn, values)
        return None if row is None else row[0]
    return conn.execute(_upsert(session), values).scalar_one_or_none()


_UPSERTS_KEYS: dict[str, object] = {}


def _upsert_returning_keys(session: Session):
    """``_upsert`` returning the key with the id: for many rows at once (``enqueue_each``),
    where a key queued before returns no row."""
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS_KEYS:
        insert = dialect_insert(dialect)
        table = Message.__table__
        _UPSERTS_KEYS[dialect] = (
            insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
            .returning(table.c.id, table.c.idempotency_key)
        )
    return _UPSERTS_KEYS[dialect]


def _as_inserted(values: dict, message_id: int) -> Message:
    """The ``Message`` of the row just inserted with ``values``, as if loaded: persistent once
    added to the session, nothing to flush; the columns left out have their defaults.

    Its attributes are written to the instance's dict, as the ORM's loading does, not set one
    by one through the mapped attributes: ``Message(**values)`` fired an attribute event per
    column (31 of them), two thirds of the object's cost.
    """
    defaults = _column_defaults()
    msg = _new_message()
    msg.__dict__.update(defaults)
    msg.__dict__.update(values)
    msg.__dict__["id"] = message_id
    make_transient_to_detached(msg)  # its key from the id; columns not given load on access
    return msg


_new_message = Message.__mapper__.class_manager.new_instance


@lru_cache(maxsize=1)
def _column_defaults() -> dict[str, object]:
    """Values a new row gets for the columns ``enqueue`` leaves out: their scalar default,
    else None. Columns with a server or callable default are left unloaded (read on use).
    Called before the first ``_as_inserted``: it configures the mappers, as constructing an
    instance the usual way would have."""
    configure_mappers()
    out: dict[str, object] = {}
    for prop in sa_inspect(Message).column_attrs:
        column = prop.columns[0]
        if column.primary_key or column.server_default is not None:
            continue
        if column.default is None:
            out[prop.key] = None
        elif column.default.is_scalar:
            out[prop.key] = column.default.arg
    return out


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class DrainReport(JobReport):
    """``retried``: a transient error, queued again after a backoff; ``failed``: refused for
    good, or at the last try."""

    sent: int = 0
    retried: int = 0
    cancelled: int = 0
    skipped: int = 0  # taken by another drain meanwhile

    @property
    def handled(self) -> int:
        """Due rows this run dealt with, or found taken by another drain."""
        return (self.sent + self.retried + self.failed + self.cancelled + self.deferred
                + self.skipped)


class Pacer:
    """Spaces sends at a rate per key: one slot every ``1/rate`` seconds per key.

    The drain paces by gateway at ``settings.send_rate``. A gateway whose senders have rates
    of their own (a pool of Android devices or SIMs) says so with a method
    ``pace(msg) -> (key, rate)``: each key then gets its own slots (rate 0: no limit).
    """

    def __init__(self, sleep: Callable[[float], None] = _time.sleep) -> None:
        self.sleep = sleep
        self._last: dict[object, float] = {}

    def wait(self, key: object, rate: float) -> None:
        if rate <= 0:
            return
        last = self._last.get(key)
        if last is not None:
            wait = last + 1.0 / rate - _time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last[key] = _time.monotonic()


class SharedPacer(Pacer):
    """A ``Pacer`` whose slots are kept in the database (a ``scheduler_state`` row per key,
    its ``lease_until`` the next free slot), so drains in several scheduler processes
    share one gateway's rate instead of each sending at it."""

    def __init__(self, engine: Engine, sleep: Callable[[float], None] = _time.sleep) -> None:
        super().__init__(sleep)
        self.engine = engine

    def wait(self, key: object, rate: float) -> None:
        if rate <= 0:
            return
        name = f"pace:{key}"[:40]
        step = timedelta(seconds=1.0 / rate)
        with self.engine.begin() as conn:
            conn.execute(dialect_insert(conn.dialect.name)(SchedulerState)
                         .values(name=name, holder="pace").on_conflict_do_nothing())
            free = conn.execute(select(SchedulerState.lease_until)
                                .where(SchedulerState.name == name).with_for_update()
                                ).scalar_one()
            slot = max(free or clock.utcnow(), clock.utcnow())
            conn.execute(update(SchedulerState).where(SchedulerState.name == name)
                         .values(lease_until=slot + step))
        wait = (slot - clock.utcnow()).total_seconds()
        if wait > 0:
            self.sleep(wait)


def pacer_for(settings, engine: Engine) -> Pacer:
    """The pacer a scheduler process keeps across drains (shared slots in shared mode)."""
    return SharedPacer(engine) if settings.scheduler_mode == "shared" else Pacer()


def pace_key(gateway: SmsGateway, msg: Message, settings) -> tuple[object, float]:
    """The pacing key and rate for sending ``msg`` through ``gateway`` (see ``Pacer``)."""
    pace = getattr(gateway, "pace", None)
    if pace is not None:
        return pace(msg)
    return gateway.name, settings.send_rate


def _due_ids(session: Session, now: datetime, limit: int, before: int | None = None,
             skip: list[int] | None = None) -> list[tuple[int, int, int | None]]:
    """(lane, id, SIM) of queued messages due at ``now``, lane by lane, oldest first in
    each; with ``before`` only lanes ahead of it; none given to a SIM in ``skip`` (at its
    daily limit, or not due in this run). One ``(status, lane, due_at)`` index range per
    lane, so the cost is that of the rows returned, whatever is queued for later.

    The statement is built once per (lanes, with a skip list) and run with bind parameters:
    building the lanes' subqueries and their union on every call cost more than running it
    (the drain looks ahead before most sends)."""
    lanes = sum(1 for lane in Lane if before is None or lane < before)
    if not lanes:
        return []
    params: dict[str, object] = {"now": now, "limit": limit}
    if skip:
        params["skip"] = list(skip)
    return [(lane, id_, sim) for lane, id_, sim in session.execute(
        _due_statement(lanes, bool(skip)), params)]


@cache
def _due_statement(lanes: int, skipping: bool):
    """``_due_ids``' statement for the first ``lanes`` lanes (bind parameters ``now``,
    ``limit`` and, when ``skipping``, the expanding list ``skip``)."""
    table = Message.__table__
    limit = bindparam("limit", type_=Integer)
    parts = []
    for lane in list(Lane)[:lanes]:
        query = (
            select(table.c.lane, table.c.id, table.c.due_at, table.c.device_id)
            .where(table.c.status == MessageStatus.QUEUED, table.c.lane == int(lane),
                   table.c.due_at <= bindparam("now", type_=table.c.due_at.type))
        )
        if skipping:
            query = query.where(or_(table.c.device_id.is_(None),
                                    table.c.device_id.not_in(bindparam("skip", expanding=True))))
        # The index's own order: no sort, stops at limit.
        parts.append(query.order_by(table.c.due_at).limit(limit).subquery())
    rows = union_all(*(select(p.c.lane, p.c.id, p.c.due_at, p.c.device_id)
                       for p in parts)).subquery()
    return (select(rows.c.lane, rows.c.id, rows.c.device_id)
            .order_by(rows.c.lane, rows.c.due_at, rows.c.id).limit(limit))


# How many due messages of the lanes ahead one look before a send brings in at most, and how
# often the drain looks when no send rate spaces the sends (with one: before every send).
AHEAD = 20
AHEAD_EVERY = 0.05


def _blocked(sims, now: datetime) -> list[int]:
    return sims.blocked(now) if sims is not None else []


def drain(
    sessions: sessionmaker[Session],
    now: datetime,
    gateway: SmsGateway,
    settings,
    *,
    limit: int = 500,
    sleep: Callable[[float], None] = _time.sleep,
    pacer: Pacer | None = None,
    others: dict[str, SmsGateway] | None = None,
) -> DrainReport:
    """Send due outbound messages through ``gateway``, lane by lane (``Lane``): safe to run
    twice or after a crash.

    Before each send of a lower lane the drain looks again for due messages of the lanes
    ahead of it (one indexed query), so a reply queued while a broadcast drains waits at
    most the one send slot already under way, not the rest of the batch. Without a send
    rate it looks every ``AHEAD_EVERY`` seconds instead (the look cost a third of an
    unthrottled drain's rate on PostgreSQL when made before every send).

    A message queued for a gateway in ``others`` (an alert through Twilio while the line
    runs on Android phones) goes through that one. A message given an Android SIM waits
    for the SIM's own rate and daily limit (``devices.SimPace``): one not due in this run is
    left queued, so a slow SIM never holds up the others.

    Each message is claimed and committed before the gateway is called, and its
    result committed right after, so a crash loses nothing and only a send whose
    outcome was never recorded can go twice (flagged ``maybe_duplicate``).

    One commit per message: a send's result goes in the same transaction as the claim of
    the next message, committed as soon as the gateway has answered and before the next
    call (a commit waits for a disk flush on PostgreSQL: two per message halved the rate).
    If that transaction fails, the result is stored on its own, on a fresh connection,
    before the error goes up. One connection serves the run; the claim is one ``UPDATE ..
    RETURNING`` (which also reads the person's opt-out and erasure) and the result one
    ``UPDATE`` of the row the claim returned, not read again.
    """
    report = DrainReport()
    pacer = pacer or Pacer(sleep)
    status_callback = settings.public_url.rstrip("/") + "/sms/status"
    started = last_look = _time.monotonic()
    with _one_connection(sessions) as session:
        with session.begin():
            report.recovered = _recover_stale(session, now)
            sims = devices.sim_pace(session, now)
            batch = deque(_due_ids(session, now, limit, skip=_blocked(sims, now)))
        sent = None  # (id, message, outcome) of the last send, its result not stored yet
        taken = 0
        while batch and taken < limit:
            lane, message_id, device_id = batch.popleft()
            taken += 1
            clock_now = _time.monotonic()
            current = now + timedelta(seconds=clock_now - started)
            wait = sims.wait(device_id, current) if sims is not None else 0.0
            if wait is None:
                continue  # its SIM sends no more in this run; left queued for the next
            look = lane > Lane.EMERGENCY and (
                settings.send_rate > 0 or clock_now - last_look >= AHEAD_EVERY)
            if look:
                last_look = clock_now
            claimed = _store_then_claim(
                sessions, session, sent, message_id, now, settings, report, claimed_at=current,
                ahead=(lane, current, AHEAD, _blocked(sims, current)) if look else None,
            )
            sent = None
            if isinstance(claimed, list):  # lanes ahead have due messages: those first
                batch.appendleft((lane, message_id, device_id))
                batch.extendleft(reversed(claimed))
                taken -= 1
                continue
            if claimed is None:
                continue
            msg, options = claimed
            if wait:
                sleep(wait)
            pacer.wait(*pace_key(gateway, msg, settings))
            if sims is not None:
                sims.took(msg.device_id, now + timedelta(seconds=_time.monotonic() - started))
            through = others.get(msg.gateway, gateway) if others else gateway
            sent = (message_id, msg,
                    _send(through, msg.phone, msg.body, status_callback, options), through.name)
        _store_then_claim(sessions, session, sent, None, now, settings, report)
    return report


def _store_then_claim(
    sessions, session: Session, sent, message_id: int | None, now: datetime, settings,
    report: DrainReport, ahead: tuple[int, datetime, int, list[int]] | None = None,
    claimed_at: datetime | None = None,
) -> tuple[Message, SendOptions] | list[tuple[int, int, int | None]] | None:
    """One transaction: store the last send's result, claim ``message_id`` (if any) at
    ``claimed_at`` (the run's clock now, by default its start ``now``).

    With ``ahead`` = (lane, now, limit, SIMs to skip), messages of the lanes ahead of
    ``lane`` due at that moment are returned instead, ``message_id`` left unclaimed."""
    try:
        with session.begin():
            if sent is not None:
                _apply(session, sent[1], sent[2], now, report, sender=sent[3])
            if message_id is None:
                return None
            if ahead is not None and ahead[0] > Lane.EMERGENCY:
                first = _due_ids(session, ahead[1], ahead[2], before=ahead[0], skip=ahead[3])
                if first:
                    return first
            return _claim_to_send(session, message_id, now, settings, report,
                                  claimed_at=claimed_at)
    except BaseException:
        if sent is not None:  # keep the result all the same, on a connection of its own
            with session_scope(sessions) as alone:
                _apply(alone, alone.get(Message, sent[0]), sent[2], now, DrainReport(),
                       sender=sent[3])
        raise


@contextmanager
def _one_connection(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session that keeps one connection for the whole run, rather than checking one out
    of the pool (and pre-pinging it on PostgreSQL) for every transaction."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        with sessions() as session:
            yield session
        return
    with bind.connect() as connection, sessions(bind=connection) as session:
        yield session


def _claim_to_send(
    session: Session, message_id: int, now: datetime, settings, report: DrainReport,
    claimed_at: datetime | None = None,
) -> tuple[Message, SendOptions] | None:
    """Claim ``message_id``; the message and what the gateway may use of it if it is to be
    sent now, else None (counted)."""
    claimed = _claim(session, message_id, now, settings, claimed_at=claimed_at)
    if claimed is None:
        report.skipped += 1
        return None
    msg, window = claimed
    if msg.status == MessageStatus.CANCELLED:
        report.cancelled += 1
        return None
    if msg.status == MessageStatus.QUEUED:
        report.deferred += 1
        return None
    return msg, send_options(session, msg, now, settings, window=window)


def gateway_message_id(msg: Message) -> str:
    """The id a gateway that takes ours (Android) knows this outbox row by: the same on
    every retry of the row, so a second send after a lost answer is refused (409), and
    never the same for two rows, even across databases (32 hex characters)."""
    seed = f"{msg.idempotency_key or ''}|{msg.id}|{msg.created_at.isoformat()}"
    return hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()


# "Not read": ``valid_until`` looks the person's safe-contact window up itself.
_UNREAD = object()


def valid_until(session: Session, msg: Message, now: datetime, settings,
                window=_UNREAD) -> datetime | None:
    """When a message handed over at ``now`` stops being worth sending: its expiry, and for
    a normal message the start of quiet hours and the end of the person's safe-contact
    window (a phone that comes back online later must not text then). None: no limit.

    ``window``: the person's (safe_contact_start, safe_contact_end) as the drain's claim
    returned them, so the drain needs no query of its own for them."""
    ends = [msg.expires_at] if msg.expires_at is not None else []
    if msg.kind == Kind.NORMAL:
        quiet_start, quiet_end = settings.quiet
        ends.append(clock.next_in_window(now, quiet_start, quiet_end))
        if window is _UNREAD:
            person = session.get(Person, msg.person_id) if msg.person_id is not None else None
            window = ((person.safe_contact_start, person.safe_contact_end)
                      if person is not None else (None, None))
        safe_start, safe_end = window
        if safe_start and safe_end:
            ends.append(clock.next_in_window(now, safe_end, safe_start))
    return min(ends, default=None)


def send_options(session: Session, msg: Message, now: datetime, settings,
                 window=_UNREAD) -> SendOptions:
    """What the gateway may use of ``msg`` beyond number and text (see ``SendOptions``):
    our id, the expiry, and the phone and SIM slot of the SIM it was given."""
    sim = session.get(GatewayDevice, msg.device_id) if msg.device_id is not None else None
    return SendOptions(message_id=gateway_message_id(msg),
                       valid_until=valid_until(session, msg, now, settings, window),
                       device_id=sim.app_device_id if sim is not None else None,
                       sim_number=sim.sim_number if sim is not None else None)


def _recover_stale(session: Session, now: datetime) -> int:
    """Requeue claimed rows whose send never finished (the process died mid-send)."""
    result = session.execute(
        update(Message)
        .where(Message.status == MessageStatus.SENDING, Message.due_at <= now)
        .values(status=MessageStatus.QUEUED, maybe_duplicate=True, due_at=now)
    )
    if result.rowcount:
        log.warning("requeued %d messages whose send outcome is unknown", result.rowcount)
    return result.rowcount


# The person's state as the claim finds it (a STOP may have come in since the run began),
# returned by the claim's UPDATE itself rather than read in a query of its own.
_claimed_for = aliased(Person, name="claimed_for")
_OPTED_OUT_AT = (select(_claimed_for.opted_out_at).where(_claimed_for.id == Message.person_id)
                 .correlate(Message).scalar_subquery())
_ERASED_AT = (select(_claimed_for.erased_at).where(_claimed_for.id == Message.person_id)
              .correlate(Message).scalar_subquery())
# Her safe-contact window, for ``valid_until`` (a query per message of its own before).
_SAFE_START = (select(_claimed_for.safe_contact_start)
               .where(_claimed_for.id == Message.person_id)
               .correlate(Message).scalar_subquery())
_SAFE_END = (select(_claimed_for.safe_contact_end).where(_claimed_for.id == Message.person_id)
             .correlate(Message).scalar_subquery())


# A row another drain is claiming right now is skipped, not waited for (PostgreSQL; SQLite
# renders no FOR UPDATE): drains in several scheduler processes (``scheduler_mode`` shared)
# walk the same due rows and each sends what the others have not taken.
_locked = Message.__table__.alias("locked")
_UNLOCKED = (select(_locked.c.id).where(_locked.c.id == bindparam("message_id"))
             .with_for_update(skip_locked=True))

def _claim_statement(skip_locked: bool):
    """The claim's ``UPDATE .. RETURNING``; with ``skip_locked`` (PostgreSQL) only if no
    other drain holds the row's lock. SQLite renders no FOR UPDATE (one writer at a time),
    so there the lock's subquery would only cost a second look-up of the row."""
    where = [Message.id == bindparam("message_id"), Message.status == MessageStatus.QUEUED]
    if skip_locked:
        where.append(Message.id.in_(_UNLOCKED))
    return (
        update(Message)
        .where(*where)
        .values(
            status=MessageStatus.SENDING,
            attempts=Message.attempts + 1,
            due_at=bindparam("lease", type_=Message.__table__.c.due_at.type),
        )
        .returning(Message, _OPTED_OUT_AT, _ERASED_AT, _SAFE_START, _SAFE_END)
        # The row comes back in RETURNING: nothing in the session to match the WHERE
        # against in Python (the evaluator cost a fifth of the claim).
        .execution_options(synchronize_session=False)
    )


# Built once: constructing the statement cost as much as running it on SQLite.
_CLAIMS = {"postgresql": _claim_statement(skip_locked=True)}
_CLAIM_ELSEWHERE = _claim_statement(skip_locked=False)


def _claim(session: Session, message_id: int, now: datetime, settings,
           claimed_at: datetime | None = None) -> tuple[Message, tuple] | None:
    """Claim ``message_id`` (one UPDATE .. RETURNING); the message, and its person's
    safe-contact window (start, end), or None if another drain took it."""
    # The lease runs from the moment of the claim, not from the run's start: a run longer
    # than CLAIM_TIMEOUT would otherwise claim rows already expired, which another
    # process's _recover_stale then requeues and sends a second time (shared mode).
    lease = (claimed_at or now) + CLAIM_TIMEOUT
    row = session.execute(
        _CLAIMS.get(session.get_bind().dialect.name, _CLAIM_ELSEWHERE),
        {"message_id": message_id, "lease": lease},
        execution_options={"populate_existing": True},
    ).one_or_none()
    if row is None:
        return None  # another drain took it
    msg, opted_out_at, erased_at, safe_start, safe_end = row
    # What she asked for (a reply) and the emergency path still go to someone who opted out.
    opted_out = opted_out_at is not None and msg.kind not in (Kind.REPLY, Kind.URGENT)
    if opted_out or (erased_at is not None and msg.kind != Kind.REPLY):
        _cancel(msg, NotSent.OPTED_OUT if opted_out_at is not None else NotSent.ERASED)
        msg.attempts -= 1
    elif msg.expires_at is not None and now >= msg.expires_at:
        _cancel(msg, NotSent.EXPIRED)
        msg.attempts -= 1
    elif msg.kind == Kind.NORMAL:
        # A late drain (scheduler down overnight) must not text inside quiet hours.
        quiet_start, quiet_end = settings.quiet
        if not clock.in_window(now, quiet_end, quiet_start):
            msg.status = MessageStatus.QUEUED
            msg.due_at = clock.next_in_window(now, quiet_end, quiet_start)
            msg.hold_reason = NotSent.QUIET_HOURS
            msg.attempts -= 1
    session.flush()
    return msg, (safe_start, safe_end)


def _send(gateway: SmsGateway, to: str, body: str, status_callback: str,
          options: SendOptions | None = None):
    try:
        return gateway.send_sms(to, body, status_callback=status_callback, options=options)
    except GatewayError as exc:
        return exc
    except Exception as exc:  # a bug or an unexpected library error: retry, never lose
        log.exception("gateway %s raised unexpectedly for %s", gateway.name, mask(to))
        return GatewayError(str(exc) or type(exc).__name__, code="error", transient=True)


def _apply(session: Session, msg: Message, outcome, now: datetime, report: DrainReport,
           sender: str | None = None) -> None:
    if not isinstance(outcome, GatewayError):
        # The gateway that really sent it: its callbacks and reconcile look it up by that.
        if sender:
            msg.gateway = sender
        msg.external_id = outcome.external_id
        msg.sent_at = now
        msg.error_code = msg.error_message = None
        new = MessageStatus(outcome.status) if outcome.status in STATUS_RANK else None
        msg.status = MessageStatus.SENT
        if new is not None and STATUS_RANK[new] > STATUS_RANK[MessageStatus.SENT]:
            msg.status = new
            if new == MessageStatus.DELIVERED:
                msg.delivered_at = now
        report.sent += 1
        return
    msg.error_code, msg.error_message = outcome.code or None, str(outcome)[:500]
    if outcome.code in UNKNOWN_OUTCOME_CODES:
        msg.maybe_duplicate = True
    if outcome.transient and msg.attempts < MAX_ATTEMPTS:
        msg.status = MessageStatus.QUEUED
        msg.due_at = now + backoff(msg.attempts)
        report.retried += 1
        log.info("retrying message %s to %s: %s", msg.id, mask(msg.phone), outcome.code)
        return
    msg.status = MessageStatus.FAILED
    report.failed += 1
    log.warning("message %s to %s failed: %s", msg.id, mask(msg.phone), outcome.code)
    if outcome.code in OPTED_OUT_CODES and msg.person is not None:
        opt_out(session, msg.person, now)


def opt_out(session: Session, person: Person, now: datetime) -> int:
    """Mark ``person`` opted out and cancel what is queued for them but replies and the
    emergency path; what a gateway already holds unsent is marked to be cancelled there
    (``cancel_held``)."""
    if person.opted_out_at is None:
        person.opted_out_at = now
    count = cancel_queued(session, NotSent.OPTED_OUT, Message.person_id == person.id,
                          Message.kind.not_in((Kind.REPLY, Kind.URGENT)))
    session.execute(
        update(Message)
        .where(
            Message.person_id == person.id,
            Message.status == MessageStatus.SENT,
            Message.kind.not_in((Kind.REPLY, Kind.URGENT)),
            Message.external_id.is_not(None),
            Message.sent_at >= now - HELD_AT_MOST,
        )
        .values(cancel_requested_at=now)
    )
    session.flush()
    return count


# The one way a message is given up before it is sent: a reason always goes with it.
# (tests/hotline/services/test_not_sent.py checks that nothing else cancels a message.)

def _cancel(msg: Message, reason: NotSent) -> None:
    """Give up ``msg`` (claimed or loaded) for ``reason``."""
    msg.status = MessageStatus.CANCELLED
    msg.hold_reason = reason
    msg.error_message = reason.replace("_", " ")


def instead_by_voice(msg: Message) -> None:
    """Keep the queued ``msg`` unsent: a voice call tells her instead
    (``hotline.services.voice_notices``); ``send_after_all`` sends it if the calls fail.
    It leaves the daily-cap count of the outbox that queued it (the database's count leaves
    cancelled messages out too), so an SMS held for voice holds back no other SMS of hers."""
    if msg.status == MessageStatus.QUEUED:
        _cancel(msg, NotSent.VOICE_INSTEAD)
        session = object_session(msg)
        for ref in session.info.get(_OUTBOXES_KEY, ()) if session is not None else ():
            outbox = ref()
            if outbox is not None:
                outbox.uncount(msg)


def send_after_all(msg: Message, now: datetime) -> bool:
    """The calls standing for ``msg`` failed: queue it now, marked ``voice_failed`` (the
    drain still keeps quiet hours, expiry and opt-outs). False if it was not held for voice."""
    if msg.status != MessageStatus.CANCELLED or msg.hold_reason != NotSent.VOICE_INSTEAD:
        return False
    msg.status, msg.due_at = MessageStatus.QUEUED, now
    msg.hold_reason, msg.error_message = NotSent.VOICE_FAILED, "voice calls not answered"
    return True


def cancel_queued(session: Session, reason: NotSent, *where) -> int:
    """Give up every queued message matching ``where`` for ``reason``; returns how many."""
    return session.execute(
        update(Message)
        .where(Message.status == MessageStatus.QUEUED, *where)
        .values(status=MessageStatus.CANCELLED, hold_reason=reason,
                error_message=reason.replace("_", " "))
        .execution_options(synchronize_session=False)
    ).rowcount


def not_sent(session: Session, now: datetime, outbox: Outbox, to: str, body: str,
             reason: NotSent, *, person: Person | None = None, case_id: int | None = None,
             kind: Kind = Kind.REPLY, note: str = "") -> Message:
    """Record a message the line decided not to send at all (the hourly flood guard): a
    cancelled row with its words and ``reason``, on the person's and case's timeline."""
    text, parts = _prepare(body)
    msg = Message(direction=Direction.OUT, gateway=outbox.gateway, phone=to, body=text,
                  status=MessageStatus.CANCELLED, kind=kind, lane=int(Lane.for_kind(kind)),
                  person_id=person.id if person else None, case_id=case_id, segments=parts,
                  due_at=now, created_at=now, hold_reason=reason,
                  error_message=note or reason.replace("_", " "))
    session.add(msg)
    session.flush()
    return msg


# How long a gateway may hold a message before sending it (an Android phone offline);
# older ones are not asked about.
HELD_AT_MOST = timedelta(days=3)


def cancel_held(session: Session, now: datetime, gateway, *, limit: int = 50) -> int:
    """Ask ``gateway`` to cancel the messages marked for it (HUY) that it still holds
    unsent; returns how many it cancelled. A gateway that cannot cancel (Twilio sends at
    once) or a message already sent just clears the mark; an unreachable gateway is asked
    again on the next run, until the message is too old to be held."""
    marked = session.scalars(
        select(Message).where(Message.cancel_requested_at.is_not(None))
        .order_by(Message.id).limit(limit)
    ).all()
    cancel = getattr(gateway, "cancel", None)
    done = 0
    for msg in marked:
        if cancel is None or msg.gateway != gateway.name or msg.status != MessageStatus.SENT:
            msg.cancel_requested_at = None
            continue
        try:
            cancelled = cancel(msg.external_id)
        except GatewayError as exc:
            log.info("cancel %s at %s: %s", msg.id, gateway.name, exc.code)
            if not exc.transient or now - msg.cancel_requested_at > HELD_AT_MOST:
                msg.cancel_requested_at = None
            continue
        msg.cancel_requested_at = None
        if cancelled and msg.status == MessageStatus.SENT:
            _cancel(msg, NotSent.OPTED_OUT)
            done += 1
    session.flush()
    return done


# Provider statuses (Twilio's names, the Android gateway's states) mapped to ours.
PROVIDER_STATUS = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "pending": MessageStatus.SENT,
    "processed": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    # Twilio: some segments of a multipart message arrived, not all. Not delivered.
    "partially_delivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
    # The Android gateway's: a cancel asked for and not yet done, and one done (never sent).
    "cancelling": MessageStatus.SENT,
    "cancelled": MessageStatus.CANCELLED,
}


def record_status(
    session: Session,
    now: datetime,
    gateway: str,
    external_id: str,
    provider_status: str,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Message | None:
    """Apply a provider's status callback; late or repeated callbacks change nothing.

    The message is found by the provider's id, first among those sent through ``gateway``,
    then among any (a row queued under one gateway setting and sent after it changed)."""
    msg = session.scalar(
        select(Message).where(
            Message.external_id == external_id,
            Message.direction == Direction.OUT,
        ).order_by((Message.gateway == gateway).desc(), Message.id).limit(1)
    )
    provider_status = (provider_status or "").strip().lower()
    new = PROVIDER_STATUS.get(provider_status)
    if msg is None or new is None:
        return msg
    if provider_status == "partially_delivered" and not error_message:
        error_message = "partially delivered: not every part arrived"
    if STATUS_RANK[new] <= STATUS_RANK.get(msg.status, 0):
        return msg
    msg.status = new
    if new == MessageStatus.DELIVERED:
        msg.delivered_at = now
    if error_message:
        msg.error_message = error_message[:500]
    if error_code:
        msg.error_code = error_code
        if error_code in OPTED_OUT_CODES and msg.person is not None:
            opt_out(session, msg.person, now)
    session.flush()
    return msg


def record_report(session: Session, now: datetime, gateway: str,
                  event: StatusEvent) -> Message | None:
    """Apply one delivery event of a gateway that reports each part of a multipart SMS
    (``StatusEvent``). The message is delivered when every part is, failed as soon as one
    part fails; an event seen before (its ``event_id``, the gateway retries; without one,
    the message and status stand for it) changes nothing."""
    event_id = event.event_id or f"{event.message_id}:{event.status}"
    provider_status = event.status
    msg = session.scalar(
        select(Message).where(Message.gateway == gateway, Message.external_id == event.message_id,
                              Message.direction == Direction.OUT))
    if msg is None:
        return None
    if provider_status in ("delivered", "failed"):
        report = {"gateway": gateway, "event_id": event_id[:64], "message_id": msg.id,
                  "status": provider_status, "created_at": now}
        if insert_once(session, DeliveryReport, report, ("gateway", "event_id")) is None:
            return msg
    if provider_status == "sent" and event.parts is not None and 0 < event.parts <= 255:
        msg.segments = event.parts  # the phone's count of the parts it sent is the true one
    if provider_status in ("sent", "delivered"):
        arrived = session.scalar(
            select(func.count(DeliveryReport.id)).where(
                DeliveryReport.message_id == msg.id, DeliveryReport.status == "delivered"))
        provider_status = "delivered" if arrived >= max(msg.segments, 1) else "sent"
    return record_status(session, now, gateway, event.message_id, provider_status,
                         error_message=event.reason)


# A message still 'sent' this long after sending lost its status callback (or it
# arrived before the drain had stored the provider's id): ask the provider.
RECONCILE_AFTER = timedelta(minutes=30)
RECONCILE_WINDOW = timedelta(days=3)


def reconcile(sessions: sessionmaker[Session], now: datetime, gateways, *,
              limit: int = 50) -> int:
    """Ask each provider (when it can tell) about its messages stuck in 'sent'; returns how
    many moved. ``gateways`` maps the name a message was sent through to that gateway (or
    None), or is one gateway: a message sent before the gateway setting changed is still
    asked about, through the gateway that sent it. Providers keep their final word a few
    days, so older rows are left alone. Each message in its own transaction; one that
    raises is recorded and skipped (``job_rows``)."""
    from hotline.services import job_rows

    lookup = gateways if callable(gateways) and not hasattr(gateways, "name") else (
        lambda name: gateways if name == gateways.name else None)
    moved = 0

    def stuck(session: Session, skip: set[int]) -> list[Message]:
        return session.scalars(
            select(Message)
            .where(
                Message.id.not_in(skip) if skip else true(),
                Message.status == MessageStatus.SENT,
                Message.direction == Direction.OUT,
                Message.external_id.is_not(None),
                Message.sent_at <= now - RECONCILE_AFTER,
                Message.sent_at >= now - RECONCILE_WINDOW,
            )
            .order_by(Message.sent_at)
            .limit(limit)
        ).all()

    def ask(session: Session, msg: Message) -> None:
        nonlocal moved
        gateway = lookup(msg.gateway)
        fetch = getattr(gateway, "fetch_status", None)
        if fetch is None:
            return
        try:
            status, code = fetch(msg.external_id)
        except GatewayError as exc:
            log.info("reconcile %s: %s", msg.id, exc.code)
            return
        if record_status(session, now, msg.gateway, msg.external_id, status, code) \
                is not None and msg.status != MessageStatus.SENT:
            moved += 1

    job_rows.each_row(sessions, now, "reconcile_statuses", "message", stuck, ask)
    return moved
