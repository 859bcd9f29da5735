"""Fuzzing every webhook with hypothesis: never a 500, never a crash, no write when refused.

Forms are drawn from the fields Twilio really sends plus arbitrary names, with values from
plausible to hostile (NUL, controls, right-to-left marks, 400-character sids, SQL and HTML).
Correctly signed requests reach the handlers (so signatures are never the reason for a 4xx);
the Android webhook also gets arbitrary JSON and arbitrary bytes, signed. After any 4xx
every table must hold exactly the rows it held before.

The app is built once per test and shared by its examples (each example compares its own
before and after), hence the suppressed function-scoped-fixture health check. The app runs
with TESTING on, so an unhandled exception fails the test instead of becoming a 500.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hotline.models import MessageStatus
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.faults.support import (
    ACCOUNT_SID,
    LINE,
    android_post,
    census,
    examples,
    signed_post,
    webhook_settings,
)

KNOWN_SMS_SID = "SM" + "5" * 32
KNOWN_CALL_SIDS = ["CA" + "7" * 32, "CA" + "8" * 32]
FUZZ = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Anything a form can carry (UTF-8, so no lone surrogates), short and long.
FORM_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
HOSTILE = st.sampled_from([
    "", " ", "\x00", "\x00\x00SM", "\r\n", "\u202e+84912345678", "\ufeff", "😊" * 40,
    "'; DROP TABLE messages; --", "\" OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}",
    "%s%s%n", "../../etc/passwd", "A" * 400, "9" * 40, "-1", "1e309", "NaN", "0x10",
])
PHONES = st.sampled_from(["+84912345678", "0912345678", "84 91 234 5678", "+84240000000",
                          "VIETTEL", "1900123", "+15005550006", "+8491234567890123"])
VALUE = st.one_of(FORM_TEXT, HOSTILE, PHONES, st.text(st.characters(codec="utf-8"),
                                                      min_size=60, max_size=300))


def form_strategy(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict[str, str]]:
    """Known fields (each present or not) plus a few arbitrary ones."""
    known = st.fixed_dictionaries({}, optional={k: st.one_of(v, VALUE) for k, v in fields.items()})
    extra = st.dictionaries(st.one_of(FORM_TEXT, st.sampled_from(list(fields))), VALUE,
                            max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


SMS_FORM = form_strategy({
    "MessageSid": st.one_of(st.just(KNOWN_SMS_SID),
                            st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True)),
    "SmsSid": st.just(KNOWN_SMS_SID),
    "AccountSid": st.just(ACCOUNT_SID),
    "From": PHONES,
    "To": st.just(LINE),
    "Body": st.sampled_from(["HD", "DK Lan CD01", "HUY", "KN 3 bi thu hang", "TT 1024", "1",
                             "CO", "XOA", "NHAN 1024", "GHI 1024 da goi", "Toi can giup do"]),
    "NumMedia": st.sampled_from(["0", "1", "x"]),
    "MessageStatus": st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed",
                                      "read", "canceled", "bogus"]),
    "SmsStatus": st.sampled_from(["sent", "delivered", "received"]),
    "ErrorCode": st.sampled_from(["30005", "21610", "30003", "0" * 30]),
})
CALL_FORM = form_strategy({
    "CallSid": st.one_of(st.sampled_from(KNOWN_CALL_SIDS),
                         st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True)),
    "AccountSid": st.just(ACCOUNT_SID),
    "From": PHONES,
    "To": st.one_of(st.just(LINE), PHONES),
    "Direction": st.sampled_from(["inbound", "outbound-api", "outbound-dial"]),
    "CallStatus": st.sampled_from(["ringing", "in-progress", "completed", "busy", "no-answer",
                                   "failed", "canceled", "queued"]),
    "CallDuration": st.sampled_from(["0", "30", "-5", "99999999999", "x"]),
    "Digits": st.sampled_from(["1", "2", "9", "0", "*", "#", "12", "1024#", "hangup", ""]),
    "RecordingSid": st.from_regex(r"RE[0-9a-f]{32}", fullmatch=True),
    "RecordingUrl": st.sampled_from(["https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
                                     "javascript:alert(1)", "http://127.0.0.1:1/x"]),
    "RecordingDuration": st.sampled_from(["0", "12", "-1", "x", "1" * 30]),
    "RecordingStatus": st.sampled_from(["completed", "failed", "absent", "in-progress"]),
    "DialCallStatus": st.sampled_from(["completed", "answered", "busy", "no-answer", "failed"]),
})
# Query arguments the voice menu carries in its URLs (step, node, action reference, retries).
QUERY = st.dictionaries(
    st.sampled_from(["n", "node", "key", "r", "fb", "callback", "resume", "x"]),
    st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(
        ["main", "consent", "record_complaint", "dial_duty", "", "1", "?", "../"]), FORM_TEXT),
    max_size=5,
)


@pytest.fixture
def settings(settings):
    return webhook_settings(settings)


@pytest.fixture
def world(db):
    """One outbound message Twilio knows by sid, so status callbacks have work to do."""
    box = Outbox(db, gateway="twilio")
    msg = box.enqueue(at("2026-12-01 10:00"), "+84912345678", "tin nhan")
    msg.external_id, msg.status = KNOWN_SMS_SID, MessageStatus.SENT
    db.commit()


def assert_sound(resp, before: dict, sessions, *, signed: bool) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.data[:300])
    if signed:
        assert resp.status_code != 403, "a correctly signed request was refused"
    if 400 <= resp.status_code < 500:
        assert census(sessions) == before, "a refused request wrote to the database"


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
@FUZZ
@given(form=SMS_FORM)
# Were 500s on PostgreSQL (NUL in a sid, a sid longer than the column, a long error code).
@example(form={"MessageSid": "\x00", "From": "+84912345678", "MessageStatus": "sent"})
@example(form={"MessageSid": "SM" + "a" * 100, "From": "+84912345678", "Body": "HD"})
@example(form={"MessageSid": KNOWN_SMS_SID, "MessageStatus": "failed", "ErrorCode": "0" * 30})
@example(form={"MessageSid": KNOWN_SMS_SID, "MessageStatus": "undelivered", "ErrorCode": "\x00"})
def test_fuzz_twilio_sms_webhooks(client, sessions, world, path, form):
    before = census(sessions)
    assert_sound(signed_post(client, path, form), before, sessions, signed=True)


@pytest.mark.parametrize("path", ["/ivr/incoming", "/ivr/status"])
@FUZZ
@given(form=CALL_FORM)
@example(form={"CallSid": "\x00", "From": "+84912345678"})  # was a 500 on PostgreSQL
@example(form={"CallSid": KNOWN_CALL_SIDS[0], "From": "\x00", "CallStatus": "\x00"})
@example(form={"CallSid": "CA" + "b" * 200, "From": "+84912345678", "CallStatus": "completed"})
def test_fuzz_twilio_voice_webhooks(client, sessions, path, form):
    before = census(sessions)
    assert_sound(signed_post(client, path, form), before, sessions, signed=True)


@FUZZ
@given(data=st.data(), form=CALL_FORM, query=QUERY)
def test_fuzz_every_voice_step(app, client, sessions, data, form, query):
    """Every POST route under /ivr/ (the menu's later steps too), with its URL arguments."""
    routes = sorted(r.rule for r in app.url_map.iter_rules()
                    if r.rule.startswith("/ivr/") and "POST" in r.methods and "<" not in r.rule)
    path = data.draw(st.sampled_from(routes), label="route")
    if query:
        path += "?" + urlencode(query)
    before = census(sessions)
    assert_sound(signed_post(client, path, form), before, sessions, signed=True)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=30), HOSTILE),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
# Any string at all, lone surrogates included: JSON escapes can carry them.
JSON_TEXT = st.one_of(st.text(st.one_of(st.characters(codec=None),
                                         st.characters(categories=["Cs"])), max_size=40),
                      HOSTILE, PHONES)
EVENT = st.fixed_dictionaries(
    {"event": st.one_of(st.sampled_from(["sms:received", "sms:sent", "sms:failed",
                                         "system:ping"]), JSON_TEXT)},
    optional={
        "id": st.one_of(JSON_TEXT, st.integers(), JSON),
        "deviceId": JSON_TEXT,
        "webhookId": JSON_TEXT,
        "payload": st.one_of(
            st.fixed_dictionaries({}, optional={
                "messageId": st.one_of(JSON_TEXT, JSON),
                "message": st.one_of(JSON_TEXT, JSON),
                "phoneNumber": st.one_of(PHONES, JSON_TEXT, JSON),
                "sender": st.one_of(PHONES, JSON_TEXT),
                "simNumber": st.one_of(st.integers(), JSON),
                "receivedAt": st.one_of(JSON_TEXT, JSON),
            }),
            JSON,
        ),
    },
)


def received(event_id, phone="+84912345678", message="HD"):
    return {"event": "sms:received", "id": event_id,
            "payload": {"message": message, "phoneNumber": phone}}


@FUZZ
@given(body=st.one_of(EVENT, JSON))
# Were 500s: a lone surrogate in the id (any backend), NUL or 100 characters (PostgreSQL).
@example(body=received("\ud800"))
@example(body=received("evt\x00"))
@example(body=received("e" * 100))
@example(body=received(12345, phone="\ud800\x00", message="\udfff\x00"))
# Were 500s on PostgreSQL: NUL or a lone surrogate in the event name of a phone's event.
@example(body={"event": "system:ping\x00", "deviceId": "phone-1"})
@example(body={"event": "\ud800", "deviceId": "phone-1"})
def test_fuzz_android_webhook_json(client, sessions, body):
    before = census(sessions)
    assert_sound(android_post(client, body), before, sessions, signed=True)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=400), JSON.map(lambda v: json.dumps(v).encode()[:-1])))
@example(raw=b"[" * 100_000)  # was a 500: RecursionError in json.loads
@example(raw=b'{"event": "sms:received", "id": "\\ud800", "payload": {}}')
def test_fuzz_android_webhook_bytes(client, sessions, raw):
    before = census(sessions)
    assert_sound(android_post(client, raw), before, sessions, signed=True)


ROUTES = ["/sms/inbound", "/sms/status", "/sms/android", "/ivr/incoming", "/ivr/status",
          "/ivr/menu?n=1&node=main", "/ivr/recorded?n=2", "/ivr/recording", "/ivr/dialed?n=3",
          "/ivr/missed"]


@FUZZ
@given(path=st.sampled_from(ROUTES), form=st.one_of(SMS_FORM, CALL_FORM),
       signature=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                              max_size=44),
                           st.sampled_from(["", "Zm9yZ2Vk", "=" * 28])))
def test_fuzz_unsigned_or_forged_requests_are_refused_and_write_nothing(
    client, sessions, path, form, signature
):
    before = census(sessions)
    headers = {} if signature is None else {"X-Twilio-Signature": signature,
                                            "X-Signature": signature, "X-Timestamp": "0"}
    resp = client.post(path, data=form, headers=headers)
    assert resp.status_code == 403, (path, resp.status_code)
    assert census(sessions) == before
