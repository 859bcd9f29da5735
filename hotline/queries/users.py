"""Console logins and the people they may stand for.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import (
    Person,
    Role,
    StaffUser,
)


def staff_users(session: Session) -> list[tuple[StaffUser, Person | None]]:
    """Every console login with the person it stands for; active ones first."""
    rows = session.execute(
        select(StaffUser, Person).outerjoin(Person, Person.id == StaffUser.person_id)
        .order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username)
    ).all()
    return [(user, person) for user, person in rows]


def linkable_people(session: Session) -> list[Person]:
    """People a login may stand for: peer educators and coordinators."""
    return list(session.scalars(
        select(Person).where(Person.erased_at.is_(None),
                             Person.role.in_([Role.PEER_EDUCATOR, Role.COORDINATOR]))
        .order_by(Person.role, Person.name, Person.id)
    ))
