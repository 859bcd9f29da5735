"""The outbox benchmark runs end to end on the test's backend, small: counts, not timings."""

from __future__ import annotations

import pytest

from bench.common import at_least, below, percentile, throwaway_database
from bench.outbox import figures, main, run_outbox
from tests.conftest import BACKEND

N = 50


@pytest.fixture(scope="module")
def bench_db():
    with throwaway_database(BACKEND) as db:
        yield db


def test_outbox_benchmark_sends_every_message_exactly_once(bench_db):
    run = run_outbox(bench_db, N)
    assert run.problems == []
    assert run.fake_requests == N
    assert run.sent_once == N
    assert run.drain_calls >= 2  # the last call finds nothing left
    rows = figures(run)
    assert [f.unit for f in rows] == ["s", "s", "s", "msg/s", "msg/s"]
    assert all(f.value > 0 and f.backend == BACKEND for f in rows)


def test_command_line_prints_a_table_and_exits_zero(capsys):
    assert main(["--backend", BACKEND, "--n", "20", "--no-baselines"]) == 0
    out = capsys.readouterr().out
    assert "| Benchmark | Backend | Figure | Goal | Met | Detail |" in out
    assert out.count(f"| {BACKEND} |") == 4  # three enqueue rows and the drain


def test_percentiles_and_goals():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 99) == 3.0
    assert below(2, "s").verdict(0.5) == "yes (4.0×)"
    assert below(2, "s").verdict(2.5) == "no (25 % over)"
    assert at_least(200, "msg/s").verdict(150) == "no (25 % short)"


def test_enqueue_cpu_counts_one_statement_per_reply(capsys):
    from bench.enqueue_cpu import main as enqueue_cpu

    assert enqueue_cpu(["--backend", BACKEND, "--n", "20", "--rounds", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [f"{BACKEND} normal", f"{BACKEND} replies"]
    # One INSERT per reply, plus the batch's read of the person and, on PostgreSQL, the
    # commit's NOTIFY that wakes the drain (21 or 22 / 20); the normal batch also counts the
    # people's day under the cap.
    per_call = "1.10" if BACKEND == "postgresql" else "1.05"
    assert f"{per_call} statements per call" in out[1]


def test_the_broadcast_report_says_why_a_job_failed():
    from bench.broadcast import log_failures

    log = "\n".join([
        "2026-12-04 19:56:39,791 ERROR scheduler.runner job queue_broadcasts failed",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "sqlite3.OperationalError: database is locked",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "y.py", line 2, in <module>',
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked",
        "2026-12-04 19:56:40,001 INFO scheduler.runner job drain_outbox done",
    ])
    assert log_failures(log) == [
        "2026-12-04 19:56:39,791 ERROR scheduler.runner job queue_broadcasts failed: "
        "sqlite3.OperationalError: database is locked"]
    assert log_failures("2026-12-04 INFO starting\n") == []
