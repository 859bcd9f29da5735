"""The webhook and broadcast benchmarks' parts, small: counts, not timings.

Requests built by ``bench.webhooks`` must pass the real signature check and walk the real
menu; the load generators must send what they are given and record every answer; gunicorn
must come up with two workers and be gone afterwards; the broadcast benchmark must run end to
end against a real scheduler process on the test's backend.
"""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bench import broadcast, webhook_rounds, webhooks
from bench.common import throwaway_database
from hotline.db import make_engine
from hotline.models import Case, Direction, Message, Person
from tests.conftest import BACKEND
from tests.factories import handle_sms


@pytest.fixture(scope="module")
def bench_db():
    with throwaway_database(BACKEND) as db:
        yield db


@pytest.fixture
def hotline_client(bench_db):
    from app import create_app

    app = create_app(bench_db.settings(twilio_auth_token=webhooks.TOKEN))
    yield app.test_client()
    app.extensions["hotline"].close()


def _count_inbound(db) -> int:
    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Message).where(
                Message.direction == Direction.IN))
    finally:
        engine.dispose()


def test_sms_requests_pass_the_signature_check_and_are_stored_once(bench_db, hotline_client):
    webhooks.seed_people(bench_db)
    before = _count_inbound(bench_db)
    reqs = webhooks.sms_requests(80, seed=5, first=7_000_000)
    assert len({r.body for r in reqs}) == 80
    for req in reqs:
        resp = hotline_client.post(req.path, data=req.body, headers=req.headers)
        assert resp.status_code == 200, (req.body, resp.data)
    assert _count_inbound(bench_db) == before + 80
    # What the scheduler then does with them: every one acted on, none left for staff as a
    # handler failure.
    assert webhooks.unhandled_sms(bench_db) == 80
    assert handle_sms(hotline_client.application) == 80
    assert webhooks.unhandled_sms(bench_db) == 0
    engine = make_engine(bench_db.url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Message).where(
                Message.error_message == "handler failed")) == 0
    finally:
        engine.dispose()
    forged = dict(reqs[0].headers, **{"X-Twilio-Signature": "AAAA"})
    assert hotline_client.post(reqs[0].path, data=reqs[0].body,
                               headers=forged).status_code == 403


def through_the_app(client, reqs) -> webhooks.LoadResult:
    """Each request through the app (Flask's test client), each answered 200."""
    samples = []
    for req in reqs:
        resp = client.post(req.path, data=req.body, headers=req.headers)
        assert resp.status_code == 200, (req.path, resp.data)
        samples.append(webhooks.Sample(req.kind, 0.0, 0.0, 200, resp.data, req))
    return webhooks.LoadResult(0.0, 1.0, samples)


def test_ivr_requests_follow_the_menu(bench_db, hotline_client):
    """Every scripted call is a first-time caller with a number (a person, asked for her
    consent, whose key 9 opens her emergency case), as the walk was learnt: the calls of
    bench.webhooks and those of the rounds, whose ids once made numbers no phone has, so
    that their consent, case number and key 9 acted for nobody."""
    walk = webhooks.learn_walk(bench_db)
    assert len(walk.steps) == len(webhooks.IVR_SCRIPT) + 1
    assert walk.steps[0] == ("/ivr/incoming", None)
    # The acting steps the benchmark claims to send are the ones the menu runs there.
    keyed = {(path.split("node=")[1].split("&")[0], digits) for path, digits in walk.steps[1:]}
    assert {("consent", "1"), ("channel_offer", "2"), ("case_lookup", "1001"),
            ("main", "9")} <= keyed
    assert all(path.startswith("/ivr/") for path, _ in walk.steps)
    for first_call in (500_000, webhook_rounds.FIRST_CALL):  # bench.webhooks, the rounds
        reqs = webhooks.ivr_requests(walk, 30, first_call=first_call, concurrent=3)
        assert len(reqs) == 3 * len(walk.steps)  # whole calls, three at a time
        assert [r.call for r in reqs[:6]] == [first_call + c for c in range(3)] * 2
        problems: list[str] = []
        webhooks.check_walk(through_the_app(hotline_client, reqs), walk, problems)
        assert problems == []
        callers = {f"+8497{(first_call + c) % 10**7:07d}" for c in range(3)}
        engine = make_engine(bench_db.url)
        try:
            with engine.connect() as conn:
                emergencies = conn.scalar(
                    select(func.count()).select_from(Case).join(Person, Person.id == Case.person_id)
                    .where(Case.emergency.is_(True), Person.phone.in_(callers)))
        finally:
            engine.dispose()
        assert emergencies == 3, first_call


def test_notice_calls_follow_their_twiml_and_the_key_acts(bench_db, hotline_client):
    """The notice calls the benchmark sends: each answered, repeated, then a key that acts
    (0: she is told by SMS from then on), on callbacks seeded for members told by voice."""
    from hotline.models import NotifyChannel

    callbacks = webhooks.seed_notices(bench_db, 8)
    walk = webhooks.learn_notice_walk(bench_db, callbacks)
    assert [d for _, d in walk.steps] == list(webhooks.NOTICE_SCRIPT)
    assert walk.steps[0][0] == "/ivr/notice?callback={callback}"
    assert all("callback={callback}" in path for path, _ in walk.steps)
    assert [c for c, _ in walk.callbacks] == callbacks[1:]  # the first was the walk's own
    reqs = webhooks.notice_requests(walk, 9, first_call=0, concurrent=3)
    assert [r.kind for r in reqs] == [k for k in webhooks.NOTICE_KINDS for _ in range(3)]
    answered = through_the_app(hotline_client, reqs)
    problems: list[str] = []
    webhooks.check_notice_walk(answered, walk, problems)
    assert problems == []
    # The key acted: the three members called are told by SMS now, the others not.
    engine = make_engine(bench_db.url)
    try:
        with engine.connect() as conn:
            told = dict(conn.execute(select(Person.phone, Person.notify_channel).where(
                Person.phone.in_([phone for _, phone in walk.callbacks]))).all())
    finally:
        engine.dispose()
    called = {phone for _, phone in walk.callbacks[:3]}
    assert {p for p, c in told.items() if c == NotifyChannel.SMS} == called
    # A wrong answer is caught.
    wrong = [webhooks.Sample(s.kind, 0.0, 0.0, 200, b"<Response><Hangup/></Response>", s.req)
             for s in answered.samples[:1]]
    webhooks.check_notice_walk(webhooks.LoadResult(0.0, 1.0, wrong), walk, problems)
    assert problems == ["1 notice-call answers did not lead to the expected next step"]


@pytest.fixture
def bare_server(monkeypatch):
    """bench.bare_app on a threaded werkzeug server in this process."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", webhooks.TOKEN)
    from bench.bare_app import app

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_open_and_closed_loops_record_every_answer(bare_server):
    reqs = webhooks.sms_requests(40, seed=1)
    result = webhooks.open_loop(bare_server, reqs, 200, senders=4, keep_bodies=True)
    assert len(result.samples) == 40 and result.errors == 0
    assert all(s.latency > 0 and b"<Message>" in s.body for s in result.samples)
    assert result.summary()["p99_ms"] >= result.summary()["p50_ms"] > 0
    assert result.ended > result.started
    closed = webhooks.closed_loop(bare_server, reqs * 50, connections=2, seconds=0.3)
    assert closed.errors == 0 and 0 < len(closed.samples) <= 2000 and not closed.exhausted
    forged = [webhooks.Req("sms", r.path, r.body, dict(r.headers, **{
        "X-Twilio-Signature": "x"})) for r in reqs[:3]]
    assert webhooks.open_loop(bare_server, forged, 100, senders=1).errors == 3


def test_gunicorn_serves_with_two_workers_and_stops_them(tmp_path):
    with webhooks.gunicorn("bare", webhooks.BARE_APP, webhooks.bare_env(), tmp_path) as server:
        assert len(server.worker_pids) == 2
        result = webhooks.closed_loop(server.port, webhooks.sms_requests(20, seed=2),
                                      connections=2, seconds=5)
        assert len(result.samples) == 20 and result.errors == 0
        peaks = server.worker_peaks_mb()
        assert len(peaks) == 2 and all(p > 10 for p in peaks)
        pids = [server.proc.pid, *server.worker_pids]
    assert server.proc.poll() is not None
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(
            f"/proc/{pid}/status").read().lower()


def test_broadcast_benchmark_runs_against_a_real_scheduler_process():
    with throwaway_database(BACKEND) as db:
        run = broadcast.run_broadcast(db, 60, send_rate=40, opted_out=6, late_opt_outs=5,
                                      quiet_seconds=2, queue_in="bench")
    assert run.problems == []
    assert run.night_queued == run.queued == 54
    assert run.late_opt_outs == run.cancelled == 5
    assert run.sent == 49
    assert run.first_send_after_quiet_s >= 0
    assert run.max_per_second <= 41
    assert 0 < run.scheduler_boot_rss_mb <= run.scheduler_rss_mb
    rows = broadcast.figures(run)
    assert [f.unit for f in rows] == ["s", "s", "msg/s", "MB"]
    assert all(f.backend == BACKEND for f in rows)


def test_sms_part_runs_beside_a_real_scheduler_and_everything_is_acted_on():
    """The SMS half of the benchmark, tiny: gunicorn, the scheduler process acting on what
    the webhook stored, the closed loops and the backlog timed; no problem found."""
    with throwaway_database(BACKEND) as db:
        # Requests prepared for the closed loops: enough for any machine in 0.2 s.
        opts = webhooks.Options(seconds=1.0, closed_seconds=0.2, sms_rate=20, warmup=20,
                                parts=("sms",), max_closed_rate=5000)
        run = webhooks.run_webhooks(db, None, opts)
        assert run.problems == []
        [part] = run.parts
        assert part.waiting and part.emptied_after_s is not None
        assert part.backlog > 0 and part.backlog_s > 0
        assert run.stored_sms == 20 + 20 + len(part.closed.samples) + len(
            part.closed_with_scheduler.samples)
        assert webhooks.unhandled_sms(db) == 0
        names = [f.benchmark for f in webhooks.figures(run, opts)]
        assert "handle_inbound job: backlog acted on" in names


def test_ivr_part_times_steps_and_whole_calls_and_every_answer_leads_on():
    """The IVR half, tiny: the open loop's answers follow the walk, the calls of the
    steps-only closed loop are started first (no step falls back to creating its call)."""
    with throwaway_database(BACKEND) as db:
        # ivr_requests sends whole blocks of 25 calls (325 requests): 1.3 s at 250/s. The
        # whole-call loop must get past the first 25 requests (all incoming calls) even on a
        # loaded machine: 0.2 s was not enough at a load average of 10 on 2 cores.
        opts = webhooks.Options(seconds=1.0, closed_seconds=3.0, ivr_rate=250, warmup=22,
                                parts=("ivr",), max_closed_rate=5000)
        run = webhooks.run_webhooks(db, None, opts)
        assert run.problems == []
        [part] = run.parts
        assert {s.kind for s in part.closed.samples} == {"step"}
        assert {s.kind for s in part.closed_calls.samples} == {"incoming", "step"}
        assert {s.kind for s in part.notice_open.samples} == set(webhooks.NOTICE_KINDS)
        rows = webhooks.figures(run, opts)
        names = [f.benchmark for f in rows]
        assert any(n.startswith("IVR whole calls") for n in names)
        notice_rows = [f for f in rows if f.benchmark.startswith("IVR notice call")]
        assert len(notice_rows) == 3
        assert all(f.goal is webhooks.NOTICE_P99_GOAL and f.value > 0 for f in notice_rows)


def test_rounds_alternate_beside_the_bare_app_on_the_database_given(tmp_path):
    """``--rounds N --database URL``, tiny: the database is served as it is (not seeded),
    the rounds alternate which server goes first, every SMS answered is stored once."""
    with throwaway_database(BACKEND) as db, webhooks.gunicorn(
            "bare", webhooks.BARE_APP, webhooks.bare_env(), tmp_path) as bare, \
            webhook_rounds.given_database(db.url) as given:
        opts = webhooks.Options(closed_seconds=0.3, warmup=10, parts=("sms",),
                                max_closed_rate=5000)
        before = _count_inbound(db)
        run = webhook_rounds.run_rounds(given, bare, opts, 2, given=True)
        assert run.problems == [] and run.source == db.url
        first, second = run.rounds["sms"]
        assert first.hotline_first and not second.hotline_first
        answered = sum(len(r.hotline.samples) for r in (first, second))
        assert _count_inbound(db) == before + 10 + answered
        assert all(r.hotline_cpu_ms > 0 and r.bare_cpu_ms > 0 for r in (first, second))
        names = [f.benchmark for f in webhook_rounds.round_figures(run, opts)]
        assert "SMS inbound throughput ÷ bare app, 2 alternating rounds" in names
