"""The per-provider report: referrals, what came of them, the members' verdict, how fast.

Rates are shares of the referrals made in the period; satisfaction is the share of members
who answered the follow-up and said the service helped. A provider is *flagged* when enough
outcomes are known (``FLAG_MIN_OUTCOMES``) and fewer than ``FLAG_HELPED_BELOW`` of them
are "helped", or when members say it helped less than that often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import Provider, Referral
from hotline.services.monitoring import HELPED, OUTCOMES

FLAG_HELPED_BELOW = 0.5
FLAG_MIN_OUTCOMES = 3


@dataclass
class ProviderRow:
    provider: Provider
    referrals: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    answered: int = 0
    satisfied: int = 0
    hours_to_outcome: list[float] = field(default_factory=list)

    @property
    def known(self) -> int:
        return sum(self.outcomes.values())

    @property
    def pending(self) -> int:
        """Referrals with no outcome (of ``OUTCOMES``) yet."""
        return self.referrals - self.known

    def rate(self, outcome: str) -> float | None:
        return self.outcomes[outcome] / self.referrals if self.referrals else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.answered if self.answered else None

    @property
    def median_hours(self) -> float | None:
        return median(self.hours_to_outcome) if self.hours_to_outcome else None

    @property
    def flagged(self) -> bool:
        helped = self.outcomes[HELPED] / self.known if self.known else None
        low_outcome = self.known >= FLAG_MIN_OUTCOMES and helped < FLAG_HELPED_BELOW
        low_verdict = (self.answered >= FLAG_MIN_OUTCOMES
                       and self.satisfaction < FLAG_HELPED_BELOW)
        return low_outcome or low_verdict


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def provider_report(session: Session, start: datetime, end: datetime,
                    case_ids: set[int] | None = None) -> list[ProviderRow]:
    """One row per provider (those referred to in [start, end), then the rest), busiest
    first. ``case_ids`` limits it to those cases (an area's), when given."""
    rows = {p.id: ProviderRow(p) for p in session.scalars(select(Provider).order_by(Provider.code))}
    stmt = select(Referral).where(Referral.referred_at >= start, Referral.referred_at < end)
    for ref in session.scalars(stmt):
        if case_ids is not None and ref.case_id not in case_ids:
            continue
        row = rows[ref.provider_id]
        row.referrals += 1
        if ref.outcome_code in row.outcomes:
            row.outcomes[ref.outcome_code] += 1
            if ref.outcome_at is not None:
                row.hours_to_outcome.append(_hours(ref.referred_at, ref.outcome_at))
        if ref.member_answer is not None:
            row.answered += 1
            row.satisfied += ref.member_answer == HELPED
    return sorted(rows.values(), key=lambda r: (-r.referrals, r.provider.code))
