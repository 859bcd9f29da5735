"""The end-to-end latency benchmark runs, tiny, on the test's backend: gunicorn, the real
scheduler process, the real twilio client to the fake; every text answered exactly once."""

from __future__ import annotations

from bench.common import throwaway_database
from bench.latency import Options, figures, main, run_backend
from tests.conftest import BACKEND


def test_every_text_is_answered_once_while_a_broadcast_drains():
    opts = Options(seconds=2, rates=(3,), send_rates=(20,), broadcast=120,
                   broadcast_rates=(3,))
    with throwaway_database(BACKEND) as db:
        windows, problems = run_backend(db, opts)
    assert problems == []
    assert [(w.rate, w.broadcast) for w in windows] == [(3, 0), (3, 120)]
    assert all(w.texts == 6 and len(w.latencies) == 6 for w in windows)
    assert all(0 < t < 60 for w in windows for t in w.latencies)
    assert windows[1].broadcast_sent > 0  # it really was draining meanwhile
    rows = figures(windows)
    assert [f.backend for f in rows] == [BACKEND, BACKEND]
    assert all(f.goal is not None for f in rows)  # 3 texts/s is below the send rate


def test_command_line_prints_the_table(capsys):
    assert main(["--backend", BACKEND, "--seconds", "1", "--rates", "2", "--send-rates", "0",
                 "--broadcast", "0"]) == 0
    out = capsys.readouterr().out
    assert "reply p99, 2 texts/s, send unlimited" in out
    assert out.count(f"| {BACKEND} |") == 1
