"""Groups, their members, meetings and series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from hotline.models import (
    Attendance,
    Group,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Person,
)


def groups_overview(session: Session) -> list[tuple[Group, int, datetime | None]]:
    """Every group with its current member count and next scheduled meeting."""
    members = dict(session.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.left_at.is_(None)).group_by(Membership.group_id)
    ).all())
    upcoming = dict(session.execute(
        select(Meeting.group_id, func.min(Meeting.starts_at))
        .where(Meeting.status == "scheduled").group_by(Meeting.group_id)
    ).all())
    groups = session.scalars(select(Group).order_by(Group.active.desc(), Group.code)).all()
    return [(g, members.get(g.id, 0), upcoming.get(g.id)) for g in groups]


def group_members(session: Session, group: Group) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.left_at.is_(None))
        .options(selectinload(Membership.person)).order_by(Membership.role, Membership.id)
    ))


def group_meetings(session: Session, group: Group, limit: int = 30) -> list[Meeting]:
    return list(session.scalars(
        select(Meeting).where(Meeting.group_id == group.id)
        .order_by(Meeting.starts_at.desc()).limit(limit)
    ))


@dataclass(frozen=True)
class SeriesRow:
    series: MeetingSeries
    upcoming: list[Meeting]  # its scheduled meetings still ahead, soonest first
    planned: int  # how many of them there are in all


def group_series(session: Session, group: Group, now: datetime, show: int = 4
                 ) -> list[SeriesRow]:
    """The group's recurring meetings, running ones first, each with what is still ahead."""
    series = session.scalars(
        select(MeetingSeries).where(MeetingSeries.group_id == group.id)
        .order_by(MeetingSeries.active.desc(), MeetingSeries.id.desc())
    ).all()
    if not series:
        return []
    ahead: dict[int, list[Meeting]] = {s.id: [] for s in series}
    for meeting in session.scalars(
        select(Meeting).where(Meeting.series_id.in_(ahead),
                              Meeting.status == MeetingStatus.SCHEDULED,
                              Meeting.starts_at > now)
        .order_by(Meeting.starts_at, Meeting.id)
    ):
        ahead[meeting.series_id].append(meeting)
    return [SeriesRow(s, ahead[s.id][:show], len(ahead[s.id])) for s in series]


def meeting_attendance(session: Session, meeting: Meeting
                       ) -> list[tuple[Person, Attendance | None]]:
    """The group's current members (and anyone already recorded) with their attendance row."""
    rows = {a.person_id: a for a in session.scalars(
        select(Attendance).where(Attendance.meeting_id == meeting.id)
    )}
    people = {m.person.id: m.person for m in group_members(session, meeting.group)}
    if rows:
        for p in session.scalars(select(Person).where(Person.id.in_(rows))):
            people.setdefault(p.id, p)
    ordered = sorted(people.values(), key=lambda p: (p.name or "", p.id))
    return [(p, rows.get(p.id)) for p in ordered]


def all_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).where(Group.active.is_(True)).order_by(Group.code)))
