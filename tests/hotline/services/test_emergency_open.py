"""A new emergency case in a few statements (``emergency._open``) writes exactly what the
general path wrote before it (``cases.open_case(.., emergency=True)``, whose ``route`` and
``alert_everyone`` stay as they were for the console's "mark as emergency", then the danger
event and the safety reply): the same case, the same events in the same order, the same
messages in the same order, roster by roster. Only the case's id and number may differ."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect, select

from hotline.models import Case, CaseEvent, Kind, Message, Person, Role
from hotline.services import cases, emergency
from hotline.services.cases import Actor
from hotline.services.outbox import Outbox
from hotline.templates import render
from tests.conftest import at
from tests.factories import create_group, create_person, join

NOW = at("2026-12-01 23:10")
WARD = "Phường Láng"


def general_path(db, now, outbox, person, *, channel, summary="", category=None,
                 words=None, source):
    """``emergency.raise_for`` for a new case as it was written until session 7 (8272bf7)."""
    case = cases.open_case(db, now, outbox, person=person, channel=channel, summary=summary,
                           category=category, emergency=True)
    cases.event(db, case, now, "danger", Actor(person=person), note=summary,
                words=words or [], channel=channel)
    if person.phone and person.erased_at is None:
        outbox.enqueue(
            now, person.phone, render("case_opened_emergency", number=case.number),
            kind=Kind.URGENT, person=person, case_id=case.id,
            key=f"emergency:{case.id}:case_opened_emergency:{source}",
        )
    db.flush()
    return case


def written(db, case: Case) -> dict:
    """Every row the opening wrote, its case's id and number taken out."""
    db.flush()
    number, case_id = str(case.number), case.id
    assert case.number == case.id + 1000

    def plain(value):
        if isinstance(value, str):
            value = re.sub(rf"^(case|emergency):{case_id}:", r"\1:<id>:", value)
            return value.replace(number, "<number>")
        return value

    def row(obj, *skip):
        return {c.key: plain(getattr(obj, c.key)) for c in inspect(type(obj)).column_attrs
                if c.key not in ("id", *skip)}

    db.expire_all()
    again = db.get(Case, case_id)
    events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                        .order_by(CaseEvent.id)).all()
    messages = db.scalars(select(Message).where(Message.case_id == case_id)
                          .order_by(Message.id)).all()
    return {"case": row(again, "number"),
            "events": [row(e, "case_id") for e in events],
            "messages": [row(m, "case_id") for m in messages]}


def roster(db, kind: str) -> Person:
    """A roster and the person who reports danger; committed."""
    def person(role=Role.PEER_EDUCATOR, **fields):
        return create_person(db, NOW, role=role, **fields)

    if kind == "her group, her ward, on call, coordinators":
        mine, near, far = (create_group(db, NOW, code, ward_current=ward)
                           for code, ward in (("CD01", WARD), ("CD02", WARD),
                                              ("CD03", "Phường khác")))
        caller = person(Role.MEMBER, ward_current=WARD)
        join(db, NOW, caller, mine)
        for group, trained, on_duty, order in ((mine, True, False, 3), (mine, False, True, 0),
                                               (near, True, True, 1), (far, True, False, 0)):
            join(db, NOW, person(trained_violence=trained, on_duty=on_duty,
                                 duty_order=order), group, role="peer_educator")
        gone = person(trained_violence=True, duty_order=0)
        join(db, NOW, gone, mine, role="peer_educator").left_at = NOW
        person(trained_violence=True, on_duty=True, duty_order=2)
        person(Role.COORDINATOR, duty_order=2)
        person(Role.COORDINATOR, duty_order=1)
        person(Role.COORDINATOR, duty_order=0).phone = None
        person(Role.COORDINATOR).erased_at = NOW
    elif kind == "a stranger, coordinators only":
        caller = person(Role.MEMBER)
        person(on_duty=True)  # not trained: never told
        person(Role.COORDINATOR, duty_order=2)
        person(Role.COORDINATOR, duty_order=1)
    elif kind == "nobody on the roster":
        caller = person(Role.MEMBER)
    elif kind == "she is on call herself":
        caller = person(trained_violence=True, on_duty=True, duty_order=1)
        person(trained_violence=True, on_duty=True, duty_order=2)
        person(Role.COORDINATOR)
    elif kind == "a coordinator presses it":
        caller = person(Role.COORDINATOR, duty_order=0)
        person(Role.COORDINATOR, duty_order=1)
    elif kind == "the one assigned has no phone, nor has she":
        group = create_group(db, NOW, "CD01")
        caller = person(Role.MEMBER)
        join(db, NOW, caller, group)
        lead = person(trained_violence=True)
        join(db, NOW, lead, group, role="peer_educator")
        lead.phone = None
        caller.phone = None
        person(trained_violence=True, on_duty=True)
        person(Role.COORDINATOR)
    else:
        raise AssertionError(kind)
    db.commit()
    return caller


KINDS = ("her group, her ward, on call, coordinators", "a stranger, coordinators only",
         "nobody on the roster", "she is on call herself", "a coordinator presses it",
         "the one assigned has no phone, nor has she")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", [
    {"channel": "voice", "source": "call7"},
    {"channel": "sms", "summary": "cuu em, no dang danh em", "words": ["danh"],
     "category": 3, "source": "msg7"},
    {"channel": "sms", "summary": "SOS", "category": 99, "source": "msg8"},
])
def test_a_new_emergency_writes_what_the_general_path_wrote(db, kind, how):
    caller = roster(db, kind)
    expected = written(db, general_path(db, NOW, Outbox(db), caller, **how))
    db.rollback()
    with emergency.one_ladder(db):  # as key 9 runs it: the ladder it read is kept
        case = emergency.raise_for(db, NOW, Outbox(db), caller, **how)
        kept = emergency.ladder(db)
    got = written(db, case)
    db.rollback()
    assert got == expected
    assert kept == emergency.ladder(db)  # whom she is put through to: the same roster
    assert got["events"][0]["kind"] == "created" and got["events"][-1]["kind"] == "danger"


def test_a_second_report_joins_her_case_as_before(db):
    caller = roster(db, "a stranger, coordinators only")
    first = emergency.raise_for(db, NOW, Outbox(db), caller, channel="sms", source="msg1")
    again = emergency.raise_for(db, NOW, Outbox(db), caller, channel="voice", source="call2")
    assert again is first
    db.commit()
    kinds = db.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == first.id)
                       .order_by(CaseEvent.id)).all()
    assert kinds == ["created", "assigned", "alerted", "danger", "danger"]
    replies = db.scalars(select(Message.idempotency_key).where(Message.phone == caller.phone)
                         .order_by(Message.id)).all()
    assert replies == [f"emergency:{first.id}:case_opened_emergency:msg1",
                       f"emergency:{first.id}:emergency_again:call2"]


def test_a_key_already_queued_is_not_queued_twice(db):
    """``enqueue_each`` keeps ``enqueue``'s once-ever keys: an alert whose key was queued
    before (here by hand, with the same words) is that message, not a second one."""
    caller = roster(db, "a stranger, coordinators only")
    box = Outbox(db)
    first, second = box.enqueue_each(NOW, [
        {"to": "+84913000201", "body": "khan", "kind": Kind.URGENT, "key": "k1"},
        {"to": "+84913000202", "body": "khan", "kind": Kind.URGENT, "key": "k2"}])
    db.commit()
    again = Outbox(db).enqueue_each(NOW, [
        {"to": "+84913000201", "body": "khan", "kind": Kind.URGENT, "key": "k1"},
        {"to": "+84913000203", "body": "khan", "kind": Kind.URGENT, "key": "k3"},
        {"to": "+84913000202", "body": "khac", "kind": Kind.URGENT, "key": "k2"}])
    db.commit()
    assert again[0].id == first.id and again[1].id > second.id
    assert (again[2].status, again[2].hold_reason) == ("cancelled", "duplicate")
    assert db.scalars(select(Message.idempotency_key).order_by(Message.id)).all() == [
        "k1", "k2", "k3", None]
    with pytest.raises(ValueError):
        Outbox(db).enqueue_each(NOW, [{"to": caller.phone, "body": "x", "kind": Kind.NORMAL,
                                       "key": "k4"}])
