"""A member's way to her answer inside one scheduler tick: ``handle_inbound`` keeps looking
for new texts for most of its tick, and ``drain_outbox`` waits for a reply to be queued and
sends it in the same run, rather than at the next tick. No timings are asserted: only that
the work happens inside the run that was already under way."""

from __future__ import annotations

from hotline import clock
from hotline.db import session_scope
from hotline.models import Kind
from hotline.services import inbound, outbox
from hotline.services.outbox import Outbox
from scheduler import jobs
from scheduler.runner import JOBS
from tests.factories import create_person
from tests.scheduler.support import in_thread, set_after, watch_drain


def test_a_reply_queued_while_the_drain_idles_goes_in_the_same_run(rt, monkeypatch):
    watched = watch_drain(rt, monkeypatch)
    now = clock.utcnow()
    thread, result = in_thread(jobs.drain_outbox, rt, now, idle_wait=3.0)
    assert watched.looked.wait(30)  # the run found nothing and waits
    assert not watched.sent.is_set()
    with session_scope(rt.sessions) as s:
        person = create_person(s, now, phone="+84912000777")
        Outbox(s).enqueue(now, person.phone, "tra loi", kind=Kind.REPLY, person=person)
    assert watched.sent.wait(30)
    thread.join(30)
    assert not thread.is_alive() and result["value"].sent == 1
    assert [body for _, body, _ in watched.gateway.sent] == ["tra loi"]


def test_without_a_wait_the_drain_job_returns_when_idle(rt):
    outbox.WAKE.set()  # even with a wake pending: tests and bench.tick call jobs plainly
    assert jobs.drain_outbox(rt, clock.utcnow()).sent == 0


def test_a_text_stored_while_handle_inbound_polls_is_acted_on_in_the_same_run(
        rt, monkeypatch):
    looked = set_after(monkeypatch, inbound, "handle_pending")
    thread, result = in_thread(jobs.handle_inbound, rt, clock.utcnow(), poll_every=0.05,
                               poll_for=3.0)
    assert looked.wait(30)
    inbound.receive_text(rt, "twilio", "SMwake1", "+84912000778", "HD")
    thread.join(30)
    assert not thread.is_alive() and result["value"] == 1


def test_the_scheduler_runs_both_jobs_with_their_waits_inside_their_ticks():
    by_name = {job.name: job for job in JOBS}
    handle, drain = by_name["handle_inbound"], by_name["drain_outbox"]
    assert 0 < handle.options["poll_every"] < handle.options["poll_for"] < handle.seconds
    assert 0 < drain.options["idle_wait"] < drain.seconds
