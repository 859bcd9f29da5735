"""Console users, the audit log, and the scheduler's lease and heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class StaffUser(Base):
    """A console login: staff, or a peer educator signing in as herself."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # Peer educators sign in as themselves: their Person row says which groups they see.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie: raising it (sign-out, "end all sessions") ends every
    # copy of every cookie this login holds, wherever it was copied to.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditLog(Base):
    """Who read or changed what. Sensitive case reads land here too."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(24), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SchedulerState(Base):
    """One row per named lease: who runs the jobs until when, and their last heartbeat."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), default="")
    lease_until: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins counted per key, shared by every web worker through the database.

    Keys: ``pair:<address>|<login>`` (one login from one address: a stranger elsewhere
    cannot lock the real user out) and ``addr:<address>`` (one address trying many logins).
    The address row also holds the audit row of its current burst of refusals, so a flood
    writes one audit row with a count instead of one per attempt.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    burst_audit_id: Mapped[int | None]
    burst_count: Mapped[int] = mapped_column(default=0)
    burst_last_at: Mapped[datetime | None]


class JobFailure(Base):
    """A row a scheduler job could not act on: the job skips it from then on and goes on
    with the others; staff see it, with its reason, on the dashboard."""

    __tablename__ = "job_failures"
    __table_args__ = (UniqueConstraint("job", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)
