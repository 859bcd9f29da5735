"""The triage inbox: texts a person has to read become a case, get an answer, or are filed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.categories import Category
from hotline.models import (
    Case,
    Kind,
    Message,
    StaffUser,
)
from hotline.services import cases as case_service
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError
from hotline.services.outbox import Outbox
from hotline.text import segments, unaccent


def _mark_triaged(msg: Message, now: datetime, user: StaffUser) -> None:
    if msg.triaged_at is not None:
        raise ServiceError(N_("Someone has already dealt with this message."))
    msg.triaged_at = now
    msg.triaged_by_id = user.id


def triage(session: Session, now: datetime, outbox: Outbox, msg: Message, user: StaffUser,
           action: str, *, category: int = Category.OTHER, emergency: bool = False,
           text: str = "") -> Case | None:
    """Deal with a message waiting for staff: make it a case (of ``category``), answer it
    (with ``text``), or just file it."""
    if not msg.needs_staff:
        raise ServiceError(N_("This message is not waiting for staff."))
    if action == "case":
        if msg.person is None:
            raise ServiceError(N_("The sender is not a phone number; no case can be opened."))
        _mark_triaged(msg, now, user)
        case = case_service.open_case(
            session, now, outbox, person=msg.person, channel="sms", summary=msg.body,
            category=category, emergency=emergency,
        )
        msg.case_id = case.id
        audit(session, now, user, "triage_case", "message", msg.id, case=case.number)
        session.flush()
        return case
    if action == "answer":
        text = text.strip()
        if not text:
            raise ServiceError(N_("Write an answer first."))
        if msg.person is None:
            raise ServiceError(N_("The sender is not a phone number; no answer can be sent."))
        _mark_triaged(msg, now, user)
        outbox.enqueue(now, msg.phone, text[:612], kind=Kind.REPLY, person=msg.person,
                       key=f"triage:{msg.id}:answer", case_id=msg.case_id)
        audit(session, now, user, "triage_answer", "message", msg.id,
              segments=segments(unaccent(text[:612])))
        session.flush()
        return None
    if action == "done":
        _mark_triaged(msg, now, user)
        audit(session, now, user, "triage_done", "message", msg.id)
        session.flush()
        return None
    raise ServiceError(N_("Unknown action."))
