"""Retention over a year of cases on a controlled clock: the identifying data of expired cases
goes (recordings first), the year's report gives the same figures before and after."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline import clock
from hotline.db import Base, session_scope
from hotline.models import (
    AuditLog,
    Call,
    Case,
    CaseStatus,
    GroupRole,
    Message,
    Person,
    PersonPhone,
    Recording,
    Role,
)
from hotline.services import calls, reports, retention
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox
from scheduler.jobs import apply_retention
from tests.conftest import at
from tests.factories import create_group, create_person, handle_sms, join
from tests.hotline.services.test_backup import tone

PE_PHONE = "+84901000001"
CATEGORIES = (1, 2, 4, 5, 7, 10)
SEXES = ("F", "F", "M", "F", "X", "F", "F", "M")
WARDS = ("Chương Dương", "Phúc Tân")


class Clock:
    def __init__(self, monkeypatch):
        self.now = at("2025-01-01 08:00")
        monkeypatch.setattr(clock, "utcnow", lambda: self.now)


@pytest.fixture
def year(app, db, monkeypatch):
    """36 cases through 2025 (two thirds by SMS, a third by voice with a recording), worked
    by SMS by the peer educator; a quarter left open, the rest closed three ways."""
    now = Clock(monkeypatch)
    rt = app.extensions["hotline"]
    client = app.test_client()
    group = create_group(db, now.now, "CD01", ward_old=WARDS[0], ward_current="Hồng Hà")
    pe = create_person(db, now.now, phone=PE_PHONE, role=Role.PEER_EDUCATOR, name="Hoa",
                       trained_violence=True, on_duty=True)
    join(db, now.now, pe, group, GroupRole.PEER_EDUCATOR)
    members = []
    for i in range(8):
        m = create_person(db, now.now, name=f"Thanh Viên {i}", sex=SEXES[i],
                          birth_year=1960 + 6 * i, occupation=("vendor", "scrap")[i % 2],
                          home_province=("Thanh Hóa", "Nam Định")[i % 2],
                          ward_old=WARDS[i % 2], ward_current="Hồng Hà",
                          registered_at=now.now)
        join(db, now.now, m, group)
        members.append(m)
    db.commit()
    audio = Path(rt.settings.audio_dir) / "simulator"
    audio.mkdir(parents=True, exist_ok=True)

    def sms(sender: str, body: str):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": "+15005550006",
                "Body": body}
        assert client.post("/sms/inbound", data=form).status_code == 200
        handle_sms(app, now.now)

    made = []
    for i in range(36):
        month, day = i // 3 + 1, 3 + (i % 3) * 9
        now.now = at(f"2025-{month:02d}-{day:02d} 09:00")
        member, category = members[i % 8], CATEGORIES[i % 6]
        sid = None
        if i % 3 == 2:
            sid = "RE" + uuid.uuid4().hex
            (audio / f"{sid}.wav").write_bytes(tone(0.2))
            with session_scope(rt.sessions) as session:
                box = Outbox.for_settings(session, rt.settings)
                calls.recording_status(
                    session, now.now, box, calls.CallRef("simulator", "CA" + uuid.uuid4().hex,
                                                         member.phone),
                    recording_sid=sid, recording_url=f"/console/simulator/recordings/{sid}",
                    status="completed", duration=20, category=category)
                case = session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
                case.summary = f"Loi ke rieng so {i:02d}"
        else:
            sms(member.phone, f"KN {category} Chuyen rieng so {i:02d} cua chi")
        number = db.scalar(select(func.max(Case.number)))
        now.now += timedelta(minutes=20)
        sms(PE_PHONE, f"NHAN {number}")
        now.now += timedelta(hours=2)
        sms(PE_PHONE, f"GHI {number} Ghi chu rieng {i:02d}")
        outcome = i % 4
        now.now += timedelta(days=2)
        if outcome == 1:
            sms(PE_PHONE, f"XONG {number} Xong roi {i}")
            now.now += timedelta(days=7)
            with session_scope(rt.sessions) as session:
                case = session.scalar(select(Case).where(Case.number == number))
                case_service.record_followup(session, now.now,
                                             Outbox.for_settings(session, rt.settings), case,
                                             solved=True)
        elif outcome in (2, 3):
            with session_scope(rt.sessions) as session:
                case = session.scalar(select(Case).where(Case.number == number))
                case_service.close(session, now.now, case, case_service.Actor(person=case.assignee),
                                   CaseStatus.CLOSED_UNRESOLVED if outcome == 2
                                   else CaseStatus.LOST_CONTACT, note=f"Dong lai {i}")
        made.append({"i": i, "number": number, "sid": sid, "open": outcome == 0,
                     "member": member.id,
                     "markers": [f"rieng so {i:02d}", f"Ghi chu rieng {i:02d}"]})
    db.expire_all()
    return now, rt, made, members


def figures(db) -> list:
    out = []
    for by in (None, *reports.DIMENSIONS):
        report = reports.build(db, reports.ReportQuery(date(2025, 1, 1), date(2025, 12, 31),
                                                       by=by))
        out.append([(i.key, i.total.value, i.total.n,
                     sorted((g, c.value, c.n) for g, c in i.groups.items()))
                    for i in report.indicators])
        out.append([report.by_category, report.by_urgency, report.by_month])
    return out


def everything(db) -> str:
    """Every value of every row of every table, as one text to search."""
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)):
            parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def run_monthly(rt, now: Clock, until):
    while now.now < until:
        now.now += timedelta(days=30)
        apply_retention(rt, now.now)


def test_a_year_of_cases_loses_identities_keeps_its_report(year, db):
    now, rt, made, members = year
    before = figures(db)
    assert before[0][7][1] == 36  # "cases", the year's total
    text_before = everything(db)
    assert all(m in text_before for c in made for m in c["markers"])
    closed = [c for c in made if not c["open"]]

    # Recordings go first: three months after closing, but the story is still there. (The
    # clock goes back from the year's end to run the job as it would have run then.)
    now.now = at("2025-03-01 00:00")
    run_monthly(rt, now, at("2025-07-20 00:00"))
    db.expire_all()
    early = [c for c in closed if c["sid"] and c["i"] < 6]
    assert early
    for c in early:
        case = db.scalar(select(Case).where(Case.number == c["number"]))
        assert not db.scalar(select(Recording).where(Recording.case_id == case.id))
        assert not list((Path(rt.settings.audio_dir) / "simulator").glob(f"{c['sid']}.*"))
        assert case.summary and case.anonymised_at is None
    assert db.scalar(select(func.count()).select_from(AuditLog)
                     .where(AuditLog.action == "retention_recording")) >= len(early)

    # Two years after the last closing everything closed has expired.
    run_monthly(rt, now, at("2028-01-15 00:00"))
    db.expire_all()
    text_after = everything(db)
    for c in closed:
        case = db.scalar(select(Case).where(Case.number == c["number"]))
        assert case.anonymised_at is not None and case.summary == ""
        assert all(e.note == "" for e in case.events)
        stand_in = db.get(Person, case.person_id)
        assert stand_in.id != c["member"] and stand_in.name == "" and stand_in.phone is None
        assert not db.scalar(select(PersonPhone).where(PersonPhone.person_id == stand_in.id))
        assert not db.scalar(select(Recording).where(Recording.case_id == case.id))
        member = db.get(Person, c["member"])
        for msg in db.scalars(select(Message).where(Message.case_id == case.id)):
            assert msg.body == "" and msg.phone != member.phone
        if c["sid"]:
            assert not list((Path(rt.settings.audio_dir) / "simulator").glob(f"{c['sid']}.*"))
        for marker in c["markers"]:
            assert marker not in text_after, marker
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "retention_case",
                                                 AuditLog.object_id == str(c["number"])))
        assert audit.detail["summary"] is True and audit.detail["notes"] >= 1
        assert audit.detail["messages"] >= 2
    # The calls the voice cases came from no longer show the caller's number.
    voice_members = {db.get(Person, c["member"]).phone for c in closed if c["sid"]}
    assert not db.scalar(select(Call).where(Call.phone.in_(voice_members)))

    # Open cases and the members themselves are untouched.
    for c in made:
        if c["open"]:
            case = db.scalar(select(Case).where(Case.number == c["number"]))
            assert case.anonymised_at is None and case.person_id == c["member"]
            assert c["markers"][1] in text_after
            if c["sid"]:
                assert db.scalar(select(Recording).where(Recording.case_id == case.id))
    assert all(db.get(Person, m.id).name == m.name and db.get(Person, m.id).phone
               for m in members)

    # The same report, figure for figure, every breakdown.
    assert figures(db) == before

    # Running again does nothing more.
    audits = db.scalar(select(func.count()).select_from(AuditLog))
    assert apply_retention(rt, now.now) == 0
    assert db.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_a_row_that_fails_is_audited_and_the_others_go_on(year, db):
    now, rt, made, _members = year
    first, second = [c for c in made if c["sid"] and not c["open"]][:2]
    bad = db.scalar(select(Recording).join(Case).where(Case.number == first["number"]))
    # A path the job cannot delete (a directory): that row fails, every time.
    stuck = Path(rt.settings.audio_dir) / "stuck"
    stuck.mkdir()
    bad.local_path = "stuck"
    db.commit()
    now.now = at("2027-06-01 00:00")
    apply_retention(rt, now.now)
    db.expire_all()
    failures = list(db.scalars(select(AuditLog).where(AuditLog.action == "retention_failed")
                               .order_by(AuditLog.id)))
    bad_case = db.scalar(select(Case).where(Case.number == first["number"]))
    # The recording step and then the case step failed on that row, and said why ...
    assert [(f.object_type, f.object_id) for f in failures] == [
        ("recording", str(bad.id)), ("case", str(bad_case.id))]
    assert all("IsADirectoryError" in f.detail["error"] for f in failures)
    # ... rolled back whole (the story is still there), while every other case went on.
    assert bad_case.anonymised_at is None and bad_case.summary
    good = db.scalar(select(Case).where(Case.number == second["number"]))
    assert good.anonymised_at is not None and good.summary == ""
    assert [c.id for c in retention.due_cases(db, now.now, rt.settings.retention_months)] == [
        bad_case.id]
