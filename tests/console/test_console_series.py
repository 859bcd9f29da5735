"""Recurring meetings on a group's page: create a series, see it and what is ahead, stop it;
single meetings moved and cancelled through the meetings service; RSVPs beside each member."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from hotline.models import (
    Attendance,
    AuditLog,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    Message,
)
from hotline.services import groups as group_service
from hotline.services import meetings as meeting_service
from scheduler import jobs
from tests.console.conftest import HANG, NGA, NOW, group, person

# NOW is Tuesday 10 March 2026, 10:00 in Hanoi. Second Sundays ahead: 12 April and 10 May
# (8 March has passed); the planner looks 62 days ahead, to 11 May.
SECOND_SUNDAY = {"kind": "monthly", "nth": "2", "weekday": "6", "time": "15:00",
                 "place": "Nhà văn hóa tổ 5", "topic": "BHXH tự nguyện"}


@pytest.fixture
def coordinator(as_user):
    return as_user("dieuphoi")


def _series(db) -> list[MeetingSeries]:
    db.expire_all()
    return list(db.scalars(select(MeetingSeries).order_by(MeetingSeries.id)))


def _meetings(db, series) -> list[Meeting]:
    return list(db.scalars(select(Meeting).where(Meeting.series_id == series.id)
                           .order_by(Meeting.starts_at)))


def _notices(db, meeting, key: str) -> list[Message]:
    return list(db.scalars(select(Message).where(
        Message.idempotency_key.like(f"meeting:{meeting.id}:%:{key}:%"))))


def test_a_monthly_series_on_the_second_sunday(coordinator, demo):
    cd01 = group(demo, "CD01")
    response = coordinator.post(f"/console/groups/{cd01.id}/series", data=SECOND_SUNDAY)
    assert response.status_code == 302 and response.headers["Location"].endswith("#series")
    [series] = _series(demo)
    assert (series.rule, series.local_time, series.active) == ("monthly:2:6", time(15), True)
    assert series.place == "Nhà văn hóa tổ 5" and series.starts_on == date(2026, 3, 10)
    meetings = _meetings(demo, series)
    assert [m.occurrence for m in meetings] == [date(2026, 4, 12), date(2026, 5, 10)]
    assert all(m.starts_at.hour == 8 for m in meetings)  # 15:00 in Hanoi
    reminders = demo.scalar(select(func.count(MeetingReminder.id)).where(
        MeetingReminder.meeting_id.in_([m.id for m in meetings])))
    assert reminders == 4  # a day before and two hours before, each
    entry = demo.scalar(select(AuditLog).where(AuditLog.action == "series_add"))
    assert entry.object_id == str(series.id) and entry.detail["rule"] == "monthly:2:6"
    assert entry.actor == "dieuphoi"

    page = coordinator.get(f"/console/groups/{cd01.id}").get_data(as_text=True)
    assert "Chủ nhật thứ hai hằng tháng, 15:00" in page
    assert "12/04/2026 15:00" in page and "10/05/2026 15:00" in page
    assert "Dừng lịch họp định kỳ" in page
    meeting = coordinator.get(f"/console/meetings/{meetings[0].id}").get_data(as_text=True)
    assert "Một buổi của lịch họp định kỳ" in meeting and "Chủ nhật thứ hai hằng tháng" in meeting
    # The planner job keeps it going without doubles.
    rt = coordinator.application.extensions["hotline"]
    jobs.plan_meetings(rt, NOW + timedelta(days=40))
    assert [m.occurrence for m in _meetings(demo, series)] == [
        date(2026, 4, 12), date(2026, 5, 10), date(2026, 6, 14)]


@pytest.mark.parametrize(("form", "words", "english"), [
    ({"kind": "weekly", "weekday": "5"}, "Thứ Bảy hằng tuần", "Every Saturday"),
    ({"kind": "monthly", "nth": "-1", "weekday": "0"}, "Thứ Hai cuối cùng hằng tháng",
     "The last Monday of every month"),
    ({"kind": "monthly", "nth": "1", "weekday": "2"}, "Thứ Tư thứ nhất hằng tháng",
     "The first Wednesday of every month"),
])
def test_series_rules_in_words(coordinator, demo, form, words, english):
    cd02 = group(demo, "CD02")
    coordinator.post(f"/console/groups/{cd02.id}/series", data={**form, "time": "08:30"})
    page = coordinator.get(f"/console/groups/{cd02.id}").get_data(as_text=True)
    assert f"{words}, 08:30" in page
    coordinator.post("/console/lang", data={"lang": "en"})
    page = coordinator.get(f"/console/groups/{cd02.id}").get_data(as_text=True)
    assert f"{english}, 08:30" in page


def test_weekly_series_from_a_later_day(coordinator, demo):
    pt01 = group(demo, "PT01")
    coordinator.post(f"/console/groups/{pt01.id}/series", data={
        "kind": "weekly", "weekday": "5", "time": "09:00", "starts_on": "2026-04-01"})
    [series] = _series(demo)
    days = [m.occurrence for m in _meetings(demo, series)]
    assert days[0] == date(2026, 4, 4) and all(d.weekday() == 5 for d in days)
    assert days[-1] <= date(2026, 5, 11)


@pytest.mark.parametrize("form", [
    {"kind": "yearly", "weekday": "6"},
    {"kind": "monthly", "nth": "5", "weekday": "6"},
    {"kind": "weekly", "weekday": "7"},
    {"kind": "weekly", "weekday": "x"},
    {"kind": "weekly", "weekday": "1", "time": "25:00"},
])
def test_a_series_form_that_means_nothing_is_refused(coordinator, demo, form):
    cd01 = group(demo, "CD01")
    response = coordinator.post(f"/console/groups/{cd01.id}/series", data=form)
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Xin chọn lịch họp của nhóm." in page or "Xin nhập ngày và giờ họp." in page
    assert _series(demo) == []


def test_stopping_a_series_cancels_what_is_ahead_and_tells_members_once(coordinator, demo):
    cd01 = group(demo, "CD01")
    coordinator.post(f"/console/groups/{cd01.id}/series", data=SECOND_SUNDAY)
    [series] = _series(demo)
    first, second = _meetings(demo, series)
    # One meeting of the series was already held: stopping leaves it alone.
    held = Meeting(group_id=cd01.id, series_id=series.id, occurrence=date(2026, 3, 8),
                   starts_at=NOW - timedelta(days=2), status="held", created_at=NOW)
    demo.add(held)
    demo.commit()

    response = coordinator.post(f"/console/series/{series.id}/stop")
    assert response.status_code == 302
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 buổi họp sắp tới đã hủy" in page and "Đã dừng" in page
    assert "Dừng lịch họp định kỳ</button>" not in page
    demo.expire_all()
    assert not demo.get(MeetingSeries, series.id).active
    assert [demo.get(Meeting, m.id).status for m in (first, second)] == ["cancelled"] * 2
    assert demo.get(Meeting, held.id).status == "held"
    assert not demo.scalars(select(MeetingReminder).where(
        MeetingReminder.meeting_id.in_([first.id, second.id]),
        MeetingReminder.status == "pending")).all()
    # Each texting member (Mai, Hằng, Nga) is told once, for the whole series.
    for meeting in (first, second):
        assert _notices(demo, meeting, "meeting_cancelled") == []
    stopped = demo.scalars(select(Message).where(
        Message.idempotency_key.like(f"series:{series.id}:stopped:%"))).all()
    assert sorted(m.phone for m in stopped) == sorted([HANG, NGA, "+84901000002"])
    # Again: refused, nobody told twice; the planner plans nothing more.
    response = coordinator.post(f"/console/series/{series.id}/stop")
    assert "đã dừng rồi" in coordinator.get(response.headers["Location"]).get_data(as_text=True)
    rt = coordinator.application.extensions["hotline"]
    jobs.plan_meetings(rt, NOW + timedelta(days=40))
    assert len(demo.scalars(select(Message).where(
        Message.idempotency_key.like(f"series:{series.id}:stopped:%"))).all()) == 3
    assert len(_meetings(demo, series)) == 3
    entry = demo.scalar(select(AuditLog).where(AuditLog.action == "series_stop"))
    assert entry.detail["cancelled"] == 2
    assert coordinator.post("/console/series/999999/stop").status_code == 404


def test_single_meetings_go_through_the_meetings_service(coordinator, demo, monkeypatch):
    """Moving, cancelling and taking attendance in the console use meetings.move, .cancel and
    .record_attendance (reminders follow, members told once, counts kept for reports)."""
    seen = []
    for name in ("move", "cancel", "record_attendance"):
        real = getattr(meeting_service, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(meeting_service, name, spy)
    cd01 = group(demo, "CD01")
    coordinator.post(f"/console/groups/{cd01.id}/series", data=SECOND_SUNDAY)
    [series] = _series(demo)
    first, second = _meetings(demo, series)

    coordinator.post(f"/console/meetings/{first.id}/move", data={
        "date": "2026-04-11", "time": "16:00", "place": "Chợ Long Biên"})
    demo.expire_all()
    moved = demo.get(Meeting, first.id)
    assert (moved.version, moved.place, moved.occurrence) == (2, "Chợ Long Biên",
                                                              date(2026, 4, 12))
    assert moved.series_id == series.id and moved.starts_at.hour == 9
    assert len(_notices(demo, moved, "meeting_moved")) == 3
    coordinator.post(f"/console/meetings/{second.id}/cancel")
    hang, nga = person(demo, HANG), person(demo, NGA)
    coordinator.post(f"/console/meetings/{first.id}/attendance", data={
        "listed": [str(hang.id), str(nga.id)], "present": [str(hang.id)]})
    assert seen == ["move", "cancel", "record_attendance", "record_attendance"]
    # The planner does not bring the cancelled meeting back.
    jobs.plan_meetings(coordinator.application.extensions["hotline"], NOW)
    demo.expire_all()
    assert demo.get(Meeting, second.id).status == "cancelled"
    assert len(_meetings(demo, series)) == 2


def test_rsvp_answers_show_beside_each_member(coordinator, demo):
    cd01 = group(demo, "CD01")
    coordinator.post(f"/console/groups/{cd01.id}/meetings", data={
        "date": "2026-03-15", "time": "15:00", "place": "Nhà văn hóa"})
    meeting = demo.scalar(select(Meeting).where(Meeting.group_id == cd01.id))
    hang, nga = person(demo, HANG), person(demo, NGA)
    group_service.rsvp(demo, NOW, hang, meeting.id, attending=True)
    group_service.rsvp(demo, NOW, nga, meeting.id, attending=False)
    demo.commit()
    page = coordinator.get(f"/console/meetings/{meeting.id}").get_data(as_text=True)
    rows = {name: page.split(name, 1)[1].split("</tr>", 1)[0]
            for name in ("Đỗ Thị Hằng", "Vũ Thị Nga", "Trần Thị Mai")}
    assert "Trả lời: Sẽ đến" in rows["Đỗ Thị Hằng"]
    assert "Trả lời: Không đến" in rows["Vũ Thị Nga"]
    assert "Trả lời" not in rows["Trần Thị Mai"]
    # Taking attendance keeps the answers.
    coordinator.post(f"/console/meetings/{meeting.id}/attendance", data={
        "listed": [str(hang.id), str(nga.id)], "present": [str(nga.id)]})
    demo.expire_all()
    answers = {a.person_id: (a.rsvp, a.attended) for a in demo.scalars(select(Attendance))}
    assert answers == {hang.id: ("yes", False), nga.id: ("no", True)}


def test_peer_educators_and_viewers_cannot_touch_series(as_user, demo):
    cd01 = group(demo, "CD01")
    for username in ("hoa", "xem"):
        client = as_user(username)
        assert client.post(f"/console/groups/{cd01.id}/series",
                           data=SECOND_SUNDAY).status_code == 403
    as_user("admin").post(f"/console/groups/{cd01.id}/series", data=SECOND_SUNDAY)
    [series] = _series(demo)
    assert as_user("mai").post(f"/console/series/{series.id}/stop").status_code == 403
    demo.expire_all()
    assert demo.get(MeetingSeries, series.id).active
