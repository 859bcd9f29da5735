"""Danger by SMS, at any hour, from anyone: the safety reply and urgent alerts in the same
minute, then voice calls up the ladder every 10 minutes until someone accepts.

Over HTTP on a controlled clock: signed Twilio webhooks in, the scheduler's jobs run at
chosen moments, outbound calls through the real twilio client against the local fake.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline import clock
from hotline.models import Case, CaseStatus, Kind, Person, Role
from scheduler import jobs
from tests.emergency_support import (  # noqa: F401 (fixtures)
    NIGHT,
    SAFETY_NUMBERS,
    STRANGER,
    clock_at,
    fake,
    out_to,
    same_minute,
    settings,
    team,
    the_case,
)
from tests.factories import create_person
from tests.sms.test_sms_flows import text


def test_a_danger_text_at_night_from_a_stranger_gets_help_in_the_same_minute(
        client, db, rt, team, clock_at):
    text(client, STRANGER, "KN cuu em voi, chong dang danh em")
    jobs.drain_outbox(rt, NIGHT)

    case = the_case(db)
    assert case.emergency and case.status == CaseStatus.NEW
    assert case.summary == "KN cuu em voi, chong dang danh em"  # as she wrote it
    assert case.category == 12  # never classified from her words
    stranger = db.scalar(select(Person).where(Person.phone == STRANGER))
    assert stranger.registered_at is None  # she never registered, nor consented

    (reply,) = out_to(db, STRANGER)
    assert reply.kind == Kind.URGENT and same_minute(reply.sent_at)
    assert str(case.number) in reply.body
    assert all(n in reply.body for n in SAFETY_NUMBERS)
    assert "bao luc" not in reply.body.lower() and "danh" not in reply.body.lower()
    for who in ("hoa", "thu", "lan", "nga"):
        (alert,) = out_to(db, team[who].phone)
        assert alert.kind == Kind.URGENT and same_minute(alert.sent_at), who
        assert f"NHAN {case.number}" in alert.body
    assert out_to(db, team["mai"].phone) == []  # not trained: never told
    assert case.assignee_id == team["hoa"].id


def test_more_danger_texts_join_her_case_and_each_is_answered(client, db, rt, team, clock_at):
    text(client, STRANGER, "cuu em")
    text(client, STRANGER, "no dang danh em")
    text(client, STRANGER, "SOS")
    case = the_case(db)
    replies = out_to(db, STRANGER)
    assert len(replies) == 3 and all(str(case.number) in r.body for r in replies)
    assert all(r.kind == Kind.URGENT for r in replies)


def test_opting_out_in_the_same_breath_still_gets_the_safety_reply(
        client, db, rt, team, clock_at):
    text(client, STRANGER, "HUY, no se giet em")
    jobs.drain_outbox(rt, NIGHT)
    person = db.scalar(select(Person).where(Person.phone == STRANGER))
    assert person.opted_out_at is not None
    sent = [m for m in out_to(db, STRANGER) if m.sent_at is not None]
    assert any(all(n in m.body for n in SAFETY_NUMBERS) for m in sent)
    assert the_case(db).emergency


def test_ordinary_texts_do_not_raise_it(client, db, team, clock_at):
    text(client, STRANGER, "KN 3 bi thu hang o cho")
    text(client, STRANGER, "danh sach hop nhom")
    assert not the_case(db).emergency


def test_a_peer_educators_note_about_a_case_does_not_raise_one_for_her(
        client, db, rt, team, clock_at):
    text(client, STRANGER, "KN can giup giay to")
    case = the_case(db)
    text(client, team["lan"].phone, f"GHI {case.number} chong danh chi ay, da goi 113")
    assert not the_case(db).emergency
    assert db.scalars(select(Case)).all() == [case]


def test_the_ladder_is_the_responders_then_the_coordinators_in_one_query(db):
    """``emergency.ladder`` (one query) lists whom ``responders`` and ``cases.coordinators``
    list, in that order, each with a phone."""
    from sqlalchemy import event

    from hotline.services import cases as case_service
    from hotline.services import emergency

    now = clock.utcnow()
    for i, (role, trained, on_duty, order) in enumerate([
            (Role.COORDINATOR, False, False, 2), (Role.PEER_EDUCATOR, True, True, 3),
            (Role.PEER_EDUCATOR, True, False, 1), (Role.PEER_EDUCATOR, False, True, 1),
            (Role.COORDINATOR, False, False, 1), (Role.PEER_EDUCATOR, True, True, 1),
            (Role.MEMBER, True, True, 0)]):
        create_person(db, now, phone=f"+8491300{i:04d}", role=role, trained_violence=trained,
                      on_duty=on_duty, duty_order=order)
    erased = create_person(db, now, phone="+84913009999", role=Role.COORDINATOR)
    erased.erased_at = now
    db.flush()
    expected = [p for p in emergency.responders(db) + case_service.coordinators(db) if p.phone]
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        got = emergency.ladder(db)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    assert got == expected and len(statements) == 1
    assert [p.phone for p in got][:2] == ["+84913000005", "+84913000001"]  # responders first
    assert erased not in got


def test_one_ladder_reads_the_roster_once_and_forgets_it_after(db):
    """Key 9 reads the ladder twice in its request (the alerts, then the numbers to dial):
    inside ``one_ladder`` that is one query; after it, a change to the roster shows."""
    from sqlalchemy import event

    from hotline.services import emergency

    now = clock.utcnow()
    on_call = create_person(db, now, phone="+84913000101", role=Role.PEER_EDUCATOR,
                            trained_violence=True, on_duty=True, duty_order=1)
    coordinator = create_person(db, now, phone="+84913000102", role=Role.COORDINATOR)
    db.flush()
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        with emergency.one_ladder(db):
            first = emergency.ladder(db)
            first.clear()  # a caller's own copy: what is kept is not changed
            second = emergency.ladder(db)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    assert second == [on_call, coordinator] and len(statements) == 1
    on_call.on_duty = False
    db.flush()
    assert emergency.ladder(db) == [coordinator]
