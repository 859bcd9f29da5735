"""Security: sign-in everywhere, CSRF on every form, and IDs in URLs kept to each role.

The route lists come from ``app.url_map``, so a page added later is covered without
touching these tests.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from hotline.models import AuditLog, Case, Message, Recording
from tests.console.conftest import HANG, NAM, NOW, group, open_case, person, sign_in

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
        values[arg] = 1 if converter.__class__.__name__ == "IntegerConverter" else "x"
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
