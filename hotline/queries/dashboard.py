"""The dashboard: open cases, overdue ones, the outbox and the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from hotline.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Direction,
    JobFailure,
    Message,
    MessageStatus,
    StaffUser,
)
from hotline.queries import erasures, health
from hotline.queries.callbacks import failed_count as failed_callbacks
from hotline.queries.triage import triage_count
from hotline.services import cases
from hotline.services.cases import ACK_DEADLINE, ACK_DEADLINE_EMERGENCY, Actor

FAILED_WINDOW = timedelta(days=7)
HEARTBEAT_STALE_S = 60


@dataclass
class Dashboard:
    open_emergency: int = 0
    open_normal: int = 0
    open_by_status: list[tuple[str, int]] = field(default_factory=list)
    open_by_category: list[tuple[int, int]] = field(default_factory=list)
    overdue: list[Case] = field(default_factory=list)
    overdue_count: int = 0
    backlog: int = 0
    deferred: int = 0
    failed_count: int = 0
    failed: list[Message] = field(default_factory=list)
    heartbeat_age_s: float | None = None
    triage_waiting: int = 0
    callbacks_failed: int = 0
    # Open erasure requests (XOA), the earliest deadline first, and how many are past it.
    erasures: list = field(default_factory=list)
    erasures_overdue: int = 0
    # The Android gateway SIMs (``hotline.services.devices.health``); empty without a pool.
    devices: list[dict] = field(default_factory=list)

    @property
    def heartbeat_ok(self) -> bool:
        return self.heartbeat_age_s is not None and self.heartbeat_age_s < HEARTBEAT_STALE_S


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Cases nobody has acknowledged within the deadline (15 min emergency, 24 h else), or
    whose escalation step is past due (the scheduler is behind)."""
    late = or_(
        and_(Case.emergency.is_(True), Case.created_at <= now - ACK_DEADLINE_EMERGENCY),
        and_(Case.emergency.is_(False), Case.created_at <= now - ACK_DEADLINE),
        Case.next_action_at <= now,
    )
    return and_(Case.status == CaseStatus.NEW, Case.acknowledged_at.is_(None), late)


def dashboard(session: Session, now: datetime, user: StaffUser, holidays=()) -> Dashboard:
    seen = cases.visible(session, Actor(user=user))
    is_open = and_(Case.status.in_(OPEN_STATUSES), seen)
    d = Dashboard()
    for emergency, count in session.execute(
        select(Case.emergency, func.count(Case.id)).where(is_open).group_by(Case.emergency)
    ):
        if emergency:
            d.open_emergency = count
        else:
            d.open_normal = count
    d.open_by_status = [
        (status, count)
        for status, count in session.execute(
            select(Case.status, func.count(Case.id)).where(is_open).group_by(Case.status)
        )
    ]
    order = {s: i for i, s in enumerate(OPEN_STATUSES)}
    d.open_by_status.sort(key=lambda row: order.get(row[0], 99))
    d.open_by_category = sorted(
        session.execute(
            select(Case.category, func.count(Case.id)).where(is_open).group_by(Case.category)
        ).all()
    )
    d.overdue_count = session.scalar(
        select(func.count(Case.id)).where(seen, overdue_condition(now))
    ) or 0
    d.overdue = list(
        session.scalars(
            select(Case)
            .where(seen, overdue_condition(now))
            .options(selectinload(Case.assignee))
            .order_by(Case.emergency.desc(), Case.created_at)
            .limit(20)
        )
    )
    from hotline.services import devices

    d.devices = devices.health(session, now)
    outbound = Message.direction == Direction.OUT
    d.backlog = health.outbox_backlog(session, now)
    d.deferred = session.scalar(
        select(func.count(Message.id)).where(
            outbound, Message.status == MessageStatus.QUEUED, Message.due_at > now
        )
    ) or 0
    failed = and_(
        outbound,
        Message.status.in_([MessageStatus.FAILED, MessageStatus.UNDELIVERED]),
        Message.created_at >= now - FAILED_WINDOW,
    )
    d.failed_count = session.scalar(select(func.count(Message.id)).where(failed)) or 0
    d.failed = list(
        session.scalars(select(Message).where(failed).order_by(Message.id.desc()).limit(10))
    )
    d.heartbeat_age_s = health.heartbeat_age_s(session, now)
    d.triage_waiting = triage_count(session)
    d.callbacks_failed = failed_callbacks(session, now)
    d.erasures = erasures.requests(session, now, holidays, open_only=True)
    d.erasures_overdue = sum(r.overdue for r in d.erasures)
    return d


def job_failures(session: Session, limit: int = 50) -> list[JobFailure]:
    """Rows the scheduler's jobs gave up on (``hotline.services.job_rows``), latest first."""
    return list(session.scalars(
        select(JobFailure).order_by(JobFailure.last_at.desc(), JobFailure.id.desc()).limit(limit)))
