"""The case page's buttons: one function per action, each through ``cases`` and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.models import (
    Case,
    CaseStatus,
    Provider,
    Referral,
    StaffRole,
    StaffUser,
)
from hotline.queries.cases import assignable_people
from hotline.services import cases as case_service
from hotline.services import monitoring
from hotline.services.audit import audit
from hotline.services.cases import Actor, CaseError
from hotline.services.errors import N_, ServiceError
from hotline.services.outbox import Outbox
from hotline.templates import CATEGORY_WORDS

CLOSE_STATUSES = (CaseStatus.CLOSED_UNRESOLVED, CaseStatus.LOST_CONTACT)


@dataclass(frozen=True)
class CaseInput:
    """What a case page button sends, parsed; each action reads the fields it needs."""

    note: str = ""
    contacted: bool = False
    person_id: int | None = None
    provider_id: int | None = None
    referral_id: int | None = None
    outcome: str = ""
    status: CaseStatus | None = None
    category: int | None = None
    emergency: bool = False


def read_case(session: Session, now: datetime, case: Case, user: StaffUser, what: str = "case"
              ) -> None:
    """Log a read of a sensitive case (violence, health): its page or its recording."""
    if case.sensitive:
        audit(session, now, user, "read_sensitive", "case", case.number, what=what,
              category=case.category)


def case_action(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor,
                action: str, given: CaseInput) -> dict:
    """Run one of the case page's buttons; returns what the audit row recorded.
    Raises ServiceError or CaseError when refused."""
    handler = _CASE_ACTIONS.get(action)
    if handler is None:
        raise ServiceError(N_("Unknown action."))
    if not case_service.may_act(session, case, actor):
        raise CaseError("not allowed on this case")
    detail = handler(session, now, outbox, case, actor, given) or {}
    audit(session, now, actor.user, f"case_{action}", "case", case.number, **detail)
    session.flush()
    return detail


def _accept(session, now, outbox, case, actor, given):
    case_service.accept(session, now, outbox, case, actor)
    return {"status": case.status}


def _note(session, now, outbox, case, actor, given):
    note = given.note.strip()
    if not note:
        raise ServiceError(N_("Write a note first."))
    case_service.add_note(session, now, case, actor, note[:4000], contacted=given.contacted)
    return {"contacted": given.contacted}


def _assign(session, now, outbox, case, actor, given):
    if actor.user is None or actor.user.role not in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        raise CaseError("only coordinators assign cases")
    if not case.is_open:
        raise ServiceError(N_("The case is not open."))
    if given.person_id is None:
        raise ServiceError(N_("Choose a person."))
    target = next((p for p in assignable_people(session, case) if p.id == given.person_id),
                  None)
    if target is None:
        raise ServiceError(N_("This person cannot take this case."))
    case_service.assign(session, now, outbox, case, target, actor=actor)
    return {"to": target.id}


def _refer(session, now, outbox, case, actor, given):
    provider = session.get(Provider, given.provider_id) if given.provider_id else None
    if provider is None or not provider.active:
        raise ServiceError(N_("Choose a service."))
    case_service.refer(session, now, outbox, case, actor, provider)
    return {"provider": provider.code, "no_phone": not monitoring.has_phone(provider)}


def _outcome(session, now, outbox, case, actor, given):
    """What came of one of the case's referrals (service monitoring)."""
    referral = session.get(Referral, given.referral_id) if given.referral_id else None
    if referral is None or referral.case_id != case.id:
        raise ServiceError(N_("Choose a referral."))
    outcome = given.outcome
    if outcome not in monitoring.OUTCOMES:
        raise ServiceError(N_("Choose an outcome."))
    monitoring.record_outcome(session, now, referral, outcome, actor,
                              note=given.note.strip()[:4000], source="staff")
    return {"referral": referral.id, "outcome": outcome}


def _resolve(session, now, outbox, case, actor, given):
    case_service.resolve(session, now, outbox, case, actor, given.note[:4000])
    return {"status": case.status}


def _reopen(session, now, outbox, case, actor, given):
    if case.is_open:
        raise ServiceError(N_("The case is already open."))
    case_service.reopen(session, now, outbox, case, actor, given.note[:4000])
    return {"status": case.status}


def _close(session, now, outbox, case, actor, given):
    status = given.status
    if status not in CLOSE_STATUSES:
        raise ServiceError(N_("Choose how the case ends."))
    if not case.is_open:
        raise ServiceError(N_("The case is not open."))
    case_service.close(session, now, case, actor, status, given.note[:4000])
    return {"status": status.value}


def _give_back(session, now, outbox, case, actor, given):
    case_service.give_back(session, now, outbox, case, actor)
    return {"status": case.status}


def _category(session, now, outbox, case, actor, given):
    category, emergency = given.category, given.emergency
    if category not in CATEGORY_WORDS:
        raise ServiceError(N_("Choose a category."))
    was = case_service.recategorize(session, now, outbox, case, actor, category,
                                    emergency=emergency)
    return {"category": category, "emergency": emergency, "was": was}


_CASE_ACTIONS = {
    "accept": _accept,
    "note": _note,
    "assign": _assign,
    "refer": _refer,
    "outcome": _outcome,
    "resolve": _resolve,
    "reopen": _reopen,
    "close": _close,
    "give_back": _give_back,
    "category": _category,
}
