"""People: find by any number they have used, register, consent, opt out and in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.models import Consent, Person, PersonPhone


def find_by_phone(session: Session, phone: str) -> Person | None:
    """The person whose current or any earlier number is ``phone`` (E.164)."""
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is not None:
        return person
    return session.scalar(
        select(Person)
        .join(PersonPhone, PersonPhone.person_id == Person.id)
        .where(PersonPhone.phone == phone, Person.erased_at.is_(None))
        .order_by(PersonPhone.added_at.desc())
        .limit(1)
    )


def get_or_create(session: Session, now: datetime, phone: str) -> tuple[Person, bool]:
    """The person behind ``phone``, created (unregistered) on first contact."""
    person = find_by_phone(session, phone)
    if person is not None:
        return person, False
    person = Person(phone=phone, created_at=now)
    try:
        with session.begin_nested():
            session.add(person)
            session.flush()
            session.add(PersonPhone(person_id=person.id, phone=phone, added_at=now))
    except IntegrityError:
        # A concurrent request created them first.
        return find_by_phone(session, phone), False
    return person, True


def ask_consent(
    session: Session, now: datetime, person: Person, *, purpose: str, question: str, channel: str
) -> Consent:
    """Record that ``question`` was put to ``person``; the answer comes later."""
    consent = Consent(
        person_id=person.id, purpose=purpose, question=question, channel=channel, asked_at=now
    )
    session.add(consent)
    session.flush()
    return consent


def answer_consent(
    session: Session, now: datetime, person: Person, *, purpose: str, granted: bool
) -> Consent | None:
    """Store the answer on the latest open question for ``purpose``."""
    consent = session.scalar(
        select(Consent)
        .where(
            Consent.person_id == person.id,
            Consent.purpose == purpose,
            Consent.answer.is_(None),
        )
        .order_by(Consent.asked_at.desc(), Consent.id.desc())
        .limit(1)
    )
    if consent is None:
        return None
    consent.answer = "granted" if granted else "refused"
    consent.answered_at = now
    session.flush()
    return consent


def has_consent(session: Session, person: Person, purpose: str) -> bool:
    """Whether the person's latest answer for ``purpose`` is a grant."""
    latest = session.scalar(
        select(Consent.answer)
        .where(
            Consent.person_id == person.id,
            Consent.purpose == purpose,
            Consent.answer.is_not(None),
        )
        .order_by(Consent.answered_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return latest == "granted"
