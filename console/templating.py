"""What the console's templates can use, its error pages and its response headers."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, render_template, request
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from console import auth, bp, labels
from console.i18n import LOCALES
from hotline import clock, workdays
from hotline.phones import national

# Pages hold personal data: no third-party anything, no framing, no caching.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An aware UTC datetime shown in Hanoi time."""
    if value is None:
        return "–"
    return clock.local(value).strftime(fmt)


def hours(value: float | None) -> str:
    """Hours with one decimal, in the language's way: "0,2" in Vietnamese, "0.2" in English."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.0")


def number(value: float | int | None) -> str:
    """A count or amount with the language's grouping: "4.200" / "4,200"."""
    if value is None:
        return "–"
    return format_decimal(value)


def money(value: float | int | None) -> str:
    """Dong: "4.200 đ" in Vietnamese, "4,200 VND" in English (as each writes it)."""
    if value is None:
        return "–"
    amount = format_decimal(round(value), format="#,##0")
    return f"{amount} đ" if str(get_locale() or "vi") == "vi" else f"{amount} VND"


def figure(cell) -> str:
    """A report cell (``reports.Cell``-like): its suppression mark, or its value in the
    language's number format."""
    if cell.suppressed or cell.withheld or cell.value is None:
        return cell.shown()
    if isinstance(cell.value, float):
        return format_decimal(cell.value, format="#,##0.0")
    return format_decimal(cell.value)


def phone(value: str | None) -> str:
    """A number in the national format: 0912 345 678."""
    return national(value)


def masked_phone(value: str | None) -> str:
    """A number with all but its last 3 digits hidden: 0*** *** 678."""
    return national(value, masked=True)


def nav_items():
    """(endpoint, label, roles) of the menu, in order."""
    from flask_babel import lazy_gettext as _l

    return [
        ("console.dashboard", _l("Dashboard"), auth.STAFF),
        ("console.cases", _l("Cases"), auth.CASEWORK),
        ("console.triage", _l("Triage"), auth.STAFF),
        ("console.people", _l("People"), auth.STAFF),
        ("console.callbacks", _l("Callbacks"), auth.STAFF),
        ("console.groups", _l("Groups"), auth.STAFF),
        ("console.broadcasts", _l("Broadcasts"), auth.STAFF),
        ("console.providers", _l("Services"), auth.CASEWORK),
        ("console.provider_report", _l("Service monitoring"), auth.EVERYONE),
        ("console.minutes_list", _l("Minutes"), auth.CASEWORK),
        ("console.issues", _l("Collective issues"), auth.STAFF),
        ("console.forums", _l("Forums"), auth.STAFF),
        ("console.press", _l("Press"), auth.STAFF),
        ("console.brief", _l("Brief"), auth.EVERYONE),
        ("console.prompts", _l("Prompts"), auth.STAFF),
        ("console.simulator", _l("Phone simulator"), auth.STAFF),
        ("console.reports", _l("Reports"), auth.EVERYONE),
        ("console.audit_log", _l("Audit log"), auth.STAFF),
        ("console.users", _l("Users"), (auth.ADMIN,)),
        ("console.devices", _l("Gateway phones"), (auth.ADMIN,)),
    ]


def erasure_due(received: datetime) -> datetime:
    """When an erasure request that came at ``received`` must be done (2 working days)."""
    from console.common import rt
    from hotline.queries.erasures import WORKING_DAYS

    return workdays.deadline(received, WORKING_DAYS, rt().settings.holiday_dates)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(local=local_time, hours=hours, number=number, money=money,
                                 figure=figure, phone=phone, mask=masked_phone,
                                 erasure_due=erasure_due)


def emergency_banner() -> list:
    """Emergencies nobody has accepted, with their age, for coordinators and admins: a red
    banner on every console page until someone accepts."""
    if not current_user.is_authenticated or current_user.role not in auth.STAFF:
        return []
    from console.common import now, unit
    from hotline.queries import notsent

    with unit() as db:
        return notsent.unaccepted_emergencies(db, now())


@bp.context_processor
def _console_globals():
    return {
        "emergency_banner": emergency_banner,
        "L": labels,
        "label": labels.label,
        "series_rule": labels.series_rule,
        "nav_items": nav_items,
        "locales": LOCALES,
        "current_locale": str(get_locale() or "vi"),
        "roles": auth,
        "user": current_user,
    }


@bp.after_request
def _console_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(HTTPException)
def _console_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": exc.name}, exc.code
    return render_template("console/error.html", error=exc), exc.code
