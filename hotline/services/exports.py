"""Exports for staff: cases and people as CSV, and everything held about one person.

Every export is audited. Phone numbers are masked in the CSVs unless the coordinator asks for
them (and the audit row says she did). The words (column names, category and status names)
come from the door that asks, through ``Labels``, so the console gives them in its language.

``person_data`` answers a data subject's request under the personal data law: her profile,
every number, consents, groups and attendance, texts both ways, cases with their timeline,
calls, callback requests and the list of her recordings (not their sound, which staff can
play in the console).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from hotline import clock
from hotline.models import (
    Attendance,
    Call,
    CallbackRequest,
    Case,
    CaseEvent,
    Group,
    Meeting,
    Membership,
    Message,
    Person,
    PersonPhone,
    Recording,
    StaffUser,
)
from hotline.phones import mask
from hotline.services.audit import audit

CASE_COLUMNS = ("number", "created", "category", "emergency", "status", "channel", "group",
                "member", "phone", "sex", "birth_year", "ward_old", "ward_current",
                "assignee", "acknowledged", "resolved", "closed", "followup")
PEOPLE_COLUMNS = ("id", "name", "phone", "sex", "birth_year", "occupation", "home_province",
                  "ward_old", "ward_current", "residence", "role", "groups", "registered",
                  "opted_out")


class Labels(Protocol):
    """The words of the door asking: a column's heading, and a code's name in a table
    (``category``, ``status``, ``channel``, ``sex``, ``occupation``, ``residence``,
    ``role``, ``yes_no``, ``followup``)."""

    def column(self, key: str) -> str: ...

    def value(self, table: str, code: Any) -> str: ...


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.local(value).strftime(fmt) if value else ""


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    # A BOM so spreadsheet programs open the Vietnamese as UTF-8.
    buf.write("\ufeff")
    out = csv.writer(buf)
    out.writerow(header)
    for row in rows:
        out.writerow([_cell(v) for v in row])
    return buf.getvalue()


PHONE_LIKE = re.compile(r"^\+[0-9*]+$")


def _cell(value: Any) -> Any:
    """A text starting with = + - @ is a formula to a spreadsheet: quoted as text (a phone
    number, masked or not, is left as it is)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not PHONE_LIKE.match(
            value):
        return "'" + value
    return value


def _phone(value: str | None, show: bool) -> str:
    if not value:
        return ""
    return value if show else mask(value)


def cases_csv(session: Session, now: datetime, user: StaffUser | None, labels: Labels,
              *, show_phones: bool = False) -> tuple[str, int]:
    """Every case, newest first, one row each (no story, no notes); the CSV and its rows."""
    member, assignee = aliased(Person), aliased(Person)
    query = (select(Case, member, assignee.name, Group.code)
             .join(member, member.id == Case.person_id)
             .outerjoin(assignee, assignee.id == Case.assignee_id)
             .outerjoin(Group, Group.id == Case.group_id)
             .order_by(Case.number.desc()))
    v = labels.value
    rows = [[
        case.number, _when(case.created_at), v("category", case.category),
        v("yes_no", case.emergency), v("status", case.status), v("channel", case.channel),
        code or "", person.name, _phone(person.phone, show_phones), v("sex", person.sex),
        person.birth_year or "", person.ward_old or "", person.ward_current or "",
        helper or "", _when(case.acknowledged_at), _when(case.resolved_at),
        _when(case.closed_at), v("followup", case.followup_answer),
    ] for case, person, helper, code in session.execute(query)]
    audit(session, now, user, "export_cases", "case", "", rows=len(rows),
          phones="shown" if show_phones else "masked")
    return _csv([labels.column(c) for c in CASE_COLUMNS], rows), len(rows)


def people_csv(session: Session, now: datetime, user: StaffUser | None, labels: Labels,
               *, show_phones: bool = False) -> tuple[str, int]:
    """Everyone the line knows (erased records left out), with their current groups."""
    groups: dict[int, list[str]] = {}
    for person_id, code in session.execute(
        select(Membership.person_id, Group.code).join(Group, Group.id == Membership.group_id)
        .where(Membership.left_at.is_(None)).order_by(Group.code)
    ):
        groups.setdefault(person_id, []).append(code)
    v = labels.value
    rows = [[
        p.id, p.name, _phone(p.phone, show_phones), v("sex", p.sex), p.birth_year or "",
        v("occupation", p.occupation), p.home_province or "", p.ward_old or "",
        p.ward_current or "", v("residence", p.residence_status), v("role", p.role),
        " ".join(groups.get(p.id, [])), _when(p.registered_at), _when(p.opted_out_at),
    ] for p in session.scalars(select(Person).where(Person.erased_at.is_(None))
                               .order_by(Person.id))]
    audit(session, now, user, "export_people", "person", "", rows=len(rows),
          phones="shown" if show_phones else "masked")
    return _csv([labels.column(c) for c in PEOPLE_COLUMNS], rows), len(rows)


# --------------------------------------------------------------------------------------------
# Everything about one person
# --------------------------------------------------------------------------------------------


@dataclass
class PersonData:
    """What the line holds about one person, section by section, in her own time zone."""

    person: Person
    made_at: datetime
    numbers: list[PersonPhone] = field(default_factory=list)
    consents: list = field(default_factory=list)
    memberships: list[tuple[Membership, Group]] = field(default_factory=list)
    attendance: list[tuple[Attendance, Meeting, Group]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    cases: list[tuple[Case, list[CaseEvent]]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    recordings: list[tuple[Recording, int | None]] = field(default_factory=list)
    callbacks: list[CallbackRequest] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in (
            "numbers", "consents", "memberships", "attendance", "messages", "cases", "calls",
            "recordings", "callbacks")}


def person_data(session: Session, now: datetime, user: StaffUser | None,
                person: Person) -> PersonData:
    """Gather everything held about ``person`` and audit that it was exported."""
    data = PersonData(person, now)
    data.numbers = list(session.scalars(select(PersonPhone).where(
        PersonPhone.person_id == person.id).order_by(PersonPhone.added_at)))
    numbers = {n.phone for n in data.numbers} | ({person.phone} if person.phone else set())
    data.consents = sorted(person.consents, key=lambda c: (c.asked_at, c.id))
    data.memberships = list(session.execute(
        select(Membership, Group).join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id == person.id).order_by(Membership.joined_at)))
    data.attendance = list(session.execute(
        select(Attendance, Meeting, Group).join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(Attendance.person_id == person.id).order_by(Meeting.starts_at)))

    def theirs(model):
        """Hers: linked to her, or from or to one of her numbers."""
        mine = model.person_id == person.id
        return or_(mine, model.phone.in_(numbers)) if numbers else mine

    data.messages = list(session.scalars(
        select(Message).where(theirs(Message)).order_by(Message.created_at, Message.id)))
    for case in session.scalars(select(Case).where(Case.person_id == person.id)
                                .order_by(Case.created_at)):
        data.cases.append((case, list(case.events)))
    data.calls = list(session.scalars(
        select(Call).where(theirs(Call)).order_by(Call.started_at)))
    call_ids = [c.id for c in data.calls]
    case_ids = [c.id for c, _ in data.cases]
    numbers_of = {c.id: c.number for c, _ in data.cases}
    data.recordings = [(r, numbers_of.get(r.case_id)) for r in session.scalars(
        select(Recording).where(or_(Recording.call_id.in_(call_ids or [-1]),
                                    Recording.case_id.in_(case_ids or [-1])))
        .order_by(Recording.created_at))]
    data.callbacks = list(session.scalars(
        select(CallbackRequest).where(theirs(CallbackRequest))
        .order_by(CallbackRequest.created_at)))
    audit(session, now, user, "person_data_export", "person", person.id, **data.counts())
    return data
