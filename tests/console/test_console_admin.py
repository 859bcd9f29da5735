"""Groups, meetings and attendance, broadcasts, prompts, the service directory, the audit log."""

from __future__ import annotations

import io
import re
import wave
from datetime import timedelta

import pytest
from sqlalchemy import select

from console import prompts
from hotline.models import (
    Attendance,
    AuditLog,
    Broadcast,
    Meeting,
    MeetingReminder,
    Membership,
    Message,
    Provider,
    StaffUser,
)
from tests.console.conftest import HANG, NGA, NOW, group, person


def _audit(db, action):
    return db.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_group_members_and_a_new_group(as_user, demo):
    admin = as_user("admin")
    cd01 = group(demo, "CD01")
    page = admin.get(f"/console/groups/{cd01.id}").get_data(as_text=True)
    assert "Đỗ Thị Hằng" in page and "Trần Thị Mai" in page
    # Someone new joins by phone number, written any way.
    admin.post(f"/console/groups/{cd01.id}/members", data={"phone": "0977 111 222",
                                                          "role": "member"})
    newcomer = person(demo, "+84977111222")
    assert newcomer is not None
    # Nga moves to PT01: she leaves CD01, the history stays.
    pt01 = group(demo, "PT01")
    admin.post(f"/console/groups/{pt01.id}/members", data={"phone": NGA, "role": "deputy"})
    rows = demo.scalars(select(Membership).where(Membership.person_id == person(demo, NGA).id)
                        .order_by(Membership.id)).all()
    assert [(r.group_id, r.left_at is not None) for r in rows] == [(cd01.id, True),
                                                                   (pt01.id, False)]
    assert rows[-1].role == "deputy"
    response = admin.post("/console/groups", data={"code": "pt02", "name": "Nhóm mới",
                                                   "ward_old": "Phúc Tân",
                                                   "ward_current": "Hồng Hà"})
    assert group(demo, "PT02") is not None and "/console/groups/" in response.headers["Location"]
    response = admin.post("/console/groups", data={"code": "PT02", "name": "Trùng mã"})
    assert "Mã này đã có nhóm khác dùng" in admin.get(response.headers["Location"]).get_data(
        as_text=True)
    bad = admin.post(f"/console/groups/{cd01.id}/members", data={"phone": "hello"})
    assert "Không phải số điện thoại" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    assert len(_audit(demo, "member_add")) == 2


def test_meeting_with_reminders_attendance_move_and_cancel(as_user, demo):
    admin = as_user("dieuphoi")
    cd01 = group(demo, "CD01")
    response = admin.post(f"/console/groups/{cd01.id}/meetings", data={
        "date": "2026-03-15", "time": "15:00", "place": "Nhà văn hóa", "topic": "BHYT"})
    meeting = demo.scalar(select(Meeting).where(Meeting.group_id == cd01.id))
    assert response.headers["Location"].endswith(f"/console/meetings/{meeting.id}")
    assert meeting.starts_at.hour == 8  # 15:00 in Hanoi
    assert demo.scalars(select(MeetingReminder).where(
        MeetingReminder.meeting_id == meeting.id)).all()
    page = admin.get(f"/console/meetings/{meeting.id}").get_data(as_text=True)
    assert "Đỗ Thị Hằng" in page
    admin.post(f"/console/meetings/{meeting.id}/move", data={"date": "2026-03-16",
                                                           "time": "16:00"})
    demo.expire_all()
    assert demo.get(Meeting, meeting.id).version == 2
    hang, nga = person(demo, HANG), person(demo, NGA)
    admin.post(f"/console/meetings/{meeting.id}/attendance", data={
        "listed": [str(hang.id), str(nga.id)], "present": [str(hang.id)]})
    rows = {a.person_id: a.attended for a in demo.scalars(select(Attendance))}
    assert rows == {hang.id: True, nga.id: False}
    admin.post(f"/console/meetings/{meeting.id}/cancel")
    demo.expire_all()
    assert demo.get(Meeting, meeting.id).status == "cancelled"
    told = demo.scalars(select(Message).where(Message.phone == HANG,
                                              Message.direction == "out")).all()
    assert told  # the move and the cancellation were told
    for action in ("meeting_add", "meeting_move", "attendance", "meeting_cancel"):
        assert _audit(demo, action), action


def test_broadcast_preview_and_queue(as_user, demo):
    admin = as_user("admin")
    cd01 = group(demo, "CD01")
    text = "Họp nhóm chủ nhật này, mang theo thẻ BHYT nhé"
    page = admin.get("/console/broadcasts", query_string={
        "text": text, "group_id": cd01.id}).get_data(as_text=True)
    assert "Hop nhom chu nhat nay, mang theo the BHYT nhe" in page
    assert 'id="recipients">3<' in page  # Mai, Hằng and Nga in CD01
    assert 'id="parts">1<' in page
    form = {"text": text, "group_id": str(cd01.id), "send": "1"}
    # "Send" shows what will happen and to how many, and sends nothing yet.
    page = admin.post("/console/broadcasts", data=form).get_data(as_text=True)
    assert 'id="confirm"' in page and 'id="confirm-recipients">3 người<' in page
    assert demo.scalar(select(Broadcast)) is None
    # Confirming with a count that is no longer true asks again.
    page = admin.post("/console/broadcasts", data={**form, "send": "confirm",
                                                   "recipients": "6"}).get_data(as_text=True)
    assert 'id="confirm"' in page and demo.scalar(select(Broadcast)) is None
    admin.post("/console/broadcasts", data={**form, "send": "confirm", "recipients": "3"})
    broadcast = demo.scalar(select(Broadcast))
    assert broadcast.segment == {"group_id": str(cd01.id)} and broadcast.status == "scheduled"
    assert _audit(demo, "broadcast")
    page = admin.get("/console/broadcasts").get_data(as_text=True)
    assert "Họp nhóm chủ nhật" in page
    admin.post(f"/console/broadcasts/{broadcast.id}/cancel")
    demo.expire_all()
    assert demo.get(Broadcast, broadcast.id).status == "cancelled"
    response = admin.post("/console/broadcasts", data={"text": " ", "send": "1"})
    assert response.status_code == 400 and "Xin viết tin nhắn trước" in response.get_data(
        as_text=True)


@pytest.mark.parametrize("send_at", ["0001-01-01T00:00", "9999-12-31T23:59", "2026-13-01T10:00",
                                     "tomorrow"])
def test_a_broadcast_with_a_bad_time_is_refused_not_sent_now(as_user, demo, send_at):
    form = {"text": "Họp nhóm", "group_id": str(group(demo, "CD01").id), "send": "confirm",
            "recipients": "3", "send_at": send_at}
    response = as_user("admin").post("/console/broadcasts", data=form)
    assert response.status_code == 400
    assert "Gửi lúc (để trống: gửi ngay): chọn ngày từ 2000-01-01" in response.get_data(
        as_text=True)
    assert demo.scalar(select(Broadcast)) is None


def test_broadcast_cost_uses_the_sms_price_setting(console, demo):
    from hotline.config import Settings
    from tests.console.conftest import sign_in

    assert Settings.from_env({}).sms_price_vnd == 350
    assert Settings.from_env({"HOTLINE_SMS_PRICE_VND": "500"}).sms_price_vnd == 500
    cd01 = group(demo, "CD01")
    query = {"text": "Hop nhom chu nhat", "group_id": cd01.id}
    admin = sign_in(console.test_client(), "admin")
    page = admin.get("/console/broadcasts", query_string=query).get_data(as_text=True)
    assert "<dd>1.050 đ</dd>" in page  # 3 people, 1 part each, 350 đ: as Vietnamese writes it
    rt = console.extensions["hotline"]
    rt.settings = rt.settings.replace(sms_price_vnd=500)
    page = admin.get("/console/broadcasts", query_string=query).get_data(as_text=True)
    assert "<dd>1.500 đ</dd>" in page
    admin.post("/console/lang", data={"lang": "en", "next": "/console/broadcasts"})
    page = admin.get("/console/broadcasts", query_string=query).get_data(as_text=True)
    assert "<dd>1,500 VND</dd>" in page  # and as English does


def test_service_directory(as_user, demo):
    admin = as_user("admin")
    admin.post("/console/providers", data={"code": "tt", "name": "Trung tâm trợ giúp",
                                           "phone": "024 0000 000", "active": "1"})
    provider = demo.scalar(select(Provider).where(Provider.code == "TT"))
    assert provider.name == "Trung tâm trợ giúp"
    admin.post(f"/console/providers/{provider.id}", data={"code": "TT", "name": "Đổi tên",
                                                          "active": "0"})
    demo.expire_all()
    assert demo.get(Provider, provider.id).name == "Đổi tên"
    assert not demo.get(Provider, provider.id).active
    response = admin.post("/console/providers", data={"code": "LUAT", "name": "Trùng"})
    assert "Mã này đã có nơi hỗ trợ khác dùng" in admin.get(
        response.headers["Location"]).get_data(as_text=True)
    assert {a.action for a in demo.scalars(select(AuditLog))} >= {"provider_add",
                                                                  "provider_edit"}
    # Peer educators read the directory, without the forms.
    page = as_user("hoa").get("/console/providers").get_data(as_text=True)
    assert "1800 1233" in page and 'action="/console/providers"' not in page


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


def test_prompts_list_listen_and_upload(as_user, demo, settings):
    admin = as_user("admin")
    page = admin.get("/console/prompts").get_data(as_text=True)
    assert "main_menu" in page and "máy đọc khi gọi" in page
    response = admin.post("/console/prompts/main_menu/upload", data={
        "file": (io.BytesIO(_wav()), "main_menu.wav")}, content_type="multipart/form-data")
    assert response.status_code == 302
    _, recorded = prompts.dirs(settings)
    assert (recorded / "main_menu.wav").read_bytes().startswith(b"RIFF")
    with admin.application.app_context():  # the menu's prompt keys come from the app
        found = prompts.find(settings, "main_menu")
    assert found.source == "recorded"
    with admin.get("/console/prompts/main_menu/audio") as audio:
        assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    # The voice line plays the new recording.
    with admin.get("/ivr/audio/main_menu.wav") as served:
        assert served.status_code == 200
    # Not a sound file, or a key that is no prompt: refused.
    bad = admin.post("/console/prompts/welcome/upload", data={
        "file": (io.BytesIO(b"<html>"), "welcome.mp3")}, content_type="multipart/form-data")
    assert "không phải tệp âm thanh" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    assert admin.post("/console/prompts/no_such_key/upload").status_code == 404
    assert admin.post("/console/prompts/..%2Fx/upload").status_code == 404
    admin.post("/console/prompts/main_menu/remove")
    assert not (recorded / "main_menu.wav").exists()
    assert [a.action for a in demo.scalars(select(AuditLog).where(
        AuditLog.object_type == "prompt"))] == ["prompt_upload", "prompt_remove"]


def test_audit_log_page_filters(as_user, demo):
    admin = as_user("admin")
    as_user("hoa")
    page = admin.get("/console/audit?action=login&user=hoa").get_data(as_text=True)
    assert ">hoa<" in page and ">admin<" not in page
    assert as_user("dieuphoi").get("/console/audit").status_code == 200


def test_dashboard_heartbeat(as_user, demo):
    from hotline.models import SchedulerState

    demo.add(SchedulerState(name="scheduler", holder="x", heartbeat_at=NOW - timedelta(seconds=3)))
    demo.commit()
    page = as_user("admin").get("/console/dashboard").get_data(as_text=True)
    assert "3 s" in page and "đang chạy" in page


@pytest.mark.parametrize("segment", [
    {"group_id": "abc"}, {"group_id": "-1"}, {"group_id": "99999"}, {"group_id": "١"},
    {"age_band": "1-200"}, {"sex": "Q"}])
def test_a_broadcast_segment_that_selects_no_one_is_refused(as_user, demo, segment):
    from sqlalchemy import func

    from hotline.models import Broadcast

    admin = as_user("admin")
    preview = admin.get("/console/broadcasts", query_string={"text": "Hop nhom", **segment})
    assert preview.status_code == 400
    assert "Xin chọn" in preview.get_data(as_text=True)
    sent = admin.post("/console/broadcasts", data={"text": "Hop nhom", "send": "1", **segment})
    assert sent.status_code == 400
    assert demo.scalar(select(func.count(Broadcast.id))) == 0
def test_leaving_a_group_asks_first(as_user, demo):
    admin = as_user("dieuphoi")
    cd01 = group(demo, "CD01")
    hang = person(demo, "+84912000001")
    membership = demo.scalar(select(Membership).where(Membership.person_id == hang.id))
    url = f"/console/groups/{cd01.id}/members/{membership.id}/leave"
    page = admin.post(url).get_data(as_text=True)
    assert 'id="confirm"' in page and "Đỗ Thị Hằng" in page and "không nhận nhắc lịch họp" in page
    demo.expire_all()
    assert membership.left_at is None and not _audit(demo, "member_leave")
    assert admin.post(url, data={"confirm": "1"}).status_code == 302
    demo.expire_all()
    assert membership.left_at is not None and _audit(demo, "member_leave")
    assert admin.post(url, data={"confirm": "1"}).status_code == 404  # already left


def test_prompts_in_call_order_with_who_recorded_them(as_user, demo):
    admin = as_user("admin")
    page = admin.get("/console/prompts").get_data(as_text=True)
    rows = re.findall(r'<tr id="p-([a-z0-9_]+)"', page)
    assert rows[0] == "welcome"
    assert rows.index("main_menu") < rows.index("info_menu") < rows.index("info_bhyt")
    assert rows.index("info_bhyt") < rows.index("goodbye")
    assert "espeak" not in page.replace("src-", "") and "giọng máy" in page
    admin.post("/console/prompts/main_menu/upload", data={
        "file": (io.BytesIO(_wav()), "main_menu.wav")}, content_type="multipart/form-data")
    page = admin.get("/console/prompts").get_data(as_text=True)
    row = page[page.index('id="p-main_menu"'):]
    row = row[:row.index("</tr>")]
    admin_user = demo.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    assert f"{admin_user.name or 'admin'} thu âm" in row


def test_group_members_in_national_format_with_preferred_names(as_user, demo):
    hang = person(demo, HANG)
    hang.preferred_name = "Hằng nhỏ"
    demo.commit()
    page = as_user("dieuphoi").get(f"/console/groups/{group(demo, 'CD01').id}").get_data(
        as_text=True)
    row = page[page.index("Đỗ Thị Hằng"):]
    row = row[:row.index("</tr>")]
    assert "(Hằng nhỏ)" in row and "0912 000 001" in row and "+84912000001" not in row


def test_broadcast_preview_shows_the_voice_calls_minutes_and_their_cost(console, demo):
    from tests.console.conftest import sign_in

    person(demo, HANG).notify_channel = "voice"
    demo.commit()
    cd01 = group(demo, "CD01")
    admin = sign_in(console.test_client(), "admin")
    page = admin.get("/console/broadcasts", query_string={
        "text": "Hop nhom chu nhat", "group_id": cd01.id}).get_data(as_text=True)
    assert '<dd id="calls">1</dd>' in page and '<dd id="call-minutes">1</dd>' in page
    assert '<dd id="call-cost">4.000 đ</dd>' in page
