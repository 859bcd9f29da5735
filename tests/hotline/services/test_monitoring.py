"""Service monitoring: referral outcomes by SMS and at follow-up, and the per-provider report."""

from __future__ import annotations

import random
from datetime import timedelta
from statistics import median

from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import Case, CaseEvent, CaseStatus, Provider, Referral
from hotline.queries.monitoring import FLAG_HELPED_BELOW, FLAG_MIN_OUTCOMES, provider_report
from hotline.services import cases, monitoring
from hotline.services.cases import FOLLOWUP_AFTER, Actor
from hotline.services.outbox import Outbox
from tests.factories import create_person
from tests.hotline.services import test_case_life as life
from tests.hotline.services.test_case_life import (
    MEMBER,
    PE1,
    T0,
    resolved_by_peer,
    run_all_jobs_twice,
    sent_to,
    sms,
    the_case,
)

# The case-life fixtures: a group with peer educators, a member, a coordinator, LUAT.
world = life.world


def referral_of(rt, case_id) -> Referral:
    with rt.sessions() as s:
        return s.scalars(select(Referral).where(Referral.case_id == case_id)
                         .order_by(Referral.id.desc())).first()


def referred_case(rt, code="LUAT"):
    sms(rt, T0, MEMBER, "KN 10 can giay to")
    case = the_case(rt)
    sms(rt, T0, PE1, f"NHAN {case.number}")
    sms(rt, T0, PE1, f"CHUYEN {case.number} {code}")
    return case


def test_peer_educator_sets_the_outcome_by_sms(rt, world):
    case = referred_case(rt)
    sms(rt, T0 + timedelta(hours=5), PE1, f"KQ {case.number} 2 da duoc tu van")
    ref = referral_of(rt, case.id)
    assert (ref.outcome_code, ref.outcome_source) == (monitoring.HELPED, "peer")
    assert ref.outcome == "da duoc tu van" and ref.completed_at is not None
    assert ref.outcome_at - ref.referred_at == timedelta(hours=5)
    assert "da duoc giup" in sent_to(rt, PE1)[-1]
    # A word works as well as a digit, and corrects the outcome.
    sms(rt, T0 + timedelta(hours=6), PE1, f"kq{case.number} kll")
    ref = referral_of(rt, case.id)
    assert ref.outcome_code == monitoring.UNREACHABLE and ref.completed_at is None
    with rt.sessions() as s:
        kinds = [e.data["outcome"] for e in s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id,
                                    CaseEvent.kind == "referral_outcome"))]
    assert kinds == ["helped", "unreachable"]


def test_bad_outcome_code_explains_and_changes_nothing(rt, world):
    case = referred_case(rt)
    sms(rt, T0, PE1, f"KQ {case.number} 9")
    assert "1 da gap" in sent_to(rt, PE1)[-1]
    assert referral_of(rt, case.id).outcome_code is None


def test_outcome_without_a_referral_or_on_someone_elses_case(rt, world):
    sms(rt, T0, MEMBER, "KN 1 bi thu hang")
    case = the_case(rt)
    sms(rt, T0, PE1, f"KQ {case.number} 2")
    assert f"CHUYEN {case.number}" in sent_to(rt, PE1)[-1]
    # The member herself cannot set an outcome.
    sms(rt, T0, MEMBER, f"KQ {case.number} 2")
    assert "Khong thuc hien duoc" in sent_to(rt, MEMBER)[-1]


def test_chuyen_to_a_provider_without_a_phone_is_refused_with_the_reason(rt, world):
    with session_scope(rt.sessions) as s:
        s.add(Provider(code="UB", name="UBND phuong", phone=""))
        s.add(Provider(code="CA", name="Cong an phuong", phone="02439330215"))
    sms(rt, T0, MEMBER, "KN 1 bi thu hang")
    case = the_case(rt)
    sms(rt, T0, PE1, f"NHAN {case.number}")
    before = sent_to(rt, MEMBER)
    sms(rt, T0, PE1, f"CHUYEN {case.number} UB")
    answer = sent_to(rt, PE1)[-1]
    assert "UB chua co so dien thoai" in answer
    assert "CA LUAT" in answer and " UB" not in answer.split(":")[-1]
    assert referral_of(rt, case.id) is None
    assert the_case(rt).status == CaseStatus.ACKNOWLEDGED
    assert sent_to(rt, MEMBER) == before  # the member was told nothing


def test_console_referral_to_a_provider_without_phone_never_sends_so_dash(rt, world):
    with session_scope(rt.sessions) as s:
        s.add(Provider(code="UB", name="UBND phuong", phone=""))
    sms(rt, T0, MEMBER, "KN 1 bi thu hang")
    with session_scope(rt.sessions) as s:
        case = s.scalars(select(Case)).first()
        coord = create_person(s, T0, role="coordinator")
        cases.refer(s, T0, Outbox(s), case, Actor(person=coord),
                    s.scalar(select(Provider).where(Provider.code == "UB")))
    told = sent_to(rt, MEMBER)[-1]
    assert "so -" not in told and "UBND phuong" in told


def test_member_answers_the_referral_follow_up(rt, world):
    case = referred_case(rt)
    sms(rt, T0, PE1, f"XONG {case.number}")
    t = T0 + FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    ask = sent_to(rt, MEMBER)[-1]
    assert "LUAT" in ask and "3 khong lien lac duoc" in ask
    sms(rt, t, MEMBER, "3")
    ref = referral_of(rt, case.id)
    assert (ref.member_answer, ref.outcome_code, ref.outcome_source) == (
        monitoring.UNREACHABLE, monitoring.UNREACHABLE, "member")
    assert the_case(rt).status == CaseStatus.NEW  # reopened: she could not reach them
    # Second round: the peer educator says helped, the member agrees with "1".
    sms(rt, t, PE1, f"NHAN {case.number}")
    sms(rt, t, PE1, f"KQ {case.number} 2")
    sms(rt, t, PE1, f"XONG {case.number}")
    t += FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    sms(rt, t, MEMBER, "1")
    ref = referral_of(rt, case.id)
    assert (ref.member_answer, ref.outcome_code, ref.outcome_source) == (
        monitoring.HELPED, monitoring.HELPED, "peer")
    assert the_case(rt).status == CaseStatus.CLOSED


def test_three_is_not_an_answer_when_nothing_was_referred(rt, world):
    resolved_by_peer(rt, "KN 1 bi thu hang")
    t = T0 + FOLLOWUP_AFTER
    run_all_jobs_twice(rt, t)
    assert "da duoc giai quyet chua" in sent_to(rt, MEMBER)[-1]
    sms(rt, t, MEMBER, "3")
    assert the_case(rt).status == CaseStatus.RESOLVED
    assert the_case(rt).person.pending_kind == "followup"  # still waiting for 1 or 2


def test_provider_report_matches_an_independent_count(rt, world):
    rng = random.Random(15)
    codes = ["LUAT", "CA", "UB"]
    with session_scope(rt.sessions) as s:
        s.add_all([Provider(code="CA", name="Cong an", phone="1"),
                   Provider(code="UB", name="UBND", phone="2")])
        s.flush()
        providers = {p.code: p for p in s.scalars(select(Provider))}
        member = create_person(s, T0)
        coord = create_person(s, T0, role="coordinator")
        actor = Actor(person=coord)
        made = []  # (code, outcome or None, hours or None, member answer or None, in period)
        for i in range(60):
            code = rng.choice(codes)
            inside = i % 10 != 0
            when = T0 + timedelta(days=rng.randint(0, 20)) if inside else T0 - timedelta(days=40)
            case = cases.open_case(s, when, Outbox(s), person=member, channel="sms")
            ref = cases.refer(s, when, Outbox(s), case, actor, providers[code])
            outcome = rng.choice([*monitoring.OUTCOMES, None])
            hours = None
            if outcome:
                hours = rng.randint(1, 200)
                monitoring.record_outcome(s, when + timedelta(hours=hours), ref, outcome, actor)
            answer = rng.choice([1, 2, 3, None])
            if answer:
                monitoring.record_member_answer(s, when + timedelta(hours=300), case, answer)
                if outcome is None:  # her answer fills the outcome
                    outcome, hours = monitoring.MEMBER_ANSWERS[answer], 300
            made.append((code, outcome, hours, monitoring.MEMBER_ANSWERS.get(answer), inside))
    with rt.sessions() as s:
        rows = {r.provider.code: r for r in provider_report(s, T0, T0 + timedelta(days=21))}
    for code in codes:
        mine = [m for m in made if m[0] == code and m[4]]
        row = rows[code]
        assert row.referrals == len(mine)
        for outcome in monitoring.OUTCOMES:
            n = sum(1 for m in mine if m[1] == outcome)
            assert row.outcomes[outcome] == n
            assert row.rate(outcome) == (n / len(mine) if mine else None)
        assert row.pending == sum(1 for m in mine if m[1] is None)
        answers = [m[3] for m in mine if m[3]]
        assert row.answered == len(answers)
        assert row.satisfaction == (answers.count("helped") / len(answers) if answers else None)
        hours = [m[2] for m in mine if m[2] is not None]
        assert row.median_hours == (median(hours) if hours else None)
        known = [m[1] for m in mine if m[1]]
        helped_share = known.count("helped") / len(known) if known else 1
        verdict = answers.count("helped") / len(answers) if answers else 1
        expected_flag = ((len(known) >= FLAG_MIN_OUTCOMES and helped_share < FLAG_HELPED_BELOW)
                         or (len(answers) >= FLAG_MIN_OUTCOMES and verdict < FLAG_HELPED_BELOW))
        assert row.flagged == expected_flag


def test_a_provider_that_mostly_fails_is_flagged_and_a_good_one_is_not(rt, world):
    with session_scope(rt.sessions) as s:
        bad = Provider(code="UB", name="UBND", phone="2")
        s.add(bad)
        s.flush()
        good = s.scalar(select(Provider).where(Provider.code == "LUAT"))
        member = create_person(s, T0)
        actor = Actor(person=create_person(s, T0, role="coordinator"))
        for provider, outcome in [(bad, "not_helped")] * 3 + [(bad, "helped")] + \
                [(good, "helped")] * 3 + [(good, "unreachable")]:
            case = cases.open_case(s, T0, Outbox(s), person=member, channel="sms")
            ref = cases.refer(s, T0, Outbox(s), case, actor, provider)
            monitoring.record_outcome(s, T0 + timedelta(hours=1), ref, outcome, actor)
    with rt.sessions() as s:
        rows = {r.provider.code: r for r in provider_report(s, T0, T0 + timedelta(days=1))}
    assert rows["UB"].flagged and not rows["LUAT"].flagged
