"""Console fixtures: the demo data, signed-in clients, cases to look at."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hotline.models import Group, Person, StaffUser
from hotline.seed import seed_demo
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
PASSWORDS = {"admin": "admin-demo", "dieuphoi": "dieuphoi-demo", "hoa": "hoa-demo",
             "mai": "mai-demo", "xem": "xem-demo"}
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
