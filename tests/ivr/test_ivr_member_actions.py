"""The member's SMS commands by keypad: next meeting and RSVP, opt-out, erase request.
A scripted caller follows the TwiML it gets (signed webhooks, as Twilio posts them)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline import clock
from hotline.models import Attendance, Consent, Direction, Meeting, Message, Person
from hotline.queries import erasures
from ivr.actions import meeting_prompts
from tests.conftest import AUTH_TOKEN
from tests.factories import create_group, join
from tests.ivr.ivr_caller import Caller


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN, twilio_account_sid="AC" + "0" * 32)


def at_mine(client) -> Caller:
    """A caller who agreed to consent, at "meetings, stop messages, erase" (3, then 4)."""
    caller = Caller(client).call().agree()
    caller.press("3").press("4")
    assert caller.node == "mine" and caller.heard == ["mine_menu"]
    return caller


def person_of(db, caller) -> Person:
    db.expire_all()
    return db.scalar(select(Person).where(Person.phone == caller.phone))


def in_a_group_meeting_soon(db, caller) -> Meeting:
    now = clock.utcnow()
    group = create_group(db, now, "CD01")
    join(db, now, person_of(db, caller), group)
    meeting = Meeting(group_id=group.id, starts_at=now + timedelta(days=3, minutes=7),
                      place="Nhà văn hóa tổ 5", created_at=now)
    db.add(meeting)
    db.commit()
    return meeting


def test_next_meeting_is_read_and_the_rsvp_recorded_as_by_sms(client, db):
    caller = at_mine(client)
    meeting = in_a_group_meeting_soon(db, caller)
    caller.press("1")
    said = meeting_prompts(clock.local(meeting.starts_at))
    assert caller.heard == [*said, "meeting_place", "said:Nhà văn hóa tổ 5",
                            "meeting_rsvp_ask"] and caller.node == "meeting_rsvp"
    assert said[:2] == ("meeting_next", f"weekday_{clock.local(meeting.starts_at).weekday()}")
    caller.press("2")
    assert caller.heard == ["rsvp_no_said", "main_menu"]
    caller.retry()  # Twilio retries: still one answer
    db.expire_all()
    rows = db.scalars(select(Attendance)).all()
    assert [(r.meeting_id, r.rsvp) for r in rows] == [(meeting.id, "no")]


def test_the_place_is_read_in_vietnamese_and_a_meeting_without_one_reads_none(client, db):
    caller = at_mine(client)
    meeting = in_a_group_meeting_soon(db, caller)
    caller.press("1")
    says = [el for el in caller.root.iter("Say") if el.text == "Nhà văn hóa tổ 5"]
    assert [el.get("language") for el in says] == ["vi-VN"]
    meeting.place = "  "
    db.commit()
    caller.press("0").press("1")
    assert caller.heard == [*meeting_prompts(clock.local(meeting.starts_at)), "meeting_rsvp_ask"]


def test_no_meeting_says_so_and_stays_in_the_menu(client, db):
    caller = at_mine(client).press("1")
    assert caller.heard == ["meeting_none", "mine_menu"] and caller.node == "mine"


def test_meeting_prompts_say_day_date_and_time():
    assert meeting_prompts(datetime(2026, 12, 7, 9, 0)) == (
        "meeting_next", "weekday_0", "meeting_date", "digit_7", "meeting_month", "number_12",
        "meeting_at", "digit_9", "meeting_hour")
    assert meeting_prompts(datetime(2026, 12, 25, 14, 30))[-3:] == (
        "meeting_hour", "number_30", "meeting_minute")


def test_opt_out_by_keypad_stops_everything_with_the_withdrawal_recorded(client, db):
    caller = at_mine(client).press("2")
    assert caller.heard == ["opt_out_ask"]
    caller.press("0")  # back: nothing happened
    assert caller.node == "mine" and person_of(db, caller).opted_out_at is None
    caller.press("2").press("1")
    assert caller.heard == ["opted_out_said", "goodbye"] and caller.kind == "hangup"
    person = person_of(db, caller)
    assert person.opted_out_at is not None
    withdrawal = db.scalar(select(Consent).where(Consent.answer == "withdrawn"))
    assert (withdrawal.person_id, withdrawal.channel) == (person.id, "voice")


def test_erase_request_by_keypad_waits_in_the_triage_inbox_without_an_sms(client, db):
    caller = at_mine(client).press("3")
    assert caller.heard == ["erase_ask"]
    caller.press("1")
    assert caller.heard == ["erase_requested_said", "goodbye"]
    caller.retry()
    person = person_of(db, caller)
    asked = db.scalars(select(Message).where(Message.direction == Direction.IN)).all()
    assert len(asked) == 1
    msg = asked[0]
    assert (msg.person_id, msg.command, msg.needs_staff) == (person.id, "XOA", True)
    assert msg.handled_at is not None  # the SMS handler leaves it alone: she heard the answer
    # Tracked like a texted XOA: open, with its two-working-day deadline.
    request = erasures.open_for_person(db, clock.utcnow(), person)
    assert request is not None and request.message.id == msg.id and not request.overdue
    sent = db.scalar(select(func.count()).select_from(Message).where(
        Message.direction == Direction.OUT, Message.phone == caller.phone))
    assert sent == 0


def test_opt_out_and_erase_need_no_consent(client, db):
    caller = Caller(client).call().press("2")  # refuses consent
    caller.press("3").press("4").press("2").press("1")
    assert caller.heard == ["opted_out_said", "goodbye"]
