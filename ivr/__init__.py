"""The voice door: Twilio call webhooks, the menu as data, TwiML rendering."""

from flask import Blueprint

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

from ivr import views  # noqa: E402,F401
