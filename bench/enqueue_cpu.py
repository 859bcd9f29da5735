"""CPU per single ``Outbox.enqueue`` call, in-process: the outbox benchmark's two enqueue
batches (10,000 normal messages to 10,000 people, then 10,000 replies to one person, each
in one unit of work, committed), timed with ``time.process_time`` and their statements
counted, so that code can be compared on a shared machine (the wall time of the same calls
moves with the load; the CPU the benchmark's process spends much less).

    python -m bench.enqueue_cpu [--backend sqlite|postgresql|both] [--n 10000] [--rounds 2]

Another checkout measured the same way, e.g. commit 2c3317b in a worktree:

    cd /work/old && PYTHONPATH=/work/old .venv/bin/python /work/main/bench/enqueue_cpu.py

(its own ``bench`` and ``hotline`` are imported; this file only drives them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from sqlalchemy import delete, event

from bench.common import add_backend_args, databases
from bench.outbox import create_people, enqueue_normal, enqueue_replies
from hotline.db import make_engine, make_sessionmaker
from hotline.models import Message


def measure(db, n: int, rounds: int) -> list[tuple[str, float, float, float]]:
    """(batch, CPU ms per call, wall s, statements per call) for each batch of each round."""
    settings = db.settings(sms_gateway="twilio")
    engine = make_engine(db.url)
    sessions = make_sessionmaker(engine)
    count = [0]

    def counted(*_args) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", counted)
    out = []
    try:
        create_people(sessions, n)
        for round_ in range(rounds):
            if round_:
                with sessions.begin() as session:  # untimed: the same batches again
                    session.execute(delete(Message))
            for name, batch in (("normal", enqueue_normal), ("replies", enqueue_replies)):
                count[0] = 0
                cpu = time.process_time()
                wall = batch(sessions, settings, n)
                cpu = time.process_time() - cpu
                out.append((name, cpu / n * 1000, wall, count[0] / n))
    finally:
        engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backend_args(parser)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    for db in databases(args.backend):
        for name, cpu_ms, wall, statements in measure(db, args.n, args.rounds):
            print(f"{db.backend} {name}: {cpu_ms:.3f} ms CPU per call, {wall:.2f} s wall, "
                  f"{statements:.2f} statements per call, load {os.getloadavg()[0]:.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
