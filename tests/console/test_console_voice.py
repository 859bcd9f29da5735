"""Console pages for minutes, collective issues, forums and press: who may, what is saved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.models import CollectiveIssue, Forum, Meeting, MeetingMinutes, PressItem
from tests.console.conftest import HANG, NGA, NOW, group, open_case
from tests.factories import create_meeting


def _meeting(db, code="CD01", starts=NOW - timedelta(hours=3)) -> Meeting:
    m = create_meeting(db, NOW, group(db, code), starts_at=starts)
    db.commit()
    return m


def _post(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_peer_educator_writes_minutes_of_her_own_groups_only(as_user, demo):
    mine, other = _meeting(demo, "CD01"), _meeting(demo, "CD02")
    mai = as_user("mai")
    listing = mai.get("/console/minutes").get_data(as_text=True)
    assert f"/console/meetings/{mine.id}/minutes" in listing
    assert f"/console/meetings/{other.id}/minutes" not in listing
    page = _post(mai, f"/console/meetings/{mine.id}/minutes", {
        "topics": ["TTDT", "BHYT"], "attended": "14", "decisions": "Gui thu len phuong",
        "issues_raised": "Bi thu hang thu Ba", "notes": ""})
    assert "Đã lưu" in page
    mm = demo.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == mine.id))
    assert (mm.topics, mm.attended, mm.source) == (["TTDT", "BHYT"], 14, "console")
    assert mai.get(f"/console/meetings/{other.id}/minutes").status_code == 403
    assert mai.post(f"/console/meetings/{other.id}/minutes",
                    data={"topics": "BHYT"}).status_code == 403
    assert as_user("xem").get("/console/minutes").status_code == 403


def test_bad_minutes_are_refused_with_a_message(as_user, demo):
    m = _meeting(demo)
    client = as_user("dieuphoi")
    page = _post(client, f"/console/meetings/{m.id}/minutes", {"attended": "12"})
    assert "Chọn ít nhất một chủ đề" in page
    page = _post(client, f"/console/meetings/{m.id}/minutes",
                 {"topics": "BHYT", "attended": "many"})
    assert "Nhập số người" in page
    assert demo.scalar(select(MeetingMinutes)) is None
    assert client.get("/console/meetings/999999/minutes").status_code == 404


def test_collective_issue_list_shows_status_and_age(as_user, demo):
    a, b = open_case(demo, HANG), open_case(demo, NGA)
    client = as_user("dieuphoi")
    response = client.post("/console/issues", data={
        "title": "Tuan tra thu hang o cho Long Bien thu Ba", "category": "1",
        "raised_on": (NOW - timedelta(days=12)).date().isoformat(),
        "cases": f"{a.number} {b.number}", "groups": [str(group(demo, "CD01").id)]})
    assert response.status_code == 302
    issue = demo.scalar(select(CollectiveIssue))
    assert response.headers["Location"].endswith(f"/console/issues/{issue.id}")
    page = _post(client, f"/console/issues/{issue.id}/steps",
                 {"kind": "letter", "on": NOW.date().isoformat(), "note": "Thu so 12"})
    assert "Gửi thư tới UBND phường" in page
    listing = client.get("/console/issues").get_data(as_text=True)
    assert 'data-status="letter"' in listing and '<td class="num age">12</td>' in listing
    assert "CD01" in listing
    assert client.get("/console/issues?status=resolved").get_data(as_text=True).count(
        'data-status=') == 0
    page = _post(client, f"/console/issues/{issue.id}/steps", {"kind": "letter", "on": "x"})
    assert "Nhập ngày hợp lệ" in page
    assert as_user("mai").get("/console/issues").status_code == 403


def test_forum_and_press_pages(as_user, demo):
    client = as_user("dieuphoi")
    _post(client, "/console/issues", {"title": "Thu hang"})
    issue = demo.scalar(select(CollectiveIssue))
    page = _post(client, "/console/forums", {
        "title": "Doi thoai voi UBND phuong", "held_on": NOW.date().isoformat(),
        "participants_authority": "2", "participants_media": "1",
        "issues": [str(issue.id)], "commitments": "Xem lai lich tuan tra",
        "follow_up_on": (NOW + timedelta(days=14)).date().isoformat()})
    assert "Doi thoai voi UBND phuong" in page and "Chính quyền: 2" in page
    forum = demo.scalar(select(Forum))
    assert forum.follow_up_at is not None
    page = _post(client, "/console/press", {
        "outlet": "Lao Dong", "published_on": NOW.date().isoformat(),
        "headline": "Nguoi ban rong bi thu hang", "url": "https://laodong.vn/x",
        "categories": ["1", "5"], "issue_id": str(issue.id), "tone": "negative"})
    assert "Nguoi ban rong bi thu hang" in page
    page = _post(client, "/console/press", {"outlet": "X", "published_on": "2026-01-01",
                                            "headline": "Y", "url": "javascript:alert(1)"})
    assert "Đường dẫn bắt đầu" in page
    assert len(demo.scalars(select(PressItem)).all()) == 1

    def listed(query):
        return "Nguoi ban rong bi thu hang" in client.get("/console/press" + query).get_data(
            as_text=True)

    assert listed("?category=5") and not listed("?category=7")
    assert listed("?tone=negative") and not listed("?tone=positive")
    assert listed(f"?issue={issue.id}") and listed("?outlet=lao")
    assert not listed("?from=2027-01-01") and listed("?tone=nonsense&category=x")


def test_bad_forum_and_press_values_are_form_errors(as_user, demo):
    client = as_user("dieuphoi")
    forum = {"title": "Doi thoai", "held_on": NOW.date().isoformat()}
    for bad, message in (({"held_on": "9999-12-31"}, "Nhập ngày hợp lệ"),
                         ({"participants_media": "-2"}, "Nhập số người"),
                         ({"participants_member": str(2**40)}, "Nhập số người"),
                         ({"issues": ["1", "x"]}, "phải là số nguyên"),
                         ({"title": "Doi\x00thoai"}, "hãy bỏ các ký tự điều khiển")):
        assert message in _post(client, "/console/forums", {**forum, **bad}), bad
    assert demo.scalar(select(Forum)) is None
    page = _post(client, "/console/press", {"outlet": "X", "headline": "Y",
                                            "published_on": "0001-01-01"})
    assert "Nhập ngày hợp lệ" in page and demo.scalar(select(PressItem)) is None
