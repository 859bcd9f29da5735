"""Performance fixes the benchmarks led to, pinned by what they cost in statements (not time).

1. The webhook benchmark found each KN complaint taking 50-400 ms once a peer educator had been
alerted about many cases: the daily cap (3 normal messages a day) pushed their alerts days
ahead, and ``Outbox.next_allowed`` then counted that person's messages one day at a time, a
query per day. The days ahead are now read in one query.
2. The broadcast benchmark found a 10,000-member broadcast draining at 84 msg/s with
   ``HOTLINE_SEND_RATE=100``: after each batch of 500 the drain job waited for its next tick.
   A full batch is now followed by the next one in the same run of the job.
3. The outbox benchmark found the drain several times slower after the priority lanes, SIM
   pools and Android send options landed (issues 13 and 17): ``_due_ids`` built its five
   lane subqueries and their union again on every look ahead (most sends), and
   ``valid_until`` read the person once per message for her safe-contact window. The look's
   statement is now built once and run with bind parameters, and the window comes back in
   the claim's own ``UPDATE .. RETURNING``: two statements per message again.
4. The tick benchmark found the scheduler tick 1.6-2.4 times slower (issue 13, session 7).
   Since each job row got a transaction of its own (issue 16), every escalated case waited
   for a WAL flush at its commit on PostgreSQL (100 flushes per tick); the rows' commits no
   longer wait (``job_rows``). The retention job's erasure confirmations were found by
   walking every sent and delivered message on SQLite; they have a partial index of their
   own. Each escalated case costs a few statements: her case, the person alerted, the
   alert, the case's update and its event.
5. The webhook rounds found key 9 (her emergency case, the safety SMS, an alert to everyone
   on the ladder) at 16 statements on PostgreSQL and 17 on SQLite, each alert and each
   flush between them a statement of its own: 17-20 ms of CPU, about 60 % of an IVR walk's
   in a twelfth of its requests. The roster is now read once, the case inserted whole
   with its number, its events in one insert and every message in one
   (``emergency._open``, ``Outbox.enqueue_each``), whatever the number of alerts.
6. The outbox benchmark found 10,000 single ``Outbox.enqueue`` calls costing more CPU per
   call than at 2c3317b (issue 13, session 7): the ``Message`` returned is written as the
   ORM's loading writes a row, not set column by column; still one statement per call.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy import inspect as sa_inspect

from hotline import clock
from hotline.db import session_scope
from hotline.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Kind,
    Lane,
    Message,
    MessageStatus,
    Role,
)
from hotline.services import job_rows, outbox, retention
from hotline.services.outbox import Outbox
from scheduler import jobs
from tests.conftest import AUTH_TOKEN, BACKEND, at
from tests.factories import create_case, create_device, create_person

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


class _Recording:
    """An in-memory gateway that keeps the options of each send."""

    name = "simulator"

    def __init__(self) -> None:
        self.options = []

    def send_sms(self, to, body, *, status_callback=None, options=None):
        from hotline.gateways.base import SendResult

        self.options.append((to, options))
        return SendResult(external_id=f"SM{len(self.options):08d}", status="queued")


def test_a_drain_costs_two_statements_per_message_with_no_look_ahead(
        sessions, settings, monkeypatch):
    from datetime import time

    monkeypatch.setattr(outbox, "AHEAD_EVERY", 3600.0)  # no look ahead but the first
    with session_scope(sessions) as s:
        box = Outbox(s)
        people = [create_person(s, NOON, phone=f"+8491400{i:04d}",
                                safe_contact_start=time(8), safe_contact_end=time(20))
                  for i in range(10)]
        for person in people:
            box.enqueue(NOON, person.phone, "hop nhom", person=person)
    gateway = _Recording()
    with sessions() as s:
        seen = _statements(s)
        report = outbox.drain(sessions, NOON, gateway, settings)
    assert report.sent == 10
    claims = [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
    # Per message: the claim and its result (the last result in a transaction of its own);
    # around them the stale-claim recovery, the SIM pool and the one due-row query.
    assert len(seen) <= 2 * 10 + 4, seen
    assert len(claims) == 2 * 10 + 1  # + the stale-claim recovery
    if sessions.kw["bind"].dialect.name == "sqlite":  # no row locks to skip: no lock look-up
        assert not any(" locked" in s for s in claims), claims
    assert not any("FROM people" in s and not s.lstrip().upper().startswith("UPDATE")
                   for s in seen), "the safe window is read in the claim, not on its own"
    # What the claim returned still bounds what the gateway may hold: her window ends at 20:00
    # (before quiet hours at 21:00).
    for _, options in gateway.options:
        assert clock.local(options.valid_until).hour == 20


def test_each_look_ahead_is_one_statement_built_once(sessions, settings, monkeypatch):
    import sqlalchemy

    monkeypatch.setattr(outbox, "AHEAD_EVERY", 0.0)  # look before every send
    built = []
    real_union = sqlalchemy.union_all
    monkeypatch.setattr(outbox, "union_all", lambda *a: built.append(1) or real_union(*a))
    outbox._due_statement.cache_clear()
    with session_scope(sessions) as s:
        members = [create_person(s, NOON, phone=f"+8491500{i:04d}") for i in range(12)]
        Outbox(s).enqueue_many(NOON, members, "Hop nhom thu bay", key_prefix="b:perf")
    gateway = _Recording()
    with sessions() as s:
        seen = _statements(s)
        report = outbox.drain(sessions, NOON, gateway, settings)
    assert report.sent == 12
    looks = [s for s in seen if "UNION ALL" in s.upper()]
    assert len(looks) == 1 + 12  # the batch, then one look before each broadcast send
    assert len(seen) <= 2 * 12 + len(looks) + 3, seen
    assert len(built) <= 2  # the batch's statement (every lane) and the look's (lanes ahead)


def test_the_cached_due_query_takes_each_calls_skip_list(db):
    person = create_person(db, NOON)
    sims = [create_device(db, NOON, app_device_id=f"phone-{i}") for i in range(2)]
    box = Outbox(db)
    plain = box.enqueue(NOON, person.phone, "no sim")
    on = [box.enqueue(NOON, person.phone, f"sim {i}") for i in range(2)]
    for msg, sim in zip(on, sims, strict=True):
        msg.device_id = sim.id
    db.commit()

    def ids(skip):
        return {id_ for _, id_, _ in outbox._due_ids(db, NOON, 10, skip=skip)}

    assert ids(None) == {plain.id, on[0].id, on[1].id}
    assert ids([sims[0].id]) == {plain.id, on[1].id}
    assert ids([sims[1].id]) == {plain.id, on[0].id}
    assert ids([sims[0].id, sims[1].id]) == {plain.id}
    assert outbox._due_ids(db, NOON, 10, before=Lane.REMINDER) == []  # nothing ahead
    assert len(outbox._due_ids(db, NOON, 1)) == 1  # the limit is a parameter too


def _due_cases(sessions, count: int) -> tuple[list[int], int]:
    """``count`` accepted cases of one peer educator, past their deadline; their ids and
    hers."""
    with session_scope(sessions) as s:
        pe = create_person(s, NOON, role=Role.PEER_EDUCATOR, phone="+84901000777")
        ids = []
        for i in range(count):
            member = create_person(s, NOON, phone=f"+8491600{i:04d}")
            case = create_case(s, NOON, member)
            ids.append(case.id)
        s.execute(update(Case).where(Case.id.in_(ids)).values(
            status=CaseStatus.ACKNOWLEDGED, assignee_id=pe.id, escalation_level=0,
            acknowledged_at=NOON, next_action_at=NOON + timedelta(minutes=1)))
        s.execute(update(Message).values(status=MessageStatus.DELIVERED))
        return ids, pe.id


def test_each_escalated_case_costs_a_few_statements(rt, sessions):
    ids, pe_id = _due_cases(sessions, 10)
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        assert jobs.escalate_cases(rt, NOON + timedelta(minutes=2)) == 10
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)
    with sessions() as s:
        reminded = s.scalars(select(Message.case_id).where(
            Message.person_id == pe_id, Message.status == MessageStatus.QUEUED)).all()
    assert sorted(reminded) == sorted(ids)  # each case reminded her, once
    # Per case: her case read with the people it names, its one UPDATE, the alert and the
    # case's event; around them the job's failures and its find. (PostgreSQL also says at
    # each commit not to wait for the disk, and wakes other drains: NOTIFY.)
    work = [s for s in seen if not s.lstrip().upper().startswith(("NOTIFY", "SET "))]
    assert len(work) <= 4 * 10 + 2, work
    assert sum(s.lstrip().upper().startswith("UPDATE CASES") for s in work) == 10
    assert not [s for s in work if s.lstrip().startswith("SELECT people")], \
        "the person alerted is read with the case, not on her own"


def test_a_job_rows_commit_does_not_wait_for_the_disk_on_postgresql(rt, sessions):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite in WAL with synchronous=NORMAL does not wait at commit")
    show = text("SHOW synchronous_commit")
    with sessions() as s:
        before = s.scalar(show)
    ids, _ = _due_cases(sessions, 2)
    inside = []
    done = job_rows.each_row(
        sessions, NOON, "perf_test", "case",
        lambda session, skip: session.scalars(select(Case).where(Case.id.in_(ids))).all(),
        lambda session, case: inside.append(session.scalar(show)))
    assert done == 2
    assert inside == ["off", "off"]  # each row's own transaction
    with sessions() as s:
        assert s.scalar(show) == before  # the pooled connections keep the server's setting


def test_the_retention_job_finds_erasure_confirmations_by_their_own_index(sessions):
    from bench.tick import scans_big_table
    from hotline.services import people

    with session_scope(sessions) as s:
        member = create_person(s, NOON)
        erased = create_person(s, NOON, phone="+84912999001")
        s.connection().execute(text(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) "
            "INSERT INTO messages (direction, gateway, phone, person_id, body, status, kind, "
            "lane, attempts, segments, maybe_duplicate, created_at, due_at, sent_at, "
            "needs_staff) SELECT 'out', 'simulator', :phone, :person, 'old', 'delivered', "
            "'normal', 4, 1, 1, false, :at, :at, :at, false FROM n"),
            {"phone": member.phone, "person": member.id, "at": NOON.replace(tzinfo=None)})
        confirmation = Outbox(s).enqueue(
            NOON, erased.phone, "Da xoa", kind=Kind.REPLY, person=erased,
            key=people.CONFIRMATION_KEY.format(person_id=erased.id))
        confirmation.status = MessageStatus.SENT
        erased.erased_at = NOON
    with sessions() as s:
        s.execute(text("ANALYZE"))
        s.commit()
        seen = []
        event.listen(s.get_bind(), "before_cursor_execute",
                     lambda conn, cursor, statement, params, *args: seen.append(
                         (statement, params)))
        assert [m.id for m in retention.due_confirmations(s)] == [confirmation.id]
        [(statement, params)] = seen
        explain = "EXPLAIN QUERY PLAN " if s.get_bind().dialect.name == "sqlite" else "EXPLAIN "
        plan = " / ".join(str(r[-1]) for r in
                          s.connection().exec_driver_sql(explain + statement, params))
    assert not scans_big_table(plan), plan
    assert "ix_messages_erasure_confirmation" in plan, plan


def test_the_tick_benchmark_flags_a_statement_that_reads_a_big_table_whole():
    from bench.tick import scans_big_table

    assert scans_big_table("SCAN messages / BLOOM FILTER ON people (id=?)")  # the old finds
    assert scans_big_table("SCAN cases USING INDEX ix_cases_status_next_action")
    assert scans_big_table("Limit / ->  Seq Scan on messages / Filter: (x)")
    assert scans_big_table("Limit / ->  Index Scan using pk_messages on messages / "
                           "Filter: (status = 'sent')")  # walks the whole primary key
    assert not scans_big_table("SCAN messages USING INDEX ix_messages_erasure_confirmation")
    assert not scans_big_table("SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)")
    assert not scans_big_table("SCAN recordings / SEARCH cases USING INTEGER PRIMARY KEY")
    assert not scans_big_table("Index Scan using ix_messages_status_lane_due on messages / "
                               "  Index Cond: (status = 'sent') / Filter: (x)")
    assert not scans_big_table("Seq Scan on people people_1")


@pytest.fixture
def ivr_client(settings, sessions):
    """The app with Twilio's signatures checked, as the IVR tests run it."""
    from app import create_app

    app = create_app(settings.replace(twilio_auth_token=AUTH_TOKEN,
                                      twilio_account_sid="AC" + "0" * 32))
    yield app.test_client()
    app.extensions["hotline"].close()


# Key 9's whole step: 16 statements on PostgreSQL and 17 on SQLite before (8272bf7), with
# two people alerted; now the same whatever the number alerted.
KEY_9_STATEMENTS = 7 if BACKEND == "postgresql" else 9


@pytest.mark.parametrize("alerted", [2, 6])
def test_key_9_costs_the_same_few_statements_however_many_are_alerted(ivr_client, db,
                                                                      alerted):
    from tests.ivr.ivr_caller import Caller

    now = clock.utcnow()
    create_person(db, now, role=Role.PEER_EDUCATOR, on_duty=True)  # not trained: not told
    for i in range(alerted):
        if i % 2:
            create_person(db, now, role=Role.COORDINATOR, duty_order=i)
        else:
            create_person(db, now, role=Role.PEER_EDUCATOR, trained_violence=True,
                          on_duty=True, duty_order=i)
    db.commit()
    caller = Caller(ivr_client).call().agree()  # at the main menu
    engine = ivr_client.application.extensions["hotline"].engine
    seen: list[str] = []
    listen = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        caller.press("9")
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert caller.kind == "dial" and len(caller.last) == alerted
    assert len(seen) <= KEY_9_STATEMENTS, "\n".join(seen)
    # All of it committed with the step: her case, every alert and her safety SMS, the events.
    case = db.scalars(select(Case)).one()
    texts = db.scalars(select(Message.phone).where(Message.case_id == case.id)
                       .order_by(Message.id)).all()
    assert len(texts) == alerted + 1 and texts[-1] == caller.phone
    assert db.scalar(select(func.count()).select_from(CaseEvent)
                     .where(CaseEvent.case_id == case.id)) == alerted + 2
# --- 6. single ``Outbox.enqueue`` (issue 13, session 7) ------------------------------------
# The outbox benchmark's 10,000 single enqueues cost more CPU per call than at 2c3317b: the
# ``Message`` returned had grown to 31 columns, each set through its mapped attribute, and each
# reply's own body went through a per-character loop (``hotline.text``). The row is one
# statement as before; the object is now written as the ORM's loading writes one.


def test_an_enqueue_is_one_statement_and_its_message_is_as_if_loaded(db):
    person = create_person(db, NOON)
    db.commit()
    box = Outbox(db)
    box.enqueue(NOON, person.phone, "Nhắc lịch", person=person, key="k:0")  # her day counted
    seen = _statements(db)
    msg = box.enqueue(NOON, person.phone, "Hẹn gặp lúc 9 giờ", person=person, key="k:1")
    reply = box.enqueue(NOON, person.phone, "Đã nhận", person=person, kind=Kind.REPLY,
                        key="k:2")
    assert len(seen) == 2 and all(s.lstrip().upper().startswith("INSERT") for s in seen)
    assert msg.id is not None and reply.id > msg.id
    state = sa_inspect(msg)
    assert state.persistent and msg in db and not db.dirty and not db.new
    assert db.get(Message, msg.id) is msg  # in the identity map: no query for it
    assert (msg.body, msg.segments, msg.status, msg.kind, msg.lane, msg.attempts,
            msg.maybe_duplicate, msg.needs_staff, msg.idempotency_key) == (
        "Hen gap luc 9 gio", 1, MessageStatus.QUEUED, Kind.NORMAL, Lane.REMINDER, 0,
        False, False, "k:1")
    assert reply.lane == Lane.REPLY and reply.body == "Da nhan"
    assert len(seen) == 2  # reading them back cost nothing
    assert msg.person is person  # a relationship still loads on use

    msg.status = MessageStatus.CANCELLED  # a change to it is flushed like any loaded row's
    db.commit()
    assert db.scalar(select(Message.status).where(Message.id == msg.id)) == (
        MessageStatus.CANCELLED)

    again = Outbox(db).enqueue(NOON, person.phone, "Đã nhận", person=person,
                               kind=Kind.REPLY, key="k:2")
    assert (again.id, again.body) == (reply.id, "Da nhan")  # a repeated key: the earlier one
    assert db.scalar(select(func.count()).select_from(Message)) == 3


def test_enqueue_gives_the_direct_insert_every_column_of_its_row(db):
    # The insert is compiled for ``_ROW_COLUMNS``: a column ``_row`` gave beyond them would
    # be dropped without a word.
    box = Outbox(db)
    row = box._row(NOON, "+84912345678", "x", kind=Kind.NORMAL, person=None, key=None,
                   not_before=None, case_id=None, expires_at=None, broadcast_id=None,
                   lane=None, device_id=None, gateway=None)
    assert set(row) == set(outbox._ROW_COLUMNS)


def test_a_failed_direct_insert_is_raised_as_sqlalchemys(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        Outbox(db).enqueue(NOON, "+84912345678", "x", case_id=987654)  # no such case
    db.rollback()
    assert Outbox(db).enqueue(NOON, "+84912345678", "x").id is not None  # the session goes on


def test_the_network_of_a_number_is_looked_up_once_per_unit_of_work(db, monkeypatch):
    from hotline.services import devices
    from tests.factories import create_device

    viettel = create_device(db, NOON, app_device_id="phone-A", sim_number=1,
                            phone="+84981111111")
    vina = create_device(db, NOON, app_device_id="phone-B", sim_number=1, phone="+84941111111")
    db.commit()
    looked_up: list[str] = []
    real = devices.carrier
    monkeypatch.setattr(devices, "carrier", lambda phone: looked_up.append(phone) or real(phone))
    box = Outbox(db, gateway="android")
    chosen = [box.enqueue(NOON, phone, f"tin {i}", kind=Kind.URGENT).device_id
              for i in range(3) for phone in ("+84961234567", "+84912345678")]
    assert chosen == [viettel.id, vina.id] * 3  # each still on a SIM of her network
    assert sorted(looked_up) == ["+84912345678", "+84961234567"]
    box.enqueue_many(NOON, [create_person(db, NOON, phone="+84961234567")], "hop",
                     key_prefix="b:net")
    assert len(looked_up) == 2
    Outbox(db, gateway="android").enqueue(NOON, "+84961234567", "moi", kind=Kind.URGENT)
    assert len(looked_up) == 3  # another unit of work looks again
