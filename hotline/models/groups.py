"""Self-help groups, memberships, meetings and attendance."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base
from hotline.models.enums import BroadcastStatus, GroupRole, MeetingStatus, ReminderStatus


class Group(Base):
    """A self-help group of one ward: members, peer educators, meetings."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    ward_old: Mapped[str | None] = mapped_column(String(60))
    ward_current: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="group")


class Membership(Base):
    """A person in a group for a span of time; leaving sets ``left_at`` (history kept)."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_person_left", "person_id", "left_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=GroupRole.MEMBER)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship(back_populates="memberships")
    person: Mapped["Person"] = relationship()  # noqa: F821


class MeetingSeries(Base):
    """A recurring meeting, e.g. ``monthly`` on the 2nd Sunday at 15:00 (Hanoi time).

    ``rule`` is ``weekly:<weekday>`` or ``monthly:<nth>:<weekday>`` (weekday 0 = Monday,
    nth 1-4, or -1 for the last); the planner job creates the meetings ahead of time.
    """

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))
    local_time: Mapped[time]
    place: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship()


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_group_starts", "group_id", "starts_at"),
        UniqueConstraint("series_id", "occurrence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"))
    # The date the series rule gave this meeting, even after it is moved.
    occurrence: Mapped[date | None]
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.SCHEDULED)
    # Bumped on every move: reminders and notices are keyed by it.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship()


class MeetingReminder(Base):
    """One reminder moment of one meeting; the reminder job polls for due ones."""

    __tablename__ = "meeting_reminders"
    __table_args__ = (Index("ix_meeting_reminders_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    version: Mapped[int]
    offset_minutes: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=ReminderStatus.PENDING)
    done_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)

    meeting: Mapped[Meeting] = relationship()


class Broadcast(Base):
    """One message to a segment of people, now or at ``send_at``."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    # Filters: group_id, ward_old, ward_current, occupation, sex, age_band.
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=BroadcastStatus.DRAFT)
    send_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)
    # A voice broadcast from a staff recording (``audio.broadcasts``): the stored sound's
    # file name and its length. Members told by voice hear it instead of the text said.
    recording: Mapped[str | None] = mapped_column(String(64))
    recording_seconds: Mapped[int | None]  # to the nearest second


class Attendance(Base):
    """RSVP and attendance of one person at one meeting."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rsvp: Mapped[str | None] = mapped_column(String(8))
    rsvp_at: Mapped[datetime | None]
    rsvp_channel: Mapped[str | None] = mapped_column(String(8))
    attended: Mapped[bool | None]
    recorded_at: Mapped[datetime | None]
