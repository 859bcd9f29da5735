"""People: find by any number they have used, register, consent, opt out and in."""

from __future__ import annotations

from datetime import datetime, timedelta

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


# A pending question (consent, RSVP, follow-up) stays answerable this long.
PENDING_TTL = timedelta(days=7)


def set_pending(person: Person, now: datetime, kind: str, ref: int | None,
                ttl: timedelta = PENDING_TTL) -> None:
    """Remember the one question the person's next short reply answers."""
    person.pending_kind, person.pending_ref = kind, ref
    person.pending_expires_at = now + ttl


def clear_pending(person: Person) -> None:
    person.pending_kind = person.pending_ref = person.pending_expires_at = None


def pending_expired(person: Person, now: datetime) -> bool:
    return person.pending_kind is None or (
        person.pending_expires_at is not None and person.pending_expires_at < now
    )


def record_withdrawal(session: Session, now: datetime, person: Person, *, channel: str) -> None:
    """Opting out withdraws consent to be contacted; kept with when and how."""
    session.add(Consent(person_id=person.id, purpose="contact", channel=channel,
                        question="Ngung nhan tin (HUY)", asked_at=now, answer="withdrawn",
                        answered_at=now))
    session.flush()


def record_case_consent(session: Session, now: datetime, person: Person, *, keyword: str,
                        channel: str) -> None:
    """Sending KN/CG (or pressing the key) is an explicit request to handle a problem:
    stored as consent to process what the person sent for that purpose."""
    session.add(Consent(person_id=person.id, purpose="case", channel=channel,
                        question=f"Gui {keyword} de bao van de va nhan ho tro",
                        asked_at=now, answer="granted", answered_at=now))
    session.flush()


# Days before a health-insurance card ends when the member is reminded.
BHYT_REMINDER_DAYS = (30, 7)


def bhyt_due(session: Session, today) -> list[Person]:
    """People whose card ends within the longest reminder window (index on the end date)."""
    from datetime import timedelta as _td

    return list(session.scalars(
        select(Person).where(
            Person.bhyt_expires_on >= today,
            Person.bhyt_expires_on <= today + _td(days=max(BHYT_REMINDER_DAYS)),
            Person.opted_out_at.is_(None), Person.erased_at.is_(None),
            Person.phone.is_not(None),
        )
    ))
