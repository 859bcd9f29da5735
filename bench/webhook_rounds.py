"""Webhook throughput as a ratio of the bare sample app, in alternating rounds (issue 17).

    python -m bench.webhooks --rounds 4 [--database URL] [--only sms|ivr] [--backend ...]

The hotline (gunicorn, 2 workers, signatures on, Twilio gateways) and the bare Flask + twilio
app in the shape of Twilio's "secure your Flask app" sample (``bench/bare_app.py``) are both
served for the whole run. Each round is one closed loop against each, on the same requests,
the order swapped every round (hotline then bare, bare then hotline, ...) so a load change
during the run weighs on both alike. The ratio is the hotline's requests over the bare app's
across all rounds (equal time each); the rounds' own ratios and the load average at each
round's end are printed beside it, since on a shared machine one round says little.

``--database URL`` serves that database as it is (for instance the one ``make run`` seeded:
``sqlite:///instance/hotline.db``), not a throwaway one: nothing is seeded or migrated, and
the requests the benchmark sends stay in it afterwards (use a copy). Its prompts are those in
``HOTLINE_AUDIO_DIR`` (default ``instance/audio``, which ``make run`` renders), so the IVR
answers ``<Play>`` where ``make run`` does. The scheduler is not running (the bare app has no
second process either): stored SMS wait unhandled.

IVR rounds send menu steps only, their calls started just before each round (untimed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Database, Figure, load_line, note
from bench.webhooks import (
    HOTLINE_APP,
    RATIO_GOAL,
    LoadResult,
    Options,
    Server,
    closed_loop,
    count_stored,
    gunicorn,
    hotline_env,
    ivr_requests,
    learn_walk,
    seed_people,
    sms_requests,
    warm_up,
)

# SMS and call ids beyond any the other benchmark parts use. A call's number is its id
# mod 10**7 (``ivr_requests``): from FIRST_CALL on, none of learn_walk's two callers.
FIRST_ID = 3 * 10**8
FIRST_CALL = FIRST_ID + 5 * 10**6


@contextmanager
def given_database(url: str) -> Iterator[Database]:
    """``url`` as a ``Database`` (served as it is), with a scratch directory for logs."""
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    with tempfile.TemporaryDirectory(prefix="hotline-bench-given-") as tmp:
        yield Database(backend, url, Path(tmp))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    hotline: LoadResult
    bare: LoadResult
    hotline_first: bool
    load: str
    hotline_cpu_ms: float = 0.0  # the workers' CPU per request answered
    bare_cpu_ms: float = 0.0

    @property
    def ratio(self) -> float:
        return self.hotline.achieved / self.bare.achieved


@dataclass
class RoundsRun:
    backend: str
    source: str  # "throwaway" or the URL served
    rounds: dict[str, list[Round]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run_rounds(db: Database, bare: Server, opts: Options, rounds: int, *,
               given: bool = False) -> RoundsRun:
    """``rounds`` alternating closed loops per kind of traffic, hotline against bare app."""
    run = RoundsRun(db.backend, db.url if given else "throwaway")
    if not given:
        seed_people(db)
    walk = learn_walk(db) if "ivr" in opts.parts else None
    env = hotline_env(db)
    env["HOTLINE_VOICE_GATEWAY"] = "twilio"
    if given:  # the prompts the served line has, as make run renders them
        env.pop("HOTLINE_AUDIO_DIR")
        if os.environ.get("HOTLINE_AUDIO_DIR"):
            env["HOTLINE_AUDIO_DIR"] = os.environ["HOTLINE_AUDIO_DIR"]
    closed_n = int(opts.closed_seconds * opts.max_closed_rate)
    stored_before, _ = count_stored(db)
    sms_sent = 0
    with gunicorn(f"hotline-{db.backend}-rounds", HOTLINE_APP, env, db.workdir,
                  worker_class=opts.worker_class, threads=opts.threads) as server:
        made = {"sms": FIRST_ID, "ivr": FIRST_CALL}

        def sms_batch(n: int, seed: int) -> list:
            reqs = sms_requests(n, seed=seed, first=made["sms"])
            made["sms"] += n
            return reqs

        def ivr_batch(n: int) -> list:
            reqs = ivr_requests(walk, n, first_call=made["ivr"])
            made["ivr"] = max(r.call for r in reqs) + 1
            return reqs

        for name in opts.parts:
            warm = sms_batch(opts.warmup, 11) if name == "sms" else ivr_batch(opts.warmup)
            warm_up(server, warm)
            sms_sent += len(warm) if name == "sms" else 0
            done: list[Round] = []
            for r in range(rounds):
                if name == "sms":
                    reqs = sms_batch(closed_n, 20 + r)
                else:
                    both = ivr_batch(closed_n)
                    calls = [q for q in both if q.kind == "incoming"]
                    note(f"{db.backend} ivr round {r + 1}: starting {len(calls):,} calls "
                         "(untimed)")
                    started = closed_loop(server.port, calls, connections=opts.connections,
                                          seconds=600)
                    if started.errors or len(started.samples) != len(calls):
                        raise RuntimeError(f"starting the calls: {started.errors} failed")
                    reqs = [q for q in both if q.kind == "step"]
                first = r % 2 == 0
                note(f"{db.backend} {name} round {r + 1}/{rounds}: "
                     f"{'hotline, then bare' if first else 'bare, then hotline'}")
                results, cpu = {}, {}
                for target in (("hotline", "bare") if first else ("bare", "hotline")):
                    serving = server if target == "hotline" else bare
                    before = cpu_seconds(serving.worker_pids)
                    results[target] = closed_loop(serving.port, reqs,
                                                  connections=opts.connections,
                                                  seconds=opts.closed_seconds)
                    cpu[target] = ((cpu_seconds(serving.worker_pids) - before) * 1000
                                   / max(1, len(results[target].ok())))
                if name == "sms":
                    sms_sent += len(results["hotline"].samples)
                done.append(Round(results["hotline"], results["bare"], first, load_line(),
                                  cpu["hotline"], cpu["bare"]))
                note(f"  ratio {done[-1].ratio:.3f}, CPU {cpu['hotline']:.2f} against "
                     f"{cpu['bare']:.2f} ms/request; {done[-1].load}")
                for target, result in results.items():
                    if result.errors:
                        run.problems.append(f"{name} round {r + 1} {target}: {result.errors} "
                                            f"of {len(result.samples)} not answered 200")
                    if result.exhausted:
                        run.problems.append(f"{name} round {r + 1} {target}: ran out of "
                                            "prepared requests (raise max_closed_rate)")
            run.rounds[name] = done
    if "sms" in opts.parts:
        stored, _ = count_stored(db)
        if stored - stored_before != sms_sent:
            run.problems.append(f"{sms_sent} SMS webhooks answered, "
                                f"{stored - stored_before} stored")
    return run


def round_figures(run: RoundsRun, opts: Options) -> list[Figure]:
    rows = []
    where = "the database served" if run.source != "throwaway" else "a throwaway database"
    for name, done in run.rounds.items():
        label = "SMS inbound" if name == "sms" else "IVR menu step"
        for k, rnd in enumerate(done, 1):
            rows.append(Figure(
                f"{label} round {k}, {opts.connections} connections", run.backend,
                rnd.ratio, "×", None,
                f"hotline {rnd.hotline.achieved:,.0f} req/s, bare {rnd.bare.achieved:,.0f} "
                f"req/s ({'hotline' if rnd.hotline_first else 'bare'} first); worker CPU "
                f"{rnd.hotline_cpu_ms:.2f} against {rnd.bare_cpu_ms:.2f} ms/request; "
                f"{rnd.load}"))
        hot = sum(len(r.hotline.ok()) for r in done)
        bare = sum(len(r.bare.ok()) for r in done)
        ratios = [r.ratio for r in done]
        hot_cpu = sum(r.hotline_cpu_ms * len(r.hotline.ok()) for r in done) / hot
        bare_cpu = sum(r.bare_cpu_ms * len(r.bare.ok()) for r in done) / bare
        rows.append(Figure(
            f"{label} gunicorn worker CPU per request, hotline ÷ bare app", run.backend,
            bare_cpu / hot_cpu, "×", None,
            f"{hot_cpu:.2f} against {bare_cpu:.2f} ms CPU per request (user + system of the "
            "2 workers): what the ratio tends to when the cores are the limit"))
        rows.append(Figure(
            f"{label} throughput ÷ bare app, {len(done)} alternating rounds", run.backend,
            hot / bare, "×", RATIO_GOAL,
            f"rounds {min(ratios):.3f}–{max(ratios):.3f}; {hot:,} against {bare:,} requests "
            f"in {len(done)} × {opts.closed_seconds:g} s each; {where}, scheduler stopped"))
    return rows
