"""IVR step benchmark: latency of one voice-menu webhook at a steady 50 requests/s.

    python -m bench.ivr_step [--backend sqlite|postgresql|both] [--n 3000] [--rate 50]
                             [--test-client]

Scripted callers walk the menu the way Twilio drives it (incoming call, consent, information,
back, case-number entry, silence, emergency numbers), each following the TwiML it gets, every
request signed with X-Twilio-Signature and checked by the app. Requests are sent open loop at
``--rate`` to the app served by a local threaded WSGI server (or, with ``--test-client``,
through Flask's test client, which leaves HTTP out). The time of each request is measured
from send to the last byte; the XML is parsed outside the timed part.

Goal (ARCHITECTURE.md, issue 4): p99 under 20 ms on SQLite. Default backend: sqlite.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``python bench/ivr_step.py`` as well as ``-m bench.ivr_step``
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bench.common import (  # noqa: E402
    PUBLIC_URL,
    Database,
    Figure,
    add_backend_args,
    below,
    databases,
    latency_summary,
    machine_summary,
    note,
    print_table,
    selected_backends,
)

TOKEN = "bench-ivr-token"
OURS = "+842400000000"
# What each scripted caller does after the incoming call, one request each.
SCRIPT = ("1", "1", "2", "0", "0", "3", "1001", "*", None, "9")
GOAL_P99_MS = 20.0


def _sign(path: str, form: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path,
                                                                            form)}


def _next_path(body: bytes, digits: str | None) -> str:
    """The URL Twilio would request next: the Gather's action, or the Redirect on silence."""
    root = ET.fromstring(body)
    verbs = list(root)
    target = verbs[-1].text if digits is None else verbs[-2].get("action")
    if not target or not target.startswith(PUBLIC_URL):
        raise RuntimeError(f"unexpected TwiML: {body[:200]!r}")
    return target[len(PUBLIC_URL):]


def _requests() -> Iterator[tuple[str, str | None, dict, str | None]]:
    """(kind, path or None, form, digits) of scripted calls, without end; the path of a menu
    step is None: it comes from the previous answer."""
    for i in itertools.count():
        sid, phone = f"CA{i:032x}", f"+8497{i:07d}"
        base = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": OURS,
                "Direction": "inbound", "CallStatus": "in-progress"}
        yield "incoming", "/ivr/incoming", {**base, "CallStatus": "ringing"}, None
        for digits in SCRIPT:
            form = dict(base) if digits is None else {**base, "Digits": digits}
            yield "step", None, form, digits


def run_ivr_step(db: Database, *, n: int = 3000, rate: float = 50.0, warmup: int = 55,
                 test_client: bool = False) -> dict[str, float]:
    """Send ``warmup`` + ``n`` requests at ``rate`` per second; latency summaries in ms
    (``step_*`` for menu steps, ``incoming_*`` for call starts) and the worst lag behind
    the schedule."""
    from app import create_app

    app = create_app(db.settings(twilio_auth_token=TOKEN))
    send, stop = _sender(app, test_client)
    timings: dict[str, list[float]] = {"step": [], "incoming": []}
    lag = 0.0
    try:
        path = None
        start = time.perf_counter()
        for i, (kind, fixed, form, digits) in enumerate(_requests()):
            if i >= warmup + n:
                break
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            lag = max(lag, -wait) if i >= warmup else lag
            target = fixed or path
            headers = _sign(target, form)
            began = time.perf_counter()
            status, body = send(target, form, headers)
            took = time.perf_counter() - began
            if status != 200:
                raise RuntimeError(f"{target} answered {status}: {body[:200]!r}")
            if i >= warmup:
                timings[kind].append(took)
            path = _next_path(body, digits)
    finally:
        stop()
        app.extensions["hotline"].close()
    result = {f"step_{k}": v for k, v in latency_summary(timings["step"]).items()}
    result.update({f"incoming_{k}": v for k, v in latency_summary(timings["incoming"]).items()})
    result["requests"] = float(n)
    result["max_lag_ms"] = lag * 1000
    return result


def _sender(app, test_client: bool) -> tuple[Callable, Callable[[], None]]:
    if test_client:
        client = app.test_client()

        def send(path, form, headers):
            resp = client.post(path, data=form, headers=headers)
            return resp.status_code, resp.get_data()

        return send, lambda: None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    http = requests.Session()

    def send(path, form, headers):
        resp = http.post(base + path, data=form, headers=headers, timeout=10)
        return resp.status_code, resp.content

    def stop():
        http.close()
        server.shutdown()
        thread.join(timeout=5)

    return send, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backend_args(parser)
    parser.set_defaults(backend="sqlite")
    parser.add_argument("--n", type=int, default=3000, help="measured requests (default 3000)")
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s (default 50)")
    parser.add_argument("--test-client", action="store_true",
                        help="Flask's test client instead of a local HTTP server")
    args = parser.parse_args(argv)
    how = "Flask test client" if args.test_client else "local HTTP server"
    note(machine_summary(selected_backends(args.backend)))
    note(f"{args.n} requests at {args.rate:g}/s through a {how}; this takes "
         f"{args.n / args.rate:.0f} s per backend")
    figures = []
    for db in databases(args.backend):
        r = run_ivr_step(db, n=args.n, rate=args.rate, test_client=args.test_client)
        print(f"{db.backend}: menu step p50 {r['step_p50_ms']:.2f} ms, p90 "
              f"{r['step_p90_ms']:.2f} ms, p99 {r['step_p99_ms']:.2f} ms, max "
              f"{r['step_max_ms']:.2f} ms; incoming call p50 {r['incoming_p50_ms']:.2f} ms, "
              f"p99 {r['incoming_p99_ms']:.2f} ms; worst lag {r['max_lag_ms']:.1f} ms")
        figures.append(Figure(
            "IVR step p99", db.backend, r["step_p99_ms"], "ms", below(GOAL_P99_MS, "ms"),
            f"p50 {r['step_p50_ms']:.2f} ms, max {r['step_max_ms']:.1f} ms, "
            f"{args.n} requests at {args.rate:g}/s, {how}",
        ))
        figures.append(Figure(
            "IVR incoming call p99", db.backend, r["incoming_p99_ms"], "ms",
            below(GOAL_P99_MS, "ms"), f"p50 {r['incoming_p50_ms']:.2f} ms",
        ))
    print_table(figures, title="IVR step latency")
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
