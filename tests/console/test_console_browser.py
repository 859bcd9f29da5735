"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

A real server (werkzeug, in a thread) serves the app on the test database. The tests sign in,
text DK and KN from the phone simulator and read the replies, call the voice menu and report a
problem, find the new case, assign and resolve it, see a peer educator refused another group's
case, export a report, and save screenshots of the main pages to tests/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.models import Case, CaseStatus
from tests.console.conftest import CALLER, HANG, open_case, shot

# Debian's chromium comes with `make system-deps`: never skipped for a missing package.
pytestmark = [pytest.mark.browser]


def _wait_for_gather(page) -> str:
    """Wait until the simulated phone waits for keys; the key of the prompt it plays."""
    page.wait_for_selector("#call-state[data-state=gather]")
    return page.locator("#sim-prompts li.prompt").last.get_attribute("data-key") or ""


def _press(page, key: str) -> None:
    page.click(f'#keypad .key[data-key="{key}"]')


def _past_consent(page, key: str) -> str:
    """A first call asks her consent (1: yes) and how she is told (2: SMS, as before):
    answer both when asked; the key of the prompt after them."""
    if key == "consent_ask":
        _press(page, "1")
        assert _wait_for_gather(page) == "channel_offer_ask"
        _press(page, "2")
        key = _wait_for_gather(page)
    return key


def test_sign_in_text_call_and_work_the_case(page_for, server, demo):
    page = page_for("admin")
    assert page.url.endswith("/console/dashboard")
    shot(page, "dashboard")

    # Text the line from a phone it has never seen.
    page.goto(server + "/console/simulator?fast=1")
    page.fill("#sim-phone", CALLER)
    page.fill("#sim-text", "DK")
    page.click("#sim-send")
    page.wait_for_selector("#sim-inbox li:has-text('DONGY')")
    page.fill("#sim-text", "KN bi thu hang")
    page.click("#sim-send")
    reply = page.wait_for_selector("#sim-inbox li:has-text('so ho so')")
    sms_case = int(re.search(r"so ho so cua chi/anh la (\d+)", reply.inner_text()).group(1))
    shot(page, "simulator-sms")

    # Call the voice menu and report a problem: keys as Twilio's <Gather> wants them.
    page.click("#sim-call")
    key = _wait_for_gather(page)
    key = _past_consent(page, key)
    assert key == "main_menu"
    _press(page, "2")
    # The first page of complaint numbers (read one prompt after another).
    assert _wait_for_gather(page) in ("report_menu", "category_1", "category_2", "category_3",
                                      "category_4", "report_more")
    _press(page, "1")
    _press(page, "#")  # the number keyed, as after KN 1
    page.wait_for_selector("#call-state[data-state=record]")
    shot(page, "simulator-call-recording")
    _press(page, "#")
    page.wait_for_selector("#sim-prompts li[data-key=case_created_end]")
    spoken = page.locator("#sim-prompts li[data-key^=digit_]").evaluate_all(
        "items => items.map(li => li.dataset.key.slice(-1)).join('')")
    voice_case = int(spoken)
    assert voice_case != sms_case
    shot(page, "simulator-call")
    if not page.is_disabled("#sim-hangup"):
        page.click("#sim-hangup")
    page.wait_for_selector("#call-state[data-state=ended]")

    # Find the new case in the inbox, open it, assign it, resolve it.
    page.goto(server + "/console/cases?channel=voice")
    page.wait_for_selector(f"#case-list a:text-is('{voice_case}')")
    shot(page, "cases")
    page.click(f"#case-list a:text-is('{voice_case}')")
    page.wait_for_selector("audio")  # the recording, behind the login
    assert "/console/recordings/" in page.locator("audio").first.get_attribute("src")
    hoa = page.locator("#assign-form option", has_text="Hoa").first.get_attribute("value")
    page.select_option("#assign-form select[name=person_id]", hoa)
    page.click("#assign-form button[type=submit]")
    page.wait_for_selector("#assignee:has-text('Hoa')")
    page.fill("#resolve-form textarea[name=note]", "Đã hướng dẫn chị lấy lại hàng")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector(".badge.s-resolved")
    shot(page, "case")
    demo.expire_all()
    case = demo.scalar(select(Case).where(Case.number == voice_case))
    assert case.status == CaseStatus.RESOLVED and case.assignee.name == "Nguyễn Thị Hoa"
    assert case.channel == "voice" and case.category == 1


def test_ring_once_and_take_the_callback(page_for, server, app, demo):
    """Nháy máy: the line rejects the call; when the scheduler places the callback the phone
    rings ("Tổng đài đang gọi lại"); declined it comes back later, answered it is the menu."""
    from hotline.models import CallbackRequest
    from scheduler import jobs
    from tests.console.conftest import NOW

    rt = app.extensions["hotline"]
    page = page_for("dieuphoi")
    page.goto(server + "/console/simulator?fast=1")
    page.fill("#sim-phone", CALLER)
    page.click("#sim-ring-once")
    page.wait_for_selector("#call-state[data-state=rejected]")
    page.wait_for_selector("#sim-prompts li.callback")
    assert page.is_hidden("#sim-incoming")

    jobs.place_callbacks(rt, NOW)  # the scheduler's job, through the simulator gateway
    page.wait_for_selector("#sim-incoming:has-text('Tổng đài đang gọi lại')", state="visible")
    shot(page, "simulator-callback-ringing")
    page.click("#sim-decline")
    page.wait_for_selector("#call-state[data-state=declined]")
    demo.expire_all()
    callback = demo.scalar(select(CallbackRequest))
    assert (callback.status, callback.attempts) == ("queued", 1)

    jobs.place_callbacks(rt, callback.due_at)  # tried again 15 minutes later
    page.wait_for_selector("#sim-incoming", state="visible")
    page.click("#sim-answer")
    key = _wait_for_gather(page)
    key = _past_consent(page, key)
    assert key == "main_menu"
    shot(page, "simulator-callback-answered")
    page.click("#sim-hangup")
    page.wait_for_selector("#call-state[data-state=ended]")
    demo.expire_all()
    for _ in range(50):  # the hang-up's status callback is posted after the page moved on
        callback = demo.scalar(select(CallbackRequest))
        if callback.status == "done":
            break
        page.wait_for_timeout(100)
        demo.expire_all()
    assert (callback.status, callback.attempts) == ("done", 2)


def test_series_and_users_pages_fit_a_phone(page_for, server, demo):
    """A recurring meeting made on the group's page, and the users page, on a phone."""
    from tests.console.conftest import group

    cd01 = group(demo, "CD01")
    page = page_for("admin", mobile=True)
    page.goto(f"{server}/console/groups/{cd01.id}")
    page.select_option("#series-form select[name=kind]", "monthly")
    page.select_option("#series-form select[name=nth]", "2")
    page.select_option("#series-form select[name=weekday]", "6")
    page.fill("#series-form input[name=place]", "Nhà văn hóa tổ 5")
    page.click("#series-form button[type=submit]")
    page.wait_for_selector("#series .rule:has-text('Chủ nhật thứ hai hằng tháng, 15:00')")
    assert page.locator("#series ul.upcoming li").count() == 2
    for name, path in (("group-series", f"/console/groups/{cd01.id}?page=1"),
                       ("users", "/console/users")):
        response = page.goto(server + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 4, f"{path} is {width}px wide on a phone"
        shot(page, name)


def test_peer_educator_cannot_open_another_groups_case_by_url(page_for, server, demo):
    theirs = open_case(demo, HANG)  # CD01: Mai's group, not Hoa's
    page = page_for("hoa", mobile=True)
    assert page.url.endswith("/console/cases")
    shot(page, "cases-peer-educator-phone")
    response = page.goto(f"{server}/console/cases/{theirs.number}")
    assert response.status == 403
    assert "Đỗ Thị Hằng" not in page.content() and theirs.summary not in page.content()
    shot(page, "forbidden")


def test_export_a_report(page_for, server, demo):
    for phone in (HANG, "+84912000002", "+84912000003"):
        open_case(demo, phone)
    page = page_for("xem")
    assert page.url.endswith("/console/reports")
    page.select_option("select[name=by]", "sex")
    page.click("#report-filters button[type=submit]")
    page.wait_for_selector("#indicators")
    assert page.locator("svg.chart").count() >= 3
    shot(page, "reports")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    # The console's CSV speaks Vietnamese (the core's export keeps codes).
    assert rows[0] == ["Chỉ số", "Loại", "Chiều", "Nhóm", "Giá trị"]
    values = {(r[0], r[3]): r[4] for r in rows[1:]}
    assert values[("Hồ sơ mới mở", "Tất cả")] == "<5"  # three cases: too few to show


def test_main_pages_render_and_fit_a_phone(page_for, server, demo):
    from hotline.models import Message
    from tests.console.conftest import NOW, person

    open_case(demo, HANG, summary="Bị thu hàng")
    demo.add(Message(direction="in", gateway="simulator", phone=HANG, body="Chị ơi em bị đuổi "
                     "khỏi chỗ trọ, giờ không biết ở đâu", person_id=person(demo, HANG).id,
                     status="received", needs_staff=True, created_at=NOW))
    demo.commit()
    page = page_for("dieuphoi", mobile=True)
    pages = {"dashboard-phone": "/console/dashboard", "triage": "/console/triage",
             "people": "/console/people", "groups": "/console/groups",
             "broadcasts": "/console/broadcasts?text=Hop+nhom", "prompts": "/console/prompts",
             "providers": "/console/providers", "audit": "/console/audit",
             "simulator-phone": "/console/simulator"}
    for name, path in pages.items():
        response = page.goto(server + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 4, f"{path} is {width}px wide on a phone"
        shot(page, name)
    # English by choice.
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def test_pick_up_answers_on_the_first_click_after_typing_the_number(page_for, server, app,
                                                                     demo):
    """Typing the number and clicking "Nghe máy" at once: the click that takes the focus
    away from the number must still answer the call."""
    from scheduler import jobs
    from tests.console.conftest import NOW

    page = page_for("dieuphoi")
    page.goto(server + "/console/simulator?fast=1")
    page.fill("#sim-phone", CALLER)
    page.click("#sim-ring-once")
    page.wait_for_selector("#sim-prompts li.callback")
    jobs.place_callbacks(app.extensions["hotline"], NOW)
    page.fill("#sim-phone", "+84 987 654 321")  # the same phone, typed another way
    answer = page.wait_for_selector("#sim-answer", state="visible")
    assert page.evaluate("document.activeElement.id") == "sim-phone"
    answer.click()
    key = _wait_for_gather(page)
    assert key in ("consent_ask", "main_menu")
    page.click("#sim-hangup")
