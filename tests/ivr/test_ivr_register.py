"""Registering by keypad: consent makes her a member (as DK then DONGY), then under "mine"
(3, 4, 4) she says her name (kept as a recording for staff) and joins her group from a short
numbered list read out. A scripted caller follows the TwiML it gets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline import clock
from hotline.models import Case, Membership, Person, Recording, RecordingPurpose
from tests.conftest import AUTH_TOKEN
from tests.factories import create_group
from tests.ivr.ivr_caller import Caller


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN, twilio_account_sid="AC" + "0" * 32)


def person_of(db, caller) -> Person:
    db.expire_all()
    return db.scalar(select(Person).where(Person.phone == caller.phone))


def at_profile(client) -> Caller:
    caller = Caller(client).call().agree().press("3").press("4").press("4")
    assert caller.node == "profile" and caller.heard == ["profile_menu"]
    return caller


def listing_groups(client, db, **ward) -> Caller:
    """A caller who agreed, of ``ward``, who asked for the groups (3 4 4 2)."""
    caller = Caller(client).call().agree()
    person = person_of(db, caller)
    for column, value in ward.items():
        setattr(person, column, value)
    db.commit()
    return caller.press("3").press("4").press("4").press("2")


def three_groups(db):
    now = clock.utcnow()
    groups = [create_group(db, now, "PT01", name="Nhóm bán hàng rong Phúc Tân",
                           ward_old="Phúc Tân", ward_current="Hồng Hà"),
              create_group(db, now, "CD02", name="Nhóm đồng nát Chương Dương",
                           ward_old="Chương Dương", ward_current="Hồng Hà"),
              create_group(db, now, "CD01", name="Nhóm bán hàng rong Chương Dương",
                           ward_old="Chương Dương", ward_current="Hồng Hà")]
    create_group(db, now, "CD09", name="Nhóm đã nghỉ", ward_old="Chương Dương", active=False)
    db.commit()
    return groups


def test_consent_by_keypad_registers_her_and_a_refusal_does_not(client, db):
    agreed = Caller(client).call().press("1")
    assert agreed.heard == ["consent_thanks", "channel_offer_ask"]
    agreed.silence()  # no key: SMS kept, on to the main menu
    assert agreed.heard == ["main_menu"] and agreed.node == "main"
    assert person_of(db, agreed).notify_channel == "sms"
    refused = Caller(client).call().press("2")
    assert refused.heard == ["consent_refused", "main_menu"]
    assert person_of(db, agreed).registered_at is not None
    assert person_of(db, refused).registered_at is None


def test_her_name_is_kept_as_a_recording_without_a_case(client, db):
    caller = at_profile(client).press("1")
    assert caller.heard == ["name_record_instructions"] and caller.kind == "record"
    assert caller.waiting.get("maxLength") == "15"
    caller.speak(duration=3)
    assert caller.heard == ["name_recorded", "profile_menu"] and caller.node == "profile"
    caller.retry()
    caller.send_recording_status()  # the status callback too, twice: still no case
    db.expire_all()
    recordings = db.scalars(select(Recording)).all()
    assert [r.purpose for r in recordings] == [RecordingPurpose.NAME]
    assert recordings[0].case_id is None and db.scalar(select(Case)) is None


def test_nothing_said_for_the_name_asks_again(client, db):
    caller = at_profile(client).press("1").silence()
    assert caller.heard == ["record_empty"] and caller.kind == "record"


def test_groups_are_read_by_number_and_the_one_keyed_is_joined(client, db):
    three_groups(db)
    caller = at_profile(client).press("2")
    assert caller.heard == [
        "group_list_intro",
        "said:Nhóm bán hàng rong Chương Dương", "group_press_1",
        "said:Nhóm đồng nát Chương Dương", "group_press_2",
        "said:Nhóm bán hàng rong Phúc Tân", "group_press_3",
        "group_pick_ask"]
    assert caller.node == "group_pick"
    caller.press("*")  # read again
    assert caller.heard[0] == "group_list_intro" and caller.node == "group_pick"
    caller.press("2")
    assert caller.heard == ["group_joined", "said:Nhóm đồng nát Chương Dương", "profile_menu"]
    caller.retry()  # Twilio retries: still one membership
    person = person_of(db, caller)
    rows = db.scalars(select(Membership).where(Membership.person_id == person.id)).all()
    assert [(m.group.code, m.left_at) for m in rows] == [("CD02", None)]


def test_a_number_not_on_the_list_says_so_and_joins_nothing(client, db):
    three_groups(db)
    caller = at_profile(client).press("2").press("4")
    assert caller.heard == ["group_not_listed", "profile_menu"]
    caller.press("2").press("7")
    assert caller.heard == ["invalid_key", "group_pick_ask"]
    assert db.scalar(select(Membership)) is None


def test_a_member_of_a_known_ward_hears_only_its_groups(client, db):
    three_groups(db)
    caller = listing_groups(client, db, ward_old="Phúc Tân")
    assert caller.heard == ["group_list_intro", "said:Nhóm bán hàng rong Phúc Tân",
                            "group_press_1", "group_pick_ask"]


def test_no_group_to_join_says_so(client, db):
    caller = at_profile(client).press("2")
    assert caller.heard == ["group_none", "profile_menu"]


def test_her_name_and_group_need_her_consent(client, db):
    three_groups(db)
    caller = Caller(client).call().press("2")  # refuses consent
    caller.press("3").press("4").press("4").press("2")
    assert caller.heard == ["consent_ask"] and caller.node == "consent"
    assert db.scalar(select(Membership)) is None


def test_she_chooses_by_keypad_to_be_told_by_call_kept_in_the_consent_log(client, db):
    from hotline.models import Consent

    caller = at_profile(client).press("3")
    assert caller.heard == ["channel_ask"] and caller.node == "channel_pick"
    caller.press("1")
    assert caller.heard == ["channel_voice_said", "profile_menu"]
    caller.retry()
    assert person_of(db, caller).notify_channel == "voice"
    caller.press("3").press("3")
    assert caller.heard == ["channel_both_said", "profile_menu"]
    caller.press("3").press("2")
    assert person_of(db, caller).notify_channel == "sms"
    log = db.scalars(select(Consent).where(Consent.purpose == "voice_calls")
                     .order_by(Consent.id)).all()
    assert [(c.answer, c.channel) for c in log] == [
        ("granted", "voice"), ("granted", "voice"), ("withdrawn", "voice")]
    caller.press("3").press("7")
    assert caller.heard == ["invalid_key", "channel_ask"]


def seven_groups(db):
    now = clock.utcnow()
    names = {f"HH0{i}": f"Nhóm số {i}" for i in range(1, 8)}
    for code, name in names.items():
        create_group(db, now, code, name=name, ward_current="Hồng Hà")
    create_group(db, now, "XX01", name="Nhóm phường khác", ward_current="Hoàn Kiếm")
    db.commit()
    return names


def group_page(*numbers):
    said = []
    for press, n in enumerate(numbers, start=1):
        said += [f"said:Nhóm số {n}", f"group_press_{press}"]
    return said


def test_more_than_four_groups_are_read_four_at_a_time_and_hash_reads_the_next(client, db):
    seven_groups(db)
    caller = listing_groups(client, db, ward_current="Hồng Hà")
    person = person_of(db, caller)
    assert caller.heard == ["group_list_intro", *group_page(1, 2, 3, 4), "group_list_more",
                            "group_pick_ask"]
    assert caller.node == "group_pick"
    caller.press("#")
    assert caller.heard == ["group_list_next", *group_page(5, 6, 7), "group_pick_ask"]
    caller.press("*")  # this page again
    assert caller.heard == ["group_list_next", *group_page(5, 6, 7), "group_pick_ask"]
    caller.press("4")  # no fourth group on this page
    assert caller.heard == ["group_not_listed", "profile_menu"]
    caller.press("2").press("#").press("#")  # past the last page: from the start
    assert caller.heard == ["group_list_from_start", "group_list_intro",
                            *group_page(1, 2, 3, 4), "group_list_more", "group_pick_ask"]
    caller.press("#").press("2")  # the second of the second page: the sixth
    assert caller.heard == ["group_joined", "said:Nhóm số 6", "profile_menu"]
    caller.retry()
    rows = db.scalars(select(Membership).where(Membership.person_id == person.id)).all()
    assert [(m.group.code, m.left_at) for m in rows] == [("HH06", None)]


def test_every_page_of_groups_reads_at_most_four_and_the_last_leads_back_to_the_first():
    from audio.prompts import catalogue_at
    from ivr.menu import GROUP_PICK_NODES, MENU, read_choices

    catalogue = catalogue_at(clock.utcnow())
    for key in GROUP_PICK_NODES:
        node = MENU.nodes[key]
        assert read_choices(node, catalogue) <= 4
        assert sorted(k for k in node.choices if k.isdigit()) == ["1", "2", "3", "4"]
    last = MENU.nodes[GROUP_PICK_NODES[-1]].choices["#"]
    assert last.then == "group_pick"


def voice_log(db, person):
    from hotline.models import Consent

    return [(c.answer, c.channel) for c in db.scalars(
        select(Consent).where(Consent.purpose == "voice_calls", Consent.person_id == person.id)
        .order_by(Consent.id))]


def test_right_after_consent_1_chooses_to_be_told_by_calls_kept_in_the_consent_log(client, db):
    caller = Caller(client).call().press("1")
    assert caller.node == "channel_offer"
    caller.press("1")
    assert caller.heard == ["channel_voice_said", "main_menu"] and caller.node == "main"
    caller.retry()  # Twilio retries: recorded once
    person = person_of(db, caller)
    assert person.notify_channel == "voice" and person.registered_at is not None
    assert voice_log(db, person) == [("granted", "voice")]
    # Asked once: the next call goes straight to the main menu.
    again = Caller(client, phone=caller.phone).call()
    assert again.heard == ["welcome", "main_menu"]


def test_right_after_consent_2_keeps_sms(client, db):
    caller = Caller(client).call().press("1").press("2")
    assert caller.heard == ["channel_sms_said", "main_menu"]
    person = person_of(db, caller)
    assert person.notify_channel == "sms" and voice_log(db, person) == []


def test_a_wrong_key_on_the_channel_question_asks_once_more_then_goes_on_with_sms(client, db):
    caller = Caller(client).call().press("1").press("7")
    assert caller.heard == ["invalid_key", "channel_offer_ask"]
    caller.press("#")
    assert caller.heard == ["main_menu"] and caller.kind == "gather"
    assert person_of(db, caller).notify_channel == "sms"


def test_consent_asked_on_the_way_comes_back_where_she_was_after_the_channel_question(
        client, db):
    three_groups(db)
    caller = Caller(client).call().press("2")  # refuses at first
    caller.press("3").press("4").press("4").press("2")  # her group: needs her consent
    assert caller.node == "consent"
    caller.press("1")
    assert caller.heard == ["consent_thanks", "channel_offer_ask"]
    caller.press("1")
    assert caller.heard == ["channel_voice_said", "profile_menu"] and caller.node == "profile"
    assert person_of(db, caller).notify_channel == "voice"
    # Silence instead goes on there too.
    other = Caller(client).call().press("2")
    other.press("3").press("4").press("4").press("2").press("1").silence()
    assert other.heard == ["profile_menu"] and other.node == "profile"


def test_key_9_on_the_channel_question_is_danger_as_everywhere(client, db):
    caller = Caller(client).call().press("1").press("9")
    assert "emergency_numbers" in caller.heard and caller.kind in ("dial", "record")
    assert db.scalars(select(Case)).one().emergency
