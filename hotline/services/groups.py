"""Self-help groups: joining, the next meeting, RSVPs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import Attendance, Group, GroupRole, Meeting, MeetingStatus, Membership, Person

__all__ = ["Group", "by_code", "join", "next_meeting", "meeting_values", "rsvp"]

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
