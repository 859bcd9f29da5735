"""The audit log, filtered and paged.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import (
    AuditLog,
)


def audit_entries(session: Session, *, action: str = "", user: str = "", object_type: str = "",
                  object_id: str = "", page: int = 1, size: int = 100
                  ) -> tuple[list[AuditLog], int]:
    where = []
    if action:
        where.append(AuditLog.action == action)
    if user:
        where.append(AuditLog.actor == user)
    if object_type:
        where.append(AuditLog.object_type == object_type)
    if object_id:
        where.append(AuditLog.object_id == object_id)
    total = session.scalar(select(func.count(AuditLog.id)).where(*where)) or 0
    rows = session.scalars(
        select(AuditLog).where(*where).order_by(AuditLog.id.desc())
        .offset((page - 1) * size).limit(size)
    ).all()
    return list(rows), total


def audit_actions(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditLog.action).distinct()))
