"""Emergency alert calls: nobody accepting an emergency within 10 minutes places a voice call
to the next person on the ladder, and on round it goes until someone accepts ("bấm 1").

Over HTTP on a controlled clock: the scheduler's jobs run at chosen moments, calls go out
through the real twilio client against the local fake, and their webhooks come back signed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.models import CaseEvent, CaseStatus
from scheduler import jobs
from tests.conftest import PUBLIC_URL
from tests.emergency_support import (  # noqa: F401 (fixtures)
    NIGHT,
    STRANGER,
    clock_at,
    fake,
    out_to,
    placed,
    settings,
    team,
    the_case,
)
from tests.ivr.ivr_caller import Caller
from tests.sms.test_sms_flows import text


def report_danger(db, body: str) -> None:
    """What a danger text or key 9 does: the emergency path for a stranger, at NIGHT."""
    from hotline.services import emergency
    from hotline.services.outbox import Outbox
    from hotline.services.people import get_or_create

    person, _ = get_or_create(db, NIGHT, STRANGER)
    emergency.raise_for(db, NIGHT, Outbox(db), person, channel="sms", summary=body,
                        source="test")
    db.commit()


def test_nobody_accepting_places_calls_up_the_ladder_and_round_again_until_one_accepts(
        client, db, rt, fake, team, clock_at):
    report_danger(db, "cuu em")
    jobs.drain_outbox(rt, NIGHT)
    case = the_case(db)
    jobs.escalate_cases(rt, NIGHT + timedelta(minutes=9))
    jobs.place_callbacks(rt, NIGHT + timedelta(minutes=9))
    assert fake.calls == []  # not before 10 minutes

    ladder = ["hoa", "thu", "lan", "nga"]
    called = []
    now = NIGHT
    for _ in range(len(ladder) + 2):  # past every coordinator, then round again
        now += timedelta(minutes=10)
        jobs.escalate_cases(rt, now)
        jobs.place_callbacks(rt, now)
        called.append(placed(fake)[-1]["To"])
        assert placed(fake)[-1]["Url"].startswith(f"{PUBLIC_URL}/ivr/alert?callback=")
    phones = [team[w].phone for w in ladder]
    assert called == phones + phones[:2]
    case = the_case(db)
    assert case.status == CaseStatus.NEW and case.next_action_at == now + timedelta(minutes=10)
    kinds = db.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "escalation_exhausted" not in kinds and kinds.count("alert_call") == 6

    # Thu answers the call: she hears the case number, presses 1, and has the case.
    clock_at(now + timedelta(minutes=1))
    last = placed(fake)[-1]
    thu = Caller(client, phone=team["thu"].phone, sid=last["sid"], outbound=True)
    thu.post(last["Url"].removeprefix(PUBLIC_URL), thu.form())
    assert thu.heard[0] == "alert_intro" and thu.heard[-1] == "alert_press_one"
    assert "".join(k.removeprefix("digit_") for k in thu.heard[1:-1]) == str(case.number)
    thu.press("1")
    assert thu.heard == ["alert_accepted", "goodbye"] and thu.kind == "hangup"
    thu.retry()  # Twilio retries the keypress: still hers
    assert thu.heard == ["alert_accepted", "goodbye"]

    case = the_case(db)
    assert case.status == CaseStatus.ACKNOWLEDGED and case.assignee_id == team["thu"].id
    jobs.drain_outbox(rt, now + timedelta(minutes=1))
    assert str(STRANGER) in out_to(db, team["thu"].phone)[-1].body
    assert f"{case.number}" in out_to(db, STRANGER)[-1].body  # someone has it now
    before = len(fake.calls)
    jobs.escalate_cases(rt, now + timedelta(minutes=30))
    jobs.place_callbacks(rt, now + timedelta(minutes=30))
    assert len(fake.calls) == before  # accepted: the calls stop


def test_accepting_by_sms_stops_the_ladder_and_a_late_call_says_so(
        client, db, rt, fake, team, clock_at):
    report_danger(db, "em dang gap nguy hiem")
    case = the_case(db)
    jobs.escalate_cases(rt, NIGHT + timedelta(minutes=10))
    jobs.place_callbacks(rt, NIGHT + timedelta(minutes=10))
    assert len(fake.calls) == 1
    clock_at(NIGHT + timedelta(minutes=11))
    text(client, team["lan"].phone, f"NHAN {case.number}")
    assert the_case(db).status == CaseStatus.ACKNOWLEDGED
    first = placed(fake)[0]
    hoa = Caller(client, phone=team["hoa"].phone, sid=first["sid"], outbound=True)
    hoa.post(first["Url"].removeprefix(PUBLIC_URL), hoa.form())
    assert hoa.heard == ["alert_taken", "goodbye"]
