"""Twilio webhook signatures, checked against HOTLINE_PUBLIC_URL + path."""

from __future__ import annotations

import logging
from functools import wraps

from flask import abort, request
from twilio.request_validator import RequestValidator

from web import runtime

log = logging.getLogger(__name__)


def twilio_signed(view):
    """Refuse (403) a webhook without a valid X-Twilio-Signature when a token is set.

    The URL Twilio signed is the public one it called, so it is rebuilt from
    ``public_url`` and the path and query, never from the Host header.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        settings = runtime().settings
        if settings.signatures_required:
            url = settings.public_url.rstrip("/") + request.full_path.rstrip("?")
            signature = request.headers.get("X-Twilio-Signature", "")
            validator = RequestValidator(settings.twilio_auth_token)
            if not signature or not validator.validate(url, request.form, signature):
                log.warning("refused %s: bad or missing Twilio signature", request.path)
                abort(403)
        return view(*args, **kwargs)

    return wrapper
