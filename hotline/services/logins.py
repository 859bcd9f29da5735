"""Console sign-ins a server can end, and sign-in attempts strangers cannot turn into a lock.

Attempts: counted per address and login together (``FREE_ATTEMPTS``, then a lock that
doubles) and per address (``ADDRESS_ATTEMPTS`` per ``ADDRESS_WINDOW``), in the database
so that every gunicorn worker shares them, and counted before the password is checked so
parallel guesses cannot slip past the count. A burst of refusals from one address is one
audit row with a count.

Sessions: every session cookie carries a stamp of the login's password hash and its
``session_version``; ``end_sessions`` raises the version, so every copy of every cookie of
that login stops working at its next request (sign-out, deactivation, an administrator's
"end all sessions"; a new password changes the stamp by itself).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.db import dialect_insert, session_scope
from hotline.models import AuditLog, LoginThrottle, StaffUser
from hotline.services.audit import audit


def session_stamp(user: StaffUser) -> str:
    """Changes when the password does (a new salt each time) and when sessions are ended."""
    seed = f"{user.password_hash or ''}:{user.session_version or 0}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def end_sessions(session: Session, now: datetime, user: StaffUser, *,
                 by: StaffUser | None = None, action: str = "sessions_ended") -> None:
    """End every session ``user`` holds, on every device, whoever copied the cookie; audited
    as ``action`` by ``by`` (the user herself when not given)."""
    session.execute(update(StaffUser).where(StaffUser.id == user.id)
                    .values(session_version=StaffUser.session_version + 1))
    session.refresh(user, ["session_version"])
    audit(session, now, by or user, action, "staff_user", user.id, username=user.username)


# --------------------------------------------------------------------------------------------
# Sign-in attempts: throttled by address and login together, shared by every worker
# --------------------------------------------------------------------------------------------

# Failed sign-ins one login may have from one address before it is locked there; then
# 30 s, 60 s, 2 min ... up to 15 min. Another address is not affected: a stranger cannot
# lock the real user out.
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
PAIR_MEMORY = timedelta(hours=24)  # failures older than this are forgotten
# One address trying many logins: this many failures in ADDRESS_WINDOW block it for as long.
ADDRESS_ATTEMPTS = 30
ADDRESS_WINDOW = timedelta(minutes=15)
# Refusals from one address less than this apart are one burst: one audit row, a count.
BURST_GAP = timedelta(minutes=10)
BURST_LOGINS = 5  # distinct login names kept in a burst's audit row


@cache
def _dummy_hash() -> str:
    """Checked against when the user name is unknown, so both cases cost the same time.
    Made by the first sign-in of a process (whoever signs in), not on import: a scrypt hash
    holds 32 MB for a moment, which every process importing this module paid (the
    scheduler's peak memory, gunicorn's workers)."""
    return generate_password_hash("no such user, no such password")


def lock_time(failures: int) -> timedelta:
    """How long a login stays locked (from one address) after ``failures`` in a row."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    return min(FIRST_LOCK * 2 ** min(failures - FREE_ATTEMPTS, 10), MAX_LOCK)


def _address_lock(failures: int) -> timedelta:
    return ADDRESS_WINDOW if failures >= ADDRESS_ATTEMPTS else timedelta(0)


@dataclass(frozen=True)
class SignIn:
    user: StaffUser | None
    # "ok", "bad" (wrong name or password) or "locked" (try again after ``until``).
    outcome: str
    until: datetime | None = None


def _row(session: Session, now: datetime, key: str) -> None:
    """Make sure the counter row ``key`` exists (concurrent workers: one insert wins)."""
    insert = dialect_insert(session.get_bind().dialect.name)
    if insert is not None:
        session.execute(insert(LoginThrottle).values(
            key=key, failures=0, window_start=now, burst_count=0).on_conflict_do_nothing())
    elif session.get(LoginThrottle, key) is None:
        session.add(LoginThrottle(key=key, failures=0, window_start=now, burst_count=0))
        session.flush()


def _reserve(session: Session, now: datetime, key: str, memory: timedelta, lock_for
             ) -> datetime | None:
    """Count one attempt on ``key`` before the password is checked; None if it may go on,
    else until when it is locked. One UPDATE, so parallel attempts (any worker) each get
    their own count and exactly the allowed number are checked."""
    _row(session, now, key)
    stale = LoginThrottle.window_start <= now - memory
    counted = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key,
               or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .values(failures=case((stale, 1), else_=LoginThrottle.failures + 1),
                window_start=case((stale, now), else_=LoginThrottle.window_start))
    ).rowcount
    row = session.get(LoginThrottle, key, populate_existing=True)
    if not counted:
        return row.locked_until
    lock = lock_for(row.failures)
    # This attempt is still checked; the ones after it wait for the lock to run out.
    row.locked_until = now + lock if lock else None
    session.flush()
    return None


def _note_refusal(session: Session, now: datetime, address: str, login: str,
                  user: StaffUser | None, why: str) -> None:
    """One audit row per burst of refusals from ``address``, its count kept up to date."""
    key = f"addr:{address}"[:200]
    _row(session, now, key)
    recent = LoginThrottle.burst_last_at > now - BURST_GAP
    session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key)
        .values(burst_count=case((recent, LoginThrottle.burst_count + 1), else_=1),
                burst_last_at=now))
    row = session.get(LoginThrottle, key, populate_existing=True)
    entry = session.get(AuditLog, row.burst_audit_id) if row.burst_audit_id else None
    if row.burst_count == 1 or entry is None:
        entry = audit(session, now, user, "login_failed", "staff_user",
                      user.id if user else "", actor=login or "?", remote=address, count=1,
                      logins=[login], first_at=now.isoformat(), last_at=now.isoformat(),
                      **{why: 1})
        session.flush()
        row.burst_audit_id = entry.id
        return
    detail = dict(entry.detail or {})
    logins = list(detail.get("logins") or [])
    if login not in logins and len(logins) < BURST_LOGINS:
        logins.append(login)
    detail.update(count=row.burst_count, logins=logins, last_at=now.isoformat(),
                  **{why: int(detail.get(why, 0)) + 1})
    entry.detail = detail


def sign_in(sessions: sessionmaker[Session], now: datetime, username: str, password: str,
            remote: str = "") -> SignIn:
    """Check a name and password, throttled per address and login together and per address.

    It owns its transactions: the attempt is counted and committed before the (slow)
    password check, so every worker sees it, then the outcome is stored."""
    login = (username or "").strip()[:80].lower()
    address = (remote or "?")[:64]
    dummy = _dummy_hash()  # known name or not: the first sign-in of a process makes it
    with session_scope(sessions) as session:
        until = (_reserve(session, now, f"addr:{address}"[:200], ADDRESS_WINDOW, _address_lock)
                 or _reserve(session, now, f"pair:{address}|{login}"[:200], PAIR_MEMORY,
                             lock_time))
        user = session.scalar(select(StaffUser).where(func.lower(StaffUser.username) == login))
        if until is not None:
            _note_refusal(session, now, address, login, user, "locked")
            return SignIn(None, "locked", until)
        known = user is not None and user.active
        password_hash = user.password_hash if known else dummy
        user_id = user.id if user is not None else None
    ok = check_password_hash(password_hash, password or "") and known
    with session_scope(sessions) as session:
        user = session.get(StaffUser, user_id) if user_id is not None else None
        pair = session.get(LoginThrottle, f"pair:{address}|{login}"[:200])
        if ok:
            # The address row first, then the pair, as _reserve does: no deadlock between
            # a sign-in finishing and the next one starting.
            session.execute(update(LoginThrottle)
                            .where(LoginThrottle.key == f"addr:{address}"[:200],
                                   LoginThrottle.failures > 0)
                            .values(failures=LoginThrottle.failures - 1))
            session.delete(pair)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            audit(session, now, user, "login", "staff_user", user.id, remote=address)
            return SignIn(user, "ok")
        if user is not None:  # what the Users page shows: failures, a lock from somewhere
            user.failed_logins += 1
            user.locked_until = pair.locked_until
        _note_refusal(session, now, address, login, user, "bad")
        return SignIn(None, "locked" if pair.locked_until else "bad", pair.locked_until)


def unlock(session: Session, login: str) -> int:
    """Lift every address's lock on ``login``; how many there were."""
    return session.execute(delete(LoginThrottle).where(
        LoginThrottle.key.startswith("pair:"),
        LoginThrottle.key.endswith(f"|{login.lower()}", autoescape=True))).rowcount
