"""People: found by any number or name, their groups, activity and the wards known.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from hotline.models import (
    Call,
    Direction,
    Group,
    Membership,
    Message,
    Person,
    PersonPhone,
    Recording,
    RecordingPurpose,
)
from hotline.phones import PhoneError, normalize
from hotline.text import fold

SEARCH_LIMIT = 50


def as_phone(text: str) -> str | None:
    """``text`` as an E.164 number when it is one (any format), else None."""
    try:
        return normalize(text)
    except PhoneError:
        return None


def has_number(phone: str):
    """The condition for people who have ``phone`` now or had it before."""
    earlier = select(PersonPhone.person_id).where(PersonPhone.phone == phone)
    return or_(Person.phone == phone, Person.id.in_(earlier))


def search(session: Session, query: str, limit: int = SEARCH_LIMIT,
           group_id: int | None = None) -> list[Person]:
    """People by any number they have used (current or earlier, any format), by part of a
    number, or by name (accents and case ignored). An empty query lists the newest. With
    ``group_id``, only the group's current members."""
    query = (query or "").strip()
    in_group = Person.id.in_(select(Membership.person_id).where(
        Membership.group_id == group_id, Membership.left_at.is_(None))) if group_id else true()
    base = select(Person).where(Person.erased_at.is_(None), in_group)
    if not query:
        return list(session.scalars(base.order_by(Person.id.desc()).limit(limit)))
    phone = as_phone(query)
    if phone is not None:
        return list(session.scalars(base.where(has_number(phone)).limit(limit)))
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 1:
        # Part of a number: the trunk 0 of a local number is not in the stored +84 form.
        like = f"%{digits[1:] if digits.startswith('0') else digits}%"
        earlier = select(PersonPhone.person_id).where(PersonPhone.phone.like(like))
        return list(session.scalars(
            base.where(or_(Person.phone.like(like), Person.id.in_(earlier)))
            .order_by(Person.id).limit(limit)
        ))
    wanted = fold(query)
    found = []
    for person_id, name in session.execute(
        select(Person.id, Person.name).where(Person.erased_at.is_(None), Person.name != "",
                                             in_group)
        .order_by(Person.name, Person.id)
    ):
        if wanted in fold(name):
            found.append(person_id)
            if len(found) >= limit:
                break
    if not found:
        return []
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(found)))}
    return [people[i] for i in found]


def current_groups(session: Session, people: list[Person]) -> dict[int, list[Group]]:
    """Person id -> the groups she is in now (to tell two people of one name apart)."""
    found: dict[int, list[Group]] = {p.id: [] for p in people}
    if not found:
        return found
    for person_id, group in session.execute(
        select(Membership.person_id, Group).join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id.in_(found), Membership.left_at.is_(None))
        .order_by(Group.code)
    ):
        found[person_id].append(group)
    return found


def record_counts(session: Session, person: Person) -> dict[str, int]:
    """What hangs on a record (what a merge moves): texts, cases, calls, groups, numbers."""
    from hotline.models import Case

    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "messages": count(Message, Message.person_id == person.id),
        "cases": count(Case, Case.person_id == person.id),
        "calls": count(Call, Call.person_id == person.id),
        "groups": count(Membership, Membership.person_id == person.id,
                        Membership.left_at.is_(None)),
        "numbers": count(PersonPhone, PersonPhone.person_id == person.id),
    }


def phones_of(session: Session, person: Person) -> list[PersonPhone]:
    """Every number the person has used, the current one first, then newest first."""
    rows = list(session.scalars(
        select(PersonPhone).where(PersonPhone.person_id == person.id)
        .order_by(PersonPhone.added_at.desc(), PersonPhone.id.desc())
    ))
    rows.sort(key=lambda r: (r.phone != person.phone, r.retired_at is not None))
    return rows


def person_memberships(session: Session, person: Person) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.person_id == person.id)
        .options(selectinload(Membership.group)).order_by(Membership.joined_at.desc())
    ))


def person_activity(session: Session, person: Person) -> dict[str, int]:
    return {
        "messages_in": session.scalar(select(func.count(Message.id)).where(
            Message.person_id == person.id, Message.direction == Direction.IN)) or 0,
        "messages_out": session.scalar(select(func.count(Message.id)).where(
            Message.person_id == person.id, Message.direction == Direction.OUT)) or 0,
        "calls": session.scalar(select(func.count(Call.id)).where(
            Call.person_id == person.id)) or 0,
    }


def wards(session: Session) -> list[str]:
    """Every ward name known (old and current), for filters."""
    names = set()
    for col in (Person.ward_old, Person.ward_current, Group.ward_old, Group.ward_current):
        names.update(n for n in session.scalars(select(col).distinct()) if n)
    return sorted(names)


def known_phones(session: Session, limit: int = 50) -> list[Person]:
    return list(session.scalars(
        select(Person).where(Person.phone.is_not(None), Person.erased_at.is_(None))
        .order_by(Person.role.desc(), Person.name, Person.id).limit(limit)
    ))


def occupations(session: Session) -> list[str]:
    return sorted(o for o in session.scalars(select(Person.occupation).distinct()) if o)


def name_recordings(session: Session, person: Person, limit: int = 5) -> list[Recording]:
    """Her name as she said it on her calls (registering by keypad), newest first: staff
    listen and type it in."""
    return list(session.scalars(
        select(Recording).join(Call, Call.id == Recording.call_id)
        .where(Call.person_id == person.id, Recording.purpose == RecordingPurpose.NAME)
        .order_by(Recording.created_at.desc(), Recording.id.desc()).limit(limit)))


def name_recording(session: Session, person_id: int, recording_id: int) -> Recording | None:
    """One of her name recordings; None when ``recording_id`` is not one of hers."""
    return session.scalar(
        select(Recording).join(Call, Call.id == Recording.call_id)
        .where(Recording.id == recording_id, Call.person_id == person_id,
               Recording.purpose == RecordingPurpose.NAME))
