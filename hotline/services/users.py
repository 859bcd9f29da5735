"""Console logins: create, deactivate and reactivate, reset a password, unlock; every
change audited. Passwords are hashed here and never stored or logged as typed.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from hotline.models import (
    Person,
    Role,
    StaffRole,
    StaffUser,
)
from hotline.services import logins, passwords
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError

# A console login: letters, digits and . _ - ; passwords at least this long.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD = passwords.MIN_LENGTH
# Which kind of person each login may stand for (its cases and groups come from that person).
LINKED_ROLES = {StaffRole.PEER_EDUCATOR.value: (Role.PEER_EDUCATOR.value,),
                StaffRole.COORDINATOR.value: (Role.COORDINATOR.value,)}


def _check_password(password: str, username: str) -> str:
    passwords.check(password, username)  # PasswordRefused is a ServiceError
    return generate_password_hash(password)


def _linked_person(session: Session, role: str, person_id: int | None,
                   user: StaffUser | None = None) -> Person | None:
    """The person a login stands for: needed by peer educators (their groups decide which
    cases they see), optional for coordinators, none for administrators and viewers."""
    allowed = LINKED_ROLES.get(role)
    if allowed is None:
        return None
    if not person_id:
        if role == StaffRole.PEER_EDUCATOR:
            raise ServiceError(N_("A peer educator's login needs the person she is."))
        return None
    person = session.get(Person, person_id)
    if person is None or person.erased_at is not None or person.role not in allowed:
        raise ServiceError(N_("This person cannot have this kind of login."))
    other = session.scalar(
        select(StaffUser.id).where(StaffUser.person_id == person.id, StaffUser.active.is_(True))
        .limit(1)
    )
    if other is not None and (user is None or other != user.id):
        raise ServiceError(N_("This person already has a login."))
    return person


def create_user(session: Session, now: datetime, admin: StaffUser | None, *, username: str,
                role: str, password: str, name: str = "", person_id: int | None = None
                ) -> StaffUser:
    """A new console login with its initial password (hashed; never stored or logged as
    typed, never shown again). ``person_id`` is the person she stands for, if any."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ServiceError(N_("A user name is 3 to 40 letters, digits, dots or dashes."))
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.username) == username)):
        raise ServiceError(N_("This user name is taken."))
    role = role.strip()
    if role not in {r.value for r in StaffRole}:
        raise ServiceError(N_("Choose a role."))
    person = _linked_person(session, role, person_id)
    password_hash = _check_password(password, username)
    name = name.strip()[:120] or (person.name if person else "") or username
    user = StaffUser(username=username, name=name, role=role, password_hash=password_hash,
                     person_id=person.id if person else None, active=True, created_at=now)
    session.add(user)
    session.flush()
    audit(session, now, admin, "user_add", "staff_user", user.id, username=username, role=role,
          person=user.person_id)
    return user


def _last_active_admin(session: Session, user: StaffUser) -> bool:
    if user.role != StaffRole.ADMIN or not user.active:
        return False
    others = session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.role == StaffRole.ADMIN,
                                               StaffUser.active.is_(True),
                                               StaffUser.id != user.id)
    )
    return not others


def set_user_active(session: Session, now: datetime, admin: StaffUser, user: StaffUser,
                    active: bool) -> None:
    """Deactivate (signed out at her next request, cannot sign in) or reactivate a login."""
    if user.active == active:
        return
    if not active:
        if user.id == admin.id:
            raise ServiceError(N_("You cannot deactivate your own login."))
        if _last_active_admin(session, user):
            raise ServiceError(N_("The last administrator cannot be deactivated."))
    else:
        _linked_person(session, user.role, user.person_id, user)
    user.active = active
    session.flush()
    audit(session, now, admin, "user_reactivate" if active else "user_deactivate",
          "staff_user", user.id, username=user.username)


def reset_password(session: Session, now: datetime, admin: StaffUser, user: StaffUser,
                   password: str) -> None:
    """A new password chosen by the administrator; the login is unlocked and every session
    opened with the old one ends."""
    user.password_hash = _check_password(password or "", user.username)
    user.failed_logins = 0
    user.locked_until = None
    logins.unlock(session, user.username)
    session.flush()
    audit(session, now, admin, "user_password_reset", "staff_user", user.id,
          username=user.username)


def unlock_user(session: Session, now: datetime, admin: StaffUser, user: StaffUser) -> None:
    """Lift the lock that repeated failed sign-ins put on a login."""
    was = (user.failed_logins, user.locked_until)
    user.failed_logins = 0
    user.locked_until = None
    logins.unlock(session, user.username)
    session.flush()
    audit(session, now, admin, "user_unlock", "staff_user", user.id, username=user.username,
          failures=was[0], locked_until=was[1])


def signed_out(session: Session, now: datetime, user: StaffUser) -> None:
    """Signing out ends every session of the login, so a copied cookie dies with it."""
    logins.end_sessions(session, now, user, action="logout")


def end_user_sessions(session: Session, now: datetime, admin: StaffUser, user: StaffUser
                      ) -> None:
    """An administrator ends every session ``user`` holds (a lost phone, a shared computer)."""
    logins.end_sessions(session, now, user, by=admin, action="user_sessions_ended")


def set_locale(session: Session, now: datetime, user: StaffUser, locale: str) -> None:
    if user.locale != locale:
        user.locale = locale
        audit(session, now, user, "set_locale", "staff_user", user.id, locale=locale)
        session.flush()
