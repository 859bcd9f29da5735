"""Read models for minutes, collective issues, forums and press items (console and brief)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hotline.models import (
    Group,
    GroupRole,
    Meeting,
    MeetingStatus,
    Membership,
    StaffRole,
    StaffUser,
)
from hotline.models.voice import CollectiveIssue, Forum, MeetingMinutes, PressItem


def minute_groups(session: Session, user: StaffUser) -> list[int] | None:
    """Groups whose minutes ``user`` may write: all (None) for staff, her own for a peer
    educator, none otherwise."""
    if user.role in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        return None
    if user.role != StaffRole.PEER_EDUCATOR or user.person_id is None:
        return []
    return list(session.scalars(select(Membership.group_id).where(
        Membership.person_id == user.person_id, Membership.left_at.is_(None),
        Membership.role == GroupRole.PEER_EDUCATOR)))


def may_write_minutes(session: Session, user: StaffUser, meeting: Meeting) -> bool:
    allowed = minute_groups(session, user)
    return allowed is None or meeting.group_id in allowed


def recent_meetings(session: Session, user: StaffUser, now: datetime, days: int = 90
                    ) -> list[tuple[Meeting, MeetingMinutes | None]]:
    """Meetings that have begun in the last ``days`` and were not cancelled, newest first,
    with their minutes if written."""
    allowed = minute_groups(session, user)
    stmt = (select(Meeting, MeetingMinutes)
            .outerjoin(MeetingMinutes, MeetingMinutes.meeting_id == Meeting.id)
            .where(Meeting.starts_at <= now, Meeting.starts_at >= now - timedelta(days=days),
                   Meeting.status != MeetingStatus.CANCELLED)
            .options(selectinload(Meeting.group))
            .order_by(Meeting.starts_at.desc()).limit(200))
    if allowed is not None:
        stmt = stmt.where(Meeting.group_id.in_(allowed or [-1]))
    return [(m, mm) for m, mm in session.execute(stmt)]


def minutes_of(session: Session, meeting: Meeting) -> MeetingMinutes | None:
    return session.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id))


@dataclass
class IssueRow:
    issue: CollectiveIssue
    age_days: int
    last_step_on: date | None


def issues_overview(session: Session, today: date, status: str | None = None) -> list[IssueRow]:
    """Every collective issue with its age (days since raised), open ones first."""
    stmt = (select(CollectiveIssue)
            .options(selectinload(CollectiveIssue.steps), selectinload(CollectiveIssue.cases),
                     selectinload(CollectiveIssue.groups))
            .order_by(CollectiveIssue.raised_on.desc(), CollectiveIssue.id.desc()))
    if status:
        stmt = stmt.where(CollectiveIssue.status == status)
    rows = [IssueRow(i, (today - i.raised_on).days,
                     i.steps[-1].happened_on if i.steps else None)
            for i in session.scalars(stmt)]
    return sorted(rows, key=lambda r: r.issue.status in ("resolved", "no_change"))


def all_issues(session: Session) -> list[CollectiveIssue]:
    return list(session.scalars(select(CollectiveIssue).order_by(CollectiveIssue.title)))


def all_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).where(Group.active.is_(True))
                                .order_by(Group.code)))


def forums(session: Session, first: date | None = None, last: date | None = None
           ) -> list[Forum]:
    stmt = select(Forum).options(selectinload(Forum.issues)).order_by(Forum.held_on.desc())
    if first:
        stmt = stmt.where(Forum.held_on >= first)
    if last:
        stmt = stmt.where(Forum.held_on <= last)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class PressFilters:
    first: date | None = None
    last: date | None = None
    category: int | None = None
    issue_id: int | None = None
    tone: str | None = None
    outlet: str = ""


def press_items(session: Session, f: PressFilters) -> list[PressItem]:
    """Press items, newest first, filtered (a category filter matches any of an item's tags)."""
    stmt = select(PressItem).options(selectinload(PressItem.issue)).order_by(
        PressItem.published_on.desc(), PressItem.id.desc())
    if f.first:
        stmt = stmt.where(PressItem.published_on >= f.first)
    if f.last:
        stmt = stmt.where(PressItem.published_on <= f.last)
    if f.issue_id:
        stmt = stmt.where(PressItem.issue_id == f.issue_id)
    if f.tone:
        stmt = stmt.where(PressItem.tone == f.tone)
    if f.outlet:
        stmt = stmt.where(PressItem.outlet.ilike(f"%{f.outlet}%"))
    items = list(session.scalars(stmt))
    if f.category:
        items = [i for i in items if f.category in (i.categories or [])]
    return items
