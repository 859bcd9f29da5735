"""The harness every benchmark shares.

- ``throwaway_database(backend)``: a fresh database migrated with Alembic (a SQLite file in a
  temporary directory, or a PostgreSQL database created and dropped like ``tests/conftest.py``
  does), with a scratch directory for logs, audio and pid files; ``Database.settings()``
  builds ``Settings`` for it.
- ``fake_twilio_gateway()``: the local fake of Twilio's REST API in a thread and the real
  ``TwilioGateway`` pointed at it.
- ``timed()``, ``rate()``, ``percentile()``, ``latency_summary()``, ``peak_rss_mb()``.
- ``Figure`` and ``print_table()``: one markdown table row per figure, as ``BENCHMARKS.md``
  shows them; ``machine_summary()`` for the line above the table, ``load_line()`` for the
  load around it, ``report_problems()`` for what a run found wrong.
- ``add_backend_args()`` and ``databases()`` for the ``--backend sqlite|postgresql|both``
  command line every benchmark takes; PostgreSQL is skipped with a note when unreachable.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, text

from hotline.config import Settings
from hotline.migrate import upgrade

BACKENDS = ("sqlite", "postgresql")
PG_ADMIN_URL = (
    os.environ.get("HOTLINE_BENCH_PG_URL")
    or os.environ.get("HOTLINE_TEST_PG_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PUBLIC_URL = "https://hotline.example.org"
TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = "AC" + "b" * 32, "bench-token", "+15005550006"


class BackendUnavailable(RuntimeError):
    """The backend cannot be used on this machine (PostgreSQL not reachable)."""


# Databases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """A migrated throwaway database and a scratch directory that lives as long as it."""

    backend: str
    url: str
    workdir: Path

    def settings(self, **overrides) -> Settings:
        """Settings for this database: rate limit off, no scheduler, files in ``workdir``."""
        values = {
            "database_url": self.url,
            "public_url": PUBLIC_URL,
            "secret_key": "bench-secret",
            "send_rate": 0,
            "audio_dir": str(self.workdir / "audio"),
        }
        values.update(overrides)
        return Settings(**values)


def pg_unreachable_reason(admin_url: str = PG_ADMIN_URL) -> str | None:
    """``None`` when PostgreSQL answers at ``admin_url``, else why not (one line)."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


@contextmanager
def throwaway_database(
    backend: str, *, admin_url: str = PG_ADMIN_URL, migrate: bool = True
) -> Iterator[Database]:
    """A fresh database for ``backend``, migrated to head; dropped afterwards."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
    with tempfile.TemporaryDirectory(prefix=f"hotline-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'hotline.db'}"
            if migrate:
                upgrade(url)
            yield Database(backend, url, workdir)
            return
        reason = pg_unreachable_reason(admin_url)
        if reason is not None:
            raise BackendUnavailable(f"PostgreSQL not reachable at {admin_url} ({reason})")
        name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.rsplit("/", 1)[0] + "/" + name
                if migrate:
                    upgrade(url)
                yield Database(backend, url, workdir)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", choices=(*BACKENDS, "both"), default="both",
        help="database to run on (default: both; PostgreSQL skipped when unreachable)",
    )


def selected_backends(choice: str) -> tuple[str, ...]:
    return BACKENDS if choice == "both" else (choice,)


def databases(choice: str) -> Iterator[Database]:
    """Yield a throwaway database per selected backend, each dropped after its turn.

    With ``both``, an unreachable PostgreSQL is skipped with a note on stderr; asked for
    explicitly, it raises ``BackendUnavailable``.
    """
    for backend in selected_backends(choice):
        try:
            with throwaway_database(backend) as db:
                yield db
        except BackendUnavailable as exc:
            if choice != "both":
                raise
            print(f"Skipped {backend}: {exc}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def load_line() -> str:
    """The machine's load averages and the time, for the lines around a run's figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} at {datetime.now(UTC):%H:%M:%S}Z"


def print_header(prog: str, backend: str, argv: Sequence[str] | None) -> None:
    """The lines above a benchmark's table: the machine, and the command as it was given."""
    print(f"Machine: {machine_summary(selected_backends(backend))}")
    print(f"Command: {prog} " + " ".join(argv if argv is not None else sys.argv[1:]))


def report_problems(backend: str, problems: Iterable[str]) -> bool:
    """Print what a run found wrong on ``backend``; True when it found anything."""
    found = False
    for problem in problems:
        found = True
        print(f"PROBLEM ({backend}): {problem}", file=sys.stderr)
    return found


def measure_each(
    choice: str, measure: Callable[[Database], tuple[Iterable[Figure], Iterable[str]]]
) -> tuple[list[Figure], bool] | None:
    """Run ``measure`` (figures and problems of one run) on a throwaway database of each
    backend chosen: the figures of all the runs, and whether any found a problem (printed).
    None when a backend asked for cannot be reached (said on stderr)."""
    rows: list[Figure] = []
    failed = False
    try:
        for db in databases(choice):
            figures, problems = measure(db)
            rows += figures
            failed |= report_problems(db.backend, problems)
    except BackendUnavailable as exc:
        print(exc, file=sys.stderr)
        return None
    return rows, failed


# Fake Twilio -----------------------------------------------------------------------------


@contextmanager
def fake_twilio_gateway(*, timeout: float = 10.0):
    """``(fake, gateway)``: ``FakeTwilio`` in a thread and the real ``TwilioGateway`` on it.

    The fake's handler must send with TCP_NODELAY: it writes headers and body separately, and
    with Nagle on every keep-alive request waits for the client's delayed ACK (40 ms on
    Linux), which caps any client at ~25 requests/s whatever the code under test does.
    """
    from hotline.gateways.twilio import TwilioGateway
    from tests.fakes import twilio_server
    from tests.fakes.twilio_server import FakeTwilio

    if not getattr(twilio_server._Handler, "disable_nagle_algorithm", False):
        twilio_server._Handler.disable_nagle_algorithm = True
    with FakeTwilio(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN) as fake:
        gateway = TwilioGateway(
            TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM, api_base_url=fake.url, timeout=timeout
        )
        try:
            yield fake, gateway
        finally:
            gateway.close()


def fake_twilio_env(fake_url: str) -> dict[str, str]:
    """The environment that points a hotline process's Twilio client at the fake on
    ``fake_url`` (the account ``fake_twilio_gateway`` starts it with)."""
    return {
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM": TWILIO_FROM,
        "TWILIO_API_BASE_URL": fake_url,
    }


# Timing and statistics -------------------------------------------------------------------


@dataclass
class Stopwatch:
    started: float = 0.0
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """``with timed() as t: ...`` then ``t.seconds`` (wall clock, ``perf_counter``)."""
    watch = Stopwatch(started=time.perf_counter())
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - watch.started


def rate(count: int, seconds: float) -> float:
    """Items per second; ``inf`` for a zero duration."""
    return count / seconds if seconds > 0 else math.inf


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    if position == low:  # on a rank: also keeps an infinite neighbour out (inf × 0)
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of request durations, in milliseconds."""
    return {
        "p50_ms": percentile(seconds, 50) * 1000,
        "p90_ms": percentile(seconds, 90) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "max_ms": max(seconds) * 1000,
    }


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of ``pid`` (default: this process), in MiB; Linux only."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


# Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """``value < limit`` (``below=True``) or ``value >= limit``."""

    limit: float
    unit: str
    below: bool

    def met(self, value: float) -> bool:
        return value < self.limit if self.below else value >= self.limit

    def describe(self) -> str:
        return f"{'<' if self.below else '≥'} {_num(self.limit)} {self.unit}"

    def verdict(self, value: float) -> str:
        """``yes (3.1×)`` (the margin), ``no (25 % over)`` or ``no (24 % short)``."""
        if value <= 0 or math.isinf(value):
            return "yes" if self.met(value) else "no"
        if self.met(value):
            return f"yes ({self.limit / value if self.below else value / self.limit:.1f}×)"
        if self.below:
            return f"no ({(value / self.limit - 1) * 100:.0f} % over)"
        return f"no ({(1 - value / self.limit) * 100:.0f} % short)"


def below(limit: float, unit: str) -> Goal:
    return Goal(limit, unit, below=True)


def at_least(limit: float, unit: str) -> Goal:
    return Goal(limit, unit, below=False)


@dataclass
class Figure:
    """One measured number: a row of a ``BENCHMARKS.md`` table."""

    benchmark: str
    backend: str
    value: float
    unit: str
    goal: Goal | None = None
    detail: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.value)

    def row(self) -> str:
        goal = self.goal.describe() if self.goal else "–"
        verdict = self.goal.verdict(self.value) if self.goal else "–"
        return (
            f"| {self.benchmark} | {self.backend} | {_num(self.value)} {self.unit} "
            f"| {goal} | {verdict} | {self.detail} |"
        )


TABLE_HEADER = (
    "| Benchmark | Backend | Figure | Goal | Met | Detail |\n"
    "|---|---|---:|---|---|---|"
)


def print_table(figures: Iterable[Figure], *, title: str | None = None, file=None) -> None:
    file = file or sys.stdout
    if title:
        print(f"\n### {title}\n", file=file)
    print(TABLE_HEADER, file=file)
    for figure in figures:
        print(figure.row(), file=file)
    file.flush()


def _num(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def machine_summary(backends: Sequence[str] = BACKENDS) -> str:
    """One line: CPUs, memory, OS, Python and the database and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory = ""
    parts = [
        f"{os.cpu_count()} CPUs ({cpu}){memory}",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgresql" in backends and pg_unreachable_reason() is None:
        engine = create_engine(PG_ADMIN_URL)
        try:
            with engine.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar_one()
            parts.append(f"PostgreSQL {version.split()[0]}")
        finally:
            engine.dispose()
    parts += [f"SQLAlchemy {_version('SQLAlchemy')}", f"psycopg {_version('psycopg')}",
              f"twilio {_version('twilio')}"]
    return ", ".join(parts)


# Processes ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))


@contextmanager
def scheduler_process(env: dict[str, str], log: Path):
    """``flask scheduler run`` in its own process group; always stopped on the way out."""
    with log.open("ab") as out:
        proc = subprocess.Popen([FLASK, "--app", "app:create_app", "scheduler", "run"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM ``proc`` (started with ``start_new_session``), then SIGKILL its whole process
    group: children it left behind (gunicorn workers) go too."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


def wait_for(condition, timeout: float, what: str, proc=None, log: Path | None = None,
             every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"the scheduler exited while waiting for {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
