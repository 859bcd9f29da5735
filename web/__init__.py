"""What the web doors (ivr/, sms/, console/) share without importing each other: the
running app's Runtime and the Twilio signature check (``web.signatures``)."""

from __future__ import annotations

from flask import current_app

from hotline.runtime import Runtime


def runtime() -> Runtime:
    """The Runtime of the current app (settings, engine, sessions, gateways)."""
    return current_app.extensions["hotline"]
