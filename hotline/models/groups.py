"""Self-help groups, memberships, meetings and attendance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base


class GroupRole(StrEnum):
    MEMBER = "member"
    LEADER = "leader"
    DEPUTY = "deputy"
    SECRETARY = "secretary"
    PEER_EDUCATOR = "peer_educator"


class Group(Base):
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


class MeetingStatus(StrEnum):
    """scheduled -> held | cancelled. A move keeps ``scheduled`` with a new time."""

    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_group_starts", "group_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.SCHEDULED)
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship()


class Attendance(Base):
    """RSVP and attendance of one person at one meeting."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rsvp: Mapped[str | None] = mapped_column(String(8))
    rsvp_at: Mapped[datetime | None]
    attended: Mapped[bool | None]
    recorded_at: Mapped[datetime | None]
