"""Reports by category × sex / ward; the console CSV in the
reader's language, with Vietnamese number formats in the Vietnamese console."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

from hotline.services import reports
from hotline.services.reports import ReportQuery
from tests.console.conftest import NOW, open_case
from tests.console.test_console_reports import DAY, _people, data  # noqa: F401 - fixture

Q = ReportQuery(DAY - timedelta(days=30), DAY)


def test_category_by_sex_and_by_ward_match_an_independent_count(demo, data):  # noqa: F811
    extra = _people(demo, 6, sex="F", ward_old="Phúc Tân", ward_current="Hồng Hà")
    for p in extra[:4]:
        open_case(demo, p.phone, category=5, now=NOW - timedelta(days=2))
    for p in extra[4:]:
        open_case(demo, p.phone, category=7, now=NOW - timedelta(days=2))
    people = data["women"] + data["men"] + data["others"]
    expected = Counter(("F" if p in data["women"] + data["others"] else "M", 1) for p in people)
    expected.update({("F", 5): 4, ("F", 7): 2})
    r = reports.build(demo, ReportQuery(Q.first_day, Q.last_day, by="sex"))
    table = dict(r.by_category_group)
    for (sex, cat), n in expected.items():
        assert table[cat][sex].value == n
    assert table[5]["M"].value == 0
    wards = dict(reports.build(demo, ReportQuery(Q.first_day, Q.last_day,
                                                 by="ward_old")).by_category_group)
    assert wards[1]["Chương Dương"].value == 15 and wards[5]["Phúc Tân"].value == 4
    assert wards[1]["unknown"].value == 2
    # Suppressed: the 3 men and 2 others hidden; 4 and 2 in Phúc Tân hidden.
    hidden = reports.suppress(reports.build(demo, ReportQuery(Q.first_day, Q.last_day,
                                                              by="sex")))
    row = dict(hidden.by_category_group)
    assert row[1]["M"].shown() == "<5" and row[1]["F"].shown() == "*"  # 17 - F would give M
    assert row[5]["F"].shown() == "<5" and row[5]["M"].shown() == "0"


def test_console_csv_speaks_the_consoles_language(as_user, demo, data):  # noqa: F811
    client = as_user("dieuphoi")
    url = f"/console/reports/export.csv?from={Q.first_day}&to={Q.last_day}&by=sex"

    def rows():
        text = client.get(url).get_data(as_text=True)
        return [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]

    vi = rows()
    assert vi[0] == ["Chỉ số", "Loại", "Chiều", "Nhóm", "Giá trị"]
    values = {(r[0], r[3]): r[4] for r in vi[1:]}
    assert values[("Số giờ đến khi giải quyết (trung vị)", "Tất cả")] == "10,0"
    assert values[("Hồ sơ mới mở", "Tất cả")] == "17" and values[("Hồ sơ mới mở", "Nam")] == "<5"
    client.post("/console/lang", data={"lang": "en"})
    en = rows()
    assert en[0] == ["Indicator", "Kind", "Dimension", "Group", "Value"]
    values = {(r[0], r[3]): r[4] for r in en[1:]}
    assert values[("Median hours to resolution", "All")] == "10.0"
    # The core export stays machine-readable.
    assert "indicator,kind,dimension,group,value" in reports.export_csv(demo, Q)


def test_reports_page_breaks_down_by_self_help_group(as_user, demo, data):  # noqa: F811
    client = as_user("dieuphoi")
    page = client.get(f"/console/reports?from={Q.first_day}&to={Q.last_day}&by=group")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nhóm tự lực" in html and "CD01" in html
