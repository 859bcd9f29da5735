"""Reports: indicators, breakdowns, filters, charts, and exports with small counts hidden."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from hotline.models import AuditLog, Referral
from hotline.services import reports
from hotline.services.reports import Cell, Indicator, Report, ReportQuery
from tests.console.conftest import NOW, open_case
from tests.factories import create_call, create_incoming_msg, create_person

DAY = date(2026, 3, 10)


_numbers = count(1)


def _people(db, n, **fields):
    out = []
    for _ in range(n):
        out.append(create_person(db, NOW - timedelta(days=20), phone=f"+8497{next(_numbers):07d}",
                                 registered_at=NOW - timedelta(days=20), **fields))
    db.commit()
    return out


@pytest.fixture
def data(demo):
    """12 women and 3 men in Hồng Hà (old ward Chương Dương), 2 women elsewhere; one case
    each, the women's answered after 2 hours and resolved after 10."""
    women = _people(demo, 12, sex="F", birth_year=1990, occupation="vendor",
                    ward_old="Chương Dương", ward_current="Hồng Hà")
    men = _people(demo, 3, sex="M", birth_year=1960, occupation="=cmd|' /C calc'!A0",
                  ward_old="Chương Dương", ward_current="Hồng Hà")
    others = _people(demo, 2, sex="F", birth_year=2000, ward_current="Ba Đình")
    for p in women + men + others:
        case = open_case(demo, p.phone, now=NOW - timedelta(days=5),
                         emergency=p in men[:1])
        if p in women:
            case.acknowledged_at = case.created_at + timedelta(hours=2)
            case.resolved_at = case.created_at + timedelta(hours=10)
            case.followup_answer = "solved" if p in women[:9] else "not_solved"
        create_incoming_msg(demo, NOW - timedelta(days=5), p.phone, "KN", person=p)
    create_call(demo, NOW - timedelta(days=1), women[0].phone, person=women[0])
    demo.commit()
    return {"women": women, "men": men, "others": others}


def test_indicators_and_breakdown(demo, data):
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=30), DAY, by="sex"))
    cases = r.indicator("cases")
    assert cases.total.value == 17
    assert cases.groups["F"].value == 14 and cases.groups["M"].value == 3
    assert r.indicator("emergencies").total.value == 1
    assert r.indicator("hours_to_first_response").total.value == pytest.approx(2.0)
    assert r.indicator("hours_to_resolution").total.value == pytest.approx(10.0)
    assert r.indicator("hours_to_first_response").groups["F"].n == 12
    assert r.indicator("calls").total.value == 1
    assert r.indicator("texts").total.value == 17
    assert r.indicator("followups_answered").total.value == 12
    assert r.indicator("satisfaction_share").total.value == pytest.approx(75.0)
    # Demo people were registered too (8) plus the 17 here.
    assert r.indicator("new_members").total.value == 17 + 4  # and the 4 demo members
    assert dict(r.by_category)[1].value == 17
    assert sum(c.value for _m, c in r.by_month) == 17


def test_ward_filter_and_age_bands(demo, data):
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=30), DAY, ward="Chương Dương",
                                        by="age_band"))
    cases = r.indicator("cases")
    assert cases.total.value == 15
    assert cases.groups["30-39"].value == 12 and cases.groups["60+"].value == 3
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=30), DAY, ward="Ba Đình"))
    assert r.indicator("cases").total.value == 2
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=2), DAY))
    assert r.indicator("cases").total.value == 0


def test_unknown_dimension_is_refused(demo):
    with pytest.raises(ValueError):
        reports.build(demo, ReportQuery(DAY, DAY, by="name"))


def _csv(text):
    return [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("#")]


def test_export_hides_counts_under_five(demo, data):
    text = reports.export_csv(demo, ReportQuery(DAY - timedelta(days=30), DAY, by="sex"))
    rows = {(r[0], r[3]): r[4] for r in _csv(text)[1:]}
    assert rows[("cases", "all")] == "17"
    assert rows[("cases", "M")] == "<5"
    assert rows[("cases", "F")] == "*"  # 17 - 14 would give the men away
    assert rows[("emergencies", "all")] == "<5"
    assert rows[("calls", "all")] == "<5"
    assert rows[("hours_to_first_response", "all")] == "2.0"
    # Every number in the file is at least 5.
    for row in _csv(text)[1:]:
        if row[1] == "count" and row[4] not in ("<5", "*"):
            assert int(row[4]) >= 5, row


def test_one_hidden_cell_never_stands_alone():
    ind = Indicator("cases", "count", Cell(20, 20), {"F": Cell(14, 14), "M": Cell(3, 3),
                                                     "X": Cell(3, 3)})
    report = Report(ReportQuery(DAY, DAY, by="sex"), [ind], ["F", "M", "X"], [], [], [])
    reports.suppress(report)
    assert [ind.groups[g].shown() for g in "FMX"] == ["14", "<5", "<5"]
    ind = Indicator("cases", "count", Cell(20, 20), {"F": Cell(7, 7), "M": Cell(3, 3),
                                                     "X": Cell(10, 10)})
    reports.suppress(Report(ReportQuery(DAY, DAY, by="sex"), [ind], [], [], [], []))
    assert [ind.groups[g].shown() for g in "FMX"] == ["*", "<5", "10"]


def test_export_is_safe_to_open_in_a_spreadsheet(demo, data):
    text = reports.export_csv(demo, ReportQuery(DAY - timedelta(days=30), DAY, by="occupation"))
    assert "=cmd" not in text.replace("'=cmd", "")


def test_report_page_and_export_endpoint(as_user, demo, data):
    admin = as_user("admin")
    page = admin.get("/console/reports?from=2026-02-01&to=2026-03-10&by=sex").get_data(
        as_text=True)
    assert "<svg" in page and "Hồ sơ theo loại việc" in page and "Nữ" in page
    response = admin.get("/console/reports/export.csv?from=2026-02-01&to=2026-03-10&by=sex")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "<5" in response.get_data(as_text=True)
    log = demo.scalar(select(AuditLog).where(AuditLog.action == "report_export"))
    assert log.object_id == "sex" and log.detail["first"] == "2026-02-01"


def test_viewer_sees_small_counts_hidden_on_screen_too(as_user, demo, data):
    query = "/console/reports?from=2026-02-01&to=2026-03-10&by=sex"
    viewer = as_user("xem").get(query).get_data(as_text=True)
    staff = as_user("dieuphoi").get(query).get_data(as_text=True)
    assert "&lt;5" in viewer
    assert "&lt;5" not in staff.split('id="indicators"')[1].split("</table>")[0]


def test_bad_filters_fall_back(as_user, demo):
    page = as_user("xem").get("/console/reports?from=yesterday&to=2026-99-01&by=name&ward=")
    assert page.status_code == 200


def test_referrals_completed(demo, data):
    case = open_case(demo, data["women"][0].phone, now=NOW - timedelta(days=3))
    from hotline.models import Provider

    provider = demo.scalar(select(Provider).where(Provider.code == "LUAT"))
    for done in (True, False):
        demo.add(Referral(case_id=case.id, provider_id=provider.id,
                          referred_at=NOW - timedelta(days=2),
                          completed_at=NOW if done else None))
    demo.commit()
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=30), DAY))
    assert r.indicator("referrals").total.value == 2
    assert r.indicator("referrals_completed").total.value == 1


def test_members_are_counted_by_how_they_are_told(as_user, demo, data):
    voice = data["women"][:6]
    for p in voice:
        p.notify_channel = "voice"
    data["men"][0].notify_channel = "both"
    demo.commit()
    r = reports.build(demo, ReportQuery(DAY - timedelta(days=30), DAY, ward="Chương Dương"))
    told = {code: cell.value for code, cell in r.told_by.groups.items()}
    members = r.indicator("members").total.value
    assert members >= 15  # and the demo's members of that ward
    assert told == {"sms": members - 7, "voice": 6, "both": 1}
    assert r.told_by.total.value == members
    page = as_user("dieuphoi").get("/console/reports").get_data(as_text=True)
    assert 'id="told-by"' in page and "Bằng cuộc gọi</td><td class=\"num\">6" in page
    # A viewer sees the one small count hidden, and one more so it cannot be worked out.
    reports.suppress(r)
    assert r.told_by.groups["both"].shown() == "<5"
    assert sum(c.withheld for c in r.told_by.groups.values()) == 1


def test_what_voice_notices_cost_per_month(as_user, demo):
    from hotline.models import CallbackRequest

    when = NOW - timedelta(days=3)
    for i, (reason, seconds) in enumerate((("notice", 61), ("notice", 30), ("notice", None),
                                           ("missed_call", 300))):
        call = create_call(demo, when, f"+849710000{i:02d}", duration_s=seconds)
        demo.add(CallbackRequest(phone=call.phone, reason=reason, status="done", due_at=when,
                                 call_id=call.id, created_at=when,
                                 notice="bhyt" if reason == "notice" else None))
    demo.commit()
    q = ReportQuery(DAY - timedelta(days=40), DAY)
    months = reports.voice_notice_months(demo, q)
    month = f"{NOW:%Y-%m}"
    assert [m for m, _c, _n in months] == ["2026-01", "2026-02", "2026-03"]  # zeros too
    assert dict((m, (c, n)) for m, c, n in months)[month] == (3, 3)  # 2 + 1 + 0 minutes
    page = as_user("dieuphoi").get(
        f"/console/reports?from={q.first_day}&to={q.last_day}").get_data(as_text=True)
    assert 'id="voice-notice-cost"' in page and "12.000 đ" in page
