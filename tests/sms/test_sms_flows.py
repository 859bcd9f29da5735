"""The text line end to end over HTTP: signed Twilio webhooks in, outbox rows out."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.models import (
    Case,
    CaseStatus,
    Consent,
    Direction,
    GroupRole,
    Membership,
    Message,
    MessageStatus,
    Person,
    Provider,
    Role,
)
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, at
from tests.factories import create_group, create_person, handle_sms, join

MEMBER = "+84912345678"
PE_PHONE = "+84901000001"
OTHER_PE = "+84901000002"


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN)


@pytest.fixture
def world(db):
    """A group CD01 with a peer educator; another group with its own; a provider."""
    now = at("2026-12-01 09:00")
    group = create_group(db, now, "CD01", ward_current="Hồng Hà")
    other = create_group(db, now, "PT01", ward_current="Hồng Hà")
    pe = create_person(db, now, phone=PE_PHONE, role=Role.PEER_EDUCATOR, name="Hoa")
    join(db, now, pe, group, GroupRole.PEER_EDUCATOR)
    pe2 = create_person(db, now, phone=OTHER_PE, role=Role.PEER_EDUCATOR, name="Mai")
    join(db, now, pe2, other, GroupRole.PEER_EDUCATOR)
    create_person(db, now, phone="+84901000009", role=Role.COORDINATOR, name="Lan")
    db.add(Provider(code="LUAT", name="Tro giup phap ly", phone="18001233"))
    db.commit()
    return {"group": group, "pe": pe, "pe2": pe2}


def text(client, sender, body, sid=None):
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "From": sender, "To": "+15005550006",
            "Body": body}
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/inbound", form)
    resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
    assert resp.status_code == 200, resp.data
    handle_sms(client.application)
    return resp


def outbound(db, phone):
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == Direction.OUT,
                                            Message.phone == phone).order_by(Message.id)).all()


def last_reply(db, phone):
    return outbound(db, phone)[-1].body


def member(db):
    db.expire_all()
    return db.scalar(select(Person).where(Person.phone == MEMBER))


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


class TestMember:
    def test_register_with_consent_then_complain_and_ask_status(self, client, db, world):
        text(client, MEMBER, "DK Nguyễn Thị Lan CD01")
        assert "DONGY" in last_reply(db, MEMBER)
        text(client, MEMBER, "đồng ý")
        person = member(db)
        assert person.registered_at is not None and person.name == "Nguyễn Thị Lan"
        assert "CD01" in last_reply(db, MEMBER)
        consent = db.scalar(select(Consent).where(Consent.purpose == "register"))
        assert consent.answer == "granted" and "DONGY" in consent.question
        assert consent.asked_at <= consent.answered_at
        membership = db.scalar(select(Membership).where(Membership.person_id == person.id))
        assert membership.group_id == world["group"].id

        text(client, MEMBER, "KN 1 Bị thu hàng ở chợ Long Biên sáng nay")
        case = db.scalar(select(Case))
        assert case.category == 1 and case.summary == "Bị thu hàng ở chợ Long Biên sáng nay"
        assert case.category_hint == 1  # her number, for staff to confirm
        assert case.assignee_id == world["pe"].id
        assert str(case.number) in last_reply(db, MEMBER)
        alert = outbound(db, PE_PHONE)[-1].body
        assert f"NHAN {case.number}" in alert and "thu hang" not in alert.lower()

        text(client, MEMBER, f"tt{case.number}")
        assert last_reply(db, MEMBER).startswith(f"STONES: Ho so {case.number}: da nhan")

    def test_an_unknown_group_code_says_so_and_still_asks_consent(self, client, db, world):
        text(client, MEMBER, "DK Thuy CD9")
        bodies = [m.body for m in outbound(db, MEMBER)]
        assert len(bodies) == 2
        assert "Khong tim thay ma nhom CD9" in bodies[0] and "DONGY" in bodies[1]
        assert not any("Da dang ky" in b for b in bodies)  # nothing before consent
        assert member(db).registered_at is None

    def test_no_to_consent_keeps_only_the_number_and_says_exactly_that(self, client, db,
                                                                        world):
        text(client, MEMBER, "DK Nguyen Thi Lan CD01")
        text(client, MEMBER, "KHONG")
        person = member(db)
        assert person.name == "" and person.phone == MEMBER and person.registered_at is None
        texts = db.scalars(select(Message).where(Message.direction == Direction.IN,
                                                 Message.phone == MEMBER)).all()
        assert all("Lan" not in m.body for m in texts)
        reply = last_reply(db, MEMBER)
        assert "chi giu so dien thoai nay va cau tra loi KHONG" in reply
        refused = db.scalars(select(Consent).where(Consent.person_id == person.id)).all()
        assert [c.answer for c in refused] == ["refused"]

    def test_status_of_another_persons_case_reveals_nothing(self, client, db, world):
        text(client, "+84912000999", "KN bi no tien cong")
        case = db.scalar(select(Case))
        text(client, MEMBER, f"TT {case.number}")
        mine = last_reply(db, MEMBER)
        text(client, MEMBER, "TT 99999")
        assert mine.replace(str(case.number), "N") == last_reply(db, MEMBER).replace("99999", "N")

    def test_refusing_consent_does_not_register(self, client, db, world):
        text(client, MEMBER, "DK")
        text(client, MEMBER, "khong")
        person = member(db)
        assert person.registered_at is None
        assert db.scalar(select(Consent.answer).where(Consent.purpose == "register")) == "refused"

    def test_opt_out_always_wins_and_dk_opts_back_in(self, client, db, world):
        text(client, MEMBER, "DK")
        text(client, MEMBER, "DONGY")
        text(client, MEMBER, "KN bi thu hang")
        text(client, MEMBER, "hủy")
        person = member(db)
        assert person.opted_out_at is not None
        assert "ngung nhan tin" in last_reply(db, MEMBER).lower()
        # Anything queued for them that is not a reply is cancelled.
        pending = [m for m in outbound(db, MEMBER) if m.status == MessageStatus.QUEUED]
        assert all(m.kind == "reply" for m in pending)
        text(client, MEMBER, "DK")
        assert member(db).opted_out_at is None
        assert "Da dang ky" in last_reply(db, MEMBER)

    @pytest.mark.parametrize("body, expect", [
        ("HD", "KN/CG so: 1 "), ("giup", "KN/CG so: 1 "), ("BHYT", "BHYT"),
        ("tam tru", "Tam tru"),
        ("BHXH", "BHXH"), ("phap ly", "18001233"), ("HOP", "Chua co lich hop"),
        ("KN", "Xin nhan KN"), ("TT", "Xin nhan TT"), ("1", "Khong co cau hoi"),
    ])
    def test_simple_commands_answer(self, client, db, world, body, expect):
        text(client, MEMBER, body)
        assert expect in last_reply(db, MEMBER)

    @pytest.mark.parametrize("body, channel, reply", [
        ("NGHE", "voice", "goi dien de bao tin"), ("nghe a", "voice", "goi dien de bao tin"),
        ("CA HAI", "both", "ca tin nhan va cuoc goi"), ("cả 2", "both", "ca tin nhan"),
    ])
    def test_the_channel_keywords_choose_how_she_is_told(self, client, db, world, body,
                                                         channel, reply):
        from hotline.models import Consent

        text(client, MEMBER, body)
        assert member(db).notify_channel == channel and reply in last_reply(db, MEMBER)
        text(client, MEMBER, "tin nhan")
        assert member(db).notify_channel == "sms"
        assert "bao tin bang tin nhan" in last_reply(db, MEMBER)
        log = db.scalars(select(Consent).where(Consent.purpose == "voice_calls")
                         .order_by(Consent.id)).all()
        assert [(c.answer, c.channel) for c in log] == [("granted", "sms"), ("withdrawn", "sms")]
        text(client, MEMBER, "TIN")  # unchanged: the same kind answer, nothing logged again
        assert db.scalar(select(func.count()).select_from(Consent).where(
            Consent.purpose == "voice_calls")) == 2

    def test_hd_tells_the_channel_keywords_in_its_second_sms(self, client, db, world):
        text(client, MEMBER, "HD")
        bodies = [m.body for m in outbound(db, MEMBER)]
        assert len(bodies) == 3 and "NGHE" in bodies[1] and "CAHAI" in bodies[1]
        assert bodies[2].startswith("KN/CG so: 1 ")

    def test_callback_request_is_queued_once(self, client, db, world):
        from hotline.models import CallbackRequest

        text(client, MEMBER, "GOI")
        text(client, MEMBER, "goi lai cho em")
        callbacks = db.scalars(select(CallbackRequest)).all()
        assert [(c.phone, c.reason, c.status) for c in callbacks] == [(MEMBER, "sms", "queued")]
        assert "goi lai" in last_reply(db, MEMBER)

    def test_free_text_goes_to_staff_and_is_answered_once_a_day(self, client, db, world):
        story = "Chị ơi hôm qua em bị người ta lấy hết xe hàng, giờ em không biết làm sao"
        text(client, MEMBER, story)
        text(client, MEMBER, "Em cảm ơn chị")
        inbound = db.scalars(select(Message).where(Message.direction == Direction.IN)).all()
        assert [m.body for m in inbound] == [story, "Em cảm ơn chị"]
        assert all(m.needs_staff and m.command == "TEXT" for m in inbound)
        assert len(outbound(db, MEMBER)) == 1

    def test_erase_request_is_a_staff_task_confirmed_by_sms(self, client, db, world):
        text(client, MEMBER, "XOA")
        msg = db.scalar(select(Message).where(Message.direction == Direction.IN))
        assert msg.needs_staff and msg.command == "XOA"
        assert "xoa thong tin" in last_reply(db, MEMBER)

    def test_same_webhook_twice_gives_one_message_one_case_one_reply(self, client, db, world):
        for _ in range(2):
            text(client, MEMBER, "KN bi thu hang", sid="SM" + "c" * 32)
        assert count(db, Case) == 1
        assert len([m for m in db.scalars(select(Message)) if m.direction == "in"]) == 1
        assert len(outbound(db, MEMBER)) == 1

    def test_reply_flood_is_capped_with_one_word_and_the_rest_to_triage(self, client, db,
                                                                         world):
        for _ in range(12):
            text(client, MEMBER, "BHYT")
        out = outbound(db, MEMBER)
        going = [m for m in out if m.status != MessageStatus.CANCELLED]
        held = [m for m in out if m.status == MessageStatus.CANCELLED]
        assert len(going) == 5 + 1 and "se doc het" in going[-1].body  # said once
        assert len(held) == 7 and {m.hold_reason for m in held} == {"flood"}
        inbound = db.scalars(select(Message).where(Message.direction == Direction.IN)
                             .order_by(Message.id)).all()
        assert [m.needs_staff for m in inbound[5:]] == [True] * 7  # a person reads them

    @pytest.mark.parametrize("sender", ["VIETTEL", "191", "+84240000000"])
    def test_no_reply_to_service_senders_or_ourselves(self, client, db, world, settings, sender):
        text(client, sender, "HD")
        assert db.scalar(select(func.count()).select_from(Message)
                         .where(Message.direction == Direction.OUT)) == 0


class TestPeerEducator:
    def open_case(self, client, db, body="KN bi thu hang"):
        text(client, MEMBER, body)
        return db.scalar(select(Case).order_by(Case.id.desc()))

    def member_in_the_group(self, db, world):
        """The member, in the peer educator's group (so that she may act on her cases)."""
        person = create_person(db, at("2026-12-01 09:00"), phone=MEMBER)
        join(db, at("2026-12-01 09:00"), person, world["group"])
        return person

    def test_accept_note_refer_resolve_by_sms(self, client, db, world):
        # The member must be in the group for its peer educator to be allowed.
        self.member_in_the_group(db, world)
        db.commit()
        case = self.open_case(client, db)
        n = case.number
        text(client, PE_PHONE, f"NHAN {n}")
        assert MEMBER in last_reply(db, PE_PHONE)
        assert "da co nguoi nhan" in last_reply(db, MEMBER)
        text(client, PE_PHONE, f"GHI {n} Đã gọi, hẹn gặp chiều nay")
        text(client, PE_PHONE, f"chuyen {n} luat")
        assert "18001233" in last_reply(db, MEMBER)
        text(client, PE_PHONE, f"XONG {n} đã lấy lại hàng")
        db.expire_all()
        case = db.get(Case, case.id)
        assert case.status == CaseStatus.RESOLVED
        kinds = [e.kind for e in case.events]
        assert kinds[-4:] == ["accepted", "note", "referred", "resolved"]
        assert case.events[-3].note == "Đã gọi, hẹn gặp chiều nay"
        assert case.acknowledged_at and case.first_contact_at and case.resolved_at
        text(client, PE_PHONE, "DS")
        assert "khong co ho so" in last_reply(db, PE_PHONE)

    def test_a_second_referral_and_the_same_number_again_each_reach_the_member_once(
            self, client, db, world):
        self.member_in_the_group(db, world)
        db.add(Provider(code="PN", name="Hoi Phu nu phuong", phone="02439330230"))
        db.commit()
        n = self.open_case(client, db).number
        text(client, PE_PHONE, f"NHAN {n}")
        for code in ("LUAT", "PN", "LUAT", "LUAT"):
            text(client, PE_PHONE, f"CHUYEN {n} {code}")
        told = [m.body for m in outbound(db, MEMBER) if "xin lien he" in m.body]
        assert len(told) == 4
        assert ["18001233" in b for b in told] == [True, False, True, True]
        pe = [m.body for m in outbound(db, PE_PHONE) if "Da chuyen ho so" in m.body]
        assert len(pe) == 4  # each confirmation too

    def test_another_groups_peer_educator_is_refused_politely(self, client, db, world):
        self.member_in_the_group(db, world)
        db.commit()
        case = self.open_case(client, db)
        text(client, OTHER_PE, f"NHAN {case.number}")
        refusal = last_reply(db, OTHER_PE)
        text(client, OTHER_PE, "NHAN 424242")
        assert refusal.replace(str(case.number), "N") == last_reply(db, OTHER_PE).replace(
            "424242", "N")
        db.expire_all()
        assert db.get(Case, case.id).status == CaseStatus.NEW

    def test_a_member_cannot_use_worker_commands(self, client, db, world):
        case = self.open_case(client, db)
        text(client, MEMBER, f"XONG {case.number}")
        db.expire_all()
        assert db.get(Case, case.id).status == CaseStatus.NEW
        assert "Khong thuc hien duoc" in last_reply(db, MEMBER)

    def test_unknown_provider_lists_the_codes(self, client, db, world):
        self.member_in_the_group(db, world)
        db.commit()
        case = self.open_case(client, db)
        text(client, PE_PHONE, f"CHUYEN {case.number} XYZ")
        assert "LUAT" in last_reply(db, PE_PHONE)

    def test_give_back_routes_to_the_next_person(self, client, db, world):
        self.member_in_the_group(db, world)
        db.commit()
        case = self.open_case(client, db)
        text(client, PE_PHONE, f"TRA {case.number}")
        db.expire_all()
        case = db.get(Case, case.id)
        assert case.assignee_id != world["pe"].id and case.escalation_level == 1


class TestBadInput:
    @pytest.mark.parametrize("body", ["", "   ", "x" * 5000, "😀🙏", "KN a\x00b"])
    def test_odd_bodies_are_stored_and_answered(self, client, db, world, body):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": MEMBER, "Body": body}
        sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/inbound", form)
        resp = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
        assert resp.status_code == 200
        handle_sms(client.application)
        msg = db.scalar(select(Message).where(Message.direction == Direction.IN))
        assert "\x00" not in msg.body
        assert len(outbound(db, MEMBER)) == 1

    def test_broken_utf8_is_kept_not_lost(self, client, db, world):
        raw = b"MessageSid=SM2&From=%2B84912345678&Body=KN+h%E1%BB+ng"
        # Werkzeug keeps an undecodable escape as its literal text: nothing is lost.
        form = {"MessageSid": "SM2", "From": MEMBER, "Body": "KN h%E1%BB ng"}
        sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/inbound", form)
        resp = client.post("/sms/inbound", data=raw,
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": sig})
        assert resp.status_code == 200
        handle_sms(client.application)
        assert db.scalar(select(Case)).summary == "h%E1%BB ng"

    def test_broken_percent_encoding_is_not_a_500(self, client, db, world):
        raw = b"MessageSid=SM1&From=%2B84912345678&Body=%E0%A4%A"
        resp = client.post("/sms/inbound", data=raw,
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "x"})
        assert resp.status_code == 403 and count(db, Message) == 0

    def test_number_that_is_not_a_phone_number_gets_no_reply(self, client, db, world):
        text(client, "12345678901234", "HD")
        msg = db.scalar(select(Message))
        assert msg.person_id is None and msg.phone == "12345678901234"
        assert count(db, Message) == 1
