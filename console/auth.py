"""Signing in, who is signed in, and what each role may open.

Roles: admin and coordinator see everything; a peer educator sees the cases of her own
groups (violence cases only when trained, see ``hotline.services.cases.may_act``); a viewer
sees reports only. Repeated failed sign-ins lock the login for a while, longer each time.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from functools import wraps

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, logout_user

from hotline.models import StaffRole, StaffUser
from hotline.services import logins

ADMIN = StaffRole.ADMIN.value
COORDINATOR = StaffRole.COORDINATOR.value
PEER_EDUCATOR = StaffRole.PEER_EDUCATOR.value
VIEWER = StaffRole.VIEWER.value
STAFF = (ADMIN, COORDINATOR)
CASEWORK = (ADMIN, COORDINATOR, PEER_EDUCATOR)
EVERYONE = (ADMIN, COORDINATOR, PEER_EDUCATOR, VIEWER)

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
        """What the session keeps: the id and the login's stamp, so a session opened before
        a password reset or a sign-out anywhere ends with it."""
        return f"{self.id}:{self.stamp}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def can(self, *roles: str) -> bool:
        return self.role in roles


session_stamp = logins.session_stamp
# Kept in the signed session cookie: when it was opened, and its last request.
SIGNED_IN_AT, SEEN_AT = "_signed_in_at", "_seen_at"
# How often a request refreshes SEEN_AT (each refresh rewrites the cookie).
SEEN_RESOLUTION = 60


def wall_clock() -> float:
    """Seconds since the epoch, for session ages. Real time, not ``clock.utcnow``: tests
    move the line's clock by hours to run its jobs, and a console session must not end
    because of that (the session tests move this one)."""
    return time.time()


def start_session() -> None:
    """Stamp a new session with its start, for the idle timeout and the absolute lifetime."""
    session.permanent = True  # the cookie expires too (PERMANENT_SESSION_LIFETIME)
    session[SIGNED_IN_AT] = session[SEEN_AT] = wall_clock()


def end_session() -> None:
    """Sign out in this browser, keeping only the language choice."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def _session_expiry():
    """End a session idle longer than ``session_idle_hours`` or older than
    ``session_max_hours`` (settings), before anything reads who is signed in."""
    if "_user_id" not in session:
        return None
    settings = current_app.extensions["hotline"].settings
    now = wall_clock()
    started, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if (not isinstance(started, float) or not isinstance(seen, float)
            or now - started > settings.session_max_hours * 3600
            or now - seen > settings.session_idle_hours * 3600):
        end_session()
        if request.path.startswith("/console/") and request.endpoint != "console.login":
            return login_manager.unauthorized()
        return None
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return None


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
    app.before_request(_session_expiry)


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
    """A redirect target after sign-in, only ever a path inside the console: off-site URLs
    and control characters (CR/LF would split the Location header) are ignored."""
    if not target or not target.startswith("/console/") or "//" in target or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    return target


# Sign-in itself, throttled by address and login together, is a core service.
FREE_ATTEMPTS, FIRST_LOCK, MAX_LOCK = logins.FREE_ATTEMPTS, logins.FIRST_LOCK, logins.MAX_LOCK
lock_time, sign_in = logins.lock_time, logins.sign_in
