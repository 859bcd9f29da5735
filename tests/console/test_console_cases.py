"""The case inbox, the case page and its buttons, recordings, the triage inbox, the dashboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from console import media
from hotline.models import AuditLog, Case, CaseEvent, Kind, Message, Provider, Recording
from hotline.models.messages import HANDLING_FAILED
from tests.console.conftest import HANG, NAM, NGA, NOW, open_case, person
from tests.factories import create_incoming_msg, create_outgoing_msg


def _audit(db, action):
    return db.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_inbox_filters(as_user, demo):
    a = open_case(demo, HANG, category=1)
    b = open_case(demo, NGA, category=5, emergency=True)
    c = open_case(demo, NAM, category=7, channel="voice")
    admin = as_user("admin")

    def numbers(query):
        page = admin.get("/console/cases" + query).get_data(as_text=True)
        return {n for n in (a.number, b.number, c.number) if f">{n}<" in page}

    assert numbers("") == {a.number, b.number, c.number}
    assert numbers("?category=5") == {b.number}
    assert numbers("?emergency=1") == {b.number}
    assert numbers("?channel=voice") == {c.number}
    assert numbers(f"?number={a.number}") == {a.number}
    assert numbers("?status=resolved") == set()
    assert numbers("?status=nonsense") == {a.number, b.number, c.number}
    # The emergency went to a peer educator trained for it, not to her.
    assert numbers(f"?assignee={person(demo, '+84901000002').id}") == {a.number}


def test_peer_educator_inbox_holds_her_groups_cases(as_user, demo):
    mine = open_case(demo, HANG)
    other = open_case(demo, NAM)
    page = as_user("mai").get("/console/cases?assignee=me").get_data(as_text=True)
    assert f">{mine.number}<" in page and f">{other.number}<" not in page


def test_case_page_shows_the_timeline_and_words(as_user, demo):
    case = open_case(demo, HANG, summary="Bị thu hàng ở chợ Long Biên")
    page = as_user("mai").get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "Bị thu hàng ở chợ Long Biên" in page
    assert "Mở hồ sơ" in page and "Đã giao" in page  # created, assigned
    assert "STONES: Ho so moi" in page  # the alert SMS to Mai, on the timeline
    assert not _audit(demo, "read_sensitive")  # category 1 is not sensitive


def _act(client, case, action, **data):
    response = client.post(f"/console/cases/{case.number}/{action}", data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_work_a_case_from_note_to_reopen(as_user, demo):
    case = open_case(demo, HANG)
    admin = as_user("admin")
    provider = demo.scalar(select(Provider).where(Provider.code == "LUAT"))
    lan = person(demo, "+84901000009")

    page = _act(admin, case, "note", note="Đã gọi lại chị Hằng", contacted="1")
    assert "Đã gọi lại chị Hằng" in page
    _act(admin, case, "assign", person_id=str(lan.id))
    _act(admin, case, "refer", provider_id=str(provider.id))
    _act(admin, case, "category", category="10")
    page = _act(admin, case, "resolve", note="Đã có giấy tờ")
    demo.expire_all()
    row = demo.get(Case, case.id)
    assert row.status == "resolved" and row.assignee_id == lan.id and row.category == 10
    assert row.first_contact_at is not None and row.followup_due_at is not None
    told = demo.scalars(select(Message.body).where(Message.case_id == case.id,
                                                    Message.phone == HANG)).all()
    assert any("18001233" in b for b in told) and any("da giai quyet" in b for b in told)
    _act(admin, case, "reopen", note="Chị Hằng gọi lại")
    demo.expire_all()
    assert demo.get(Case, case.id).status == "new"
    actions = [a.action for a in demo.scalars(select(AuditLog).order_by(AuditLog.id))]
    for done in ("case_note", "case_assign", "case_refer", "case_category", "case_resolve",
                 "case_reopen"):
        assert done in actions
    kinds = set(demo.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)))
    assert {"note", "assigned", "referred", "recategorized", "resolved", "reopened"} <= kinds


def test_peer_educator_accepts_and_gives_back(as_user, demo):
    case = open_case(demo, HANG)
    mai = as_user("mai")
    _act(mai, case, "accept")
    demo.expire_all()
    assert demo.get(Case, case.id).status == "acknowledged"
    _act(mai, case, "give_back")
    demo.expire_all()
    row = demo.get(Case, case.id)
    assert row.status == "new" and row.escalation_level == 1


def test_refused_actions_say_so_and_change_nothing(as_user, demo):
    case = open_case(demo, HANG)
    admin = as_user("admin")
    assert "Xin viết ghi chú trước" in _act(admin, case, "note", note="  ")
    assert "Thao tác không hợp lệ" in _act(admin, case, "explode")
    assert "Xin chọn một người" in _act(admin, case, "assign", person_id="x")
    member = person(demo, NGA)  # a member cannot take cases
    assert "Người này không nhận được" in _act(admin, case, "assign", person_id=str(member.id))
    assert "Hồ sơ đang mở" in _act(admin, case, "reopen")
    _act(admin, case, "close", status="lost_contact")
    assert "Hồ sơ không còn mở" in _act(admin, case, "close", status="lost_contact")
    demo.expire_all()
    assert demo.get(Case, case.id).status == "lost_contact"
    assert len(_audit(demo, "case_close")) == 1


def test_reading_a_sensitive_case_is_logged_every_time(as_user, demo):
    case = open_case(demo, HANG, category=9)
    admin = as_user("admin")
    admin.get(f"/console/cases/{case.number}")
    admin.get(f"/console/cases/{case.number}")
    assert len(_audit(demo, "read_sensitive")) == 2


@pytest.fixture
def recording(demo, settings):
    case = open_case(demo, HANG, category=3)
    path = media.simulator_dir(settings).parent / "calls" / "RE1.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVEfmt fake sound")
    rec = Recording(gateway="twilio", external_id="RE1", case_id=case.id,
                    media_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                    local_path=str(path), created_at=NOW)
    demo.add(rec)
    demo.commit()
    return rec


def test_recording_is_streamed_behind_login_and_logged(console, as_user, demo, recording):
    assert console.test_client().get(f"/console/recordings/{recording.id}").status_code == 302
    # A violence case of Mai's group: Mai is not trained for it (Hoa, trained, got it).
    with as_user("mai").get(f"/console/recordings/{recording.id}") as response:
        assert response.status_code == 403
    with as_user("admin").get(f"/console/recordings/{recording.id}") as response:
        assert response.status_code == 200
        assert response.data.startswith(b"RIFF") and response.mimetype == "audio/x-wav" or \
            response.mimetype == "audio/wav"
        assert "no-store" in response.headers["Cache-Control"]
    page = as_user("admin").get(f"/console/cases/{demo.get(Case, recording.case_id).number}")
    html = page.get_data(as_text=True)
    assert f"/console/recordings/{recording.id}" in html and "api.twilio.com" not in html
    reads = _audit(demo, "read_sensitive")
    assert any(r.detail.get("what") == f"recording {recording.id}" for r in reads)


def test_recording_without_a_local_file_is_fetched_from_the_provider(
        as_user, demo, recording, monkeypatch):
    recording.local_path = None
    demo.commit()
    seen = {}

    class Upstream:
        status_code = 200
        headers = {"Content-Type": "audio/mpeg"}

        def iter_content(self, size):
            yield b"ID3 mp3 bytes"

        def close(self):
            seen["closed"] = True

    def fake_get(url, **kwargs):
        seen["url"], seen["kwargs"] = url, kwargs
        return Upstream()

    monkeypatch.setattr(media.requests, "get", fake_get)
    with as_user("admin").get(f"/console/recordings/{recording.id}") as response:
        assert response.status_code == 200 and response.data == b"ID3 mp3 bytes"
    assert seen["url"] == recording.media_url and seen["kwargs"]["timeout"]


def test_recording_with_nothing_behind_it_is_404(as_user, demo, recording):
    recording.local_path, recording.media_url = None, ""
    demo.commit()
    assert as_user("admin").get(f"/console/recordings/{recording.id}").status_code == 404


# --------------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------------


def _waiting(db, body="Chị ơi em bị chủ nhà đuổi, không biết đi đâu", phone=NGA):
    msg = create_incoming_msg(db, NOW, phone, body, person=person(db, phone),
                              needs_staff=True)
    db.commit()
    return msg


def test_triage_lists_waiting_messages_and_opens_a_case(as_user, demo):
    msg = _waiting(demo)
    admin = as_user("admin")
    page = admin.get("/console/triage").get_data(as_text=True)
    assert "chủ nhà đuổi" in page
    response = admin.post(f"/console/triage/{msg.id}/case", data={"category": "11"})
    assert response.status_code == 302 and "/console/cases/" in response.headers["Location"]
    demo.expire_all()
    msg = demo.get(Message, msg.id)
    case = demo.get(Case, msg.case_id)
    assert case.category == 11 and case.summary == msg.body and case.channel == "sms"
    assert msg.triaged_at is not None and msg.triaged_by_id is not None
    assert "chủ nhà đuổi" not in admin.get("/console/triage").get_data(as_text=True) \
        .split("Vừa xử lý")[0]
    # The same message cannot be dealt with twice.
    again = admin.post(f"/console/triage/{msg.id}/case", data={"category": "11"})
    assert "đã có người xử lý" in admin.get(again.headers["Location"]).get_data(as_text=True)
    assert len(demo.scalars(select(Case).where(Case.person_id == msg.person_id)).all()) == 1


def test_triage_says_when_the_line_failed_to_act_and_sent_no_answer(as_user, demo):
    failed = _waiting(demo, body="DK Nga CD01")
    failed.error_message = HANDLING_FAILED  # what inbound.give_up leaves
    other = _waiting(demo, body="Em muon gap chi Hoa", phone=HANG)
    demo.commit()
    page = as_user("admin").get("/console/triage").get_data(as_text=True)
    notice = "Tổng đài gặp lỗi khi xử lý tin này và chưa trả lời"
    assert page.count(notice) == 1  # on the failed text's card only
    assert page.index(f'id="m-{failed.id}"') < page.index(notice) < page.index(
        f'id="m-{other.id}"')


def test_triage_answer_goes_through_the_outbox_as_a_reply(as_user, demo):
    msg = _waiting(demo)
    admin = as_user("admin")
    admin.post(f"/console/triage/{msg.id}/answer", data={"text": "Chị gọi 18001233 nhé"})
    out = demo.scalars(select(Message).where(Message.direction == "out",
                                             Message.phone == NGA)).all()
    answer = [m for m in out if "18001233" in m.body]
    assert len(answer) == 1
    assert answer[0].kind == Kind.REPLY and answer[0].body == "Chi goi 18001233 nhe"
    assert answer[0].status == "queued"
    demo.expire_all()
    assert demo.get(Message, msg.id).triaged_at is not None
    assert _audit(demo, "triage_answer")


def test_triage_file_it_and_refusals(as_user, demo):
    msg = _waiting(demo)
    stranger = create_incoming_msg(demo, NOW, "VIETTEL", "KM 50%", needs_staff=True)
    demo.commit()
    admin = as_user("admin")
    admin.post(f"/console/triage/{msg.id}/done")
    response = admin.post(f"/console/triage/{stranger.id}/case", data={"category": "12"})
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "không mở được hồ sơ" in page
    assert admin.post("/console/triage/999999/done").status_code == 404
    demo.expire_all()
    assert demo.get(Message, msg.id).triaged_at is not None
    assert demo.get(Message, stranger.id).triaged_at is None


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------


def test_dashboard_counts(as_user, demo):
    open_case(demo, HANG, emergency=True, now=NOW - timedelta(hours=1))
    open_case(demo, NGA, now=NOW - timedelta(days=2))
    open_case(demo, NAM)
    _waiting(demo)
    create_outgoing_msg(demo, NOW, HANG, "x", gateway="twilio", status="failed",
                        error_code="21211")
    demo.commit()
    page = as_user("dieuphoi").get("/console/dashboard").get_data(as_text=True)
    assert "21211" in page
    import re

    tiles = dict((label.strip(), int(n)) for n, label in re.findall(
        r"<b>(\d+)</b><span>([^<]+)</span>", page))
    assert tiles["Hồ sơ khẩn cấp đang mở"] == 1
    assert tiles["Hồ sơ khác đang mở"] == 2
    assert tiles["Hồ sơ quá hạn chưa ai nhận"] == 2  # the emergency after 15 min, one after 24 h
    assert tiles["Tin nhắn chờ xử lý"] == 1
    assert tiles["Tin gửi lỗi (7 ngày)"] >= 1


def test_changing_a_case_to_violence_moves_it_to_a_trained_person_and_tells_the_other(
        as_user, demo):
    case = open_case(demo, HANG, category=1)  # CD01: Mai, not trained for violence
    mai = person(demo, "+84901000002")
    assert case.assignee_id == mai.id
    _act(as_user("dieuphoi"), case, "category", category="3")
    demo.expire_all()
    row = demo.get(Case, case.id)
    holder = row.assignee
    assert holder.id != mai.id and (holder.trained_violence or holder.role == "coordinator")
    told = demo.scalars(select(Message).where(Message.phone == mai.phone)
                        .order_by(Message.id)).all()
    assert "da chuyen cho nguoi khac" in told[-1].body and str(case.number) in told[-1].body


def test_marking_a_case_an_emergency_starts_the_emergency_path(as_user, demo):
    case = open_case(demo, HANG, category=1)
    _act(as_user("dieuphoi"), case, "category", category="1", emergency="1")
    demo.expire_all()
    row = demo.get(Case, case.id)
    assert row.emergency and row.status == "new"
    assert row.next_action_at == NOW + timedelta(minutes=10)
    urgent = demo.scalars(select(Message).where(Message.case_id == case.id,
                                                Message.kind == Kind.URGENT)).all()
    lan = person(demo, "+84901000009")
    assert lan.phone in {m.phone for m in urgent}  # the coordinator, at once
    assert row.assignee.trained_violence or row.assignee.role == "coordinator"
    kinds = demo.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "emergency_marked" in kinds


def test_find_cases_by_phone_in_any_format_name_number_words_and_ward(as_user, demo):
    from tests.factories import create_person

    lan = create_person(demo, NOW, phone="+84381234567", name="Lò Thị Lan",
                        ward_old="Chương Dương", ward_current="Hồng Hà")
    demo.commit()
    theirs = open_case(demo, lan.phone, summary="Bị thu xe đẩy ở chợ Long Biên")
    other = open_case(demo, HANG, summary="Chủ trọ đòi tăng tiền")
    violence = open_case(demo, HANG, category=3, summary="Chồng đánh")
    coordinator = as_user("dieuphoi")

    def found(**query) -> set[int]:
        page = coordinator.get("/console/cases", query_string={"status": "all", **query})
        return {int(n) for n in re.findall(r'/console/cases/(\d+)"', page.get_data(
            as_text=True))}

    for q in ("01681234567", "0168 123 4567", "+84 38 123 4567", "038.123.4567"):
        assert found(q=q) == {theirs.number}, q  # the number she had before 2018 too
    assert found(q="Lò Thị") == {theirs.number}
    assert found(q="xe đẩy") == {theirs.number} and found(q="tăng tiền") == {other.number}
    assert found(q=str(other.number)) == {other.number}
    assert found(ward="Chương Dương") >= {theirs.number}
    page = coordinator.get("/console/cases?status=all").get_data(as_text=True)
    assert "Lò Thị Lan" in page and "0*** *** 567" in page and "Bị thu xe đẩy" in page
    assert "Chồng đánh" not in page  # a sensitive story is read on its page, audited
    assert violence.number in found()
