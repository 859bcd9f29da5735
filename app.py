"""The Flask app factory. ``python app.py`` serves web and scheduler in one process."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from flask import Flask, current_app, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from audio.render import SAY_LANGUAGE, SAY_VOICE
from hotline import clock
from hotline.config import INSTANCE, Settings
from hotline.queries import health
from hotline.runtime import Runtime
from hotline.services import devices
from web import runtime

WEBHOOK_PREFIXES = ("/sms/", "/ivr/")


class BoundedInt(IntegerConverter):
    """``<int:...>`` that fits the database's 32-bit ids: a larger number is a 404, not a 500
    (SQLite and PostgreSQL both refuse to compare an INTEGER with 2**63)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, without building the signing serializer for a request that
    carries no session cookie (every webhook): it cost 3 % of an SMS webhook's time."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Migrations are a separate step (``flask migrate``)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.session_interface = CookieSessions()
    # Registered before any blueprint, so every <int:...> in every door is bounded.
    app.url_map.converters["int"] = BoundedInt
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        # The cookie itself expires with the session's absolute lifetime (console/auth.py
        # also checks the idle timeout and the lifetime on every request).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
    )
    # The default SQLite database and rendered audio live under instance/.
    INSTANCE.mkdir(exist_ok=True)
    app.extensions["hotline"] = Runtime(settings)
    if settings.proxy_hops:
        # Behind a TLS proxy: trust its X-Forwarded-* so URLs (and signatures) match.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops, x_port=settings.proxy_hops,
        )

    from console import bp as console_bp
    from console import init_app as init_console
    from console.prompts import MENU_PROMPT_KEYS
    from ivr import bp as ivr_bp
    from ivr.menu import prompt_keys_in_call_order
    from sms import bp as sms_bp

    app.extensions[MENU_PROMPT_KEYS] = prompt_keys_in_call_order
    csrf = init_console(app)
    csrf.exempt(sms_bp)
    csrf.exempt(ivr_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(ivr_bp)
    app.register_blueprint(console_bp)

    from cli import register_cli

    register_cli(app)

    @app.get("/")
    def index():
        return redirect(url_for("console.index"))

    app.add_url_rule("/healthz", view_func=healthz)
    app.after_request(no_sniffing)
    app.register_error_handler(OperationalError, database_unavailable)
    return app


def no_sniffing(response):
    """Every response is what its Content-Type says: a browser never guesses a script out
    of an upload or a text reply."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


LOOPBACK = ("127.0.0.1", "::1")


def may_see_health_details(settings: Settings) -> bool:
    """The health token in ``X-Health-Token``, or a client on this machine (a monitoring
    agent, ``curl`` on the server) that did not come through the proxy."""
    token = request.headers.get("X-Health-Token", "")
    if settings.health_token and hmac.compare_digest(token, settings.health_token):
        return True
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


def healthz():
    """``{"status": ...}`` for anyone; for the health token or a loopback client also
    database reachability, scheduler heartbeat age, outbox and inbound backlogs."""
    rt = runtime()
    if not may_see_health_details(rt.settings):
        return _health_status(rt)
    now = clock.utcnow()
    body: dict = {"status": "ok"}
    try:
        with rt.sessions() as session:
            session.execute(text("SELECT 1"))
            beat_age = health.heartbeat_age_s(session, now)
            backlog = health.outbox_backlog(session, now)
            unhandled = health.inbound_backlog(session)
            sims = devices.health(session, now)
        body["database"] = "ok"
        body["scheduler_heartbeat_age_s"] = beat_age
        body["outbox_backlog"] = backlog
        body["inbound_backlog"] = unhandled
        if sims:  # the Android phones: each SIM's last event, pace and queue
            body["gateway_devices"] = sims
            body["gateway_devices_silent"] = sum(d["active"] and not d["healthy"] for d in sims)
    except OperationalError as exc:
        logging.getLogger(__name__).error("healthz: database unavailable: %s", exc.orig)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(body)


def _health_status(rt: Runtime):
    """The public answer: the database answers or it does not, nothing else."""
    try:
        with rt.sessions() as session:
            session.execute(text("SELECT 1"))
    except OperationalError as exc:
        logging.getLogger(__name__).error("healthz: database unavailable: %s", exc.orig)
        return jsonify(status="error"), 503
    return jsonify(status="ok")


# A caller on the line must hear a person's apology, not Twilio's "application error".
# The voice the menu's <Say> speaks with: Twilio's default voice ("man") does not speak
# Vietnamese.
CALL_FLOW_APOLOGY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Say language="{SAY_LANGUAGE}" voice="{SAY_VOICE}">'
    "Xin lỗi, tổng đài đang bận. Xin gọi lại sau ít phút. Nếu đang gặp nguy hiểm, "
    "hãy gọi một một ba.</Say><Hangup/></Response>"
)
# Voice callbacks that are not a live caller waiting for TwiML.
VOICE_CALLBACKS = ("/ivr/status", "/ivr/recording")


def database_unavailable(exc: OperationalError):
    """Database down or locked: tell webhook callers to retry (Twilio does on 503),
    except a live caller in the voice menu, who hears an apology instead."""
    logging.getLogger(__name__).error("database unavailable: %s", exc.orig)
    if request.path.startswith("/ivr/") and not request.path.startswith(VOICE_CALLBACKS):
        return current_app.response_class(CALL_FLOW_APOLOGY, mimetype="text/xml")
    response = jsonify(error="temporarily unavailable")
    if request.path.startswith(WEBHOOK_PREFIXES):
        response = current_app.response_class("", mimetype="text/plain")
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


if __name__ == "__main__":
    from scheduler.runner import start_background

    application = create_app()
    scheduler = start_background(application.extensions["hotline"])
    try:
        application.run(host="127.0.0.1", port=5000, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)
