"""Console users, for administrators: list, create, deactivate and reactivate, reset a
password, unlock. Passwords are typed by the administrator, hashed at once, and never shown
again nor written to the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from console import auth, bp
from console.common import get_or_404, me, now, unit
from console.forms import ActiveForm, PasswordForm, UserForm, parse
from hotline import queries
from hotline.models import StaffUser
from hotline.services import users as user_service
from hotline.services.errors import ServiceError


def _user(db, user_id: int) -> StaffUser:
    return get_or_404(db, StaffUser, user_id)


def _back(user_id: int | None = None):
    return redirect(url_for("console.users") + (f"#u-{user_id}" if user_id else ""))


@bp.get("/users")
@auth.allow(auth.ADMIN)
def users():
    with unit() as db:
        return render_template("console/users.html", rows=queries.users.staff_users(db),
                               people=queries.users.linkable_people(db), now=now(),
                               min_password=user_service.MIN_PASSWORD)


@bp.post("/users")
@auth.allow(auth.ADMIN)
def user_create():
    try:
        user_id, username = _create_user(parse(UserForm).data)
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return _back()
    flash(_("Login %(name)s created. Give her the password in person; it is not shown "
            "again.", name=username), "ok")
    return _back(user_id)


@bp.post("/users/<int:user_id>/active")
@auth.allow(auth.ADMIN)
def user_active(user_id: int):
    try:
        active = parse(ActiveForm).active.data
        with unit() as db:
            user_service.set_user_active(db, now(), me(db), _user(db, user_id), active)
        flash(_("Saved."), "ok")
    except ServiceError as exc:
        flash(_(str(exc)), "error")
    return _back(user_id)


@bp.post("/users/<int:user_id>/password")
@auth.allow(auth.ADMIN)
def user_password(user_id: int):
    try:
        _reset_password(user_id, parse(PasswordForm).password.data)
        flash(_("Password changed; sessions opened with the old one have ended."), "ok")
    except ServiceError as exc:
        flash(_(str(exc)), "error")
    return _back(user_id)


def _create_user(fields: dict) -> tuple[int, str]:
    with unit() as db:
        user = user_service.create_user(db, now(), me(db), **fields)
        return user.id, user.username


def _reset_password(user_id: int, password: str) -> None:
    with unit() as db:
        user = _user(db, user_id)
        user_service.reset_password(db, now(), me(db), user, password)
        renewed = auth.ConsoleUser.of(user)
    if user_id == current_user.id:
        login_user(renewed)  # her own: this session goes on with the new password


def _on_user(user_id: int, change, done: str):
    """``change`` (a users service) on the login, then ``done`` on the users page."""
    with unit() as db:
        change(db, now(), me(db), _user(db, user_id))
    flash(done, "ok")
    return _back(user_id)


@bp.post("/users/<int:user_id>/unlock")
@auth.allow(auth.ADMIN)
def user_unlock(user_id: int):
    return _on_user(user_id, user_service.unlock_user, _("Saved."))


@bp.post("/users/<int:user_id>/sessions")
@auth.allow(auth.ADMIN)
def user_end_sessions(user_id: int):
    return _on_user(user_id, user_service.end_user_sessions,
                    _("Every session of this login has ended."))
