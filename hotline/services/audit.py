"""The audit log: who read or changed what, and when.

Every change made in the console and every read of a sensitive case (violence, health)
lands here. Like every service it only adds and flushes; the caller commits, so an audit
row is written exactly when the change it describes is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.models import AuditLog, StaffUser

MAX_DETAIL_TEXT = 500


def _plain(value: Any) -> Any:
    """``value`` as something JSON can hold, long text cut short."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)[:MAX_DETAIL_TEXT]


def audit(
    session: Session,
    now: datetime,
    user: StaffUser | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    *,
    actor: str | None = None,
    **detail: Any,
) -> AuditLog:
    """Record that ``user`` did ``action`` to ``object_type`` ``object_id``.

    ``actor`` names whoever acted when there is no user (a failed sign-in with an unknown
    name, the system); ``detail`` holds what changed, never a case's story.
    """
    row = AuditLog(
        at=now,
        user_id=user.id if user is not None else None,
        actor=(actor if actor is not None else (user.username if user else "system"))[:120],
        action=action[:40],
        object_type=object_type[:24],
        object_id=str(object_id if object_id is not None else "")[:40],
        detail=_plain(detail) or None,
    )
    session.add(row)
    session.flush()
    return row
