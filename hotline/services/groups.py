"""Self-help groups: joining, the next meeting, RSVPs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import (
    Attendance,
    Group,
    GroupRole,
    Meeting,
    MeetingStatus,
    Membership,
    Person,
    StaffUser,
)
from hotline.phones import PhoneError, normalize
from hotline.services import people as people_service
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError

__all__ = ["Group", "by_code", "join", "next_meeting", "meeting_values", "offered", "rsvp"]

WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def by_code(session: Session, code: str) -> Group | None:
    return session.scalar(
        select(Group).where(Group.code == code.strip().upper(), Group.active.is_(True))
    )


def join(session: Session, now: datetime, person: Person, group: Group,
         role: str = GroupRole.MEMBER) -> Membership:
    """Put ``person`` in ``group``; leaving the old group keeps its history."""
    current = session.scalars(
        select(Membership).where(Membership.person_id == person.id, Membership.left_at.is_(None))
    ).all()
    for membership in current:
        if membership.group_id == group.id:
            return membership
        if membership.role != GroupRole.PEER_EDUCATOR:
            membership.left_at = now
    membership = Membership(group_id=group.id, person_id=person.id, role=role, joined_at=now)
    session.add(membership)
    session.flush()
    return membership


def offered(session: Session, person: Person, limit: int, offset: int = 0) -> list[Group]:
    """The active groups a person may join by keypad, by code: those of her old ward (the
    narrower one), else of her current ward, else (ward unknown) all; at most ``limit`` of
    them after the first ``offset`` (the list is read a page at a time)."""
    base = (select(Group).where(Group.active.is_(True)).order_by(Group.code, Group.id)
            .limit(offset + limit))
    for column, ward in ((Group.ward_old, person.ward_old),
                         (Group.ward_current, person.ward_current)):
        if ward:
            # The ward's list up to the page: an empty page of a ward with groups is
            # still that ward's (not the next ward's).
            found = list(session.scalars(base.where(column == ward)))
            if found:
                return found[offset:]
    return list(session.scalars(base))[offset:]


def next_meeting(session: Session, person: Person, now: datetime) -> Meeting | None:
    """The next scheduled meeting of any group the person belongs to."""
    return session.scalar(
        select(Meeting)
        .join(Membership, Membership.group_id == Meeting.group_id)
        .where(
            Membership.person_id == person.id,
            Membership.left_at.is_(None),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )


def meeting_values(meeting: Meeting) -> dict[str, str]:
    """Template values for a meeting, in Hanoi time, short enough for one SMS."""
    start = clock.local(meeting.starts_at)
    when = f"{start:%H:%M} {WEEKDAYS[start.weekday()]} {start:%d/%m}"
    return {"group": meeting.group.code, "when": when, "place": (meeting.place or "-")[:50]}


def rsvp(session: Session, now: datetime, person: Person, meeting_id: int | None,
         *, attending: bool) -> Attendance | None:
    """Record the person's answer for that meeting (the one they were asked about)."""
    if meeting_id is None or session.get(Meeting, meeting_id) is None:
        return None
    row = session.scalar(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                                  Attendance.person_id == person.id))
    if row is None:
        row = Attendance(meeting_id=meeting_id, person_id=person.id)
        session.add(row)
    row.rsvp = "yes" if attending else "no"
    row.rsvp_at = now
    session.flush()
    return row


# --- staff: groups and their members ------------------------------------------------------

def save_group(session: Session, now: datetime, user: StaffUser, group: Group | None, *,
               code: str, name: str, ward_old: str = "", ward_current: str = "",
               active: bool = True) -> Group:
    """Add a self-help group (``group`` None) or change one; codes are unique."""
    code, name = code.strip().upper()[:10], name.strip()[:120]
    if not code or not name:
        raise ServiceError(N_("A group needs a code and a name."))
    clash = session.scalar(select(Group).where(Group.code == code))
    if clash is not None and clash is not group:
        raise ServiceError(N_("Another group has this code."))
    if group is None:
        group = Group(code=code, name=name, created_at=now)
        session.add(group)
    group.code, group.name = code, name
    group.ward_old = ward_old.strip()[:60] or None
    group.ward_current = ward_current.strip()[:60] or None
    group.active = active
    session.flush()
    audit(session, now, user, "group_save", "group", group.id, code=code)
    return group


def add_member(session: Session, now: datetime, user: StaffUser, group: Group,
               phone: str, role: str) -> Membership:
    """Put the person with ``phone`` (any format) in ``group`` (``groups.join``: a member
    leaves her old group, history kept); an existing member gets the new role."""

    try:
        e164 = normalize(phone)
    except PhoneError:
        raise ServiceError(N_("Not a phone number.")) from None
    if role not in {r.value for r in GroupRole}:
        role = GroupRole.MEMBER
    person, _created = people_service.get_or_create(session, now, e164)
    if person.erased_at is not None:
        raise ServiceError(N_("This person's data was erased."))
    membership = join(session, now, person, group, role)
    membership.role = role
    session.flush()
    audit(session, now, user, "member_add", "group", group.id, person=person.id, role=role)
    return membership


def remove_member(session: Session, now: datetime, user: StaffUser, membership: Membership
                  ) -> None:
    """The person leaves the group; the membership stays as history."""
    if membership.left_at is None:
        membership.left_at = now
        audit(session, now, user, "member_leave", "group", membership.group_id,
              person=membership.person_id)
        session.flush()
