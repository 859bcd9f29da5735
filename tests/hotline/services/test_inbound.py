"""Acting on stored SMS: the ``handle_inbound`` job's order, and what a failing handler
leaves behind (the message, for a person to read)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import Direction, Message, Person
from hotline.services import commands, inbound
from tests.conftest import at
from tests.factories import handle_sms

NOW = at("2026-12-01 10:00")
MEMBER = "+84912345678"


def store(rt, body, sender=MEMBER):
    with session_scope(rt.sessions) as s:
        msg_id, created = inbound.store(s, NOW, gateway="twilio", external_id=None,
                                        sender=sender, body=body)
    assert created
    return msg_id


def rows(db, direction):
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == direction)
                      .order_by(Message.id)).all()


def test_messages_are_acted_on_in_the_order_they_came(app, db):
    rt = app.extensions["hotline"]
    store(rt, "DK Nguyen Thi Lan")
    store(rt, "DONGY")  # answers the consent question the first one asks
    assert handle_sms(rt, NOW) == 2
    person = db.scalar(select(Person).where(Person.phone == MEMBER))
    assert person.name == "Nguyen Thi Lan" and person.registered_at is not None
    assert [m.command for m in rows(db, Direction.IN)] == ["DK", "DONGY"]


def test_a_failing_handler_leaves_the_message_for_staff_and_goes_on(app, db, monkeypatch,
                                                                     caplog):
    rt = app.extensions["hotline"]

    def broken(ctx):
        ctx.reply("help")  # half done: must not survive
        raise RuntimeError("bug")

    monkeypatch.setitem(commands.HANDLERS, "BHYT", broken)
    first = store(rt, "BHYT")
    store(rt, "TAMTRU", sender="+84912345679")
    assert handle_sms(rt, NOW) == 2
    failed, ok = rows(db, Direction.IN)
    assert failed.id == first and failed.body == "BHYT"
    assert failed.handled_at is not None and failed.needs_staff and failed.triaged_at is None
    assert failed.handling_failed and not ok.handling_failed
    assert ok.command == "TAMTRU" and not ok.needs_staff
    assert [m.phone for m in rows(db, Direction.OUT)] == ["+84912345679"]
    assert "handling failed" in caplog.text
    assert handle_sms(rt, NOW) == 0  # not retried forever


def test_a_sender_that_is_no_phone_number_is_kept_unanswered(app, db):
    rt = app.extensions["hotline"]
    store(rt, "KM 50% hom nay", sender="VIETTEL")
    assert handle_sms(rt, NOW) == 1
    [msg] = rows(db, Direction.IN)
    assert msg.person_id is None and msg.handled_at is not None and msg.phone == "VIETTEL"
    assert rows(db, Direction.OUT) == []
