"""Service monitoring: what came of each referral, said by the peer educator or the member.

An outcome is one of ``OUTCOMES``. The peer educator sets it by SMS (``KQ 1024 2``) or in
the console; the member is asked at follow-up ("did the service help?") and her answer is
kept beside it (``member_answer``), filling the outcome when nobody set one. A referral is
*completed* when the member reached the provider (``COMPLETED``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import Case, Provider, Referral
from hotline.services.cases import Actor, CaseError, event, may_act

REACHED, HELPED, NOT_HELPED, UNREACHABLE = "reached", "helped", "not_helped", "unreachable"
OUTCOMES = (REACHED, HELPED, NOT_HELPED, UNREACHABLE)
COMPLETED = frozenset({REACHED, HELPED, NOT_HELPED})
# What a peer educator may type after the case number: a digit or a short word.
SMS_CODES = {
    "1": REACHED, "GAP": REACHED, "DALH": REACHED,
    "2": HELPED, "GIUP": HELPED, "TOT": HELPED, "XONG": HELPED,
    "3": NOT_HELPED, "KHONG": NOT_HELPED, "KO": NOT_HELPED,
    "4": UNREACHABLE, "KLL": UNREACHABLE, "KOLL": UNREACHABLE,
}
# The member's follow-up answer (1 / 2 / 3) for a case that was referred.
MEMBER_ANSWERS = {1: HELPED, 2: NOT_HELPED, 3: UNREACHABLE}
SOURCES = ("peer", "staff", "member")


class OutcomeError(ValueError):
    """An outcome that cannot be recorded; the message is a short reason for logs."""


def latest_referral(session: Session, case: Case) -> Referral | None:
    """The case's most recent referral (the one a follow-up asks about)."""
    return session.scalar(
        select(Referral).where(Referral.case_id == case.id)
        .order_by(Referral.referred_at.desc(), Referral.id.desc()).limit(1)
    )


def outcome_from_sms(code: str) -> str | None:
    """The outcome a peer educator's code stands for, or None."""
    return SMS_CODES.get((code or "").strip().upper())


def record_outcome(session: Session, now: datetime, referral: Referral, outcome: str,
                   actor: Actor, *, note: str = "", source: str = "peer") -> Referral:
    """Set (or correct) what came of ``referral``; a timeline event says who and when."""
    if outcome not in OUTCOMES:
        raise OutcomeError(f"unknown outcome {outcome!r}")
    case = session.get(Case, referral.case_id)
    if case is None or not may_act(session, case, actor):
        raise CaseError("not allowed on this case")
    _set(referral, now, outcome, source, note)
    event(session, case, now, "referral_outcome", actor, note=note[:4000],
          provider=referral.provider.code, outcome=outcome, source=source)
    session.flush()
    return referral


def _set(referral: Referral, now: datetime, outcome: str, source: str, note: str = "") -> None:
    referral.outcome_code = outcome
    referral.outcome_at = now
    referral.outcome_source = source
    if note:
        referral.outcome = note[:4000]
    referral.completed_at = (referral.completed_at or now) if outcome in COMPLETED else None


def record_member_answer(session: Session, now: datetime, case: Case, answer: int
                         ) -> Referral | None:
    """The member's answer to the follow-up about her referral; it fills the outcome
    when the peer educator has not set one. Returns the referral, if the case has one."""
    referral = latest_referral(session, case)
    outcome = MEMBER_ANSWERS.get(answer)
    if referral is None or outcome is None:
        return None
    referral.member_answer = outcome
    referral.member_answered_at = now
    if referral.outcome_code is None:
        _set(referral, now, outcome, "member")
    event(session, case, now, "referral_answer", Actor(person=case.person),
          provider=referral.provider.code, outcome=outcome)
    session.flush()
    return referral


def sms_referable(session: Session) -> list[str]:
    """Codes of active providers a member can be given by SMS: those with a phone."""
    return list(session.scalars(
        select(Provider.code).where(Provider.active.is_(True), Provider.phone != "")
        .order_by(Provider.code)
    ))


def has_phone(provider: Provider) -> bool:
    return bool((provider.phone or "").strip())
