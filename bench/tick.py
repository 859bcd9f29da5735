"""Scheduler tick benchmark: the same tick over a small and a huge history.

    python -m bench.tick [--backend sqlite|postgresql|both] [--big 1000000] [--small 1000]

Both runs hold 1,000 open cases (100 of them due for escalation) and 100 due outbound
messages; behind them lie ``small`` or ``big`` closed cases and delivered messages. A
tick runs every job of ``scheduler.runner.JOBS`` once at the same ``now``. The due work
is reset between repetitions (untimed) and the median of 5 ticks is reported.
Goal: the tick over ``big`` rows takes at most twice the tick over ``small`` rows.
The due-row queries' plans are printed and checked to use indexes: five named ones, and
every statement one tick runs that reads ``cases`` or ``messages`` (each job's finds, the
per-row reads, the UPDATEs' WHERE), checked not to read either table whole.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from datetime import date, time, timedelta

from sqlalchemy import event, text, update

from bench.common import (
    Database,
    Figure,
    add_backend_args,
    below,
    databases,
    machine_summary,
    note,
    print_table,
    selected_backends,
    timed,
)
from hotline import clock
from hotline.models import Case, Message, MessageStatus
from hotline.runtime import Runtime

NOW = clock.at_local(date(2030, 1, 15), time(10))
OPEN, DUE_CASES, DUE_MESSAGES, REPEATS = 1000, 100, 100, 5
RATIO_GOAL = below(2, "×")
_TS = "'2029-01-01 00:00:00.000000'"


def seed(db: Database, behind: int) -> Runtime:
    """People, ``OPEN`` open cases, ``behind`` closed cases and delivered messages."""
    rt = Runtime(db.settings())
    with rt.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO people (id, phone, name, residence_status, role, trained_violence, "
            "on_duty, duty_order, created_at) VALUES "
            f"(1, '+84912000001', 'Member', 'unknown', 'member', false, false, 0, {_TS}), "
            f"(2, '+84901000001', 'Peer', 'unknown', 'peer_educator', true, true, 0, {_TS}), "
            f"(3, '+84901000009', 'Coord', 'unknown', 'coordinator', false, false, 0, {_TS})"))
        series = (f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s "
                  f"WHERE x < {behind})")
        conn.execute(text(
            f"INSERT INTO cases (number, person_id, category, emergency, status, channel, "
            f"summary, escalation_level, created_at, closed_at, reopened_count) "
            f"{series} SELECT 10000000 + x, 1, 1 + x % 12, false, 'closed', 'sms', 'old', 0, "
            f"{_TS}, {_TS}, 0 FROM s"))
        conn.execute(text(
            f"INSERT INTO messages (direction, gateway, phone, person_id, body, status, kind, "
            f"attempts, segments, maybe_duplicate, created_at, due_at, sent_at, needs_staff) "
            f"{series} SELECT 'out', 'simulator', '+84912000001', 1, 'old', 'delivered', "
            f"'normal', 1, 1, false, {_TS}, {_TS}, {_TS}, false FROM s"))
        later = f"'{(NOW + timedelta(days=30)).replace(tzinfo=None).isoformat(' ')}'"
        conn.execute(text(
            f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {OPEN}) "
            f"INSERT INTO cases (number, person_id, category, emergency, status, channel, "
            f"summary, assignee_id, escalation_level, created_at, next_action_at, "
            f"reopened_count) SELECT 1000 + x, 1, 1, false, 'acknowledged', 'sms', 'open', 2, "
            f"0, {_TS}, {later}, 0 FROM s"))
        conn.execute(text(
            f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s "
            f"WHERE x < {DUE_MESSAGES}) "
            f"INSERT INTO messages (direction, gateway, phone, person_id, body, status, kind, "
            f"attempts, segments, maybe_duplicate, created_at, due_at, needs_staff, "
            f"idempotency_key) SELECT 'out', 'simulator', '+84901000001', 2, 'due', 'queued', "
            f"'reply', 0, 1, false, {_TS}, {_TS}, false, 'due-' || x FROM s"))
    settle(rt)
    return rt


def settle(rt: Runtime) -> None:
    """Let the database finish what bulk loading started (statistics, checkpoint, vacuum),
    as a production database has long done, so the tick is not timed against it."""
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    else:
        with rt.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def reset_due_work(rt: Runtime) -> None:
    """Make the same work due again: 100 cases past their deadline, 100 queued messages."""
    past = NOW - timedelta(minutes=1)
    with rt.engine.begin() as conn:
        conn.execute(update(Case).where(Case.number.between(1001, 1000 + DUE_CASES))
                     .values(next_action_at=past, escalation_level=0, status="acknowledged"))
        conn.execute(update(Message).where(Message.idempotency_key.like("due-%"))
                     .values(status=MessageStatus.QUEUED, due_at=past, attempts=0))
        conn.execute(text("DELETE FROM messages WHERE idempotency_key LIKE 'case:%'"))


def tick(rt: Runtime) -> None:
    from scheduler.runner import JOBS

    for job in JOBS:
        job.func(rt, NOW)


PLAN_QUERIES = {
    "escalation due": "SELECT id FROM cases WHERE status IN ('new', 'acknowledged', "
                      "'in_progress', 'referred') AND next_action_at <= :now "
                      "ORDER BY next_action_at LIMIT 200",
    "follow-up due": "SELECT id FROM cases WHERE status = 'resolved' AND followup_due_at <= :now "
                     "ORDER BY followup_due_at LIMIT 200",
    # One lane's part of the drain's query (outbox._due_ids: one such range per lane).
    "outbox due (one lane)": "SELECT id FROM messages WHERE status = 'queued' AND lane = 1 "
                             "AND due_at <= :now ORDER BY due_at, id LIMIT 500",
    "inbound to act on": "SELECT id FROM messages WHERE direction = 'in' "
                         "AND handled_at IS NULL ORDER BY id LIMIT 200",
    "daily cap count": "SELECT count(id) FROM messages WHERE person_id = 1 AND kind = 'normal' "
                       "AND due_at >= :now AND due_at < :now",
}


# The tables the big run fills: a statement that reads either without an index scales
# with the history behind the tick.
BIG_TABLES = ("cases", "messages")
_READS = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


def _explain_prefix(rt: Runtime) -> str:
    return "EXPLAIN QUERY PLAN " if rt.engine.dialect.name == "sqlite" else "EXPLAIN "


def plans(rt: Runtime) -> dict[str, str]:
    """The plan of each named due-row query; flagged when it scans a big table without an
    index."""
    explain = _explain_prefix(rt)
    found = {}
    with rt.engine.connect() as conn:
        for name, sql in PLAN_QUERIES.items():
            rows = conn.execute(text(explain + sql), {"now": NOW.replace(tzinfo=None)}).all()
            found[name] = " / ".join(str(r[-1]) for r in rows)
    return found


def tick_statements(rt: Runtime) -> dict[str, tuple[str, object]]:
    """Every statement one tick runs that reads ``cases`` or ``messages`` (each job's due-row
    queries, the per-row reads and the UPDATEs' WHERE), once each, with the parameters of
    its first run, by job: ``{"job: statement": (statement, parameters)}``."""
    from scheduler.runner import JOBS

    seen: dict[str, tuple[str, object]] = {}
    current = [""]

    def record(conn, cursor, statement, parameters, context, executemany):
        if executemany or not _READS.match(statement):
            return
        if not any(re.search(rf"\b{t}\b", statement) for t in BIG_TABLES):
            return
        key = f"{current[0]}: {' '.join(statement.split())}"
        seen.setdefault(key, (statement, parameters))

    reset_due_work(rt)
    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        for job in JOBS:
            current[0] = job.name
            job.func(rt, NOW)
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)
    return seen


def tick_plans(rt: Runtime) -> dict[str, str]:
    """The plan of every statement of ``tick_statements``, keyed as it is."""
    explain = _explain_prefix(rt)
    found = {}
    with rt.engine.connect() as conn:
        for key, (statement, parameters) in tick_statements(rt).items():
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            found[key] = " / ".join(str(r[-1]) for r in rows)
            conn.rollback()
    return found


def uses_index(plan: str) -> bool:
    lowered = plan.lower()
    if "seq scan" in lowered:
        return False
    if "scan " in lowered and "using" not in lowered and "index" not in lowered:
        return False
    return "index" in lowered


def _partial_indexes() -> set[str]:
    """Names of the big tables' partial indexes (only the few rows their condition keeps)."""
    from hotline.db import Base

    return {index.name for name in BIG_TABLES for index in Base.metadata.tables[name].indexes
            if index.dialect_options["sqlite"].get("where") is not None
            or index.dialect_options["postgresql"].get("where") is not None}


def scans_big_table(plan: str) -> bool:
    """Whether ``plan`` reads a big table whole, or one of its (whole-table) indexes from end
    to end: SQLite's ``SCAN messages`` or ``SCAN messages USING INDEX ix`` (a full walk of
    ``ix``), PostgreSQL's ``Seq Scan on messages`` or an index scan with no ``Index Cond``.
    A search by primary key or an index range, and a walk of a partial index, are fine."""
    partial = _partial_indexes()
    tables = "|".join(BIG_TABLES)
    lines = plan.split(" / ")
    for i, line in enumerate(lines):
        if re.search(rf"Seq Scan on ({tables})\b", line):
            return True
        scan = re.search(rf"\bSCAN ({tables})\b(?: USING (?:COVERING )?INDEX (\w+))?", line)
        if scan and scan.group(2) not in partial:
            return True
        walk = re.search(rf"Index (?:Only )?Scan (?:Backward )?using (\w+) on ({tables})\b",
                         line)
        if walk and walk.group(1) not in partial:
            details = []
            for after in lines[i + 1:]:
                if "->" in after:
                    break
                details.append(after.strip())
            if not any(d.startswith("Index Cond") for d in details):
                return True
    return False


def measure(db: Database, behind: int) -> tuple[float, dict[str, str]]:
    rt = seed(db, behind)
    try:
        reset_due_work(rt)
        tick(rt)  # warm caches and connections
        times = []
        for _ in range(REPEATS):
            reset_due_work(rt)
            with timed() as t:
                tick(rt)
            times.append(t.seconds)
        return statistics.median(times), {**plans(rt), **tick_plans(rt)}
    finally:
        rt.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tick")
    add_backend_args(parser)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    print(f"Machine: {machine_summary(selected_backends(args.backend))}")
    print(f"Command: python -m bench.tick --backend {args.backend} --small {args.small} "
          f"--big {args.big}")
    rows, failed = [], False
    for backend in selected_backends(args.backend):
        result = {}
        for behind in (args.small, args.big):
            for db in databases(backend if args.backend != "both" else backend):
                note(f"{backend}: seeding {behind:,} rows behind")
                result[behind] = measure(db, behind)
        if len(result) < 2:
            continue
        (small_s, _), (big_s, big_plans) = result[args.small], result[args.big]
        ratio = big_s / small_s
        rows.append(Figure(f"tick, {args.small:,} rows behind", backend, small_s * 1000, "ms"))
        rows.append(Figure(f"tick, {args.big:,} rows behind", backend, big_s * 1000, "ms"))
        rows.append(Figure("tick ratio big/small", backend, ratio, "×", RATIO_GOAL))
        failed |= not RATIO_GOAL.met(ratio)
        for name, plan in big_plans.items():
            ok = uses_index(plan) if name in PLAN_QUERIES else not scans_big_table(plan)
            failed |= not ok
            shown = name if len(name) <= 110 else name[:107] + "..."
            print(f"plan ({backend}, {shown}): {'index' if ok else 'NO INDEX'}: {plan}")
    print_table(rows, title="Scheduler tick")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
