"""A coordinator's day and a peer educator's day, in Debian's chromium.

The coordinator (desktop) finds a member by the 11-digit number she had before 2018, sees
her failed callback and her BHYT card's end, moves a meeting from the prefilled form,
confirms a broadcast after seeing how many it goes to, and reads the audit log in
Vietnamese. The peer educator works her case on a 390 px phone, nothing sticking out.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hotline.clock import local
from hotline.models import Broadcast, Meeting
from hotline.services import calls, meetings
from tests.console.conftest import CHROMIUM, NAM, NOW, group, open_case, shot
from tests.console.test_console_layout import fits
from tests.console.test_console_words import untranslated, visible_text
from tests.factories import create_person, join

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed")]


def test_a_coordinators_day(page_for, server, demo):
    lan = create_person(demo, NOW, phone="+84381234567", name="Lò Thị Lan",  # was 0168...
                        registered_at=NOW, bhyt_expires_on=date(2026, 4, 30))
    join(demo, NOW, lan, group(demo, "CD01"))
    callback = calls.queue_callback(demo, NOW - timedelta(hours=3), lan.phone, lan,
                                    reason="missed_call")
    callback.attempts = calls.MAX_ATTEMPTS
    callback.note = f"attempt {calls.MAX_ATTEMPTS}: no-answer"
    calls.settle(callback, "no-answer", NOW - timedelta(hours=1))
    meeting = meetings.create(demo, NOW, group(demo, "CD01"), NOW + timedelta(days=4),
                              place="Nhà văn hóa tổ 5")
    demo.commit()
    page = page_for("dieuphoi")

    # Find her by the number she gave years ago.
    page.click("nav.menu a[href$='/console/people']")
    page.fill("input[name=q]", "0168 123 4567")
    page.press("input[name=q]", "Enter")
    page.click("a:text-is('Lò Thị Lan')")
    page.wait_for_selector("#bhyt")
    assert page.inner_text("#bhyt") == "30/04/2026"
    row = page.locator(f"table.callbacks tr[data-id='{callback.id}']")
    assert "Thất bại: không ai nghe máy" in row.inner_text() and "Nháy máy" in row.inner_text()
    shot(page, "day-coordinator-person")

    # Move the meeting: the form starts from its time; change only the hour.
    page.goto(f"{server}/console/meetings/{meeting.id}")
    starts = local(meeting.starts_at)
    form = "form[action$='/move']"
    assert page.input_value(f"{form} input[name=date]") == starts.strftime("%Y-%m-%d")
    assert page.input_value(f"{form} input[name=time]") == starts.strftime("%H:%M")
    page.fill(f"{form} input[name=time]", "16:30")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".flash")
    demo.expire_all()
    moved = local(demo.get(Meeting, meeting.id).starts_at)
    assert (moved.date(), moved.strftime("%H:%M")) == (starts.date(), "16:30")

    # A broadcast to CD01: the send button only asks; the confirmation says to how many.
    page.click("nav.menu a[href$='/console/broadcasts']")
    page.fill("textarea[name=text]", "Họp nhóm thứ bảy, mang thẻ BHYT")
    page.select_option("select[name=group_id]", str(group(demo, "CD01").id))
    page.click("button[name=send][value='0']")
    page.click("button[name=send][value='1']")
    page.wait_for_selector("#confirm")
    assert page.inner_text("#confirm-recipients") == "4 người"  # Mai, Hằng, Nga and Lan
    assert demo.scalar(select(Broadcast)) is None
    shot(page, "day-coordinator-broadcast-confirm")
    page.click("#confirm button[value=confirm]")
    page.wait_for_selector(".flash.ok")
    demo.expire_all()
    broadcast = demo.scalar(select(Broadcast))
    assert broadcast.segment == {"group_id": str(group(demo, "CD01").id)}
    assert broadcast.status == "scheduled"

    # The audit log, in Vietnamese, of what she did.
    page.click("nav.menu a[href$='/console/audit']")
    log = page.inner_text("#audit")
    for words in ("Dời lịch họp", "Gửi tin nhắn hàng loạt", "Đăng nhập"):
        assert words in log, words
    assert not untranslated(visible_text(page.content()), "vi")
    shot(page, "day-coordinator-audit")


def test_a_peer_educators_day_on_a_phone(page_for, server, demo):
    case = open_case(demo, NAM, summary="Bị thu xe hàng ở chợ Long Biên")  # Hoa's group
    page = page_for("hoa", mobile=True)
    assert page.url.endswith("/console/cases")
    fits(page)
    page.click(f"#case-list a:text-is('{case.number}')")
    page.wait_for_selector("#assignee")
    fits(page)
    accept = page.locator("button[name=accept]")
    if accept.count():
        accept.click()
        page.wait_for_selector(".flash")
    note = page.locator("form[action$='/note']")
    assert not note.locator("input[name=contacted]").is_checked()  # nobody ticks it for her
    note.locator("textarea[name=note]").fill("Đã gọi chị, hẹn gặp ở chợ chiều nay")
    note.locator("input[name=contacted]").check()
    note.locator("button[type=submit]").click()
    page.wait_for_selector(".timeline:has-text('hẹn gặp ở chợ')")
    fits(page)
    page.fill("#resolve-form textarea[name=note]", "Đã lấy lại xe hàng")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector(".badge.s-resolved")
    fits(page)
    shot(page, "day-peer-educator-phone")
    demo.expire_all()
    assert case.status == "resolved" and case.first_contact_at is not None
