"""Staff exports (cases, people as CSV) and a person's data on request: words in the console's
language, numbers masked unless asked for, coordinators only, every export audited."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from hotline.models import AuditLog, Consent, Message, Person
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox
from tests.console.conftest import NOW, person

MEMBER = "+84912000001"


@pytest.fixture
def worked(demo, settings):
    """A case of the demo member Hằng with her story, a note and a text of hers."""
    db = demo
    member = person(db, MEMBER)
    box = Outbox.for_settings(db, settings)
    case = case_service.open_case(db, NOW, box, person=member, channel="sms",
                                  summary="Bị thu xe hàng ở chợ Long Biên", category=1)
    case_service.add_note(db, NOW, case, case_service.Actor(person=case.assignee),
                          "Đã gọi, hẹn gặp thứ Hai")
    db.add(Message(direction="in", gateway="simulator", external_id="SMx1", person_id=member.id,
                   phone=MEMBER, body="KN 1 Bị thu xe hàng ở chợ Long Biên", status="received",
                   created_at=NOW, case_id=case.id, handled_at=NOW))
    db.add(Consent(person_id=member.id, purpose="cases", question="Dong y luu thong tin?",
                   channel="sms", asked_at=NOW, answer="granted", answered_at=NOW))
    # A name a spreadsheet would run as a formula.
    person(db, "+84912000002").name = "=HYPERLINK(\"http://x\")"
    db.commit()
    return case


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def audits(db, action: str) -> list[AuditLog]:
    db.expire_all()
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_cases_csv_in_vietnamese_with_numbers_masked(as_user, worked, db):
    table = rows(as_user("dieuphoi").get("/console/exports/cases.csv"))
    header, first = table[0], table[1]
    assert header[:3] == ["Số hồ sơ", "Ngày mở", "Loại việc"]
    assert first[0] == str(worked.number)
    assert first[header.index("Tình trạng")] == "Đang xử lý"
    assert first[header.index("Kênh")] == "Tin nhắn"
    body = "\n".join(",".join(r) for r in table)
    assert MEMBER not in body and "+84******001" in body
    # The story and the notes are not in a work list.
    assert "Long Biên" not in body and "thứ Hai" not in body
    (row,) = audits(db, "export_cases")
    assert row.detail == {"rows": 1, "phones": "masked"} and row.actor == "dieuphoi"


def test_numbers_in_full_when_asked_and_the_audit_says_so(as_user, worked, db):
    table = rows(as_user("dieuphoi").get("/console/exports/cases.csv?phones=1"))
    assert table[1][table[0].index("Điện thoại")] == MEMBER
    assert audits(db, "export_cases")[0].detail["phones"] == "shown"


def test_people_csv_in_english_in_the_english_console(as_user, worked, db):
    client = as_user("dieuphoi")
    client.post("/console/lang", data={"lang": "en"})
    table = rows(client.get("/console/exports/people.csv"))
    header = table[0]
    assert header[:3] == ["Record", "Name", "Phone"]
    hang = next(r for r in table if r[header.index("Name")] == "Đỗ Thị Hằng")
    assert hang[header.index("Occupation")] == "Street vendor"
    assert hang[header.index("Groups")] == "CD01"
    assert hang[header.index("Phone")] == "+84******001"
    # A formula is handed over as text, not run by the spreadsheet.
    assert any(r[header.index("Name")] == "'=HYPERLINK(\"http://x\")" for r in table)
    assert len(table) - 1 == db.query(Person).filter(Person.erased_at.is_(None)).count()
    assert audits(db, "export_people")[0].detail["phones"] == "masked"


@pytest.mark.parametrize("user", ["hoa", "xem"])
@pytest.mark.parametrize("path", ["/console/exports/cases.csv", "/console/exports/people.csv",
                                  "/console/people/1/data.txt"])
def test_only_coordinators_export(as_user, worked, db, user, path):
    assert as_user(user).get(path).status_code == 403
    assert not audits(db, "export_cases") + audits(db, "export_people") + audits(
        db, "person_data_export")


def test_a_persons_data_on_request(as_user, worked, db):
    member = person(db, MEMBER)
    response = as_user("dieuphoi").get(f"/console/people/{member.id}/data.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "dữ liệu đang lưu về một người" in text
    for held in ("Đỗ Thị Hằng", MEMBER, "Dong y luu thong tin?", "CD01",
                 "KN 1 Bị thu xe hàng ở chợ Long Biên", f"Hồ sơ {worked.number}",
                 "Lời kể: Bị thu xe hàng ở chợ Long Biên", "Đã gọi, hẹn gặp thứ Hai"):
        assert held in text, held
    (row,) = audits(db, "person_data_export")
    assert row.object_id == str(member.id)
    assert row.detail["cases"] == 1 and row.detail["messages"] >= 1
    assert row.detail["consents"] == 1


def test_unknown_person_is_404_not_audited(as_user, worked, db):
    assert as_user("dieuphoi").get("/console/people/999999/data.txt").status_code == 404
    assert not audits(db, "person_data_export")

