"""Broadcast benchmark: a 10,000-member broadcast queued in bulk, then drained by the scheduler.

    python -m bench.broadcast [--backend sqlite|postgresql|both] [--n 10000] [--send-rate 100]
                              [--opted-out 500] [--late-opt-outs 100] [--quiet-seconds 25]
                              [--queue-in scheduler|bench] [--quick]

Per backend, a throwaway migrated database (``bench.common``) holds ``n`` registered members in
one ward (``--opted-out`` of them opted out earlier) and 1,000 people elsewhere. The
broadcast's segment is that ward.

1. **Enqueue inside quiet hours, controlled clock** (in this process, default quiet hours
   21:00-07:00): at 22:30 Hanoi a broadcast is created and ``broadcasts.queue`` (→
   ``Outbox.enqueue_many``) queues it, timed up to the commit. Goal: under 2 s (issue 6).
   Checked: one message per member who has not opted out, none for those who have, every one
   due at 07:00 the next morning; drains at 22:30, 03:00 and 06:59:59 through the real twilio
   client to the local fake Twilio send nothing.
2. **Drain by the real scheduler process**: a second broadcast, due now, and ``flask scheduler
   run`` started as its own process on the same database with ``HOTLINE_SMS_GATEWAY=twilio``
   pointed at the fake Twilio (a thread of this process) and ``HOTLINE_SEND_RATE=--send-rate``.
   Quiet hours are set to end ``--quiet-seconds`` after the scheduler starts, so the run
   starts inside quiet hours: the messages are due at their end and nothing may be sent
   before. With ``--queue-in scheduler`` (default) the scheduler's own ``queue_broadcasts`` job
   queues the broadcast (first run 15 s after start), as in production, and the time from the
   job's start (``queued_at``) to its commit being visible is reported; with ``--queue-in
   bench`` this process queues it (faster, for the smoke test). While it drains,
   ``--late-opt-outs`` members text STOP (``outbox.opt_out``): their messages must not go.
   Reported: the drain rate from the fake's arrival times (goal: at least 90 % of the
   configured rate, or 200 msg/s unthrottled), the most sends in any one second, and the
   scheduler process's peak RSS (VmHWM; goal under 150 MB).
   Checked: the fake received exactly one message per member still opted in, none before the
   end of quiet hours, every row ``sent`` after one attempt, the late opt-outs ``cancelled``.

Exit status 1 when a check failed, never because a goal was missed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time as _time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import (
    PUBLIC_URL,
    ROOT,
    Database,
    Figure,
    add_backend_args,
    at_least,
    below,
    fake_twilio_env,
    fake_twilio_gateway,
    load_line,
    measure_each,
    note,
    peak_rss_mb,
    print_header,
    print_table,
    scheduler_process,
    timed,
    wait_for,
)
from hotline import clock
from hotline.db import make_engine, make_sessionmaker, session_scope
from hotline.models import Broadcast, BroadcastStatus, Message, MessageStatus, Person
from hotline.services import broadcasts, outbox
from hotline.services.outbox import Outbox

WARD, OTHER_WARD = "Hồng Hà", "Phúc Tân"
BODY = ("Thông báo: Ngày 20/1 có khám sức khỏe miễn phí cho hội viên tại nhà văn hóa phường, "
        "8:00-11:00. Mang theo thẻ BHYT nếu có.")
NIGHT = clock.at_local(date(2030, 1, 15), time(22, 30))
MORNING = clock.at_local(date(2030, 1, 16), time(7))
ENQUEUE_GOAL = below(2, "s")
RSS_GOAL = below(150, "MB")
OTHERS = 1000


@dataclass
class BroadcastRun:
    backend: str
    n: int
    opted_out: int
    send_rate: float
    queue_in: str
    schedulers: int = 1
    night_enqueue_s: float = 0.0
    night_queued: int = 0
    scheduler_enqueue_s: float | None = None  # queued_at → commit seen (scheduler queues)
    bench_enqueue_s: float | None = None  # this process queued (--queue-in bench)
    queued: int = 0
    late_opt_outs: int = 0
    sent: int = 0
    cancelled: int = 0
    drain_s: float = 0.0
    max_per_second: int = 0
    first_send_after_quiet_s: float = 0.0
    scheduler_rss_mb: float = 0.0
    scheduler_boot_rss_mb: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def drain_rate(self) -> float:
        return (self.sent - 1) / self.drain_s if self.drain_s > 0 and self.sent > 1 else 0.0


def seed(sessions, n: int, opted_out: int) -> set[str]:
    """``n`` registered members in WARD (every ``n // opted_out``-th opted out) and OTHERS
    elsewhere; returns the opted-out members' numbers."""
    now = clock.utcnow() - timedelta(days=30)
    step = max(1, n // opted_out) if opted_out else 0
    out = {f"+8491{i:07d}" for i in range(n) if step and i % step == 0 and i // step < opted_out}
    rows = [
        {"phone": f"+8491{i:07d}", "name": f"Hoi vien {i}", "created_at": now,
         "registered_at": now, "ward_current": WARD,
         "opted_out_at": now if f"+8491{i:07d}" in out else None}
        for i in range(n)
    ] + [
        {"phone": f"+8492{i:07d}", "name": f"Nguoi {i}", "created_at": now,
         "registered_at": now, "ward_current": OTHER_WARD, "opted_out_at": None}
        for i in range(OTHERS)
    ]
    with sessions.begin() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Person), rows[start:start + 5000])
    return out


def create_broadcast(sessions, now: datetime) -> int:
    with session_scope(sessions) as session:
        return broadcasts.create(session, now, BODY, {"ward_current": WARD}, send_at=now).id


def queue_broadcast(sessions, settings, now: datetime, broadcast_id: int) -> tuple[int, float]:
    """Queue it the way the scheduler's job does, committed; (messages queued, seconds)."""
    with timed() as t, session_scope(sessions) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        count = broadcasts.queue(session, now, Outbox.for_settings(session, settings), broadcast)
    return count, t.seconds


def night_run(db: Database, sessions, run: BroadcastRun, opted_out: set[str]) -> None:
    """Phase 1: queued at 22:30 with the default quiet hours; nothing goes before 07:00."""
    settings = db.settings(sms_gateway="twilio")  # default quiet hours 21:00-07:00
    broadcast_id = create_broadcast(sessions, NIGHT)
    run.night_queued, run.night_enqueue_s = queue_broadcast(sessions, settings, NIGHT,
                                                            broadcast_id)
    expected = run.n - len(opted_out)
    with sessions() as session:
        rows = session.execute(select(Message.phone, Message.due_at).where(
            Message.broadcast_id == broadcast_id)).all()
    if run.night_queued != expected or len(rows) != expected:
        run.problems.append(f"night broadcast queued {run.night_queued} ({len(rows)} rows), "
                            f"expected {expected}")
    if {phone for phone, _ in rows} & opted_out:
        run.problems.append("an opted-out member was queued")
    if {due for _, due in rows} != {MORNING}:
        run.problems.append(f"night broadcast due at {sorted({d for _, d in rows})[:3]}, "
                            f"expected only {MORNING} (07:00 Hanoi)")
    with fake_twilio_gateway() as (fake, gateway):
        for at in (NIGHT, clock.at_local(date(2030, 1, 16), time(3)),
                   MORNING - timedelta(seconds=1)):
            report = outbox.drain(sessions, at, gateway, settings)
            if report.sent or fake.requests:
                run.problems.append(f"a drain at {clock.local(at):%H:%M:%S} sent "
                                    f"{report.sent} ({len(fake.requests)} requests)")
    with sessions() as session:
        due = session.scalar(select(func.count()).select_from(Message).where(
            Message.broadcast_id == broadcast_id, Message.status == MessageStatus.QUEUED,
            Message.due_at <= MORNING))
    if due != expected:
        run.problems.append(f"{due} messages due at 07:00, expected {expected}")


class TimedFake:
    """Arrival times (wall clock) of the fake's message requests."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.arrivals: list[float] = []
        original = fake.handle
        lock = threading.Lock()

        def handle(request):
            reply = original(request)
            if request.method == "POST" and reply[0] == 201:
                with lock:
                    self.arrivals.append(_time.time())
            return reply

        fake.handle = handle


def quiet_window(seconds: float) -> tuple[str, datetime]:
    """Quiet hours (``HH:MM:SS-HH:MM:SS``, Hanoi) that began an hour ago and end ``seconds``
    from now, and the instant they end."""
    now = clock.utcnow().replace(microsecond=0) + timedelta(seconds=1)
    end = now + timedelta(seconds=seconds)
    begin = now - timedelta(hours=1)
    return f"{clock.local(begin):%H:%M:%S}-{clock.local(end):%H:%M:%S}", end


def scheduler_env(db: Database, fake_url: str, send_rate: float, quiet: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(
        PYTHONPATH=str(ROOT), HOTLINE_DATABASE_URL=db.url, HOTLINE_PUBLIC_URL=PUBLIC_URL,
        HOTLINE_SMS_GATEWAY="twilio", HOTLINE_SEND_RATE=f"{send_rate:g}",
        HOTLINE_QUIET_HOURS=quiet, HOTLINE_GATEWAY_TIMEOUT="10",
        HOTLINE_AUDIO_DIR=str(db.workdir / "audio"), **fake_twilio_env(fake_url),
    )
    return env


def statuses(sessions, broadcast_id: int) -> Counter:
    with sessions() as session:
        return Counter(dict(session.execute(
            select(Message.status, func.count()).where(Message.broadcast_id == broadcast_id)
            .group_by(Message.status)).all()))


def live_run(db: Database, sessions, run: BroadcastRun, opted_out: set[str],
             quiet_seconds: float, late_opt_outs: int) -> None:
    """Phase 2: the real scheduler process drains a broadcast that starts in quiet hours."""
    log = db.workdir / "scheduler.log"
    expected = run.n - len(opted_out)
    with fake_twilio_gateway() as (fake, _):
        timing = TimedFake(fake)
        quiet, quiet_end = quiet_window(quiet_seconds)
        settings = db.settings(sms_gateway="twilio", quiet_hours=quiet,
                               send_rate=run.send_rate)
        broadcast_id = create_broadcast(sessions, clock.utcnow())
        if run.queue_in == "bench":
            run.queued, run.bench_enqueue_s = queue_broadcast(
                sessions, settings, clock.utcnow(), broadcast_id)
        env = scheduler_env(db, fake.url, run.send_rate, quiet)
        if run.schedulers > 1:
            env["HOTLINE_SCHEDULER_MODE"] = "shared"
        with ExitStack() as others:
            for i in range(1, run.schedulers):  # shared mode: they drain beside the first
                others.enter_context(scheduler_process(env, log.with_name(f"scheduler-{i}.log")))
            proc = others.enter_context(scheduler_process(env, log))
            wait_for(lambda: "starting" in log.read_text(errors="replace"), 60,
                     "the scheduler to start", proc, log)
            run.scheduler_boot_rss_mb = peak_rss_mb(proc.pid)
            if run.queue_in == "scheduler":
                _wait_scheduler_queued(sessions, run, broadcast_id, proc, log)
            if run.queued != expected:
                run.problems.append(f"queued {run.queued}, expected {expected}")
            # STOP from some members still waiting, once the drain is under way.
            wait_for(lambda: len(timing.arrivals) >= min(expected // 10, 200),
                     quiet_seconds + 60, "the drain to begin", proc, log)
            run.late_opt_outs = opt_out_last(sessions, late_opt_outs, broadcast_id)
            budget = expected / run.send_rate * 1.5 + 120 if run.send_rate else 600
            wait_for(lambda: not (statuses(sessions, broadcast_id).keys()
                                  & {MessageStatus.QUEUED, MessageStatus.SENDING}),
                     budget, "the broadcast to drain", proc, log, every=0.5)
            run.scheduler_rss_mb = peak_rss_mb(proc.pid)
        failures = log_failures(log.read_text(errors="replace"))
        if failures:
            run.problems.append(f"scheduler log: {failures[:3]}")
        _check_live(sessions, run, broadcast_id, fake, timing, quiet_end, opted_out, expected)


def log_failures(log: str) -> list[str]:
    """Each job failure in a scheduler log: its ``failed`` line and the exception it ended
    with (a traceback's last line), so the report says why."""
    lines, found = log.splitlines(), []
    for i, line in enumerate(lines):
        if " failed" in line:
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j] and not lines[j][0].isspace()
                        and not lines[j].startswith(("Traceback", "The above", "During"))),
                       None)
            found.append(line if end is None else f"{line}: {lines[end]}")
    return found


def _wait_scheduler_queued(sessions, run: BroadcastRun, broadcast_id: int, proc,
                           log: Path) -> None:
    def queued() -> bool:
        with sessions() as session:
            status = session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        return status == BroadcastStatus.SENT

    wait_for(queued, 60, "the scheduler to queue the broadcast", proc, log)
    seen = clock.utcnow()
    with sessions() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        run.scheduler_enqueue_s = (seen - broadcast.queued_at).total_seconds()
        run.queued = session.scalar(select(func.count()).select_from(Message).where(
            Message.broadcast_id == broadcast_id))


def opt_out_last(sessions, count: int, broadcast_id: int) -> int:
    """The ``count`` members last in the drain's order text STOP (``outbox.opt_out``, as the
    HUY command does); how many of their messages of ``broadcast_id`` that cancelled (those
    not yet sent)."""
    if not count:
        return 0
    with sessions() as session:
        ids = session.scalars(
            select(Person.id).where(Person.ward_current == WARD, Person.opted_out_at.is_(None))
            .order_by(Person.id.desc()).limit(count)).all()
    for person_id in ids:
        with session_scope(sessions) as session:
            outbox.opt_out(session, session.get(Person, person_id), clock.utcnow())
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Message).where(
            Message.broadcast_id == broadcast_id, Message.person_id.in_(ids),
            Message.status == MessageStatus.CANCELLED))


def _check_live(sessions, run: BroadcastRun, broadcast_id: int, fake, timing: TimedFake,
                quiet_end: datetime, opted_out: set[str], expected: int) -> None:
    counts = statuses(sessions, broadcast_id)
    run.sent = len(timing.arrivals)
    run.cancelled = counts.get(MessageStatus.CANCELLED, 0)
    with sessions() as session:
        rows = session.execute(select(Message.phone, Message.status, Message.attempts,
                                      Message.maybe_duplicate).where(
            Message.broadcast_id == broadcast_id)).all()
        late = set(session.scalars(select(Person.phone).where(
            Person.opted_out_at.is_not(None))).all()) - opted_out
    recipients = [m["to"] for m in fake.messages if m["body"].startswith("Thong bao")]
    if len(recipients) != len(set(recipients)):
        run.problems.append("a member received the broadcast twice")
    if set(recipients) & (opted_out | late):
        run.problems.append("an opted-out member received the broadcast")
    if len(recipients) != expected - run.late_opt_outs or run.sent != len(recipients):
        run.problems.append(f"the fake got {len(recipients)} ({run.sent} timed), expected "
                            f"{expected - run.late_opt_outs}")
    once = sum(1 for _, status, attempts, dup in rows
               if status == MessageStatus.SENT and attempts == 1 and not dup)
    if once != expected - run.late_opt_outs:
        run.problems.append(f"{once} rows sent once, expected {expected - run.late_opt_outs}")
    if run.cancelled != run.late_opt_outs:
        run.problems.append(f"{run.cancelled} cancelled, {run.late_opt_outs} opted out late")
    if timing.arrivals:
        first, last = min(timing.arrivals), max(timing.arrivals)
        run.first_send_after_quiet_s = first - quiet_end.timestamp()
        if run.first_send_after_quiet_s < 0:
            run.problems.append(f"sent {-run.first_send_after_quiet_s:.1f} s before quiet "
                                f"hours ended")
        run.drain_s = last - first
        per_second = Counter(int(t - first) for t in timing.arrivals)
        run.max_per_second = max(per_second.values())


def run_broadcast(db: Database, n: int = 10_000, *, send_rate: float = 100.0,
                  opted_out: int = 500, late_opt_outs: int = 100, quiet_seconds: float = 25.0,
                  queue_in: str = "scheduler", schedulers: int = 1) -> BroadcastRun:
    run = BroadcastRun(db.backend, n, opted_out, send_rate, queue_in, schedulers)
    engine = make_engine(db.url)
    sessions = make_sessionmaker(engine)
    try:
        out = seed(sessions, n, opted_out)
        note(f"{db.backend}: enqueue at 22:30 with quiet hours 21:00-07:00")
        night_run(db, sessions, run, out)
        note(f"{db.backend}: drain by the scheduler process at {send_rate:g}/s, starting in "
             f"quiet hours ending in {quiet_seconds:g} s")
        live_run(db, sessions, run, out, quiet_seconds, late_opt_outs)
    finally:
        engine.dispose()
    return run


def figures(run: BroadcastRun) -> list[Figure]:
    b, n = run.backend, run.n
    rows = [Figure(
        f"broadcast to {n:,} members: enqueue at 22:30 (quiet hours)", b, run.night_enqueue_s,
        "s", ENQUEUE_GOAL, f"{run.night_queued:,} queued ({run.opted_out} opted out skipped), "
        f"all due 07:00; drains at 22:30, 03:00, 06:59:59 sent nothing")]
    if run.scheduler_enqueue_s is not None:
        rows.append(Figure(f"broadcast to {n:,} members: enqueue inside `flask scheduler run`",
                           b, run.scheduler_enqueue_s, "s", ENQUEUE_GOAL,
                           f"{run.queued:,} queued; job start (queued_at) → commit seen"))
    if run.bench_enqueue_s is not None:
        rows.append(Figure(f"broadcast to {n:,} members: enqueue (real clock)", b,
                           run.bench_enqueue_s, "s", ENQUEUE_GOAL, f"{run.queued:,} queued"))
    goal = at_least(run.send_rate * 0.9, "msg/s") if run.send_rate else at_least(200, "msg/s")
    rows.append(Figure(
        f"broadcast drain by {run.schedulers} scheduler process"
        f"{'es (shared mode)' if run.schedulers > 1 else ''}, "
        f"HOTLINE_SEND_RATE={run.send_rate:g}", b,
        run.drain_rate, "msg/s", goal,
        f"{run.sent:,} sent once in {run.drain_s:.1f} s, at most {run.max_per_second} in any "
        f"second; first {run.first_send_after_quiet_s:.1f} s after quiet hours ended, none "
        f"before; {run.late_opt_outs} STOPs during the drain cancelled"))
    rows.append(Figure("scheduler process peak RSS (VmHWM)", b, run.scheduler_rss_mb, "MB",
                       RSS_GOAL, f"{run.scheduler_boot_rss_mb:.0f} MB after start-up"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast",
                                     description=__doc__.split("\n\n")[0])
    add_backend_args(parser)
    parser.add_argument("--n", type=int, default=10_000, help="members in the segment")
    parser.add_argument("--send-rate", type=float, default=100.0,
                        help="HOTLINE_SEND_RATE of the scheduler process (0: no limit)")
    parser.add_argument("--opted-out", type=int, default=500)
    parser.add_argument("--late-opt-outs", type=int, default=100)
    parser.add_argument("--quiet-seconds", type=float, default=25.0,
                        help="quiet hours end this long after the scheduler starts")
    parser.add_argument("--queue-in", choices=("scheduler", "bench"), default="scheduler")
    parser.add_argument("--schedulers", type=int, default=1,
                        help="scheduler processes (2+: HOTLINE_SCHEDULER_MODE=shared, PostgreSQL)")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 members, 5 s of quiet hours, queued by this process")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.opted_out, args.late_opt_outs = 1000, 50, 20
        args.quiet_seconds, args.queue_in = 5.0, "bench"

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    print_header("python -m bench.broadcast", args.backend, argv)

    def measure(db: Database) -> tuple[list[Figure], list[str]]:
        note(f"{db.backend}: {load_line()}")
        run = run_broadcast(db, args.n, send_rate=args.send_rate, opted_out=args.opted_out,
                            late_opt_outs=args.late_opt_outs,
                            quiet_seconds=args.quiet_seconds, queue_in=args.queue_in,
                            schedulers=args.schedulers)
        return figures(run), run.problems

    measured = measure_each(args.backend, measure)
    if measured is None:
        return 2
    rows, failed = measured
    print(f"Load: {load_line()}")
    print_table(rows, title="Broadcast")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
