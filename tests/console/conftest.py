"""Console fixtures: the demo data, signed-in clients, cases to look at."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.models import Group, Person, StaffUser
from hotline.seed import seed_demo
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
PASSWORDS = {"admin": "admin-demo", "dieuphoi": "dieuphoi-demo", "hoa": "hoa-demo-2026",
             "mai": "mai-demo-2026", "xem": "xem-demo-2026"}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Every console test runs at ``NOW`` (10:00 in Hanoi, outside quiet hours)."""
    from hotline import clock

    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def demo(db, monkeypatch):
    """The demo wards, groups, people, providers and logins of ``make run``.

    Passwords are hashed with a cheap PBKDF2 here: scrypt would cost a second a test."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("hotline.seed.generate_password_hash",
                        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"))
    seed_demo(db, NOW)
    db.commit()
    return db


@pytest.fixture
def console(app, demo):
    """The app with CSRF checks off (the security tests turn them on)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def sign_in(client, username: str, password: str | None = None):
    """Sign ``username`` in on ``client`` (with a CSRF token when the app wants one)."""
    data = {"username": username, "password": password or PASSWORDS[username]}
    page = client.get("/console/login")
    token = CSRF_INPUT.search(page.get_data(as_text=True))
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/console/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def as_user(console):
    """``as_user("hoa")``: a test client signed in as that demo login."""

    def make(username: str):
        return sign_in(console.test_client(), username)

    return make


def person(db, phone: str) -> Person:
    return db.scalar(select(Person).where(Person.phone == phone))


def group(db, code: str) -> Group:
    return db.scalar(select(Group).where(Group.code == code))


def staff(db, username: str) -> StaffUser:
    return db.scalar(select(StaffUser).where(StaffUser.username == username))


def open_case(db, phone: str, *, category: int = 1, emergency: bool = False,
              summary: str = "bi thu hang o cho", channel: str = "sms", now=NOW):
    """A case opened for the person with ``phone`` the way the text line opens one."""
    case = case_service.open_case(
        db, now, Outbox(db), person=person(db, phone), channel=channel, summary=summary,
        category=category, emergency=emergency,
    )
    db.commit()
    return case


# Demo members: Hằng and Nga are in CD01 (Mai's group), Nam in CD02 (Hoa's), Yến in PT01.
HANG, NGA, NAM, YEN = "+84912000001", "+84912000002", "+84912000003", "+84912000004"


# Browser tests: Debian's chromium driven by Playwright, against the app served in a thread.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
CALLER = "0987654321"
TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, one for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        yield browser
        browser.close()


def _listen(make_server, app):
    """A server on a free port: any, or one of ``HOTLINE_TEST_PORTS`` ("6000-6099") when
    the machine's ports are shared out."""
    first, _, last = os.environ.get("HOTLINE_TEST_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        try:
            return make_server("127.0.0.1", port, app, threaded=True)
        except OSError:
            continue
    raise RuntimeError("no free port in HOTLINE_TEST_PORTS")


@pytest.fixture
def server(app, demo):
    """The app on 127.0.0.1, a free port, with CSRF on (as in production) and a session
    cookie the browser sends over plain http."""
    from werkzeug.serving import make_server

    app.config.update(SESSION_COOKIE_SECURE=False, WTF_CSRF_ENABLED=True)
    httpd = _listen(make_server, app)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    _wait_for_requests_to_finish(app)


def _wait_for_requests_to_finish(app, seconds: float = 5.0) -> None:
    """A request the browser left in flight (a page's poll) may still hold a database
    connection on its daemon thread; the ``app`` fixture's dispose does not close a
    checked-out one, which then surfaced later as an unclosed-connection ResourceWarning in
    another test. Wait (bounded) until the pool has all its connections back."""
    pool = app.extensions["hotline"].engine.pool
    deadline = time.monotonic() + seconds
    while getattr(pool, "checkedout", lambda: 0)() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def page_for(browser, server):
    """``page_for("admin")``: a browser tab signed in as that demo login (phone-sized when
    ``mobile``)."""
    contexts = []

    def make(username: str, password: str | None = None, *, mobile: bool = False):
        viewport = PHONE if mobile else DESKTOP
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server + "/console/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password or PASSWORDS[username])
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()
        assert "/console/login" not in page.url, page.content()[:500]
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    """A full-page screenshot in tests/screenshots/ (for a person to look at)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def busy_day(app, demo):
    """A morning of the line on top of the demo: a newcomer texts DK, agrees, reports a
    problem and asks for a callback; a violence case (sensitive) and a triage text wait; a
    meeting is planned. Returns the console's pages, name → path, every one with real ids."""
    from datetime import timedelta

    from console import simulator
    from hotline.models import Message, Person
    from hotline.services import meetings, voice

    rt = app.extensions["hotline"]
    for body in ("DK", "DONGY", "KN bi thu hang o cho Long Bien", "GOI"):
        simulator.text_line(rt, CALLER, body)
    demo.expire_all()
    newcomer = demo.scalar(select(Person).where(Person.phone == "+84" + CALLER[1:]))
    sms_case = open_case(demo, HANG, summary="Bị thu hàng ở chợ")
    violence = open_case(demo, NGA, category=3, summary="Chồng đánh")
    demo.add(Message(direction="in", gateway="simulator", phone=NAM, body="Chị ơi em bị đuổi "
                     "khỏi chỗ trọ", person_id=person(demo, NAM).id, status="received",
                     needs_staff=True, created_at=NOW))
    cd01 = group(demo, "CD01")
    meeting = meetings.create(demo, NOW, cd01, NOW + timedelta(days=3), place="Nhà văn hóa")
    issue = voice.save_issue(demo, NOW, None, None, title="Thu hàng ở chợ Long Biên",
                             category=1, cases=str(sms_case.number))
    demo.add(Message(direction="in", gateway="simulator", phone=HANG,
                     person_id=person(demo, HANG).id, body="XOA", command="XOA",
                     status="received", needs_staff=True, created_at=NOW - timedelta(days=6)))
    demo.commit()
    return {
        "dashboard": "/console/dashboard",
        "cases": "/console/cases?status=all",
        "case": f"/console/cases/{sms_case.number}",
        "case-sensitive": f"/console/cases/{violence.number}",
        "triage": "/console/triage",
        "people": "/console/people",
        "callbacks": "/console/callbacks",
        "people-search": "/console/people?q=" + CALLER,
        "person": f"/console/people/{newcomer.id}",
        "merge": f"/console/people/{newcomer.id}/merge?other={person(demo, YEN).id}",
        "erase": f"/console/people/{newcomer.id}/erase",
        "groups": "/console/groups",
        "group": f"/console/groups/{cd01.id}",
        "meeting": f"/console/meetings/{meeting.id}",
        "broadcasts": "/console/broadcasts?text=Hop+nhom+thu+bay",
        "providers": "/console/providers",
        "provider-report": "/console/providers/report",
        "prompts": "/console/prompts",
        "simulator": "/console/simulator",
        "reports": "/console/reports",
        "audit": "/console/audit",
        "users": "/console/users",
        "minutes": "/console/minutes",
        "meeting-minutes": f"/console/meetings/{meeting.id}/minutes",
        "issues": "/console/issues",
        "issue": f"/console/issues/{issue.id}",
        "forums": "/console/forums",
        "press": "/console/press",
        "brief": "/console/brief",
        "devices": "/console/devices",
    }
