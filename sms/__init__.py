"""The text door: gateway webhooks in, keyword commands to services."""

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")

from sms import views  # noqa: E402,F401
