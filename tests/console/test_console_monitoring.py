"""Service monitoring in the console: referral outcomes on the case page, the no-phone
warning, and the per-provider report page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from hotline.models import Message, Provider, Referral
from tests.console.conftest import HANG, NGA, NOW, open_case


def _act(client, case, action, **data):
    response = client.post(f"/console/cases/{case.number}/{action}", data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _provider(db, code):
    return db.scalar(select(Provider).where(Provider.code == code))


def test_the_demo_directory_gives_every_provider_a_phone(demo):
    providers = demo.scalars(select(Provider)).all()
    assert len(providers) == 9 and all(p.phone for p in providers)
    assert {p.code: p.phone for p in providers}["NHBY"] == "1900969680"


def test_referring_to_a_provider_without_phone_warns_and_sends_no_dash(as_user, demo):
    demo.add(Provider(code="NOPH", name="Dich vu khong so", phone=""))
    demo.commit()
    case = open_case(demo, HANG)
    client = as_user("dieuphoi")
    page = client.get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert 'id="no-phone-warning"' in page
    assert "NOPH · Dich vu khong so · không có số" in page
    page = _act(client, case, "refer", provider_id=_provider(demo, "NOPH").id)
    assert "không có số điện thoại" in page  # the flash after the referral
    told = demo.scalars(select(Message).where(Message.phone == HANG)
                        .order_by(Message.id.desc())).first()
    assert "so -" not in told.body and "Dich vu khong so" in told.body


def test_referring_to_a_provider_with_phone_does_not_warn(as_user, demo):
    case = open_case(demo, HANG)
    page = _act(as_user("dieuphoi"), case, "refer", provider_id=_provider(demo, "LUAT").id)
    assert "không có số điện thoại" not in page


def test_outcome_set_in_the_console_and_bad_input_refused(as_user, demo):
    case = open_case(demo, HANG)
    client = as_user("mai")
    _act(client, case, "refer", provider_id=_provider(demo, "LUAT").id)
    ref = demo.scalar(select(Referral).where(Referral.case_id == case.id))
    page = _act(client, case, "outcome", referral_id=ref.id, outcome="nonsense")
    assert "Chọn kết quả" in page
    other = open_case(demo, NGA)
    page = _act(client, other, "outcome", referral_id=ref.id, outcome="helped")
    assert "Chọn lần chuyển gửi" in page  # not this case's referral
    page = _act(client, case, "outcome", referral_id=ref.id, outcome="helped", note="ok")
    demo.expire_all()
    ref = demo.get(Referral, ref.id)
    assert (ref.outcome_code, ref.outcome_source, ref.outcome) == ("helped", "staff", "ok")
    assert "Được giúp" in page
    assert client.post(f"/console/cases/{case.number}/outcome",
                       data={"referral_id": "x"}).status_code == 302


def test_provider_report_page_shows_figures_and_flags(as_user, demo):
    client = as_user("dieuphoi")
    ub = _provider(demo, "UB")
    for outcome in ("not_helped", "not_helped", "unreachable", "helped"):
        case = open_case(demo, HANG, now=NOW - timedelta(days=3))
        _act(client, case, "refer", provider_id=ub.id)
        ref = demo.scalar(select(Referral).where(Referral.case_id == case.id))
        _act(client, case, "outcome", referral_id=ref.id, outcome=outcome)
    page = as_user("xem").get("/console/providers/report").get_data(as_text=True)
    row = re.search(r'<tr data-code="UB" class="flagged">(.*?)</tr>', page, re.S)
    assert row, "UB should be flagged"
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    assert cells[0] == "4"  # referrals
    assert cells[2] == "1 (25%)" and cells[3] == "2 (50%)" and cells[4] == "1 (25%)"
    assert '<tr data-code="LUAT">' in page
    # A nonsense period is not a 500.
    assert client.get("/console/providers/report?from=x&to=2026-13-40").status_code == 200
