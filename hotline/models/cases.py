"""Cases: complaints and needs, their timeline, the service directory and referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.categories import Category
from hotline.db import Base
from hotline.models.enums import OPEN_STATUSES, CaseStatus

# Case numbers start here so even the first one is a few digits, easy to key.
CASE_NUMBER_OFFSET = 1000


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_next_action", "status", "next_action_at"),
        Index("ix_cases_followup_due", "followup_due_at"),
        Index("ix_cases_retention_due", "anonymised_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    category: Mapped[int] = mapped_column(default=Category.OTHER)
    # The number the member chose herself (KN 6 by SMS, a key on a voice report page): a hint
    # staff confirm. None once staff set the category (or when she gave none).
    category_hint: Mapped[int | None]
    emergency: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.NEW)
    channel: Mapped[str] = mapped_column(String(12))
    # The member's own words, exactly as received (NFC). Never sent by SMS.
    summary: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    escalation_level: Mapped[int] = mapped_column(default=0)
    # When the escalation ladder next looks at this case.
    next_action_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    assigned_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    first_contact_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    followup_due_at: Mapped[datetime | None]
    followup_answer: Mapped[str | None] = mapped_column(String(12))
    reopened_count: Mapped[int] = mapped_column(default=0)
    # Set by the retention job once what identified the person is gone (counts stay).
    anonymised_at: Mapped[datetime | None]

    person: Mapped["Person"] = relationship(foreign_keys=[person_id])  # noqa: F821
    assignee: Mapped["Person | None"] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id"
    )

    @property
    def sensitive(self) -> bool:
        """Violence, health: special-category data under the 2026 personal data law."""
        return self.category in (3, 9)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(Base):
    """One line of a case's timeline."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")


class Provider(Base):
    """A service the line refers people to (ward police, legal aid, 111 ...)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(40), default="")
    handles: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    referred_at: Mapped[datetime]
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    completed_at: Mapped[datetime | None]
    # The note that came with the outcome (free text, as written).
    outcome: Mapped[str] = mapped_column(Text, default="")
    # Service monitoring (hotline.services.monitoring): what came of the referral, who said so.
    outcome_code: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None]
    outcome_source: Mapped[str | None] = mapped_column(String(12))
    # The member's own answer at follow-up, kept apart from the peer educator's outcome.
    member_answer: Mapped[str | None] = mapped_column(String(16))
    member_answered_at: Mapped[datetime | None]

    provider: Mapped[Provider] = relationship()
