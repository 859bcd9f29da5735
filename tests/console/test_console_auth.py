"""Signing in and out, slowed-down repeated failures, where each role lands, languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from console import auth
from hotline.models import AuditLog, LoginThrottle, StaffUser
from tests.console.conftest import NOW, sign_in, staff


def _login(client, username, password):
    return client.post("/console/login", data={"username": username, "password": password})


@pytest.mark.parametrize(("username", "lands"), [
    ("admin", "/console/dashboard"),
    ("dieuphoi", "/console/dashboard"),
    ("hoa", "/console/cases"),
    ("xem", "/console/reports"),
])
def test_each_role_lands_on_its_start_page(console, username, lands):
    client = sign_in(console.test_client(), username)
    response = client.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].endswith(lands)
    assert client.get(lands).status_code == 200


def test_wrong_password_is_refused_counted_and_audited(console, db):
    client = console.test_client()
    response = _login(client, "admin", "wrong")
    assert response.status_code == 401
    assert client.get("/console/dashboard").status_code == 302
    user = staff(db, "admin")
    db.refresh(user)
    assert user.failed_logins == 1 and user.locked_until is None
    row = db.scalar(select(AuditLog).where(AuditLog.action == "login_failed"))
    assert row.user_id == user.id and "wrong" not in str(row.detail)


def test_unknown_user_gets_the_same_answer(console, db):
    response = _login(console.test_client(), "nobody", "x")
    assert response.status_code == 401
    assert db.scalar(select(AuditLog.actor).where(AuditLog.action == "login_failed")) == "nobody"


def _pair(db, login, address="127.0.0.1") -> LoginThrottle:
    db.expire_all()
    return db.get(LoginThrottle, f"pair:{address}|{login}")


def _expire_lock(db, login):
    row = _pair(db, login)
    row.locked_until = NOW - timedelta(seconds=1)
    db.commit()


def test_repeated_failures_lock_the_login_for_longer_each_time(console, db):
    client = console.test_client()
    for _ in range(auth.FREE_ATTEMPTS):
        assert _login(client, "mai", "guess").status_code == 401
    user = staff(db, "mai")
    db.refresh(user)
    assert user.failed_logins == auth.FREE_ATTEMPTS
    first_lock = _pair(db, "mai").locked_until
    assert first_lock is not None and first_lock > NOW and user.locked_until == first_lock
    # Locked: even the right password is refused, and nothing is learnt from trying.
    assert _login(client, "mai", "mai-demo-2026").status_code == 401
    db.refresh(user)
    assert user.failed_logins == auth.FREE_ATTEMPTS
    # The lock runs out; another failure locks for twice as long.
    _expire_lock(db, "mai")
    assert _login(client, "mai", "guess").status_code == 401
    assert _pair(db, "mai").locked_until - NOW > auth.FIRST_LOCK + timedelta(seconds=20)
    # After the lock, the right password works and the count starts again.
    _expire_lock(db, "mai")
    assert _login(client, "mai", "mai-demo-2026").status_code == 302
    db.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None and user.last_login_at
    assert _pair(db, "mai") is None


def test_lock_time_grows_and_is_capped():
    assert auth.lock_time(auth.FREE_ATTEMPTS - 1) == timedelta(0)
    assert auth.lock_time(auth.FREE_ATTEMPTS) == auth.FIRST_LOCK
    assert auth.lock_time(auth.FREE_ATTEMPTS + 1) == 2 * auth.FIRST_LOCK
    assert auth.lock_time(100) == auth.MAX_LOCK


def test_inactive_user_cannot_sign_in_and_is_signed_out(console, db):
    client = sign_in(console.test_client(), "dieuphoi")
    user = staff(db, "dieuphoi")
    user.active = False
    db.commit()
    assert client.get("/console/dashboard").status_code == 302
    assert _login(console.test_client(), "dieuphoi", "dieuphoi-demo").status_code == 401


def test_sign_out_needs_a_post_and_ends_the_session(console, db):
    client = sign_in(console.test_client(), "admin")
    assert client.get("/console/logout").status_code == 405
    response = client.post("/console/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/console/dashboard").status_code == 302
    actions = set(db.scalars(select(AuditLog.action)))
    assert {"login", "logout"} <= actions


def test_next_only_leads_inside_the_console(console):
    client = console.test_client()
    response = client.get("/console/cases?status=all")
    assert response.status_code == 302
    assert "next=" in response.headers["Location"]
    ok = client.post("/console/login", data={"username": "admin", "password": "admin-demo",
                                             "next": "/console/cases?status=all"})
    assert ok.headers["Location"].endswith("/console/cases?status=all")
    client = console.test_client()
    for evil in ("https://evil.example/", "//evil.example/console/", "/console/\\evil"):
        bad = client.post("/console/login", data={"username": "admin",
                                                  "password": "admin-demo", "next": evil})
        assert bad.headers["Location"].endswith("/console/"), evil


@pytest.mark.parametrize(("username", "path", "status"), [
    ("xem", "/console/cases", 403),
    ("xem", "/console/dashboard", 403),
    ("xem", "/console/people", 403),
    ("xem", "/console/simulator", 403),
    ("xem", "/console/reports", 200),
    ("hoa", "/console/dashboard", 403),
    ("hoa", "/console/people", 403),
    ("hoa", "/console/audit", 403),
    ("hoa", "/console/triage", 403),
    ("hoa", "/console/cases", 200),
    ("hoa", "/console/providers", 200),
    ("hoa", "/console/reports", 200),
    ("dieuphoi", "/console/audit", 200),
    ("dieuphoi", "/console/people", 200),
])
def test_pages_by_role(as_user, username, path, status):
    assert as_user(username).get(path).status_code == status


def test_vietnamese_first_english_by_choice(console, db):
    client = console.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page
    sign_in(client, "admin")
    response = client.post("/console/lang", data={"lang": "en", "next": "/console/cases"})
    assert response.headers["Location"].endswith("/console/cases")
    page = client.get("/console/cases").get_data(as_text=True)
    assert 'lang="en"' in page and "Cases" in page and "Hồ sơ" not in page
    assert staff(db, "admin").locale == "en"
    # The choice follows the user to the next sign-in.
    client = sign_in(console.test_client(), "admin")
    assert 'lang="en"' in client.get("/console/cases").get_data(as_text=True)
    client.post("/console/lang", data={"lang": "vi"})
    assert "Hồ sơ" in client.get("/console/cases").get_data(as_text=True)


def test_unknown_language_is_ignored(console):
    client = sign_in(console.test_client(), "admin")
    client.post("/console/lang", data={"lang": "fr"})
    assert 'lang="vi"' in client.get("/console/cases").get_data(as_text=True)


def test_passwords_are_hashed(demo):
    for user in demo.scalars(select(StaffUser)):
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert "demo" not in user.password_hash
    assert demo.scalar(select(func.count()).select_from(StaffUser)) == 5
