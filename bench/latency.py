"""End-to-end latency benchmark: from a member's text at the webhook to her answer arriving at
the (fake) gateway.

    python -m bench.latency [--backend sqlite|postgresql|both] [--seconds 15]
                            [--rates 1,10,50] [--send-rates 10,0] [--broadcast 10000]
                            [--broadcast-rates 1,5] [--schedulers 1]

For each backend a throwaway migrated database (``bench.common``), gunicorn (2 workers,
signatures on) serving the hotline's Twilio webhooks, the fake Twilio REST API in a thread
of this process (the real twilio client sends to it), and the real scheduler process
(``flask scheduler run``, ``HOTLINE_SMS_GATEWAY=twilio``, ``HOTLINE_SEND_RATE`` each of
``--send-rates``; 0 is no limit). ``--schedulers 2`` runs two scheduler processes
(PostgreSQL: ``HOTLINE_SCHEDULER_MODE=shared``).

For each send rate, ``BHYT`` (an information command: one reply each) is texted from a new number
every time, on a fixed schedule (open loop) at each of ``--rates`` texts/s for ``--seconds``;
then a broadcast to ``--broadcast`` members is queued and, while it drains, the same at each
of ``--broadcast-rates``. Latency of a text: from its scheduled send time to the moment the
fake received its reply (matched by number). p50, p99 and max; every text must be answered
exactly once (a run waits for the backlog up to what the send rate allows).
Goal: reply p99 under 5 s whenever inbound is below the send rate, whatever broadcast is
draining (issue 17). Exit status 1 when a check failed, never because a goal was missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from bench.common import (
    Database,
    Figure,
    add_backend_args,
    below,
    databases,
    fake_twilio_env,
    fake_twilio_gateway,
    load_line,
    note,
    percentile,
    print_header,
    print_table,
    report_problems,
    scheduler_process,
    wait_for,
)
from bench.webhooks import (
    ACCOUNT,
    OUR_NUMBER,
    Req,
    _raise_on_sigterm,
    gunicorn,
    hotline_env,
    send,
    signed,
)
from hotline import clock
from hotline.db import make_engine, make_sessionmaker, session_scope
from hotline.models import Broadcast, Lane, Message, MessageStatus, Person
from hotline.services import broadcasts
from hotline.services.outbox import Outbox

P99_GOAL = below(5, "s")
WARD = "Hồng Hà"
BODY = "Thong bao: thu bay 8:00 kham suc khoe mien phi tai nha van hoa phuong. Mang the BHYT."


@dataclass
class Window:
    """One measured window: inbound rate, send rate, broadcast draining or not."""

    backend: str
    rate: float
    send_rate: float
    broadcast: int
    schedulers: int
    latencies: list[float] = field(default_factory=list)
    texts: int = 0
    broadcast_sent: int = 0  # broadcast messages the fake received during the window
    unanswered: int = 0  # texts whose reply had not come when the window gave up waiting
    load: str = ""

    @property
    def goal_applies(self) -> bool:
        return self.send_rate == 0 or self.rate < self.send_rate

    def label(self) -> str:
        send = f"send {self.send_rate:g}/s" if self.send_rate else "send unlimited"
        during = (f", {self.broadcast:,}-member broadcast draining" if self.broadcast
                  else "")
        many = f", {self.schedulers} schedulers" if self.schedulers > 1 else ""
        return f"reply p99, {self.rate:g} texts/s, {send}{during}{many}"


class Arrivals:
    """When the fake received each message, by recipient (wall clock)."""

    def __init__(self, fake) -> None:
        self.by_phone: dict[str, list[float]] = {}
        self.count = 0
        self.lock = threading.Lock()
        original = fake.handle

        def handle(request):
            reply = original(request)
            if request.method == "POST" and reply[0] == 201:
                to = request.form.get("To", "")
                with self.lock:
                    self.by_phone.setdefault(to, []).append(time.time())
                    self.count += 1
            return reply

        fake.handle = handle


def texts(n: int, first: int) -> list[tuple[str, Req]]:
    """``n`` signed ``BHYT`` texts, each from a number of its own."""
    out = []
    for i in range(first, first + n):
        phone = f"+8497{i:07d}"
        sid = f"SM{i:032x}"
        form = {"SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT,
                "From": phone, "To": OUR_NUMBER, "Body": "BHYT", "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        out.append((phone, signed("sms", "/sms/inbound", form, index=i)))
    return out


def send_texts(port: int, batch: list[tuple[str, Req]], per_second: float,
               senders: int = 16) -> dict[str, float]:
    """Post ``batch`` at ``per_second`` on a fixed schedule; the scheduled (wall clock) time
    of each, by number. Raises when a webhook did not answer 200."""
    due: dict[str, float] = {}
    failures: list[int] = []
    lock = threading.Lock()
    slots = threading.Semaphore(senders)
    threads = []
    start = time.time() + 0.05
    for i, (phone, req) in enumerate(batch):
        at = start + i / per_second
        wait = at - time.time()
        if wait > 0:
            time.sleep(wait)
        due[phone] = at
        slots.acquire()

        def post(req=req):
            try:
                status, _ = send(port, req)
                if status != 200:
                    with lock:
                        failures.append(status)
            finally:
                slots.release()

        t = threading.Thread(target=post, daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} webhooks failed: {Counter(failures)}")
    return due


def seed_members(sessions, n: int) -> None:
    now = clock.utcnow() - timedelta(days=30)
    rows = [{"phone": f"+8491{i:07d}", "name": f"Hoi vien {i}", "created_at": now,
             "registered_at": now, "ward_current": WARD} for i in range(n)]
    with sessions.begin() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Person), rows[start:start + 5000])


def far_quiet_hours() -> str:
    """Quiet hours of one minute, twelve hours away: none during the run (the daytime
    case: broadcasts and reminders may go)."""
    begin = clock.local(clock.utcnow() + timedelta(hours=12))
    return f"{begin:%H:%M}-{begin + timedelta(minutes=1):%H:%M}"


def queue_broadcast(sessions, db: Database) -> int:
    """A broadcast to every member, queued now (as the ``queue_broadcasts`` job would)."""
    now = clock.utcnow()
    settings = db.settings(sms_gateway="twilio", quiet_hours=far_quiet_hours())
    with session_scope(sessions) as session:
        broadcast = broadcasts.create(session, now, BODY, {"ward_current": WARD}, send_at=now)
        broadcasts.queue(session, now, Outbox.for_settings(session, settings), broadcast)
        return broadcast.id


def stop_broadcasts(sessions) -> None:
    """Cancel what is left of the broadcasts, so the next window starts without one."""
    with session_scope(sessions) as session:
        session.execute(update(Message).where(
            Message.lane == int(Lane.BROADCAST), Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.CANCELLED, error_message="bench: window over"))
        session.execute(update(Broadcast).values(send_at=clock.utcnow() + timedelta(days=365)))


def scheduler_env(db: Database, fake_url: str, send_rate: float, shared: bool) -> dict:
    env = hotline_env(db)
    env.update(HOTLINE_SEND_RATE=f"{send_rate:g}", HOTLINE_QUIET_HOURS=far_quiet_hours(),
               HOTLINE_GATEWAY_TIMEOUT="10", **fake_twilio_env(fake_url))
    if shared:
        env["HOTLINE_SCHEDULER_MODE"] = "shared"
    return env


def measure(port: int, arrivals: Arrivals, window: Window, seconds: float,
            first: int) -> None:
    batch = texts(max(1, round(window.rate * seconds)), first)
    before = arrivals.count
    sent_before = sum(len(arrivals.by_phone.get(p, [])) for p, _ in batch)
    due = send_texts(port, batch, window.rate)
    window.texts = len(due)
    # The backlog the send rate allows (replies first), and a margin for the ticks and for
    # handle_inbound (tens of texts/s on a loaded machine). Past it, a text still waiting
    # counts as answered never (its latency infinite), not as an error.
    budget = 30 + len(due) / (min(window.send_rate, 20) if window.send_rate else 20)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline and not all(p in arrivals.by_phone for p in due):
        time.sleep(0.1)
    window.load = load_line()
    if sent_before:
        raise RuntimeError("a reply arrived before its text was sent")
    for phone, at in due.items():
        got = arrivals.by_phone.get(phone)
        window.latencies.append(got[0] - at if got else float("inf"))
    window.unanswered = sum(1 for p in due if p not in arrivals.by_phone)
    window.broadcast_sent = arrivals.count - before - (len(due) - window.unanswered)
    note(f"  p50 {percentile(window.latencies, 50):.2f} s, p99 "
         f"{percentile(window.latencies, 99):.2f} s, {window.unanswered} unanswered; "
         f"{window.load}")


def run_backend(db: Database, opts) -> tuple[list[Window], list[str]]:
    windows: list[Window] = []
    problems: list[str] = []
    engine = make_engine(db.url)
    sessions = make_sessionmaker(engine)
    first = 0
    try:
        seed_members(sessions, opts.broadcast)
        shared = opts.schedulers > 1
        with fake_twilio_gateway() as (fake, _), gunicorn(
                f"latency-{db.backend}", "app:create_app()", hotline_env(db), db.workdir) as web:
            arrivals = Arrivals(fake)
            for send_rate in opts.send_rates:
                env = scheduler_env(db, fake.url, send_rate, shared)
                logs = [db.workdir / f"scheduler-{send_rate:g}-{i}.log"
                        for i in range(opts.schedulers)]
                with ExitStack() as running:
                    procs = [running.enter_context(scheduler_process(env, log)) for log in logs]
                    for proc, log in zip(procs, logs, strict=True):
                        wait_for(lambda log=log: "starting" in log.read_text(errors="replace"),
                                 60, "the scheduler to start", proc, log)
                    # Warm-up (not reported): the scheduler's first ticks, imports and
                    # connections, and the gateway client's first request.
                    measure(web.port, arrivals, Window(db.backend, 2, send_rate, 0, 1), 2,
                            first)
                    first += 4
                    plan = [(r, 0) for r in opts.rates] + [
                        (r, opts.broadcast) for r in opts.broadcast_rates if opts.broadcast]
                    for rate, members in plan:
                        window = Window(db.backend, rate, send_rate, members, opts.schedulers)
                        if members:
                            queue_broadcast(sessions, db)
                            started = arrivals.count
                            wait_for(lambda started=started: arrivals.count > started + 5, 60,
                                     "the broadcast to start draining")
                        note(f"{db.backend}: {window.label()}")
                        measure(web.port, arrivals, window, opts.seconds, first)
                        first += window.texts
                        if members:
                            stop_broadcasts(sessions)
                        windows.append(window)
                for log in logs:
                    bad = [line for line in log.read_text(errors="replace").splitlines()
                           if "Traceback" in line]
                    if bad:
                        problems.append(f"{log.name}: {len(bad)} tracebacks")
            problems += check_once(sessions, fake, first,
                                   sum(w.unanswered for w in windows))
    finally:
        engine.dispose()
    return windows, problems


def check_once(sessions, fake, texts_sent: int, unanswered: int = 0) -> list[str]:
    """Every text answered exactly once (but those a window gave up waiting for, which may
    still be queued); no texter answered twice."""
    problems = []
    to = Counter(m["to"] for m in fake.messages)
    replies = sum(1 for phone, n in to.items() if phone.startswith("+8497"))
    # HD's answer is two SMS (the commands, then the complaint categories), and broadcast
    # members get one message per broadcast window: a double is the same text twice.
    same = Counter((m["to"], m["body"]) for m in fake.messages)
    doubled = [phone for (phone, _), n in same.items() if n > 1 and phone.startswith("+8497")]
    if not texts_sent - unanswered <= replies <= texts_sent:
        problems.append(f"{replies} numbers got a reply, {texts_sent} texted")
    if doubled:
        problems.append(f"{len(doubled)} numbers got more than one message, e.g. {doubled[:3]}")
    with sessions() as session:
        sent = session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "out", Message.status == MessageStatus.SENT))
    if sent != len(fake.messages):
        problems.append(f"{sent} rows sent, the fake received {len(fake.messages)}")
    return problems


def figures(windows: list[Window]) -> list[Figure]:
    rows = []
    for w in windows:
        p50, p99 = percentile(w.latencies, 50), percentile(w.latencies, 99)
        detail = (f"p50 {p50:.2f} s, max {max(w.latencies):.2f} s, {w.texts} texts"
                  + (f", {w.unanswered} not answered in time" if w.unanswered else "")
                  + (f", {w.broadcast_sent} broadcast sends meanwhile" if w.broadcast else "")
                  + f"; {w.load}")
        rows.append(Figure(w.label(), w.backend, p99, "s",
                           P99_GOAL if w.goal_applies else None, detail))
    return rows


@dataclass(frozen=True)
class Options:
    seconds: float = 15.0
    rates: tuple[float, ...] = (1, 10, 50)
    send_rates: tuple[float, ...] = (10, 0)
    broadcast: int = 10_000
    broadcast_rates: tuple[float, ...] = (1, 5)
    schedulers: int = 1


def numbers(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency",
                                     description=__doc__.split("\n\n")[0])
    add_backend_args(parser)
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of texts each")
    parser.add_argument("--rates", type=numbers, default=(1, 10, 50))
    parser.add_argument("--send-rates", type=numbers, default=(10, 0), help="0: unlimited")
    parser.add_argument("--broadcast", type=int, default=10_000, help="members (0: none)")
    parser.add_argument("--broadcast-rates", type=numbers, default=(1, 5))
    parser.add_argument("--schedulers", type=int, default=1)
    args = parser.parse_args(argv)
    opts = Options(args.seconds, args.rates, args.send_rates, args.broadcast,
                   args.broadcast_rates, args.schedulers)
    _raise_on_sigterm()
    print_header("python -m bench.latency", args.backend, argv)
    note(load_line())
    rows, failed = [], False
    for db in databases(args.backend):
        if opts.schedulers > 1 and db.backend == "sqlite":
            note("sqlite: one scheduler only (the lease); skipped")
            continue
        windows, problems = run_backend(db, opts)
        rows += figures(windows)
        failed |= report_problems(db.backend, problems)
    print(f"Load: {load_line()}")
    print_table(rows, title="End-to-end reply latency (webhook → fake gateway)")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
