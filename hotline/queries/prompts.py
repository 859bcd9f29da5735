"""Who recorded each voice prompt: the staff member of its latest upload (the audit log)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import AuditLog, StaffUser


def recorders(session: Session) -> dict[str, str]:
    """Prompt key -> the name of whoever uploaded its recording last."""
    rows = session.execute(
        select(AuditLog.object_id, AuditLog.actor, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == AuditLog.user_id)
        .where(AuditLog.action == "prompt_upload")
        .order_by(AuditLog.at, AuditLog.id)
    )
    return {key: name or actor for key, actor, name in rows}
