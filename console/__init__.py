"""The web door for staff and peer educators, served under /console/."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates",
    static_folder="static",
)


def init_app(app: Flask) -> CSRFProtect:
    """Sign-in, CSRF on every form, languages. Returns the CSRF guard so the app can exempt
    its webhook blueprints (Twilio and the Android gateway cannot send a token)."""
    from console import auth, i18n

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    csrf = CSRFProtect(app)
    auth.init_login(app)
    i18n.init_babel(app)
    templating.init_templating(app)
    from console.brief import brief_cmd

    app.cli.add_command(brief_cmd)
    return csrf


from console import (  # noqa: E402,F401
    templating,
    views,
    views_admin,
    views_cases,
    views_devices,
    views_exports,
    views_people,
    views_reports,
    views_simulator,
    views_users,
    views_voice,
)
