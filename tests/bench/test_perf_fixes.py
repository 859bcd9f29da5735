"""Performance fixes the benchmarks led to, pinned by what they cost in statements (not time).

1. The webhook benchmark found each KN complaint taking 50-400 ms once a peer educator had been
alerted about many cases: the daily cap (3 normal messages a day) pushed their alerts days
ahead, and ``Outbox.next_allowed`` then counted that person's messages one day at a time, a
query per day. The days ahead are now read in one query.
2. The broadcast benchmark found a 10,000-member broadcast draining at 84 msg/s with
   ``HOTLINE_SEND_RATE=100``: after each batch of 500 the drain job waited for its next tick.
   A full batch is now followed by the next one in the same run of the job.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from hotline import clock
from hotline.db import session_scope
from hotline.models import Kind, Message, MessageStatus
from hotline.services.outbox import Outbox
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_person

NOON = at("2026-12-01 12:00")


def _statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_a_person_with_sixty_full_days_ahead_costs_a_few_statements(db):
    person = create_person(db, NOON)
    box = Outbox(db)
    for day in range(60):
        for i in range(3):
            box.enqueue(NOON + timedelta(days=day), person.phone, f"alert {day}.{i}",
                        person=person, kind=Kind.NORMAL)
    db.commit()

    fresh = Outbox(db)  # the next webhook: a unit of work of its own
    seen = _statements(db)
    msg = fresh.enqueue(NOON, person.phone, "alert 61", person=person, kind=Kind.NORMAL)
    assert clock.local(msg.due_at).date() == clock.local(NOON + timedelta(days=60)).date()
    assert clock.local(msg.due_at).hour == 7
    assert len(seen) <= 4, seen  # today's count, the days ahead, the insert
    seen.clear()
    again = fresh.enqueue(NOON, person.phone, "alert 62", person=person, kind=Kind.NORMAL)
    assert again.due_at == msg.due_at  # day 61 had room for three
    assert len(seen) <= 2, seen


def test_the_cap_still_counts_days_with_cancelled_and_failed_messages_as_free(db):
    person = create_person(db, NOON)
    box = Outbox(db)
    msgs = [box.enqueue(NOON + timedelta(days=d), person.phone, f"m{d}.{i}", person=person)
            for d in range(3) for i in range(3)]
    msgs[4].status = MessageStatus.CANCELLED  # day 1 now has room for one
    db.commit()
    msg = Outbox(db).enqueue(NOON, person.phone, "next", person=person)
    assert clock.local(msg.due_at).date() == clock.local(NOON + timedelta(days=1)).date()


def test_one_drain_job_run_goes_on_while_batches_come_back_full(app, sessions, monkeypatch):
    from sqlalchemy import func, select

    monkeypatch.setattr(jobs, "DRAIN_BATCH", 5)
    with session_scope(sessions) as s:
        box = Outbox(s)
        for i in range(12):
            box.enqueue(NOON, f"+8491300{i:04d}", f"khan {i}", kind=Kind.URGENT)
    report = jobs.drain_outbox(app.extensions["hotline"], NOON)
    assert report.sent == 12  # batches of 5, 5 and 2 in one run
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(
            Message.status == MessageStatus.QUEUED)) == 0
    assert jobs.drain_outbox(app.extensions["hotline"], NOON).sent == 0


def test_the_drain_job_stops_after_its_budget(app, sessions, monkeypatch):
    monkeypatch.setattr(jobs, "DRAIN_BATCH", 2)
    monkeypatch.setattr(jobs, "DRAIN_BUDGET", timedelta(0))
    with session_scope(sessions) as s:
        box = Outbox(s)
        for i in range(6):
            box.enqueue(NOON, f"+8491300{i:04d}", f"khan {i}", kind=Kind.URGENT)
    assert jobs.drain_outbox(app.extensions["hotline"], NOON).sent == 2
