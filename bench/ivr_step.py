"""IVR step benchmark, kept as a shortcut: ``bench.webhooks`` with voice traffic only.

    python -m bench.ivr_step [--backend sqlite|postgresql|both] [--n 1000] [--rate 50] [...]

is ``python -m bench.webhooks --only ivr --backend sqlite --ivr-rate 50 --seconds n/rate``:
scripted callers walking the menu under gunicorn (2 workers, signatures on), open loop at
``--rate`` requests/s and closed loop beside the bare Flask + twilio app, and the voice
notice calls we place answered (``/ivr/notice``: the answer, the repeat, a key), each step's
p99 in an open loop of their own. Any other option of ``bench.webhooks`` is passed through.
Goals: menu step p99 under 20 ms at 50/s on SQLite (issue 4); each notice-call step under
50 ms (issue 14).
"""

from __future__ import annotations

import argparse
import sys

from bench import webhooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ivr_step",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite",
                        choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--n", type=int, default=None, help="open-loop requests")
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s (default 50)")
    args, rest = parser.parse_known_args(argv)
    forwarded = ["--only", "ivr", "--backend", args.backend, "--ivr-rate", f"{args.rate:g}"]
    if args.n is not None:
        forwarded += ["--seconds", f"{args.n / args.rate:g}"]
    return webhooks.main(forwarded + rest)


if __name__ == "__main__":
    sys.exit(main())
