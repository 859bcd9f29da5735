"""Erasure requests (XOA): the deadline shown everywhere, what will go, and the SMS saying
it is done, which outlives the erasure only until it has gone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.models import AuditLog, Case, Kind, Message, MessageStatus
from hotline.services import outbox
from hotline.services import people as people_service
from scheduler.jobs import apply_retention
from tests.console.conftest import HANG, NGA, NOW, open_case, person


def xoa(db, phone: str, when):
    db.add(Message(direction="in", gateway="simulator", phone=phone,
                   person_id=person(db, phone).id, body="XOA", command="XOA",
                   status="received", needs_staff=True, created_at=when))
    db.commit()


def test_each_request_shows_its_deadline_and_the_overdue_ones_stand_out(as_user, demo):
    # NOW is Tuesday 10 March: a request of today is due Thursday; one of last Tuesday is late.
    xoa(demo, HANG, NOW)
    xoa(demo, NGA, NOW - timedelta(days=7))
    client = as_user("dieuphoi")
    page = client.get("/console/dashboard").get_data(as_text=True)
    tile = page[page.index('id="erasures-tile"'):]
    assert "<b>1</b>" in tile[:200] and "2 đang chờ" in tile[:400]
    listed = page[page.index('id="erasures"'):]
    assert "12/03/2026 23:59" in listed and "05/03/2026 23:59" in listed
    assert listed.index("05/03/2026") < listed.index("12/03/2026")  # the latest first
    assert listed.count("quá hạn") == 1

    hang = person(demo, HANG)
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert 'id="erasure-request"' in page and "12/03/2026 23:59" in page
    triage = client.get("/console/triage").get_data(as_text=True)
    assert triage.count("erasure-due") == 2 and "12/03/2026 23:59" in triage

    # Filed without erasing (she changed her mind on the phone): no longer waiting.
    msg = demo.scalar(select(Message).where(Message.phone == NGA, Message.command == "XOA"))
    client.post(f"/console/triage/{msg.id}/done")
    page = client.get("/console/dashboard").get_data(as_text=True)
    tile = page[page.index('id="erasures-tile"'):]
    assert "<b>0</b>" in tile[:200] and "1 đang chờ" in tile[:400]


def test_the_form_counts_what_will_go(as_user, demo):
    hang = person(demo, HANG)
    open_case(demo, HANG, summary="Chồng em đánh em")
    xoa(demo, HANG, NOW)
    demo.add(Message(direction="out", gateway="simulator", phone=HANG, person_id=hang.id,
                     body="nhac hop", status="queued", due_at=NOW + timedelta(days=1),
                     created_at=NOW))
    demo.commit()
    page = as_user("dieuphoi").get(f"/console/people/{hang.id}/erase").get_data(as_text=True)
    counts = page[page.index('id="erase-counts"'):page.index("</ul>", page.index("erase-counts"))]
    texts = len(demo.scalars(select(Message.id).where(Message.phone == HANG)).all())
    assert f"{texts} tin nhắn" in counts and "1 tin trong đó đang chờ gửi" in counts
    assert "1 hồ sơ" in counts and "0 bản ghi âm" in counts
    assert "12/03/2026 23:59" in page and "0912 000 001" in page
    assert 'type="checkbox" name="confirm" value="1" required>' in page  # not pre-ticked


def test_she_is_told_once_it_is_done_and_then_her_number_goes(console, as_user, demo):
    hang = person(demo, HANG)
    case = open_case(demo, HANG, summary="Chồng em đánh em")
    xoa(demo, HANG, NOW)
    as_user("dieuphoi").post(f"/console/people/{hang.id}/erase", data={"confirm": "1"})

    demo.expire_all()
    told = demo.scalar(select(Message).where(Message.idempotency_key == f"erased:{hang.id}"))
    assert told.phone == HANG and told.kind == Kind.REPLY
    assert told.status == MessageStatus.QUEUED and "da duoc xoa" in told.body
    assert "Chong" not in told.body and str(case.number) not in told.body
    others = demo.scalars(select(Message).where(Message.person_id == hang.id,
                                                Message.id != told.id)).all()
    assert others and all(m.phone == "" and m.body == "" for m in others)
    audit = demo.scalar(select(AuditLog).where(AuditLog.action == "person_erase"))
    assert audit.detail["sms_confirmation"] is True

    # The drain sends it although she is erased and opted out: she asked for it.
    rt = console.extensions["hotline"]
    outbox.drain(rt.sessions, NOW, rt.sms_gateway, rt.settings)
    demo.expire_all()
    sent = demo.get(Message, told.id).status
    assert sent in (MessageStatus.SENT, MessageStatus.DELIVERED)
    assert people_service.find_by_phone(demo, HANG) is None

    # Then the retention job forgets the number it went to, the last trace of her.
    apply_retention(rt, NOW + timedelta(hours=1))
    demo.expire_all()
    gone = demo.get(Message, told.id)
    assert gone.phone == "" and gone.body == "" and gone.status == sent
    assert demo.scalars(select(Message).where(Message.phone == HANG)).all() == []
    assert demo.get(Case, case.id).summary == ""
    assert demo.scalar(select(AuditLog).where(AuditLog.action == "retention_confirmation"))


def test_no_number_no_sms_and_the_audit_says_so(demo):
    hang = person(demo, HANG)
    hang.phone = None
    demo.flush()
    result = people_service.erase(demo, NOW, None, hang, outbox=outbox.Outbox(demo))
    assert result.confirmation_id is None
    audit = demo.scalar(select(AuditLog).where(AuditLog.action == "person_erase"))
    assert audit.detail["sms_confirmation"] is False
