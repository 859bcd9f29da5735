"""console/forms.py: what a browser sends is bounded before any service sees it."""

from __future__ import annotations

from datetime import date, time

import pytest
from flask import session
from werkzeug.datastructures import MultiDict

from console.forms import Clock, Day, Flag, Form, FormInvalid, Int, Text, TriageForm, parse


class Sample(Form):
    number = Int("Number", low=1, high=9)
    day = Day("Day")
    at = Clock("At", default=time(15))
    note = Text("Note", limit=5, multiline=True)
    name = Text("Name", limit=20)
    active = Flag("Active", default=True)


def _parse(app, **values):
    with app.test_request_context(method="POST", data=values):
        return parse(Sample, MultiDict(values)).data


def test_good_values_are_typed_and_bounded(app):
    data = _parse(app, number=" 7 ", day="2026-03-10", at="08:30", note=" ab\ncdefgh ",
                  name=" Lan ")
    assert data == {"number": 7, "day": date(2026, 3, 10), "at": time(8, 30),
                    "note": "ab\ncd", "name": "Lan", "active": True}


def test_missing_values_are_the_defaults(app):
    assert _parse(app) == {"number": None, "day": None, "at": time(15), "note": "",
                           "name": "", "active": True}
    assert _parse(app, active="0")["active"] is False


@pytest.mark.parametrize("field, value, message", [
    ("number", "10", "Number: a whole number from 1 to 9."),
    ("number", str(2**31), "Number: a whole number from 1 to 9."),
    ("number", "١٢", "Number: a whole number from 1 to 9."),
    ("number", "1e3", "Number: a whole number from 1 to 9."),
    ("day", "0001-01-01", "Day: a date from 2000-01-01 to 2100-12-31."),
    ("day", "9999-12-31", "Day: a date from 2000-01-01 to 2100-12-31."),
    ("day", "2026-02-30", "Day: a date from 2000-01-01 to 2100-12-31."),
    ("at", "24:00", "At: a time of day such as 15:00."),
    ("name", "a\x00b", "Name: remove the control characters."),
    ("name", "a\nb", "Name: remove the control characters."),
    ("name", "\u202eevil", "Name: remove the control characters."),
    ("note", "a\x1b[31m", "Note: remove the control characters."),
])
def test_a_bad_value_is_a_form_error_with_its_field(app, field, value, message):
    with app.test_request_context(method="POST"), pytest.raises(FormInvalid) as refused:
        session["lang"] = "en"
        parse(Sample, MultiDict({field: value}))
    assert str(refused.value) == message


def test_the_message_is_vietnamese_by_default(app):
    with app.test_request_context(method="POST"), pytest.raises(FormInvalid) as refused:
        parse(Sample, MultiDict({"number": "x"}))
    assert str(refused.value) == "Number: phải là số nguyên từ 1 đến 9."


def test_choices_are_validated_and_coerced(app):
    with app.test_request_context(method="POST"):
        assert parse(TriageForm, MultiDict({"category": "3"})).category.data == 3
        assert parse(TriageForm, MultiDict({})).category.data == 12
        with pytest.raises(FormInvalid):
            parse(TriageForm, MultiDict({"category": "99"}))


def test_a_filter_drops_a_bad_value_and_keeps_the_good_ones(app):
    from console.forms import CaseFilterForm, lenient

    query = MultiDict({"status": "nope", "category": "3", "group": str(2**40),
                       "q": "a\x00b", "ward": "Hoàn Kiếm"})
    with app.test_request_context():
        data = lenient(CaseFilterForm, query).data
    assert (data["status"], data["category"], data["group_id"], data["q"], data["ward"]) == (
        "open", 3, None, "", "Hoàn Kiếm")
