"""The groups' collective voice: meeting minutes, collective issues and their advocacy steps,
forums and dialogues with authorities, and press monitoring."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base

# What a meeting can discuss (DOMAIN.md: results 1 and 2). Codes are also the SMS words.
TOPICS = ("TTDT", "BHYT", "BHXH", "TAMTRU", "GIOI", "ANTOAN", "PHAPLY", "KHAC")

# Advocacy steps, in the order they usually come; the last step sets the issue's status.
STEP_KINDS = ("forum", "letter", "answer", "resolved", "no_change")
ISSUE_STATUSES = ("open", *STEP_KINDS)

# Who sat at a forum.
PARTICIPANT_KINDS = ("authority", "agency", "media", "organisation", "member")
TONES = ("positive", "neutral", "negative")


class MeetingMinutes(Base):
    """What a held meeting discussed and decided; one per meeting, corrected in place."""

    __tablename__ = "meeting_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            unique=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    attended: Mapped[int | None]
    decisions: Mapped[str] = mapped_column(Text, default="")
    issues_raised: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(12), default="console")
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    meeting: Mapped["Meeting"] = relationship()  # noqa: F821


issue_cases = Table(
    "collective_issue_cases", Base.metadata,
    Column("issue_id", ForeignKey("collective_issues.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
)
issue_groups = Table(
    "collective_issue_groups", Base.metadata,
    Column("issue_id", ForeignKey("collective_issues.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)
forum_issues = Table(
    "forum_issues", Base.metadata,
    Column("forum_id", ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True),
    Column("issue_id", ForeignKey("collective_issues.id", ondelete="CASCADE"), primary_key=True),
)


class CollectiveIssue(Base):
    """A problem a group raises together ("the patrol seizes goods at the market on
    Tuesdays"), linked to the member cases and groups it rests on."""

    __tablename__ = "collective_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[int | None]
    ward: Mapped[str | None] = mapped_column(String(60))
    raised_on: Mapped[date]
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    cases: Mapped[list["Case"]] = relationship(secondary=issue_cases)  # noqa: F821
    groups: Mapped[list["Group"]] = relationship(secondary=issue_groups)  # noqa: F821
    steps: Mapped[list[AdvocacyStep]] = relationship(
        back_populates="issue", order_by="AdvocacyStep.happened_on, AdvocacyStep.id",
        cascade="all, delete-orphan")


class AdvocacyStep(Base):
    __tablename__ = "advocacy_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("collective_issues.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    happened_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    issue: Mapped[CollectiveIssue] = relationship(back_populates="steps")


class Forum(Base):
    """A forum or dialogue with authorities, agencies, media and organisations."""

    __tablename__ = "forums"
    __table_args__ = (Index("ix_forums_follow_up_due", "follow_up_at", "follow_up_sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200), default="")
    ward: Mapped[str | None] = mapped_column(String(60))
    # {"authority": 3, "media": 1, ...}: how many of each kind took part.
    participants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commitments: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # When the coordinator is reminded to check the commitments (the scheduler polls it).
    follow_up_at: Mapped[datetime | None]
    follow_up_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    issues: Mapped[list[CollectiveIssue]] = relationship(secondary=forum_issues)

    @property
    def participant_total(self) -> int:
        return sum(int(v or 0) for v in (self.participants or {}).values())


class PressItem(Base):
    """A press article the project monitors, tagged for the brief."""

    __tablename__ = "press_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet: Mapped[str] = mapped_column(String(120))
    published_on: Mapped[date] = mapped_column(index=True)
    headline: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[int]] = mapped_column(JSON, default=list)
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("collective_issues.id", ondelete="SET NULL"))
    tone: Mapped[str] = mapped_column(String(10), default="neutral")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    issue: Mapped[CollectiveIssue | None] = relationship()
