"""What a person's page shows, in one call: her numbers, consents, groups, cases, texts not
sent, callbacks, and an erasure request still waiting with its deadline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from hotline.models import Person, StaffUser
from hotline.queries import callbacks, cases, erasures, groups, notsent, people


def context(session: Session, now: datetime, user: StaffUser | None, person: Person,
            holidays: Iterable[date] = ()) -> dict:
    """The template values of ``console/person.html``."""
    return {
        "p": person,
        "phones": people.phones_of(session, person),
        "consents": sorted(person.consents, key=lambda c: (c.asked_at, c.id), reverse=True),
        "memberships": people.person_memberships(session, person),
        "cases": cases.person_cases(session, person, user),
        "activity": people.person_activity(session, person),
        "name_recordings": people.name_recordings(session, person),
        "groups": groups.all_groups(session),
        "not_sent": notsent.for_person(session, person),
        "callbacks": callbacks.callbacks(session, person_id=person.id, limit=20),
        "erasure": erasures.open_for_person(session, now, person, holidays),
    }
