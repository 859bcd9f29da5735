"""Hostile text from members, peer educators and staff is shown as text on every page
and never changes a query: script and SQL injection in every field the console shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.models import Case, Group, Message, Person, Provider
from hotline.services import meetings
from hotline.services.inbound import receive_text
from hotline.services.outbox import Outbox
from tests.console.conftest import HANG, NOW, group, person
from tests.factories import handle_sms

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQL = "'); DROP TABLE people; --"
PAYLOAD = f"{SCRIPT} {SQL}"


@pytest.fixture
def hostile(console, demo):
    """Every kind of text the console shows, filled with the payload through its own door."""
    rt = console.extensions["hotline"]
    stranger = "+84987000111"
    receive_text(rt, "simulator", None, stranger, f"DK {PAYLOAD}")  # a name
    receive_text(rt, "simulator", None, stranger, "DONGY")
    receive_text(rt, "simulator", None, stranger, f"KN {PAYLOAD}")  # a case summary
    receive_text(rt, "simulator", None, HANG, PAYLOAD)  # free text for triage
    handle_sms(rt)
    case = demo.scalar(select(Case).order_by(Case.id.desc()))
    receive_text(rt, "simulator", None, "+84901000002", f"GHI {case.number} {PAYLOAD}")
    handle_sms(rt)
    demo.add(Provider(code="XSS", name=PAYLOAD, phone="1", handles=PAYLOAD))
    g = group(demo, "CD01")
    g.name = PAYLOAD
    meetings.create(demo, NOW, g, NOW + timedelta(days=2), place=PAYLOAD, topic=PAYLOAD)
    from hotline.services import broadcasts

    broadcasts.create(demo, NOW, PAYLOAD, {}, send_at=NOW + timedelta(days=1))
    Outbox(demo).enqueue(NOW, HANG, PAYLOAD, person=person(demo, HANG))
    demo.commit()
    return case


def pages(db, case):
    stranger = db.scalar(select(Person).where(Person.phone == "+84987000111"))
    cd01 = db.scalar(select(Group).where(Group.code == "CD01"))
    meeting_id = db.scalar(select(meetings.Meeting.id).order_by(meetings.Meeting.id.desc()))
    return [
        "/console/dashboard", "/console/cases", f"/console/cases/{case.number}",
        "/console/triage", "/console/people", f"/console/people/{stranger.id}",
        f"/console/people/{stranger.id}/merge", f"/console/people/{stranger.id}/erase",
        "/console/groups", f"/console/groups/{cd01.id}", f"/console/meetings/{meeting_id}",
        "/console/broadcasts", "/console/providers", "/console/audit", "/console/reports",
        "/console/simulator",
        f"/console/simulator/inbox?phone={HANG.replace('+', '%2B')}",
    ]


def test_script_injection_is_shown_as_text_everywhere(as_user, demo, hostile):
    client = as_user("admin")
    shown = 0
    for path in pages(demo, hostile):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert "<script>alert" not in body, path
        assert "<img src=x" not in body, path
        shown += "&lt;script&gt;" in body or "\\u003cscript\\u003e" in body
    assert shown >= 8  # the payload really is on those pages, escaped


def test_sql_injection_in_text_and_search_changes_nothing(as_user, demo, hostile):
    people = demo.scalar(select(func.count()).select_from(Person))
    client = as_user("admin")
    for query in (SQL, "' OR '1'='1", "%' OR 1=1 --", '" OR ""="'):
        response = client.get("/console/people", query_string={"q": query})
        assert response.status_code == 200
        assert "Nguyễn Thị Hoa" not in response.get_data(as_text=True), query
        response = client.get("/console/cases", query_string={"q": query, "status": query,
                                                              "category": query})
        assert response.status_code in (200, 400)
    demo.expire_all()
    assert demo.scalar(select(func.count()).select_from(Person)) == people
    stranger = demo.scalar(select(Person).where(Person.phone == "+84987000111"))
    assert stranger.name == PAYLOAD  # stored exactly as sent, never "cleaned"
    assert demo.scalar(select(Message.body).where(Message.body == PAYLOAD)) == PAYLOAD
