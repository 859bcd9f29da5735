"""The demo quarter ``make run`` seeds: enough for a full brief, added once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline import clock
from hotline.models import CollectiveIssue, Forum, MeetingMinutes, PressItem, Provider, Referral
from hotline.queries.brief import BriefQuery, build, suppress
from hotline.queries.monitoring import provider_report
from hotline.seed import seed_demo
from hotline.seed_quarter import seed_quarter
from tests.conftest import at

NOW = at("2026-12-02 10:00")


def test_the_demo_quarter_gives_a_full_brief_and_is_added_once(db):
    seed_demo(db, NOW)
    assert seed_quarter(db, NOW) > 100
    assert seed_quarter(db, NOW) == 0
    db.commit()

    def count(model):
        return db.scalar(select(func.count()).select_from(model))

    assert count(CollectiveIssue) == 2 and count(Forum) == 1 and count(PressItem) >= 3
    assert count(MeetingMinutes) >= 6
    assert db.scalar(select(func.count(Referral.id)).where(Referral.outcome_code.is_not(None)))
    assert all(p.phone for p in db.scalars(select(Provider)))
    today = clock.local(NOW).date()
    q = BriefQuery(today - timedelta(days=89), today)
    brief = suppress(build(db, q, NOW))
    assert brief.fig("g").value >= 50 and not brief.fig("g").hidden
    assert not brief.fig("pg").hidden  # the trend has a previous quarter to compare with
    assert brief.forums and brief.press and len(brief.issues) == 2
    rows = {r.provider.code: r for r in provider_report(db, q.start, q.end)}
    assert rows["UB"].referrals and rows["UB"].flagged  # the demo's poorly performing service
