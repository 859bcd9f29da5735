"""Signing in, who is signed in, and what each role may open.

Roles: admin and coordinator see everything; a peer educator sees the cases of her own
groups (violence cases only when trained, see ``hotline.services.cases.may_act``); a viewer
sees reports only. Repeated failed sign-ins lock the login for a while, longer each time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from flask import Flask, abort, redirect, request, url_for
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.models import StaffRole, StaffUser
from hotline.services.audit import audit

ADMIN = StaffRole.ADMIN.value
COORDINATOR = StaffRole.COORDINATOR.value
PEER_EDUCATOR = StaffRole.PEER_EDUCATOR.value
VIEWER = StaffRole.VIEWER.value
STAFF = (ADMIN, COORDINATOR)
CASEWORK = (ADMIN, COORDINATOR, PEER_EDUCATOR)
EVERYONE = (ADMIN, COORDINATOR, PEER_EDUCATOR, VIEWER)

# Failed sign-ins allowed before the login is locked; then 30 s, 60 s, 2 min ... up to 15 min.
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
# Checked against when the user name is unknown, so both cases cost the same time.
_DUMMY_HASH = generate_password_hash("no such user, no such password")

login_manager = LoginManager()


@dataclass(frozen=True)
class ConsoleUser(UserMixin):
    """What a request knows about who is signed in (a snapshot, not a database row)."""

    id: int
    username: str
    name: str
    role: str
    person_id: int | None
    stamp: str = ""

    @classmethod
    def of(cls, user: StaffUser) -> "ConsoleUser":
        return cls(user.id, user.username, user.name or user.username, user.role, user.person_id,
                   session_stamp(user))

    def get_id(self) -> str:
        """What the session keeps: the id and the password's stamp, so a session opened
        before a password reset ends with it."""
        return f"{self.id}:{self.stamp}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def can(self, *roles: str) -> bool:
        return self.role in roles


def session_stamp(user: StaffUser) -> str:
    """Changes whenever the password does (a new salt each time, even for the same one)."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


@login_manager.user_loader
def _load_user(user_id: str) -> ConsoleUser | None:
    from console.common import unit

    key, _, stamp = str(user_id or "").partition(":")
    try:
        key = int(key)
    except ValueError:
        return None
    with unit() as session:
        user = session.get(StaffUser, key)
        if user is None or not user.active:
            return None
        loaded = ConsoleUser.of(user)
        return loaded if stamp and hmac.compare_digest(stamp, loaded.stamp) else None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/console/") and request.method == "GET":
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    abort(401)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.login_message = lazy_gettext("Please sign in.")
    login_manager.session_protection = "basic"


def allow(*roles: str):
    """Only signed-in users with one of ``roles``; others get 403 (or the sign-in page)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def safe_next(target: str | None) -> str | None:
    """A redirect target after sign-in, only ever a path inside the console."""
    if not target or not target.startswith("/console/") or "//" in target or "\\" in target:
        return None
    return target


# --------------------------------------------------------------------------------------------
# Sign-in (no Flask here: session, clock value, inputs)
# --------------------------------------------------------------------------------------------


def lock_time(failures: int) -> timedelta:
    """How long the login stays locked after ``failures`` failed attempts in a row."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    return min(FIRST_LOCK * 2 ** min(failures - FREE_ATTEMPTS, 10), MAX_LOCK)


@dataclass(frozen=True)
class SignIn:
    user: StaffUser | None
    # "ok", "bad" (wrong name or password) or "locked" (try again after ``until``).
    outcome: str
    until: datetime | None = None


def sign_in(session: Session, now: datetime, username: str, password: str,
            remote: str = "") -> SignIn:
    """Check a name and password; count failures and lock the login after too many."""
    username = (username or "").strip()[:80]
    user = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.username) == username.lower())
    )
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        audit(session, now, None, "login_failed", "staff_user", "", actor=username or "?",
              remote=remote)
        return SignIn(None, "bad")
    if user.locked_until is not None and user.locked_until > now:
        check_password_hash(_DUMMY_HASH, password or "")
        audit(session, now, user, "login_locked", "staff_user", user.id, remote=remote)
        return SignIn(None, "locked", user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        lock = lock_time(user.failed_logins)
        user.locked_until = now + lock if lock else None
        audit(session, now, user, "login_failed", "staff_user", user.id,
              failures=user.failed_logins, remote=remote)
        return SignIn(None, "locked" if lock else "bad", user.locked_until)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit(session, now, user, "login", "staff_user", user.id, remote=remote)
    return SignIn(user, "ok")
