"""Security: sign-in everywhere, CSRF on every form, and IDs in URLs kept to each role.

The route lists come from ``app.url_map``, so a page added later is covered without
touching these tests.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import wave
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from console import auth
from hotline.models import AuditLog, Case, CaseEvent, Message, Recording
from tests.console.conftest import HANG, NAM, NOW, group, open_case, person, sign_in, staff

# Reachable without signing in: the webhooks (they check their own signatures), health,
# the sign-in page, the root redirect, the language switch and static files.
PUBLIC_BLUEPRINTS = {"sms", "ivr", "audio"}
PUBLIC_ENDPOINTS = {"static", "console.static", "console.login", "console.set_language",
                    "healthz", "index", "console.index"}


def _public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


def _url(rule) -> str:
    """A concrete URL for ``rule``: every argument filled with something plausible."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 1 if isinstance(converter, IntegerConverter) else "x"
    return rule.build(values)[1]


def _rules(app, method: str):
    return [r for r in app.url_map.iter_rules() if method in r.methods and not _public(r.endpoint)]


def test_there_are_pages_to_check(console):
    assert len(_rules(console, "GET")) >= 20
    assert len(_rules(console, "POST")) >= 20


def test_every_page_needs_a_login(console):
    client = console.test_client()
    for rule in _rules(console, "GET"):
        response = client.get(_url(rule))
        assert response.status_code == 302, rule.rule
        assert "/console/login" in response.headers["Location"], rule.rule
    for rule in _rules(console, "POST"):
        response = client.post(_url(rule), data={"x": "1"})
        assert response.status_code in (302, 401), rule.rule


def test_public_pages_stay_public(console):
    client = console.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/console/login").status_code == 200
    with client.get("/console/static/console.css") as response:
        assert response.status_code == 200


@pytest.fixture
def csrf_app(console):
    console.config["WTF_CSRF_ENABLED"] = True
    return console


def test_every_form_without_its_token_is_refused(csrf_app, demo):
    client = sign_in(csrf_app.test_client(), "admin")
    before = demo.scalar(select(func.count()).select_from(AuditLog))
    for rule in _rules(csrf_app, "POST"):
        response = client.post(_url(rule), data={"note": "x", "lang": "en", "text": "x"})
        assert response.status_code == 400, rule.rule
        assert "csrf" in response.get_data(as_text=True).lower() or response.status_code == 400
    # Nothing was written by any of them.
    assert demo.scalar(select(func.count()).select_from(AuditLog)) == before
    # JSON posts of the simulator need the token in the header too.
    response = client.post("/console/simulator/sms", json={"phone": HANG, "body": "DK"})
    assert response.status_code == 400
    # And the sign-in form itself.
    anonymous = csrf_app.test_client()
    response = anonymous.post("/console/login",
                              data={"username": "admin", "password": "admin-demo"})
    assert response.status_code == 400


def test_a_wrong_token_is_refused_and_the_right_one_accepted(csrf_app, demo):
    client = sign_in(csrf_app.test_client(), "admin")
    page = client.get("/console/providers").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"code": "TEST", "name": "Thử", "active": "1"}
    assert client.post("/console/providers", data={**data, "csrf_token": "forged"}) \
        .status_code == 400
    assert client.post("/console/providers", data={**data, "csrf_token": token}) \
        .status_code == 302
    # Another session's token does not work either.
    other = sign_in(csrf_app.test_client(), "dieuphoi")
    response = other.post("/console/providers", data={**data, "code": "T2", "csrf_token": token})
    assert response.status_code == 400


def test_webhooks_need_no_csrf_token(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/sms/inbound", data={"MessageSid": "SM1", "From": HANG, "Body": "HD"})
    assert response.status_code == 200


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []  # (method, action, has_token)
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = [attrs.get("method", "get").lower(), attrs.get("action"), False]
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name") == "csrf_token":
            self._current[2] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def test_every_post_form_on_every_page_carries_a_token(csrf_app, demo):
    case = open_case(demo, HANG)
    rec = Recording(gateway="twilio", external_id="RE1", case_id=case.id, media_url="",
                    created_at=NOW)
    demo.add(rec)
    demo.commit()
    client = sign_in(csrf_app.test_client(), "admin")
    client.post(f"/console/groups/{group(demo, 'CD01').id}/meetings", data={
        "date": "2026-03-20", "time": "15:00", "csrf_token": _token(client)})
    client.post(f"/console/groups/{group(demo, 'CD01').id}/series", data={
        "kind": "weekly", "weekday": "6", "time": "15:00", "csrf_token": _token(client)})
    pages = [
        "/console/dashboard", "/console/cases", f"/console/cases/{case.number}",
        "/console/triage", "/console/people", f"/console/people/{person(demo, HANG).id}",
        f"/console/people/{person(demo, HANG).id}/merge?other={person(demo, NAM).id}",
        f"/console/people/{person(demo, HANG).id}/erase", "/console/groups",
        f"/console/groups/{group(demo, 'CD01').id}", "/console/broadcasts?text=x",
        "/console/providers", "/console/prompts", "/console/simulator", "/console/reports",
        "/console/audit", "/console/meetings/1", "/console/users",
    ]
    posts = 0
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for method, action, has_token in parser.forms:
            if method == "post":
                posts += 1
                assert has_token, f"{path}: form to {action} has no CSRF token"
    assert posts >= 30


def _token(client) -> str:
    page = client.get("/console/providers").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --------------------------------------------------------------------------------------------
# IDs in URLs
# --------------------------------------------------------------------------------------------


def test_peer_educator_cannot_reach_another_groups_case(as_user, demo):
    theirs = open_case(demo, HANG)  # CD01: Mai's group
    ours = open_case(demo, NAM)  # CD02: Hoa's group
    rec = Recording(gateway="twilio", external_id="RE2", case_id=theirs.id,
                    media_url="https://api.twilio.com/x", created_at=NOW)
    demo.add(rec)
    demo.commit()
    hoa = as_user("hoa")
    assert hoa.get(f"/console/cases/{ours.number}").status_code == 200
    assert hoa.get(f"/console/cases/{theirs.number}").status_code == 403
    assert hoa.get(f"/console/recordings/{rec.id}").status_code == 403
    response = hoa.post(f"/console/cases/{theirs.number}/note", data={"note": "x"})
    assert response.status_code == 403
    demo.expire_all()
    assert demo.get(Case, theirs.id).status == "new"
    listed = hoa.get("/console/cases?status=all").get_data(as_text=True)
    assert f">{ours.number}<" in listed and f">{theirs.number}<" not in listed
    assert hoa.get("/console/cases/999999").status_code == 404


def test_violence_cases_only_for_trained_peer_educators(as_user, demo):
    violence = open_case(demo, HANG, category=3)  # CD01: Mai is not trained
    assert as_user("mai").get(f"/console/cases/{violence.number}").status_code == 403
    health = open_case(demo, HANG, category=9)
    assert as_user("mai").get(f"/console/cases/{health.number}").status_code == 200
    trained = open_case(demo, NAM, category=3)  # CD02: Hoa is trained
    assert as_user("hoa").get(f"/console/cases/{trained.number}").status_code == 200
    reads = demo.scalars(select(AuditLog).where(AuditLog.action == "read_sensitive")).all()
    assert {(r.actor, r.object_id) for r in reads} == {
        ("mai", str(health.number)), ("hoa", str(trained.number))}


def test_viewer_sees_no_case_no_person_no_recording(as_user, demo):
    case = open_case(demo, HANG)
    rec = Recording(gateway="twilio", external_id="RE3", case_id=case.id, media_url="",
                    created_at=NOW)
    demo.add(rec)
    demo.commit()
    xem = as_user("xem")
    assert xem.get(f"/console/cases/{case.number}").status_code == 403
    assert xem.get(f"/console/recordings/{rec.id}").status_code == 403
    assert xem.get(f"/console/people/{person(demo, HANG).id}").status_code == 403
    assert xem.post(f"/console/cases/{case.number}/resolve").status_code == 403
    assert xem.get(f"/console/simulator/inbox?phone={HANG}").status_code == 403


def test_peer_educator_cannot_use_staff_pages_by_id(as_user, demo):
    msg = Message(direction="in", gateway="simulator", phone=HANG, body="help",
                  status="received", needs_staff=True, created_at=NOW)
    demo.add(msg)
    demo.commit()
    hoa = as_user("hoa")
    assert hoa.post(f"/console/triage/{msg.id}/done").status_code == 403
    assert hoa.get(f"/console/people/{person(demo, HANG).id}").status_code == 403
    assert hoa.post(f"/console/people/{person(demo, HANG).id}/erase",
                    data={"confirm": "1"}).status_code == 403
    assert hoa.get(f"/console/groups/{group(demo, 'CD01').id}").status_code == 403
    assert hoa.post("/console/providers", data={"code": "X", "name": "X"}).status_code == 403
    demo.expire_all()
    assert demo.get(Message, msg.id).triaged_at is None


def test_peer_educator_cannot_assign(as_user, demo):
    case = open_case(demo, NAM)
    hoa = as_user("hoa")
    other = person(demo, "+84901000003")
    hoa.post(f"/console/cases/{case.number}/assign", data={"person_id": other.id})
    demo.expire_all()
    assert demo.get(Case, case.id).assignee_id != other.id


def test_pages_send_security_headers(as_user):
    response = as_user("admin").get("/console/cases")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_script_in_member_text_is_shown_as_text(as_user, demo):
    case = open_case(demo, HANG, summary='<script>alert("x")</script> "><img src=x onerror=1>')
    page = as_user("admin").get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page


# --------------------------------------------------------------------------------------------
# The recording proxy: the account's credentials go to Twilio's API origin and nowhere else
# --------------------------------------------------------------------------------------------

FORWARDING_URLS = [
    "https://eviltwilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    "https://api.twilio.com.evil.org/2010-04-01/Accounts/AC1/Recordings/RE1",
    "https://evil.org/api.twilio.com/Recordings/RE1",
    "https://api.twilio.com@evil.org/Recordings/RE1",
    "https://api.twilio.com:8443/Recordings/RE1",
    "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
    "ftp://api.twilio.com/Recordings/RE1",
    "https://api.twilio.com:bad/Recordings/RE1",
]


@pytest.fixture
def proxied(console, demo, monkeypatch):
    """A recording with only a media URL, the app holding Twilio credentials, and every
    outgoing fetch recorded instead of made."""
    from console import media

    rt = console.extensions["hotline"]
    rt.settings = rt.settings.replace(twilio_account_sid="AC1", twilio_auth_token="secret")
    case = open_case(demo, HANG, category=3)
    rec = Recording(gateway="twilio", external_id="RE9", case_id=case.id, media_url="",
                    created_at=NOW)
    demo.add(rec)
    demo.commit()
    fetched = []

    class Upstream:
        status_code = 200
        headers = {"Content-Type": "audio/mpeg"}

        def iter_content(self, size):
            yield b"ID3 sound"

        def close(self):
            pass

    def fake_get(url, **kwargs):
        fetched.append((url, kwargs.get("auth")))
        return Upstream()

    monkeypatch.setattr(media.requests, "get", fake_get)
    return rec, fetched


@pytest.mark.parametrize("url", FORWARDING_URLS)
def test_recording_proxy_never_forwards_credentials_elsewhere(as_user, demo, proxied, url):
    rec, fetched = proxied
    rec.media_url = url
    demo.commit()
    assert as_user("admin").get(f"/console/recordings/{rec.id}").status_code == 404
    assert fetched == []


def test_recording_proxy_fetches_from_the_twilio_api_with_credentials(as_user, demo, proxied):
    rec, fetched = proxied
    rec.media_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE9"
    demo.commit()
    with as_user("admin").get(f"/console/recordings/{rec.id}") as response:
        assert response.status_code == 200 and response.data == b"ID3 sound"
    assert fetched == [(rec.media_url, ("AC1", "secret"))]


# --------------------------------------------------------------------------------------------
# Sessions a server can end: a cookie copied before sign-out is worth nothing after it
# --------------------------------------------------------------------------------------------


def _stolen_copy(console, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = console.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _notes(db, case) -> int:
    return db.scalar(select(func.count(CaseEvent.id)).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "note"))


def test_a_cookie_stolen_before_logout_opens_nothing_after_it(console, as_user, demo):
    case = open_case(demo, HANG)
    admin = as_user("admin")
    thief = _stolen_copy(console, admin)
    assert thief.get("/console/dashboard").status_code == 200  # the copy works, until...
    admin.post("/console/logout")
    assert "/console/login" in thief.get("/console/dashboard").headers["Location"]
    response = thief.post(f"/console/cases/{case.number}/note", data={"note": "ke gian"})
    assert response.status_code in (302, 401)
    demo.expire_all()
    assert _notes(demo, case) == 0
    # Signing in again opens a new session; the stolen one stays dead.
    fresh = as_user("admin")
    assert fresh.get("/console/dashboard").status_code == 200
    assert thief.get("/console/dashboard").status_code == 302


def test_an_admin_ends_every_session_of_a_login(console, as_user, demo):
    hoa = as_user("hoa")
    thief = _stolen_copy(console, hoa)
    admin = as_user("admin")
    response = admin.post(f"/console/users/{staff(demo, 'hoa').id}/sessions")
    assert response.status_code == 302
    for client in (hoa, thief):
        assert client.get("/console/cases").status_code == 302
    assert admin.get("/console/users").status_code == 200  # her own session goes on
    [entry] = demo.scalars(select(AuditLog).where(AuditLog.action == "user_sessions_ended"))
    assert entry.user_id == staff(demo, "admin").id and entry.detail["username"] == "hoa"
    # Only admins may.
    assert as_user("dieuphoi").post(
        f"/console/users/{staff(demo, 'admin').id}/sessions").status_code == 403


def test_deactivation_ends_a_stolen_copy_too(console, as_user, demo):
    mai = as_user("mai")
    thief = _stolen_copy(console, mai)
    as_user("admin").post(f"/console/users/{staff(demo, 'mai').id}/active", data={"active": "0"})
    assert thief.get("/console/cases").status_code == 302


@pytest.mark.parametrize(("pause", "ends"), [
    (timedelta(hours=7, minutes=59), False), (timedelta(hours=8, minutes=1), True)])
def test_an_idle_session_ends(console, as_user, monkeypatch, pause, ends):
    client = as_user("dieuphoi")
    start = time.time()
    monkeypatch.setattr(auth, "wall_clock", lambda: start + pause.total_seconds())
    assert (client.get("/console/dashboard").status_code == 302) == ends


def test_a_busy_session_still_ends_after_its_lifetime(console, as_user, monkeypatch):
    client = as_user("dieuphoi")
    start = time.time()
    for hour in range(1, 12):
        monkeypatch.setattr(auth, "wall_clock", lambda h=hour: start + h * 3600)
        assert client.get("/console/dashboard").status_code == 200, hour
    monkeypatch.setattr(auth, "wall_clock", lambda: start + 12 * 3600 + 60)
    assert client.get("/console/dashboard").status_code == 302


def test_session_lifetimes_are_settings(settings, sessions, demo, monkeypatch):
    from app import create_app

    app = create_app(settings.replace(session_idle_hours=0.5, session_max_hours=1))
    app.config["WTF_CSRF_ENABLED"] = False
    assert app.permanent_session_lifetime == timedelta(hours=1)
    client = sign_in(app.test_client(), "admin")
    start = time.time()
    monkeypatch.setattr(auth, "wall_clock", lambda: start + 31 * 60)
    assert client.get("/console/dashboard").status_code == 302
    app.extensions["hotline"].close()


def test_the_session_cookie_is_secure_behind_https(as_user):
    cookie = as_user("admin").get_cookie("session")
    assert cookie.secure and cookie.http_only  # PUBLIC_URL of the tests is https


# --------------------------------------------------------------------------------------------
# Sign-in throttling: by address and login together, shared by every worker
# --------------------------------------------------------------------------------------------

STRANGER, HOME = "203.0.113.66", "198.51.100.7"


def _attempt(console, address, username, password):
    client = console.test_client()
    return client.post("/console/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_a_stranger_cannot_lock_the_admin_out(console, demo):
    for _ in range(auth.FREE_ATTEMPTS + 10):
        assert _attempt(console, STRANGER, "admin", "doan-mo-2026").status_code == 401
    # The stranger is locked out, even with the right password...
    assert _attempt(console, STRANGER, "admin", "admin-demo").status_code == 401
    # ...the real admin, from her own address, is not.
    assert _attempt(console, HOME, "admin", "admin-demo").status_code == 302


def test_one_address_trying_many_logins_is_blocked(console, demo):
    from hotline.services import logins

    for i in range(logins.ADDRESS_ATTEMPTS):
        _attempt(console, STRANGER, f"user{i}", "doan-mo-2026")
    assert _attempt(console, STRANGER, "dieuphoi", "dieuphoi-demo").status_code == 401
    assert _attempt(console, HOME, "dieuphoi", "dieuphoi-demo").status_code == 302


def test_a_flood_of_refusals_is_one_audit_row_with_its_count(console, demo):
    for i in range(60):
        _attempt(console, STRANGER, "admin" if i % 2 else "nobody", "doan-mo-2026")
    rows = list(demo.scalars(select(AuditLog).where(AuditLog.action == "login_failed")))
    assert len(rows) == 1
    detail = rows[0].detail
    assert detail["count"] == 60 and detail["remote"] == STRANGER
    assert set(detail["logins"]) == {"admin", "nobody"}
    assert detail["bad"] + detail["locked"] == 60 and "doan-mo" not in str(detail)
    # Another address is another burst.
    _attempt(console, HOME, "admin", "sai-mat-khau-1")
    assert demo.scalar(select(func.count(AuditLog.id))
                       .where(AuditLog.action == "login_failed")) == 2


def test_parallel_guesses_get_exactly_the_free_attempts(app, demo, monkeypatch):
    """41 guesses at once, each on its own database connection as gunicorn's workers would
    be: the count is taken before each password check, so no more are checked."""
    from concurrent.futures import ThreadPoolExecutor

    from hotline.services import logins

    checked = []
    check = logins.check_password_hash

    def counting(password_hash, password):
        checked.append(1)
        return check(password_hash, password)

    monkeypatch.setattr(logins, "check_password_hash", counting)
    sessions = app.extensions["hotline"].sessions
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(
            lambda _: logins.sign_in(sessions, NOW, "admin", "doan-mo-2026", STRANGER).outcome,
            range(41)))
    assert len(checked) == auth.FREE_ATTEMPTS
    # Every guess not checked is refused as locked, and so is the 5th checked one. A
    # checked guess whose answer is stored after another's lock says "locked" too (it is,
    # by then), so under load up to all five checked ones may: none says more than "bad".
    assert set(outcomes) <= {"bad", "locked"}
    assert 41 - auth.FREE_ATTEMPTS + 1 <= outcomes.count("locked") <= 41
    assert outcomes.count("bad") <= auth.FREE_ATTEMPTS - 1
    assert logins.sign_in(sessions, NOW, "admin", "admin-demo", HOME).outcome == "ok"


# --------------------------------------------------------------------------------------------
# Uploads: only real sound is accepted, re-encoded; the uploaded bytes are never served
# --------------------------------------------------------------------------------------------

requires_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")


def _upload(client, key, name, data):
    return client.post(f"/console/prompts/{key}/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _tone(tmp_path, suffix) -> bytes:
    """Half a second of a real 440 Hz tone, encoded by sox as ``suffix``."""
    path = tmp_path / f"tone{suffix}"
    subprocess.run(["sox", "-n", "-r", "22050", "-c", "2", str(path), "synth", "0.5", "sine",
                    "440"], check=True, capture_output=True)
    return path.read_bytes()


@requires_sox
@pytest.mark.parametrize(("name", "data"), [
    ("welcome.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00<html><script>alert(1)</script></html>"),
    ("welcome.mp3", b"\xff\xfb<html><script>alert(1)</script></html>" * 20),
    ("welcome.wav", b"RIFF\x24\x00\x00\x00WAVE<html><script>alert(1)</script></html>"),
    ("welcome.wav", b"RIFF<html><body onload=alert(1)></html>"),
])
def test_a_web_page_with_an_audio_header_is_refused(as_user, settings, name, data):
    from console import prompts

    admin = as_user("admin")
    response = _upload(admin, "welcome", name, data)
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "không phải tệp âm thanh" in page
    _, recorded = prompts.dirs(settings)
    assert not recorded.exists() or not any(recorded.iterdir())
    for suffix in (".mp3", ".wav"):
        served = admin.get(f"/ivr/audio/welcome{suffix}")
        assert b"<script>" not in served.data and b"<html>" not in served.data
        served.close()


@requires_sox
@pytest.mark.parametrize("suffix", [".mp3", ".wav"])
def test_real_sound_is_re_encoded_and_the_upload_never_served(as_user, settings, tmp_path,
                                                               suffix):
    from console import prompts

    original = _tone(tmp_path, suffix)
    admin = as_user("admin")
    assert _upload(admin, "welcome", f"loi-chao{suffix}", original).status_code == 302
    _, recorded = prompts.dirs(settings)
    assert [p.name for p in recorded.iterdir()] == ["welcome.wav"]
    stored = (recorded / "welcome.wav").read_bytes()
    assert stored != original
    with wave.open(io.BytesIO(stored)) as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (8000, 1, 2)
        assert 0.4 < sound.getnframes() / 8000 < 0.6
    with admin.get("/ivr/audio/welcome.wav") as served:
        assert served.status_code == 200 and served.mimetype == "audio/wav"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.get_data() == stored
