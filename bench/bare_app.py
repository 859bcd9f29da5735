"""The baseline for the webhook benchmark: a bare Flask + twilio app, Twilio's samples' shape.

It only checks the X-Twilio-Signature (``RequestValidator``, as Twilio's "secure your Flask
app" sample does) and answers with fixed TwiML built with twilio's ``MessagingResponse`` /
``VoiceResponse``, as the "reply to an SMS" and "respond to incoming calls" samples do. No
database, no parsing, no logging. Served the same way as the hotline::

    TWILIO_AUTH_TOKEN=... HOTLINE_PUBLIC_URL=https://hotline.example.org \\
        gunicorn -w 2 'bench.bare_app:app'

One deliberate difference from the samples: they validate against ``request.url``; behind a
TLS proxy (as we deploy) that is the proxy's upstream URL, not the one Twilio signed, so the
URL is rebuilt from ``HOTLINE_PUBLIC_URL`` and the path, exactly as ``sms.signatures`` does.
Both apps therefore receive the same requests with the same signatures.
"""

from __future__ import annotations

import os
from functools import wraps

from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

app = Flask(__name__)
PUBLIC_URL = os.environ.get("HOTLINE_PUBLIC_URL", "https://hotline.example.org").rstrip("/")


def validate_twilio_request(view):
    """Twilio's sample decorator: 403 unless the request carries a valid signature."""

    @wraps(view)
    def decorated(*args, **kwargs):
        validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
        url = PUBLIC_URL + request.full_path.rstrip("?")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature",
                                                                         "")):
            return abort(403)
        return view(*args, **kwargs)

    return decorated


@app.post("/sms/inbound")
@validate_twilio_request
def sms_reply():
    resp = MessagingResponse()
    resp.message("STONES: Da nhan tin nhan. Soan HD de xem cac lenh.")
    return str(resp), 200, {"Content-Type": "text/xml"}


@app.post("/ivr/<path:step>")
@validate_twilio_request
def voice_step(step):
    resp = VoiceResponse()
    gather = resp.gather(num_digits=1, action=f"{PUBLIC_URL}/ivr/menu", timeout=6)
    gather.say("Xin chào. Bấm phím 1 để nghe thông tin.", language="vi-VN")
    resp.redirect(f"{PUBLIC_URL}/ivr/menu")
    return str(resp), 200, {"Content-Type": "text/xml"}
