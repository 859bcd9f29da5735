"""Webhook security: only Twilio (signed with our auth token over HOTLINE_PUBLIC_URL + path +
query + form) and our Android phone (HMAC over body + fresh timestamp) get in.

Forged, missing, re-targeted, tampered, wrong-scheme and stale signatures get 403 and write
nothing anywhere. (The console's security tests live with the console.)
"""

from __future__ import annotations

import json
import time

import pytest
from werkzeug.datastructures import MultiDict

from hotline.gateways.android_events import sign_webhook
from tests.conftest import PUBLIC_URL
from tests.faults.support import (
    ANDROID_SECRET,
    android_post,
    census,
    inbound_form,
    signed_post,
    sms_received,
    twilio_signature,
    webhook_settings,
)

CALL = {"CallSid": "CA" + "4" * 32, "AccountSid": "AC" + "0" * 32, "From": "+84912345678",
        "To": "+15005550006", "CallStatus": "ringing", "Direction": "inbound"}
# Every Twilio webhook, with a form it accepts when correctly signed.
TWILIO_ROUTES = [
    ("/sms/inbound", inbound_form("SM" + "1" * 32, body="HD")),
    ("/sms/status", {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}),
    ("/ivr/incoming", CALL),
    ("/ivr/status", {**CALL, "CallStatus": "completed", "CallDuration": "12"}),
    ("/ivr/menu?n=1&node=main", {**CALL, "Digits": "1"}),
    ("/ivr/missed", CALL),
]
IDS = [path for path, _ in TWILIO_ROUTES]


@pytest.fixture
def settings(settings):
    return webhook_settings(settings)


@pytest.fixture
def refused(client, sessions):
    """Post, expect 403, and check that no table changed."""

    def post(path, data, headers=None, **kwargs):
        before = census(sessions)
        resp = client.post(path, data=data, headers=headers or {}, **kwargs)
        assert resp.status_code == 403, (path, resp.status_code, resp.data[:200])
        assert census(sessions) == before, f"a refused request to {path} wrote to the database"
        return resp

    return post


@pytest.mark.parametrize("path, form", TWILIO_ROUTES, ids=IDS)
def test_a_correct_signature_is_accepted(client, path, form):
    """The baseline every refusal below is measured against."""
    assert signed_post(client, path, form).status_code < 400


@pytest.mark.parametrize("path, form", TWILIO_ROUTES, ids=IDS)
def test_missing_or_forged_signature(refused, path, form):
    for signature in [None, "", "Zm9yZ2Vk", "A" * 28 + "=", "not base64 !"]:
        refused(path, form, {} if signature is None else {"X-Twilio-Signature": signature})


@pytest.mark.parametrize("path, form", TWILIO_ROUTES, ids=IDS)
def test_signature_made_with_another_token(refused, path, form):
    refused(path, form, {"X-Twilio-Signature": twilio_signature(path, form, token="other")})


def test_valid_signature_replayed_against_another_path_or_query(refused):
    form = {**inbound_form("SM" + "3" * 32), **CALL, "MessageStatus": "delivered"}
    for signed_for, posted_to in [
        ("/sms/status", "/sms/inbound"),
        ("/sms/inbound", "/sms/status"),
        ("/ivr/incoming", "/ivr/status"),
        ("/ivr/status", "/ivr/incoming"),
        ("/sms/inbound", "/sms/inbound?x=1"),
        ("/ivr/menu?n=1&node=main", "/ivr/menu?n=2&node=main"),
        ("/ivr/menu?n=1&node=main", "/ivr/menu?node=main&n=1"),
        ("/sms/inbound/", "/sms/inbound"),
    ]:
        refused(posted_to, form, {"X-Twilio-Signature": twilio_signature(signed_for, form)})


def tampered_forms(form: dict):
    """The signed form with a parameter added, altered, removed, repeated or renamed."""
    first = next(iter(form))
    extra = MultiDict(form)
    extra.add("Body" if "Body" not in form else "Extra", "HUY")
    altered = MultiDict(form)
    altered[first] = form[first] + "0"
    removed = MultiDict(form)
    del removed[first]
    repeated = MultiDict(form)
    repeated.add(first, "SM" + "6" * 32)  # a second value for a signed field
    renamed = MultiDict({(k.lower() if k == first else k): v for k, v in form.items()})
    return [extra, altered, removed, repeated, renamed]


@pytest.mark.parametrize("path, form", TWILIO_ROUTES, ids=IDS)
def test_valid_signature_with_the_form_changed(refused, path, form):
    signature = twilio_signature(path, form)
    for tampered in tampered_forms(form):
        refused(path, tampered, {"X-Twilio-Signature": signature})


@pytest.mark.parametrize("path, form", TWILIO_ROUTES, ids=IDS)
def test_signature_over_another_base_url(refused, path, form):
    for base in [
        PUBLIC_URL.replace("https://", "http://"),  # the scheme Twilio did not call
        "http://localhost",  # the Host header the test client sends
        "https://evil.example",
        PUBLIC_URL + "/",
    ]:
        refused(path, form, {"X-Twilio-Signature": twilio_signature(path, form, base=base)})


def test_forwarded_headers_cannot_move_the_signed_url(settings, sessions):
    """Behind a proxy (X-Forwarded-* trusted) the signed URL is still HOTLINE_PUBLIC_URL."""
    from app import create_app

    app = create_app(settings.replace(proxy_hops=1))
    try:
        client = app.test_client()
        form = inbound_form("SM" + "7" * 32)
        before = census(sessions)
        resp = client.post("/sms/inbound", data=form, headers={
            "X-Twilio-Signature": twilio_signature("/sms/inbound", form,
                                                   base="http://evil.example"),
            "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example",
        })
        assert resp.status_code == 403 and census(sessions) == before
        resp = client.post("/sms/inbound", data=form, headers={
            "X-Twilio-Signature": twilio_signature("/sms/inbound", form),
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.org",
        })
        assert resp.status_code == 200
    finally:
        app.extensions["hotline"].close()


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status", "/ivr/incoming", "/ivr/status"])
def test_other_methods_are_not_webhooks(client, sessions, path):
    before = census(sessions)
    assert client.get(path).status_code == 405
    assert client.put(path, data=inbound_form("SM" + "8" * 32)).status_code == 405
    assert census(sessions) == before


def test_oversized_request_is_refused_before_anything_is_read(client, sessions):
    before = census(sessions)
    form = inbound_form("SM" + "9" * 32, body="x" * (3 * 1024 * 1024))
    assert signed_post(client, "/sms/inbound", form).status_code == 413
    assert census(sessions) == before


# --- the Android gateway ------------------------------------------------------------------


def android_raw(client, raw: bytes, headers: dict):
    return client.post("/sms/android", data=raw, content_type="application/json",
                       headers=headers)


def test_android_events_without_a_fresh_valid_hmac_are_refused(client, sessions):
    raw = json.dumps(sms_received("evt-sec")).encode()
    now = str(int(time.time()))
    good = sign_webhook(ANDROID_SECRET, raw, now)
    cases = {
        "no headers": {},
        "no signature": {"X-Timestamp": now},
        "no timestamp": {"X-Signature": good},
        "wrong secret": {"X-Timestamp": now, "X-Signature": sign_webhook("wrong", raw, now)},
        "stale": {"X-Timestamp": str(int(time.time()) - 301),
                  "X-Signature": sign_webhook(ANDROID_SECRET, raw,
                                              str(int(time.time()) - 301))},
        "future": {"X-Timestamp": str(int(time.time()) + 3600),
                   "X-Signature": sign_webhook(ANDROID_SECRET, raw,
                                               str(int(time.time()) + 3600))},
        "not a number": {"X-Timestamp": "yesterday",
                         "X-Signature": sign_webhook(ANDROID_SECRET, raw, "yesterday")},
        "other body": {"X-Timestamp": now,
                       "X-Signature": sign_webhook(ANDROID_SECRET, raw + b" ", now)},
        "signature of body only": {"X-Timestamp": now,
                                   "X-Signature": sign_webhook(ANDROID_SECRET, raw, "")},
        "empty secret": {"X-Timestamp": now, "X-Signature": sign_webhook("", raw, now)},
    }
    before = census(sessions)
    for case, headers in cases.items():
        assert android_raw(client, raw, headers).status_code == 403, case
    assert census(sessions) == before


def test_android_body_changed_after_signing_is_refused(client, sessions):
    raw = json.dumps(sms_received("evt-tamper")).encode()
    now = str(int(time.time()))
    headers = {"X-Timestamp": now, "X-Signature": sign_webhook(ANDROID_SECRET, raw, now)}
    before = census(sessions)
    assert android_raw(client, raw.replace(b"KN bi thu hang", b"HUY"), headers).status_code == 403
    assert census(sessions) == before


def test_android_door_is_shut_without_a_secret(settings, sessions):
    """No secret configured: nothing is trusted, even a request 'signed' with the empty key."""
    from app import create_app

    app = create_app(settings.replace(android_webhook_secret=""))
    try:
        before = census(sessions)
        resp = android_post(app.test_client(), sms_received("evt-nosecret"), secret="")
        assert resp.status_code == 403 and census(sessions) == before
    finally:
        app.extensions["hotline"].close()


def test_android_fresh_valid_event_is_accepted(client):
    assert android_post(client, sms_received("evt-ok")).status_code == 204
