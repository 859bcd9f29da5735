"""Outbox benchmark: enqueue rate and drain rate to the local fake Twilio.

    python -m bench.outbox [--backend sqlite|postgresql|both] [--n 10000] [--no-baselines]

1. Enqueue: ``n`` normal messages to ``n`` distinct people (created beforehand, untimed),
   then ``n`` replies to one person, each batch in one unit of work through
   ``Outbox.enqueue`` (with an idempotency key, as cases and replies use) and committed;
   and ``n`` normal messages to the same people through ``Outbox.enqueue_many`` (the bulk
   path broadcasts use). Goal: under 2 s per batch.
2. Drain: the ``n`` normal messages through the real ``TwilioGateway`` to ``FakeTwilio``
   (in-process, in a thread) with the rate limit off, calling ``drain()`` the way the
   scheduler does (default limit) until nothing is due. Goal: at least 200 messages/s.
   Checked: the fake received exactly ``n`` requests, one per person, and every message
   ended ``sent`` after one attempt with the sid the fake gave it.

Baselines (``--no-baselines`` skips them), to tell where the drain's time goes:
the twilio client alone against the fake (the ceiling the fake allows), plain ``requests``
against the fake (the fake's own cost), and the drain with an in-memory gateway (the
outbox's own database cost).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import date, time

import requests
from sqlalchemy import delete, func, insert, select, update

from bench.common import (
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    Database,
    Figure,
    add_backend_args,
    at_least,
    below,
    fake_twilio_gateway,
    machine_summary,
    measure_each,
    note,
    print_table,
    rate,
    selected_backends,
    timed,
)
from hotline import clock
from hotline.db import make_engine, make_sessionmaker
from hotline.gateways.base import SendResult
from hotline.models import Kind, Message, MessageStatus, Person
from hotline.services import outbox
from hotline.services.outbox import Outbox

# A Tuesday mid-morning in Hanoi: outside quiet hours, so normal messages are due at once.
NOW = clock.at_local(date(2030, 1, 15), time(10))
BODY = "Nhắc lịch: họp nhóm tự lực 19:00 thứ Bảy tại nhà văn hóa phường. Trả lời HUY nếu bận."
ENQUEUE_GOAL = below(2, "s")
DRAIN_GOAL = at_least(200, "msg/s")


@dataclass
class OutboxRun:
    """What one run measured and what it found wrong (``problems`` empty when all is well)."""

    backend: str
    n: int
    enqueue_normal_s: float = 0.0
    enqueue_reply_s: float = 0.0
    enqueue_bulk_s: float = 0.0
    drain_s: float = 0.0
    drain_calls: int = 0
    fake_requests: int = 0
    sent_once: int = 0
    null_drain_s: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def drain_rate(self) -> float:
        return rate(self.n, self.drain_s)


class NullGateway:
    """Accepts every message at once: the drain's own cost, no HTTP."""

    name = "twilio"

    def __init__(self) -> None:
        self.count = 0

    def send_sms(self, to, body, *, status_callback=None, options=None) -> SendResult:
        self.count += 1
        return SendResult(external_id=f"SMnull{self.count:08d}", status="queued")


def create_people(sessions, n: int) -> None:
    """``n`` people with distinct numbers plus one (the last id) who gets the replies."""
    rows = [
        {"phone": f"+8491{i:07d}", "name": f"Nguoi {i}", "created_at": NOW}
        for i in range(n + 1)
    ]
    with sessions.begin() as session:
        session.execute(insert(Person), rows)


def enqueue_normal(sessions, settings, n: int) -> float:
    """Seconds to queue one normal message to each of ``n`` people and commit."""
    with sessions() as session:
        people = session.scalars(select(Person).order_by(Person.id).limit(n)).all()
        box = Outbox.for_settings(session, settings)
        with timed() as t:
            for person in people:
                box.enqueue(NOW, person.phone, BODY, person=person,
                            key=f"bench:normal:{person.id}")
            session.commit()
    return t.seconds


def enqueue_replies(sessions, settings, n: int) -> float:
    """Seconds to queue ``n`` replies to one person and commit."""
    with sessions() as session:
        person = session.scalars(select(Person).order_by(Person.id.desc()).limit(1)).one()
        box = Outbox.for_settings(session, settings)
        with timed() as t:
            for i in range(n):
                box.enqueue(NOW, person.phone, f"Da nhan tin {i}. {BODY}", person=person,
                            kind=Kind.REPLY, key=f"bench:reply:{i}")
            session.commit()
    return t.seconds


def enqueue_bulk(sessions, settings, n: int) -> float:
    """Seconds to queue one normal message to each of ``n`` people with ``enqueue_many``."""
    with sessions() as session:
        people = session.scalars(select(Person).order_by(Person.id).limit(n)).all()
        box = Outbox.for_settings(session, settings)
        with timed() as t:
            box.enqueue_many(NOW, people, BODY, key_prefix="bench:bulk")
            session.commit()
    return t.seconds


def drain_all(sessions, gateway, settings) -> tuple[outbox.DrainReport, int]:
    """Call ``drain`` like the scheduler until a call finds nothing; totals and calls."""
    total, calls = outbox.DrainReport(), 0
    while True:
        report = outbox.drain(sessions, NOW, gateway, settings)
        calls += 1
        total += report
        if not any(vars(report).values()):
            return total, calls


def run_outbox(db: Database, n: int = 10_000, *, null_baseline: bool = True) -> OutboxRun:
    """Both phases on ``db`` (a migrated, empty database)."""
    settings = db.settings(sms_gateway="twilio")
    run = OutboxRun(db.backend, n)
    engine = make_engine(db.url)
    sessions = make_sessionmaker(engine)
    try:
        create_people(sessions, n)
        run.enqueue_normal_s = enqueue_normal(sessions, settings, n)
        run.enqueue_reply_s = enqueue_replies(sessions, settings, n)
        with sessions.begin() as session:
            counts = dict(session.execute(
                select(Message.kind, func.count()).group_by(Message.kind)).all())
            if counts != {Kind.NORMAL: n, Kind.REPLY: n}:
                run.problems.append(f"enqueued {counts}, expected {n} of each kind")
            due = session.scalar(select(func.count()).where(
                Message.kind == Kind.NORMAL, Message.due_at == NOW))
            if due != n:
                run.problems.append(f"{n - due} normal messages were deferred")
            # Untimed: the bulk batch goes to the same people, under a fresh day's cap.
            session.execute(delete(Message))
        run.enqueue_bulk_s = enqueue_bulk(sessions, settings, n)
        with sessions.begin() as session:
            bulk = session.scalar(select(func.count()).where(Message.due_at == NOW))
            if bulk != n:
                run.problems.append(f"enqueue_many queued {bulk} due now, expected {n}")

        with fake_twilio_gateway() as (fake, gateway), timed() as t:
            report, run.drain_calls = drain_all(sessions, gateway, settings)
        run.drain_s = t.seconds
        run.fake_requests = len(fake.requests)
        _check_drain(sessions, run, report, fake)

        if null_baseline:
            with sessions.begin() as session:  # untimed: the same rows queued again
                session.execute(update(Message).values(
                    status=MessageStatus.QUEUED, attempts=0, external_id=None, sent_at=None,
                    due_at=NOW))
            null = NullGateway()
            with timed() as t:
                report, _ = drain_all(sessions, null, settings)
            run.null_drain_s = t.seconds
            if report.sent != n or null.count != n:
                run.problems.append(f"in-memory drain sent {report.sent}/{null.count} of {n}")
    finally:
        engine.dispose()
    return run


def _check_drain(sessions, run: OutboxRun, report: outbox.DrainReport, fake) -> None:
    n = run.n
    if report.sent != n or report.retried or report.failed or report.deferred:
        run.problems.append(f"drain report {report}, expected {n} sent and nothing else")
    if run.fake_requests != n:
        run.problems.append(f"the fake received {run.fake_requests} requests, expected {n}")
    recipients = [m["to"] for m in fake.messages]
    if len(set(recipients)) != len(recipients):
        run.problems.append("a person received the same message twice")
    sids = {m["sid"] for m in fake.messages}
    with sessions() as session:
        rows = session.execute(select(
            Message.phone, Message.status, Message.attempts, Message.external_id,
            Message.maybe_duplicate)).all()
    run.sent_once = sum(
        1 for phone, status, attempts, sid, dup in rows
        if status == MessageStatus.SENT and attempts == 1 and sid in sids and not dup
    )
    if run.sent_once != n or len(rows) != n:
        run.problems.append(f"{run.sent_once} of {len(rows)} rows sent once, expected {n}")
    if {phone for phone, *_ in rows} != set(recipients):
        run.problems.append("the fake's recipients differ from the queued numbers")


def fake_only_rate(n: int) -> tuple[float, int]:
    """Requests/s of the twilio client alone against the fake (no database): the ceiling."""
    with fake_twilio_gateway() as (fake, gateway):
        callback = "https://hotline.example.org/sms/status"
        with timed() as t:
            for i in range(n):
                gateway.send_sms(f"+8491{i:07d}", BODY, status_callback=callback)
        return rate(n, t.seconds), len(fake.requests)


def raw_http_rate(n: int) -> tuple[float, int]:
    """Requests/s of plain ``requests`` posting the same form to the fake: the fake's cost."""
    with fake_twilio_gateway() as (fake, _), requests.Session() as http:
        url = f"{fake.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        http.auth = (TWILIO_SID, TWILIO_TOKEN)
        form = {"From": TWILIO_FROM, "Body": BODY,
                "StatusCallback": "https://hotline.example.org/sms/status"}
        with timed() as t:
            for i in range(n):
                http.post(url, data={**form, "To": f"+8491{i:07d}"}, timeout=10).raise_for_status()
        return rate(n, t.seconds), len(fake.requests)


def figures(run: OutboxRun) -> list[Figure]:
    n, b = run.n, run.backend
    rows = [
        Figure(f"enqueue {n:,} normal → {n:,} people, 1 commit", b, run.enqueue_normal_s, "s",
               ENQUEUE_GOAL, f"{rate(n, run.enqueue_normal_s):,.0f} msg/s"),
        Figure(f"enqueue {n:,} replies → 1 person, 1 commit", b, run.enqueue_reply_s, "s",
               ENQUEUE_GOAL, f"{rate(n, run.enqueue_reply_s):,.0f} msg/s"),
        Figure(f"enqueue_many {n:,} normal → {n:,} people (broadcast path)", b,
               run.enqueue_bulk_s, "s", ENQUEUE_GOAL,
               f"{rate(n, run.enqueue_bulk_s):,.0f} msg/s"),
        Figure(f"drain {n:,} → fake Twilio (real client)", b, run.drain_rate, "msg/s",
               DRAIN_GOAL,
               f"{run.drain_s:.1f} s, {run.drain_calls} drain calls, fake got "
               f"{run.fake_requests:,} requests, {run.sent_once:,} sent once"),
    ]
    if run.null_drain_s is not None:
        rows.append(Figure(f"drain {n:,} → in-memory gateway (database cost)", b,
                           rate(n, run.null_drain_s), "msg/s", None,
                           f"{run.null_drain_s:.1f} s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.split(
        "\n\n")[0])
    add_backend_args(parser)
    parser.add_argument("--n", type=int, default=10_000, help="messages per batch")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the fake-only and in-memory-gateway baselines")
    args = parser.parse_args(argv)

    print(f"Machine: {machine_summary(selected_backends(args.backend))}")
    print(f"Command: python -m bench.outbox --backend {args.backend} --n {args.n}")

    def measure(db: Database) -> tuple[list[Figure], list[str]]:
        note(f"{db.backend}: running with n={args.n:,}")
        run = run_outbox(db, args.n, null_baseline=not args.no_baselines)
        return figures(run), run.problems

    measured = measure_each(args.backend, measure)
    if measured is None:
        return 2
    rows, failed = measured
    if not args.no_baselines:
        fake_rate, received = fake_only_rate(args.n)
        rows.append(Figure(f"{args.n:,} sends, twilio client → fake alone (no database)",
                           "–", fake_rate, "req/s", None, f"fake got {received:,}"))
        http_rate, received = raw_http_rate(args.n)
        rows.append(Figure(f"{args.n:,} POSTs, plain requests → fake (the fake's own cost)",
                           "–", http_rate, "req/s", None, f"fake got {received:,}"))
    print_table(rows, title="Outbox")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
