"""Fuzzing every console route as every role: arbitrary values never give a 500.

The routes come from ``app.url_map`` (so pages added later are fuzzed too), their path
variables filled with numbers up to 2**70, words, NUL and Unicode digits; the fields come
from the names the console's templates post, plus arbitrary ones, with values from plausible
to hostile (huge integers, dates from year 1 to 9999, NUL, controls, Unicode digits). POSTs
also go as JSON of every type (the simulator reads JSON). The app runs with TESTING on, so an
unhandled exception fails the test instead of becoming a 500; a 500 answer fails it too.

Each role's client signs in once per test and is shared by the examples (hence the suppressed
function-scoped-fixture health check). Logging out would end the role's session: skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from tests.console.conftest import sign_in
from tests.faults.support import examples

FUZZ = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROLES = {"admin": "admin", "coordinator": "dieuphoi", "peer educator": "hoa",
         "viewer": "xem", "anonymous": None}
SKIP_ENDPOINTS = {"console.logout"}
TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
FIELDS = sorted({name for path in TEMPLATES.rglob("*.html")
                 for name in re.findall(r'name="([a-z_][a-z0-9_]*)"', path.read_text())}
                - {"csrf_token"})

BIG = st.sampled_from([2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63, 2**64, 2**70, 10**30])
NUMBER = st.one_of(st.integers(-3, 40), BIG, st.integers(-(2**70), 2**70))
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),  # year 1 to 9999
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.sampled_from(["0000-00-00", "2026-02-30", "9999-12-31T23:59", "0001-01-01T00:00",
                     "2026-13-01", "10000-01-01", "2026-03-10T25:00", "24:00", "99:99"]),
)
HOSTILE = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\r\n", "\x1b[31m", "\u202e", "\ufeff", "١٢٣", "٣", "１２３",
    "²", "Ⅻ", "9" * 40, "-1", "1e309", "NaN", "inf", "0x10", "<script>", "{{7*7}}", "%s%n",
    "https://evil.example/", "//evil.example", "/\\evil.example", "/console/\r\nSet-Cookie:x",
    "on", "true", "1", "0",
])
VALUE = st.one_of(NUMBER.map(str), DATES, HOSTILE, st.text(max_size=30),
                  st.text(st.characters(codec="utf-8"), max_size=30))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBER, st.floats(allow_nan=False), VALUE),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5),
                                            inner, max_size=4)),
    max_leaves=8,
)
FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)),
                       st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3)), max_size=6)
SEGMENT = st.one_of(NUMBER.map(str), HOSTILE.filter(lambda v: v and "/" not in v),
                    st.sampled_from(["welcome", "close", "assign", "note", "ok", "dismiss"]),
                    st.text(st.characters(codec="utf-8", exclude_characters="/?#%"),
                            min_size=1, max_size=12))


def console_rules(app):
    return sorted((r for r in app.url_map.iter_rules()
                   if r.endpoint.startswith("console.") and r.endpoint not in SKIP_ENDPOINTS),
                  key=lambda r: (r.rule, r.endpoint))


def fill(rule, values: dict[str, str | int]) -> str:
    """The rule's path with each variable replaced (unescaped: the converter sees it raw)."""
    from urllib.parse import quote

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                  lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)


@st.composite
def requests(draw, rules):
    rule = draw(st.sampled_from(rules))
    args = {name: draw(NUMBER if isinstance(conv, IntegerConverter)
                       else SEGMENT)
            for name, conv in rule._converters.items()}
    method = draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})))
    query = draw(FORM)
    body = draw(st.one_of(FORM.map(lambda f: ("form", f)), JSON.map(lambda j: ("json", j)),
                          st.binary(max_size=40).map(lambda b: ("raw", b))))
    return fill(rule, args), method, query, body


def send(client, path, method, query, body):
    kind, data = body
    kwargs = {"query_string": query}
    if method == "POST":
        if kind == "form":
            kwargs["data"] = data
        elif kind == "json":
            kwargs["data"], kwargs["content_type"] = json.dumps(data), "application/json"
        else:
            kwargs["data"], kwargs["content_type"] = data, "application/json"
    return client.open(path, method=method, **kwargs)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_console_route_gives_a_500(console, role):
    client = console.test_client()
    if ROLES[role]:
        sign_in(client, ROLES[role])
    rules = console_rules(console)
    assert len(rules) > 40  # the walk found the console

    @FUZZ
    @given(requests(rules))
    def run(request):
        path, method, query, body = request
        response = send(client, path, method, query, body)
        assert response.status_code < 500, (method, path, query, body)

    run()


@pytest.mark.parametrize("big", ["2147483648", "9223372036854775808", "1" + "0" * 30])
def test_huge_ids_in_paths_are_not_found(as_user, big):
    client = as_user("admin")
    for path in ("/console/cases/", "/console/people/", "/console/groups/",
                 "/console/meetings/"):
        assert client.get(path + big).status_code == 404


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"+84912000001"', "42", "null", "true",
                                  '{"phone": ["+84912000001"]}', '{"phone": {"a": 1}}',
                                  '{"phone": "+84912000001", "body": [1]}', "{not json"])
def test_simulator_json_that_is_not_a_flat_object_is_a_400(as_user, body):
    client = as_user("admin")
    for path in ("/console/simulator/sms", "/console/simulator/deliver",
                 "/console/simulator/call", "/console/simulator/call/step"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, body, response.status_code)


@pytest.mark.parametrize("target", ["/console/cases\r\nSet-Cookie: x=1", "/console/\nx",
                                    "https://evil.example/console/", "//evil.example/console/",
                                    "/console/..\\\\evil", "/console/\x00", "/console/\x7f"])
def test_login_next_with_controls_or_off_site_is_ignored(console, target):
    client = console.test_client()
    response = client.post("/console/login", data={"username": "admin",
                                                   "password": "admin-demo", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/console/", "/console/dashboard"), target


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-02", "9999-12-31", "2026-02-30"])
def test_dates_outside_the_line_s_years_fall_back_to_the_default_period(as_user, day):
    client = as_user("dieuphoi")
    for path in ("/console/brief", "/console/reports", "/console/brief.csv"):
        for field in ("from", "to"):
            assert client.get(path, query_string={field: day}).status_code == 200, (path, day)


# The query-string filters and switches routed through console/forms.py: each hostile value
# is as if not given (the page's default), never a 500.
ROUTED_FILTERS = {
    "/console/people": ("q", "group"),
    "/console/callbacks": ("status",),
    "/console/reports": ("by", "ward", "from", "to"),
    "/console/providers/report": ("from", "to", "ward", "provider"),
    "/console/brief": ("from", "to", "ward"),
    "/console/issues": ("status",),
    "/console/press": ("from", "to", "category", "issue", "tone", "outlet"),
    "/console/exports/cases.csv": ("phones",),
    "/console/exports/people.csv": ("phones",),
    "/console/audit": ("action", "user", "object_type", "object_id", "page"),
    "/console/providers": ("edit",),
    "/console/cases": ("page",),
}
ROUTED_VALUES = ["\x00", "a\x00b", "\x1b[31m", "\u202e", "١٢٣", "１２３", "²", "9" * 40,
                 str(2**31), str(2**70), "-1", "0001-01-01", "9999-12-31", "2026-02-30", "bogus"]


@pytest.mark.parametrize("path", sorted(ROUTED_FILTERS))
def test_routed_filters_take_a_bad_value_as_not_given(as_user, path):
    client = as_user("admin")
    plain = client.get(path)
    assert plain.status_code == 200
    for field in ROUTED_FILTERS[path]:
        for value in ROUTED_VALUES:
            response = client.get(path, query_string={field: value})
            assert response.status_code == 200, (path, field, value, response.status_code)


def test_a_bad_filter_value_shows_the_default_page(as_user, demo):
    """A refused filter is the filter left empty: the same people, the same numbers."""
    client = as_user("admin")

    def shown(**query) -> list[str]:
        page = client.get("/console/people", query_string=query).get_data(as_text=True)
        return re.findall(r'href="/console/people/(\d+)"', page)

    everyone = shown()
    assert len(everyone) > 3 and shown(q="\x00", group="٣") == everyone
    assert shown(q="Hằng") != everyone  # the search itself works
    masked = client.get("/console/exports/people.csv").get_data(as_text=True)
    assert client.get("/console/exports/people.csv", query_string={"phones": "１"}
                      ).get_data(as_text=True) == masked


@pytest.mark.parametrize("lang", ["\x00", "xx", "vi\x00", "١"])
def test_language_switch_ignores_an_unknown_language(console, lang):
    client = console.test_client()
    response = client.post("/console/lang", data={"lang": lang, "next": "/console/\r\nx"})
    assert response.status_code == 302 and "\n" not in response.headers["Location"]
    with client.session_transaction() as session:
        assert "lang" not in session


@pytest.mark.parametrize("value", ["²", "١٢", "1\x00", str(2**40), "x"])
def test_attendance_with_a_bad_id_is_refused_whole(as_user, demo, value):
    from sqlalchemy import func, select

    from hotline.models import Attendance, Meeting
    from tests.console.conftest import HANG, group, person

    admin = as_user("dieuphoi")
    cd01 = group(demo, "CD01")
    admin.post(f"/console/groups/{cd01.id}/meetings", data={
        "date": "2026-03-15", "time": "15:00", "place": "Nhà văn hóa", "topic": "BHYT"})
    meeting = demo.scalar(select(Meeting).where(Meeting.group_id == cd01.id))
    hang = person(demo, HANG)
    response = admin.post(f"/console/meetings/{meeting.id}/attendance", data={
        "listed": [str(hang.id), value], "present": [str(hang.id)]})
    assert response.status_code == 302
    present = select(func.count(Attendance.id)).where(Attendance.attended.is_(True))
    assert demo.scalar(present) == 0  # nothing half-recorded
    admin.post(f"/console/meetings/{meeting.id}/attendance", data={
        "listed": [str(hang.id)], "present": [str(hang.id)]})
    assert demo.scalar(present) == 1  # the same roll, well formed


@pytest.mark.parametrize("confirm", ["\x00", "١", "yes", "1\x00"])
def test_confirm_boxes_take_only_1(as_user, demo, confirm):
    from sqlalchemy import select

    from hotline.models import Membership
    from tests.console.conftest import group, person

    admin = as_user("dieuphoi")
    hang = person(demo, "+84912000001")
    membership = demo.scalar(select(Membership).where(Membership.person_id == hang.id))
    leave = admin.post(f"/console/groups/{group(demo, 'CD01').id}/members/{membership.id}"
                       "/leave", data={"confirm": confirm})
    assert leave.status_code == 200 and 'id="confirm"' in leave.get_data(as_text=True)
    erase = admin.post(f"/console/people/{hang.id}/erase", data={"confirm": confirm})
    assert erase.status_code == 302 and erase.headers["Location"].endswith("/erase")
    demo.expire_all()
    assert membership.left_at is None and hang.erased_at is None


@pytest.mark.parametrize("field, value", [("duration", str(2**40)), ("duration", "-5"),
                                          ("duration", "١"), ("callback_id", "0"),
                                          ("phone", "\x00"), ("body", "a\x00b"),
                                          ("direction", "sideways"), ("call_sid", "CA\x00")])
def test_simulator_fields_the_form_refuses_are_a_400(as_user, field, value):
    client = as_user("admin")
    data = {"kind": "hangup", "call_sid": "CA" + "1" * 32, "phone": "+84912000001",
            "callback_id": "1", "body": "DK", field: value}
    for path in ("/console/simulator/sms", "/console/simulator/call/step"):
        response = client.post(path, json=data)
        assert response.status_code == 400, (path, field, value, response.status_code)
