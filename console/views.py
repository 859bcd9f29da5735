"""Console pages: sign-in, language, the dashboard."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from console import auth, bp
from console.common import act, me, now, rt, unit
from console.forms import LanguageForm, LoginForm, lenient, parse
from console.i18n import LOCALES
from hotline import queries
from hotline.services import job_rows
from hotline.services import users as user_service


@bp.get("/")
def index():
    """Where each role starts: staff the dashboard, peer educators their cases."""
    if not current_user.is_authenticated:
        return redirect(url_for("console.login"))
    if current_user.role == auth.VIEWER:
        return redirect(url_for("console.reports"))
    if current_user.role == auth.PEER_EDUCATOR:
        return redirect(url_for("console.cases"))
    return redirect(url_for("console.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return _login_page(parse(LoginForm).next.data)
    form = parse(LoginForm)
    user = _sign_in(form.username.data, form.password.data)
    if user is None:
        flash(_("Sign-in failed. Check the name and password. After several failed attempts "
                "the login is locked for a few minutes."), "error")
        return _login_page(form.next.data), 401
    return redirect(auth.safe_next(form.next.data) or url_for("console.index"))


def _login_page(next_page: str):
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.index"))
    return render_template("console/login.html", next=next_page)


def _sign_in(username: str, password: str) -> auth.ConsoleUser | None:
    """Check the password (throttled); on success a fresh session in her language."""
    result = auth.sign_in(rt().sessions, now(), username, password, request.remote_addr or "")
    if result.user is None:
        return None
    user, locale = auth.ConsoleUser.of(result.user), result.user.locale
    lang = session.get("lang")
    session.clear()
    session["lang"] = lang if lang in LOCALES else (locale if locale in LOCALES else "vi")
    auth.start_session()
    login_user(user)
    return user


@bp.post("/logout")
@login_required
def logout():
    with unit() as db:
        user_service.signed_out(db, now(), me(db))
    auth.end_session()
    return redirect(url_for("console.login"))


@bp.post("/lang")
def set_language():
    """The language switch: Vietnamese or English, kept for the browser and the user."""
    form = lenient(LanguageForm, request.form)
    if form.lang.data:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            with unit() as db:
                user_service.set_locale(db, now(), me(db), form.lang.data)
    return redirect(auth.safe_next(form.next.data) or url_for("console.index"))


@bp.get("/dashboard")
@auth.allow(*auth.STAFF)
def dashboard():
    with unit() as db:
        data = queries.dashboard.dashboard(db, now(), me(db), rt().settings.holiday_dates)
        return render_template("console/dashboard.html", d=data,
                               not_sent=queries.notsent.counts(db, now()),
                               job_failures=queries.dashboard.job_failures(db))


@bp.post("/job-failures/<int:failure_id>/retry")
@auth.allow(*auth.STAFF)
def job_failure_retry(failure_id: int):
    """Let the scheduler try a row it gave up on again (audited)."""
    return act(lambda db: job_rows.retry(db, now(), me(db), failure_id),
               url_for("console.dashboard"))
