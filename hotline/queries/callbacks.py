"""Callbacks the line promised (GOI, voice key 4, a missed call): where each one stands.

Emergency alert calls to responders are the same rows with reason "emergency"; they are
not a promise to a member and are left out here (the case page shows them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import CallbackRequest, CallbackStatus, Person
from hotline.services.calls import ALERT_REASON, MAX_ATTEMPTS

FAILED_WINDOW = timedelta(days=7)
STATUSES = (CallbackStatus.QUEUED, CallbackStatus.CALLING, CallbackStatus.DONE,
            CallbackStatus.GIVEN_UP)


@dataclass(frozen=True)
class CallbackRow:
    callback: CallbackRequest
    person: Person | None

    @property
    def retries_left(self) -> int:
        """Tries the line will still make (none once answered or given up)."""
        if self.callback.status in (CallbackStatus.DONE, CallbackStatus.GIVEN_UP):
            return 0
        return max(MAX_ATTEMPTS - self.callback.attempts, 0)

    @property
    def last_note(self) -> str:
        """What went wrong last ("attempt 2: [21211] ..."), as the placing job wrote it."""
        lines = [line for line in (self.callback.note or "").splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _members():
    return CallbackRequest.reason != ALERT_REASON


def callbacks(session: Session, *, status: str = "", person_id: int | None = None,
              limit: int = 200) -> list[CallbackRow]:
    """Member callbacks, newest first; only ``status`` (queued, calling, done, given_up) or
    one person's when asked."""
    query = select(CallbackRequest, Person).outerjoin(
        Person, Person.id == CallbackRequest.person_id).where(_members())
    if status in STATUSES:
        query = query.where(CallbackRequest.status == status)
    if person_id is not None:
        query = query.where(CallbackRequest.person_id == person_id)
    rows = session.execute(query.order_by(CallbackRequest.created_at.desc(),
                                          CallbackRequest.id.desc()).limit(limit))
    return [CallbackRow(cb, person) for cb, person in rows]


def counts(session: Session) -> dict[str, int]:
    """Member callbacks by status."""
    return dict(session.execute(
        select(CallbackRequest.status, func.count(CallbackRequest.id)).where(_members())
        .group_by(CallbackRequest.status)).all())


def failed_count(session: Session, now: datetime, window: timedelta = FAILED_WINDOW) -> int:
    """Member callbacks the line gave up on in the last ``window`` (the dashboard's tile)."""
    return session.scalar(select(func.count(CallbackRequest.id)).where(
        _members(), CallbackRequest.status == CallbackStatus.GIVEN_UP,
        CallbackRequest.done_at >= now - window)) or 0
