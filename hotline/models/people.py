"""People: members, peer educators and coordinators, with their numbers and consents."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base
from hotline.models.enums import NotifyChannel, Residence, Role


class Person(Base):
    """Anyone the line knows by phone. ``phone`` is the current E.164 number;
    earlier numbers live in ``PersonPhone`` so history survives a new SIM."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    # What she likes to be called ("Lan", "chị Hai"), set by a coordinator; SMS that name her
    # use it, else the last word of ``name`` (Vietnamese given names come last).
    preferred_name: Mapped[str | None] = mapped_column(String(40))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_year: Mapped[int | None]
    occupation: Mapped[str | None] = mapped_column(String(40))
    home_province: Mapped[str | None] = mapped_column(String(60))
    ward_old: Mapped[str | None] = mapped_column(String(60))
    ward_current: Mapped[str | None] = mapped_column(String(60))
    residence_status: Mapped[str] = mapped_column(String(12), default=Residence.UNKNOWN)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER, index=True)
    # Peer educators only: may take violence cases; order on the duty roster.
    trained_violence: Mapped[bool] = mapped_column(default=False)
    on_duty: Mapped[bool] = mapped_column(default=False)
    duty_order: Mapped[int] = mapped_column(default=0)
    registered_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]
    # Hours in which it is safe to call or text (shared phones), Hanoi time.
    safe_contact_start: Mapped[time | None]
    safe_contact_end: Mapped[time | None]
    # One open question the person's next reply may answer (consent, rsvp, followup).
    pending_kind: Mapped[str | None] = mapped_column(String(20))
    pending_ref: Mapped[int | None]
    pending_expires_at: Mapped[datetime | None]
    bhyt_expires_on: Mapped[date | None] = mapped_column(index=True)
    # ``NotifyChannel``: SMS, voice calls or both for notices (case news, reminders).
    notify_channel: Mapped[str] = mapped_column(String(8), default=NotifyChannel.SMS,
                                                server_default=NotifyChannel.SMS.value)
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]

    phones: Mapped[list[PersonPhone]] = relationship(back_populates="person")

    @property
    def call_name(self) -> str:
        """The name to address or list her by: her preferred name, else her given name."""
        if self.preferred_name:
            return self.preferred_name
        return self.name.split()[-1] if self.name and self.name.split() else ""
    consents: Mapped[list[Consent]] = relationship(
        back_populates="person", order_by="Consent.asked_at"
    )

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class PersonPhone(Base):
    """Every number a person has used, current one included."""

    __tablename__ = "person_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    added_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="phones")


class Consent(Base):
    """An explicit answer to a consent question, kept with what was asked and when."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_person_purpose", "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(12))
    asked_at: Mapped[datetime]
    # granted / refused / withdrawn; None while unanswered.
    answer: Mapped[str | None] = mapped_column(String(12))
    answered_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="consents")
