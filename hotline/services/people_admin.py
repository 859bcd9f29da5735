"""People, as staff look after them: find by any number, edit, merge, erase on request.

Merging: a member with a new SIM first texts as a stranger, so the line has two records of
one person. ``merge`` moves everything of one record onto the other (numbers, cases,
messages, calls, consents, groups, attendance ...) and keeps every earlier number, so the
history stays whole. ``erase`` answers an erasure request under the personal data law:
personal fields and the person's own words go, counts for reports stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from hotline.db import Base
from hotline.models import (
    Attendance,
    Call,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseEvent,
    Direction,
    Membership,
    Message,
    MessageStatus,
    Person,
    PersonPhone,
    Recording,
    Residence,
    Role,
    Sex,
    StaffUser,
)
from hotline.phones import PhoneError, mask, normalize
from hotline.services.audit import audit
from hotline.text import fold

SEARCH_LIMIT = 50
# Personal fields a merge fills in on the kept record when it has none.
FILLABLE = ("name", "sex", "birth_year", "occupation", "home_province", "ward_old",
            "ward_current", "safe_contact_start", "safe_contact_end", "bhyt_expires_on")
EDITABLE = ("name", "sex", "birth_year", "occupation", "home_province", "ward_old",
            "ward_current", "residence_status", "role", "trained_violence", "on_duty")


def N_(message: str) -> str:
    """Marks a message id for the console's translations."""
    return message


class PeopleError(Exception):
    """A merge or erasure that cannot be done; the message is a message id for staff."""


# --------------------------------------------------------------------------------------------
# Finding
# --------------------------------------------------------------------------------------------


def search(session: Session, query: str, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People by any number they have used (current or earlier, any format), by part of a
    number, or by name (accents and case ignored). An empty query lists the newest."""
    query = (query or "").strip()
    base = select(Person).where(Person.erased_at.is_(None))
    if not query:
        return list(session.scalars(base.order_by(Person.id.desc()).limit(limit)))
    try:
        phone = normalize(query)
    except PhoneError:
        phone = None
    if phone is not None:
        earlier = select(PersonPhone.person_id).where(PersonPhone.phone == phone)
        return list(session.scalars(
            base.where(or_(Person.phone == phone, Person.id.in_(earlier))).limit(limit)
        ))
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
        select(Person.id, Person.name).where(Person.erased_at.is_(None), Person.name != "")
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


def phones_of(session: Session, person: Person) -> list[PersonPhone]:
    """Every number the person has used, the current one first, then newest first."""
    rows = list(session.scalars(
        select(PersonPhone).where(PersonPhone.person_id == person.id)
        .order_by(PersonPhone.added_at.desc(), PersonPhone.id.desc())
    ))
    rows.sort(key=lambda r: (r.phone != person.phone, r.retired_at is not None))
    return rows


# --------------------------------------------------------------------------------------------
# Editing
# --------------------------------------------------------------------------------------------


def _clean_field(name: str, raw: str | None):
    raw = (raw or "").strip()
    if name in ("trained_violence", "on_duty"):
        return raw == "1"
    if name == "birth_year":
        if not raw:
            return None
        try:
            year = int(raw)
        except ValueError:
            raise PeopleError(N_("Birth year must be a year.")) from None
        if not 1900 <= year <= 2100:
            raise PeopleError(N_("Birth year must be a year."))
        return year
    if name == "sex":
        return raw if raw in {s.value for s in Sex} else None
    if name == "residence_status":
        return raw if raw in {r.value for r in Residence} else Residence.UNKNOWN.value
    if name == "role":
        return raw if raw in {r.value for r in Role} else Role.MEMBER.value
    limit = {"name": 120, "occupation": 40}.get(name, 60)
    return raw[:limit] if name == "name" else (raw[:limit] or None)


def update_person(session: Session, now: datetime, user: StaffUser | None, person: Person,
                  form: Mapping[str, str]) -> list[str]:
    """Change the editable fields given in ``form``; returns the names of those changed."""
    if person.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    changed = []
    for name in EDITABLE:
        if name not in form and name not in ("trained_violence", "on_duty"):
            continue
        value = _clean_field(name, form.get(name))
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if changed:
        audit(session, now, user, "person_edit", "person", person.id, fields=changed)
        session.flush()
    return changed


# --------------------------------------------------------------------------------------------
# Merging two records of one person
# --------------------------------------------------------------------------------------------


def _people_references() -> list:
    """Every (table, column) holding a person id, found from the schema itself so tables added
    later are moved too."""
    refs = []
    people = Person.__table__
    for table in Base.metadata.sorted_tables:
        if table is people:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is people:
                refs.append((table, fk.parent))
    return refs


@dataclass
class MergeResult:
    kept: int
    removed: int
    current_phone: str | None
    moved: dict[str, int] = field(default_factory=dict)


def merge(session: Session, now: datetime, user: StaffUser | None, keep: Person, drop: Person,
          current_phone: str | None = None) -> MergeResult:
    """Fold ``drop`` into ``keep``: everything that pointed at ``drop`` points at ``keep``,
    every number stays in ``keep``'s history, and ``current_phone`` (either record's number;
    ``drop``'s by default, as it is usually the new SIM) becomes the current one."""
    if keep.id == drop.id:
        raise PeopleError(N_("Choose two different records."))
    if keep.erased_at is not None or drop.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    current_phone = current_phone or drop.phone or keep.phone
    if current_phone not in (keep.phone, drop.phone):
        raise PeopleError(N_("The current number must be one of the two records' numbers."))
    keep_id, drop_id = keep.id, drop.id
    old_keep_phone, drop_phone = keep.phone, drop.phone

    # Rows with a uniqueness that includes the person: keep the kept record's own.
    keep_meetings = select(Attendance.meeting_id).where(Attendance.person_id == keep_id)
    session.execute(delete(Attendance).where(
        Attendance.person_id == drop_id, Attendance.meeting_id.in_(keep_meetings)
    ))
    keep_groups = select(Membership.group_id).where(
        Membership.person_id == keep_id, Membership.left_at.is_(None)
    )
    session.execute(update(Membership).where(
        Membership.person_id == drop_id, Membership.left_at.is_(None),
        Membership.group_id.in_(keep_groups),
    ).values(left_at=now))

    # Personal fields the kept record lacks; the earliest registration; opted out if either.
    for name in FILLABLE:
        if getattr(keep, name) in (None, "") and getattr(drop, name) not in (None, ""):
            setattr(keep, name, getattr(drop, name))
    if keep.residence_status == Residence.UNKNOWN and drop.residence_status:
        keep.residence_status = drop.residence_status
    if drop.registered_at and (keep.registered_at is None
                               or drop.registered_at < keep.registered_at):
        keep.registered_at = drop.registered_at
    if drop.opted_out_at and not keep.opted_out_at:
        keep.opted_out_at = drop.opted_out_at
    keep.trained_violence = keep.trained_violence or drop.trained_violence
    if keep.role == Role.MEMBER and drop.role != Role.MEMBER:
        keep.role = drop.role
    # The unique phone column: free it on the removed record first.
    drop.phone = None
    session.flush()

    moved = {}
    for table, column in _people_references():
        result = session.execute(update(table).where(column == drop_id).values({column: keep_id}))
        if result.rowcount:
            moved[f"{table.name}.{column.name}"] = result.rowcount
    session.execute(delete(Person).where(Person.id == drop_id))
    session.expunge(drop)

    keep.phone = current_phone
    known = set(session.scalars(select(PersonPhone.phone).where(
        PersonPhone.person_id == keep_id
    )))
    for phone in (old_keep_phone, drop_phone):
        if phone and phone not in known:
            session.add(PersonPhone(person_id=keep_id, phone=phone, added_at=now))
    session.flush()
    session.execute(update(PersonPhone).where(
        PersonPhone.person_id == keep_id, PersonPhone.phone != current_phone,
        PersonPhone.retired_at.is_(None),
    ).values(retired_at=now))
    session.execute(update(PersonPhone).where(
        PersonPhone.person_id == keep_id, PersonPhone.phone == current_phone,
    ).values(retired_at=None))
    session.expire_all()
    audit(session, now, user, "person_merge", "person", keep_id, removed=drop_id,
          current=mask(current_phone or ""), moved=moved)
    session.flush()
    return MergeResult(keep_id, drop_id, current_phone, moved)


# --------------------------------------------------------------------------------------------
# Erasure on request
# --------------------------------------------------------------------------------------------


@dataclass
class EraseResult:
    person_id: int
    messages: int = 0
    cases: int = 0
    recordings: int = 0
    files_removed: int = 0
    provider_media: int = 0
    cancelled: int = 0


def erase(session: Session, now: datetime, user: StaffUser | None, person: Person,
          audio_dir: str | None = None) -> EraseResult:
    """Blank everything that identifies ``person`` or is in their words; keep the rows that
    reports count (cases by category and date, attendance, messages and calls as counts).

    Numbers, name, birth year, sex, occupation, province, wards, the message bodies they sent
    and received, their stories on cases and the notes about them, and their recordings go.
    Recordings held by a provider (Twilio) have their link forgotten here; deleting them at
    the provider is counted in ``provider_media`` for a job to do.
    """
    if person.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    result = EraseResult(person.id)
    numbers = set(session.scalars(
        select(PersonPhone.phone).where(PersonPhone.person_id == person.id)
    ))
    if person.phone:
        numbers.add(person.phone)
    mine = Message.person_id == person.id
    if numbers:
        mine = or_(mine, Message.phone.in_(numbers))
    result.cancelled = session.execute(
        update(Message).where(mine, Message.direction == Direction.OUT,
                              Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED, error_message="erased")
    ).rowcount
    result.messages = session.execute(
        update(Message).where(mine).values(body="", phone="")
    ).rowcount
    case_ids = list(session.scalars(select(Case.id).where(Case.person_id == person.id)))
    result.cases = len(case_ids)
    if case_ids:
        session.execute(update(Case).where(Case.id.in_(case_ids)).values(summary=""))
        session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(case_ids))
                        .values(note=""))
    call_ids = list(session.scalars(select(Call.id).where(
        or_(Call.person_id == person.id, Call.phone.in_(numbers or {""}))
    )))
    if call_ids:
        session.execute(update(Call).where(Call.id.in_(call_ids)).values(phone=""))
    recs = list(session.scalars(select(Recording).where(or_(
        Recording.case_id.in_(case_ids or [-1]), Recording.call_id.in_(call_ids or [-1])
    ))))
    for rec in recs:
        result.recordings += 1
        if rec.local_path:
            path = Path(rec.local_path)
            if not path.is_absolute() and audio_dir:
                path = Path(audio_dir) / path
            try:
                path.unlink()
                result.files_removed += 1
            except FileNotFoundError:
                pass
        if rec.media_url:
            result.provider_media += 1
        rec.local_path = None
        rec.media_url = ""
    session.execute(update(CallbackRequest).where(
        CallbackRequest.person_id == person.id, CallbackRequest.status == CallbackStatus.QUEUED
    ).values(status=CallbackStatus.GIVEN_UP))
    session.execute(update(CallbackRequest).where(CallbackRequest.person_id == person.id)
                    .values(phone="", note=""))
    session.execute(update(Membership).where(
        Membership.person_id == person.id, Membership.left_at.is_(None)
    ).values(left_at=now))
    session.execute(delete(PersonPhone).where(PersonPhone.person_id == person.id))
    session.execute(update(Message).where(
        Message.person_id == person.id, Message.needs_staff.is_(True),
        Message.triaged_at.is_(None),
    ).values(triaged_at=now, triaged_by_id=user.id if user else None))
    for name in ("phone", "sex", "birth_year", "occupation", "home_province", "ward_old",
                 "ward_current", "safe_contact_start", "safe_contact_end", "pending_kind",
                 "pending_ref", "pending_expires_at", "bhyt_expires_on"):
        setattr(person, name, None)
    person.name = ""
    person.residence_status = Residence.UNKNOWN
    person.on_duty = False
    person.opted_out_at = person.opted_out_at or now
    person.erased_at = now
    session.expire(person, ["phones"])
    audit(session, now, user, "person_erase", "person", person.id, messages=result.messages,
          cases=result.cases, recordings=result.recordings,
          provider_media=result.provider_media)
    session.flush()
    return result
