"""The outbox: every outbound SMS is a row first; the drain job sends it.

``Outbox.enqueue`` decides *when* a message may go (quiet hours, the daily cap,
the person's safe-contact window) and never drops one; ``drain`` hands due rows
to a gateway with retries; ``record_status`` applies provider callbacks, only
ever moving a message forward.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline import clock
from hotline.db import session_scope
from hotline.gateways.base import GatewayError, SmsGateway
from hotline.models import (
    STATUS_RANK,
    Direction,
    Kind,
    Message,
    MessageStatus,
    Person,
)
from hotline.phones import mask
from hotline.text import segments, unaccent

log = logging.getLogger(__name__)

# Twilio error codes with a meaning of their own.
OPTED_OUT_CODES = {"21610"}
MAX_ATTEMPTS = 8
# A claimed row whose send never finished is looked at again after this long.
CLAIM_TIMEOUT = timedelta(minutes=2)
BACKOFF = [30, 60, 120, 300, 600, 1800, 3600]


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
    # Counts of capped messages per (person, Hanoi day) seen in this unit of work.
    _counts: dict[tuple[int, datetime], int] = field(default_factory=dict, repr=False)

    @classmethod
    def for_settings(cls, session: Session, settings) -> "Outbox":
        return cls(session, settings.sms_gateway, settings.quiet, settings.daily_cap)

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
    ) -> Message | None:
        """Queue ``body`` (sent unaccented) to ``to``; with ``key`` at most once ever.

        Returns None, queueing nothing, when the first allowed moment is already past
        ``expires_at`` (a reminder that could only arrive after the meeting began).
        """
        if key is not None:
            existing = self.session.scalar(select(Message).where(Message.idempotency_key == key))
            if existing is not None:
                return existing
        text = unaccent(body)
        due = max(now, not_before or now)
        if kind == Kind.NORMAL:
            due = self.next_allowed(due, person)
        if expires_at is not None and due >= expires_at:
            return None
        msg = Message(
            direction=Direction.OUT,
            gateway=self.gateway,
            person_id=person.id if person else None,
            phone=to,
            body=text,
            status=MessageStatus.QUEUED,
            kind=kind,
            idempotency_key=key,
            due_at=due,
            segments=segments(text),
            case_id=case_id,
            broadcast_id=broadcast_id,
            expires_at=expires_at,
            created_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(msg)
        except IntegrityError:
            # Another worker queued the same key between our check and insert.
            return self.session.scalars(select(Message).where(Message.idempotency_key == key)).one()
        if kind == Kind.NORMAL and person is not None:
            day = clock.local_day_bounds(due)[0]
            self._counts[(person.id, day)] = self._counts.get((person.id, day), 0) + 1
        return msg

    def enqueue_many(
        self,
        now: datetime,
        recipients: list[Person],
        body: str,
        *,
        key_prefix: str,
        not_before: datetime | None = None,
        broadcast_id: int | None = None,
    ) -> int:
        """Queue one normal message to each recipient in bulk (broadcasts).

        Same rules as ``enqueue`` (quiet hours, cap, safe window, once per
        ``key_prefix:person``), with the cap counts fetched in a few grouped queries
        and rows inserted in chunks, so 10,000 recipients take well under 2 s.
        """
        text = unaccent(body)
        parts = segments(text)
        start = clock.next_in_window(max(now, not_before or now), self.quiet[1], self.quiet[0])
        day = clock.local_day_bounds(start)
        self._prefetch_counts([p.id for p in recipients], day)
        rows = []
        for person in recipients:
            due = self.next_allowed(start, person)
            rows.append({
                "direction": Direction.OUT, "gateway": self.gateway, "person_id": person.id,
                "phone": person.phone, "body": text, "status": MessageStatus.QUEUED,
                "kind": Kind.NORMAL, "idempotency_key": f"{key_prefix}:{person.id}",
                "due_at": due, "segments": parts, "broadcast_id": broadcast_id,
                "created_at": now, "attempts": 0, "maybe_duplicate": False,
                "needs_staff": False,
            })
            cap_day = clock.local_day_bounds(due)[0]
            self._counts[(person.id, cap_day)] = self._counts.get((person.id, cap_day), 0) + 1
        insert = _insert_for(self.session)
        inserted = 0
        stmt = (insert(Message).on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(Message.id))
        connection = self.session.connection()
        for chunk in _chunks(rows, 1000):
            inserted += len(connection.execute(stmt, chunk).all())
        return inserted

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
        quiet_start, quiet_end = self.quiet
        for _ in range(366):
            due = clock.next_in_window(due, quiet_end, quiet_start)
            if person is not None and person.safe_contact_start and person.safe_contact_end:
                safe = clock.next_in_window(
                    due, person.safe_contact_start, person.safe_contact_end
                )
                if safe != due:
                    due = safe
                    continue
            if person is None or person.id is None or self._count(person.id, due) < self.daily_cap:
                return due
            due = clock.local_day_bounds(due)[1]
        return due

    def _count(self, person_id: int, due: datetime) -> int:
        start, end = clock.local_day_bounds(due)
        if (person_id, start) not in self._counts:
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


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert_for(session: Session):
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    recovered: int = 0


def drain(
    sessions: sessionmaker[Session],
    now: datetime,
    gateway: SmsGateway,
    settings,
    *,
    limit: int = 500,
    sleep: Callable[[float], None] = _time.sleep,
) -> DrainReport:
    """Send due outbound messages through ``gateway``; safe to run twice or after a crash.

    Each message is claimed and committed before the gateway is called, and its
    result committed right after, so a crash loses nothing and only a send whose
    outcome was never recorded can go twice (flagged ``maybe_duplicate``).
    """
    report = DrainReport()
    with session_scope(sessions) as session:
        report.recovered = _recover_stale(session, now)
        ids = session.scalars(
            select(Message.id)
            .where(Message.status == MessageStatus.QUEUED, Message.due_at <= now)
            .order_by(Message.due_at, Message.id)
            .limit(limit)
        ).all()
    interval = 1.0 / settings.send_rate if settings.send_rate > 0 else 0.0
    status_callback = settings.public_url.rstrip("/") + "/sms/status"
    last = 0.0
    for message_id in ids:
        with session_scope(sessions) as session:
            msg = _claim(session, message_id, now, settings)
            if msg is None:
                continue
            if msg.status == MessageStatus.CANCELLED:
                report.cancelled += 1
                continue
            if msg.status == MessageStatus.QUEUED:
                report.deferred += 1
                continue
            to, body = msg.phone, msg.body
        if interval:
            wait = last + interval - _time.monotonic()
            if wait > 0:
                sleep(wait)
            last = _time.monotonic()
        outcome = _send(gateway, to, body, status_callback)
        with session_scope(sessions) as session:
            msg = session.get(Message, message_id)
            _apply(session, msg, outcome, now, report)
    return report


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


def _claim(session: Session, message_id: int, now: datetime, settings) -> Message | None:
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.QUEUED)
        .values(
            status=MessageStatus.SENDING,
            attempts=Message.attempts + 1,
            due_at=now + CLAIM_TIMEOUT,
        )
    ).rowcount
    if not claimed:
        return None  # another drain took it
    msg = session.get(Message, message_id, populate_existing=True)
    person = msg.person
    if person is not None and (person.opted_out or person.erased_at) and msg.kind != Kind.REPLY:
        msg.status = MessageStatus.CANCELLED
        msg.error_message = "opted out" if person.opted_out else "erased"
        msg.attempts -= 1
    elif msg.expires_at is not None and now >= msg.expires_at:
        msg.status = MessageStatus.CANCELLED
        msg.error_message = "expired"
        msg.attempts -= 1
    elif msg.kind == Kind.NORMAL:
        # A late drain (scheduler down overnight) must not text inside quiet hours.
        quiet_start, quiet_end = settings.quiet
        if not clock.in_window(now, quiet_end, quiet_start):
            msg.status = MessageStatus.QUEUED
            msg.due_at = clock.next_in_window(now, quiet_end, quiet_start)
            msg.attempts -= 1
    session.flush()
    return msg


def _send(gateway: SmsGateway, to: str, body: str, status_callback: str):
    try:
        return gateway.send_sms(to, body, status_callback=status_callback)
    except GatewayError as exc:
        return exc
    except Exception as exc:  # a bug or an unexpected library error: retry, never lose
        log.exception("gateway %s raised unexpectedly for %s", gateway.name, mask(to))
        return GatewayError(str(exc) or type(exc).__name__, code="error", transient=True)


def _apply(session: Session, msg: Message, outcome, now: datetime, report: DrainReport) -> None:
    if not isinstance(outcome, GatewayError):
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
    """Mark ``person`` opted out and cancel what is queued for them but replies."""
    if person.opted_out_at is None:
        person.opted_out_at = now
    result = session.execute(
        update(Message)
        .where(
            Message.person_id == person.id,
            Message.status == MessageStatus.QUEUED,
            Message.kind != Kind.REPLY,
        )
        .values(status=MessageStatus.CANCELLED, error_message="opted out")
    )
    session.flush()
    return result.rowcount


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
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


def record_status(
    session: Session,
    now: datetime,
    gateway: str,
    external_id: str,
    provider_status: str,
    error_code: str | None = None,
) -> Message | None:
    """Apply a provider's status callback; late or repeated callbacks change nothing."""
    msg = session.scalar(
        select(Message).where(
            Message.gateway == gateway,
            Message.external_id == external_id,
            Message.direction == Direction.OUT,
        )
    )
    new = PROVIDER_STATUS.get((provider_status or "").strip().lower())
    if msg is None or new is None:
        return msg
    if STATUS_RANK[new] <= STATUS_RANK.get(msg.status, 0):
        return msg
    msg.status = new
    if new == MessageStatus.DELIVERED:
        msg.delivered_at = now
    if error_code:
        msg.error_code = error_code
        if error_code in OPTED_OUT_CODES and msg.person is not None:
            opt_out(session, msg.person, now)
    session.flush()
    return msg
