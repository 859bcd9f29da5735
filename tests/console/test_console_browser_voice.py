"""A coordinator in a real browser: minutes of a meeting -> the collective issue it raised ->
the forum where it was taken up -> the brief (page and PDF)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from hotline.models import CollectiveIssue, Forum, Meeting, MeetingMinutes
from tests.console import test_console_browser as browser_tests
from tests.console.conftest import HANG, NGA, NOW, group, open_case, shot

pytestmark = browser_tests.pytestmark  # the browser fixtures are in conftest.py


def test_minutes_issue_forum_brief(page_for, server, demo):
    meeting = Meeting(group_id=group(demo, "CD01").id, starts_at=NOW - timedelta(days=2),
                      place="Nha van hoa", created_at=NOW)
    demo.add(meeting)
    demo.commit()
    cases = [open_case(demo, HANG), open_case(demo, NGA)]
    page = page_for("dieuphoi")

    # 1. Minutes, from the list of recent meetings.
    page.click("nav.menu >> text=Biên bản")
    page.click(f"a[href$='/console/meetings/{meeting.id}/minutes']")
    page.check("#minutes-form input[value=TTDT]")
    page.check("#minutes-form input[value=PHAPLY]")
    page.fill("#minutes-form input[name=attended]", "14")
    page.fill("#minutes-form textarea[name=issues_raised]", "Bi thu hang sang thu Ba")
    page.click("#minutes-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    mm = demo.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id))
    assert (mm.topics, mm.attended) == (["TTDT", "PHAPLY"], 14)

    # 2. The collective issue raised there, linked to two cases and the group.
    page.click("text=Ghi một vấn đề chung được nêu ở đây")
    page.fill("#issue-form input[name=title]", "Tuan tra thu hang cho Long Bien thu Ba")
    page.fill("#issue-form input[name=cases]", " ".join(str(c.number) for c in cases))
    page.check(f"#issue-form input[name=groups][value='{group(demo, 'CD01').id}']")
    page.click("#issue-form button[type=submit]")
    page.wait_for_selector("#step-form")
    page.select_option("#step-form select[name=kind]", "letter")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#issue-status")
    assert "Gửi thư tới UBND phường" in page.inner_text("#issue-status")
    demo.expire_all()
    issue = demo.scalar(select(CollectiveIssue))
    assert issue.meeting_id == meeting.id and len(issue.cases) == 2

    # 3. The forum where it was raised, with a follow-up date.
    page.click("nav.menu >> text=Diễn đàn")
    page.fill("#forum-form input[name=title]", "Doi thoai voi UBND phuong Hong Ha")
    page.fill("#forum-form input[name=held_on]", NOW.date().isoformat())
    page.fill("#forum-form input[name=participants_authority]", "3")
    page.fill("#forum-form input[name=participants_media]", "1")
    page.check(f"#forum-form input[name=issues][value='{issue.id}']")
    page.fill("#forum-form textarea[name=commitments]", "Phuong se xem lai lich tuan tra")
    page.fill("#forum-form input[name=follow_up_on]", (NOW + timedelta(days=14)).date().isoformat())
    page.click("#forum-form button[type=submit]")
    page.wait_for_selector("#forums >> text=Doi thoai voi UBND phuong Hong Ha")
    forum = demo.scalar(select(Forum))
    assert forum.participants == {"authority": 3, "media": 1} and forum.follow_up_at

    # 4. The brief shows them, anonymised, and prints.
    page.click("nav.menu >> text=Bản tóm tắt")
    page.wait_for_selector("#brief-matrix")
    assert "Tuan tra thu hang cho Long Bien thu Ba" in page.inner_text("#brief-issues")
    assert "Phuong se xem lai lich tuan tra" in page.inner_text("#brief-forums")
    assert "<5" in page.inner_text("#brief-matrix")  # two cases: too few to show
    assert page.locator("svg.chart").count() >= 1
    shot(page, "brief")
    with page.expect_download() as info:
        page.click("#brief-pdf")
    # Words wrap inside table cells: compare with the whitespace folded.
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(
        Path(info.value.path())).pages).split())
    assert "Doi thoai voi UBND phuong Hong Ha" in text and "Vấn đề chung" in text
