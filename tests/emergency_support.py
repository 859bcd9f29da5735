"""Shared by the emergency tests of both doors: a night clock, a team on call, the fake
Twilio that the alert calls go through, and ways to read what went out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.models import Case, Direction, Message, Role
from tests.conftest import AUTH_TOKEN, TWILIO_FROM, at, calls_through, clock_starting_at
from tests.factories import create_person
from tests.fakes.twilio_server import FakeTwilio

SID, FROM = "AC" + "2" * 32, TWILIO_FROM
NIGHT = at("2026-12-01 23:10")
STRANGER = "+84987654321"
SAFETY_NUMBERS = ("113", "115", "111", "1900969680")


@pytest.fixture
def fake():
    with FakeTwilio(account_sid=SID, auth_token=AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def settings(settings, fake):
    return calls_through(settings, fake)


clock_at = clock_starting_at(NIGHT)


@pytest.fixture
def team(db):
    """Two trained responders on call, an untrained peer educator on call, two coordinators."""
    now = at("2026-12-01 09:00")
    people = {
        "hoa": create_person(db, now, phone="+84901000011", role=Role.PEER_EDUCATOR,
                             trained_violence=True, on_duty=True, duty_order=1),
        "thu": create_person(db, now, phone="+84901000012", role=Role.PEER_EDUCATOR,
                             trained_violence=True, on_duty=True, duty_order=2),
        "mai": create_person(db, now, phone="+84901000013", role=Role.PEER_EDUCATOR,
                             on_duty=True, duty_order=0),
        "lan": create_person(db, now, phone="+84901000021", role=Role.COORDINATOR,
                             duty_order=1),
        "nga": create_person(db, now, phone="+84901000022", role=Role.COORDINATOR,
                             duty_order=2),
    }
    db.commit()
    return people


def out_to(db, phone):
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == Direction.OUT,
                                            Message.phone == phone).order_by(Message.id)).all()


def placed(fake) -> list[dict]:
    """The calls placed so far: To, Url (the request) and the call's sid."""
    forms = [r.form for r in fake.requests if r.path.endswith("/Calls.json")]
    return [{**form, "sid": call["sid"]} for form, call in zip(forms, fake.calls, strict=True)]


def same_minute(when) -> bool:
    return when is not None and NIGHT <= when < NIGHT + timedelta(minutes=1)


def the_case(db) -> Case:
    db.expire_all()
    return db.scalars(select(Case)).one()
