"""People: find by any number, edit, merge two records of one member, erase on request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, func, select

from hotline.models import (
    Attendance,
    AuditLog,
    Call,
    Case,
    Consent,
    Membership,
    Message,
    Person,
    PersonPhone,
    Recording,
)
from hotline.queries import people as people_queries
from hotline.services import people as people_service
from hotline.services.people import PeopleError
from tests.console.conftest import HANG, NAM, NOW, group, open_case, person
from tests.factories import (
    create_call,
    create_incoming_msg,
    create_meeting,
    create_outgoing_msg,
    create_person,
)

NEW_SIM = "+84387654321"


def test_find_by_any_number_format_earlier_numbers_and_name(as_user, demo):
    hang = person(demo, HANG)
    demo.add(PersonPhone(person_id=hang.id, phone="+84378000111", added_at=NOW,
                         retired_at=NOW))  # her old 0168 number, converted
    demo.commit()
    for query in ("0912 000 001", "84912000001", "+84912000001", "01678000111", "0378000111",
                  "2000001", "do thi hang", "HẰNG"):
        found = people_queries.search(demo, query)
        assert [p.id for p in found] == [hang.id], query
    page = as_user("admin").get("/console/people?q=01678000111").get_data(as_text=True)
    assert "Đỗ Thị Hằng" in page
    assert people_queries.search(demo, "nobody at all") == []


def test_person_page_shows_numbers_consents_and_cases(as_user, demo):
    hang = person(demo, HANG)
    demo.add(Consent(person_id=hang.id, purpose="register", question="Dong y luu so?",
                     channel="sms", asked_at=NOW, answer="granted", answered_at=NOW))
    demo.commit()
    case = open_case(demo, HANG)
    page = as_user("dieuphoi").get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert "Dong y luu so?" in page and "Đồng ý" in page
    assert f">{case.number}<" in page and "0912 000 001" in page  # the national format


def test_edit_person_is_audited(as_user, demo):
    hang = person(demo, HANG)
    as_user("admin").post(f"/console/people/{hang.id}/edit", data={
        "name": "Đỗ Thị Hằng", "sex": "F", "birth_year": "1986", "occupation": "vendor",
        "home_province": "Thái Bình", "ward_old": "Chương Dương", "ward_current": "Hồng Hà",
        "residence_status": "temporary", "role": "member",
    })
    demo.expire_all()
    assert person(demo, HANG).birth_year == 1986
    row = demo.scalar(select(AuditLog).where(AuditLog.action == "person_edit"))
    assert row.detail["fields"] == ["birth_year"]
    admin = as_user("admin")
    response = admin.post(f"/console/people/{hang.id}/edit", data={"birth_year": "old"})
    assert "Năm sinh phải là một năm" in admin.get(
        response.headers["Location"]).get_data(as_text=True)
    demo.expire_all()
    assert person(demo, HANG).birth_year == 1986


def test_merge_keeps_the_whole_history_under_the_new_number(as_user, demo):
    hang = person(demo, HANG)
    old_case = open_case(demo, HANG)
    demo.add(Consent(person_id=hang.id, purpose="register", question="q", channel="sms",
                     asked_at=NOW, answer="granted", answered_at=NOW))
    meeting = create_meeting(demo, NOW, group(demo, "CD01"))
    demo.add(Attendance(meeting_id=meeting.id, person_id=hang.id, attended=True))
    # She texts from a new SIM: the line creates a second, unregistered record.
    newcomer = create_person(demo, NOW + timedelta(days=30), phone=NEW_SIM)
    demo.add(Attendance(meeting_id=meeting.id, person_id=newcomer.id, attended=True))
    create_incoming_msg(demo, NOW, NEW_SIM, "KN mat hang", person=newcomer)
    create_call(demo, NOW, NEW_SIM, person=newcomer, external_id="CA1")
    demo.commit()
    new_case = open_case(demo, NEW_SIM)
    newcomer_id = newcomer.id

    client = as_user("admin")
    page = client.get(f"/console/people/{hang.id}/merge?q={NEW_SIM}").get_data(as_text=True)
    assert f"other={newcomer.id}" in page
    response = client.post(f"/console/people/{hang.id}/merge",
                           data={"other": str(newcomer_id), "current_phone": NEW_SIM})
    assert response.status_code == 302
    demo.expire_all()
    kept = demo.get(Person, hang.id)
    assert demo.get(Person, newcomer_id) is None
    assert kept.phone == NEW_SIM and kept.name == "Đỗ Thị Hằng"
    phones = {p.phone: p.retired_at for p in demo.scalars(
        select(PersonPhone).where(PersonPhone.person_id == kept.id))}
    assert set(phones) == {HANG, NEW_SIM}
    assert phones[NEW_SIM] is None and phones[HANG] is not None
    cases = set(demo.scalars(select(Case.id).where(Case.person_id == kept.id)))
    assert cases == {old_case.id, new_case.id}
    assert demo.scalar(select(Message.person_id).where(Message.body == "KN mat hang")) == kept.id
    assert demo.scalar(select(Call.person_id).where(Call.external_id == "CA1")) == kept.id
    assert len(demo.scalars(select(Attendance).where(Attendance.person_id == kept.id)).all()) == 1
    assert demo.scalars(select(Membership).where(Membership.person_id == kept.id)).all()
    assert demo.scalars(select(Consent).where(Consent.person_id == kept.id)).all()
    # Found by either number now.
    assert [p.id for p in people_queries.search(demo, "0912000001")] == [kept.id]
    assert [p.id for p in people_queries.search(demo, "0387654321")] == [kept.id]
    row = demo.scalar(select(AuditLog).where(AuditLog.action == "person_merge"))
    assert row.detail["removed"] == newcomer_id


def test_merge_refuses_nonsense(demo):
    hang, nam = person(demo, HANG), person(demo, NAM)
    for args in ((hang, hang, None), (hang, nam, "+84999999999")):
        try:
            people_service.merge(demo, NOW, None, *args)
        except PeopleError:
            continue
        raise AssertionError(args)


def test_erase_blanks_the_person_and_keeps_counts(as_user, demo, settings):
    hang = person(demo, HANG)
    case = open_case(demo, HANG, summary="Chồng em đánh em")
    create_incoming_msg(demo, NOW, HANG, "XOA", person=hang, needs_staff=True)
    create_outgoing_msg(demo, NOW, HANG, "nhac hop", person=hang, due_at=NOW + timedelta(days=1))
    sound = Path(settings.audio_dir) / "calls" / "RE9.wav"
    sound.parent.mkdir(parents=True, exist_ok=True)
    sound.write_bytes(b"RIFF")
    demo.add(Recording(gateway="twilio", external_id="RE9", case_id=case.id, local_path=str(sound),
                       media_url="https://api.twilio.com/x", created_at=NOW))
    # A complaint left in the phone simulator: its copy under the simulator's folder, a
    # link to our own audio route (nothing held by a provider).
    sim_sid = "RE" + "5" * 32
    sim_copy = Path(settings.audio_dir) / "simulator" / f"{sim_sid}.wav"
    sim_copy.parent.mkdir(parents=True, exist_ok=True)
    sim_copy.write_bytes(b"RIFF")
    demo.add(Recording(gateway="simulator", external_id=sim_sid, case_id=case.id,
                       media_url=f"{settings.public_url}/console/simulator/recordings/{sim_sid}",
                       created_at=NOW))
    demo.commit()

    client = as_user("admin")
    response = client.post(f"/console/people/{hang.id}/erase")  # no confirmation box
    assert "/erase" in response.headers["Location"]
    client.post(f"/console/people/{hang.id}/erase", data={"confirm": "1"})
    demo.expire_all()
    erased = demo.get(Person, hang.id)
    assert erased.erased_at is not None and erased.phone is None and erased.name == ""
    assert erased.birth_year is None and erased.ward_current is None and erased.opted_out_at
    assert not demo.scalars(select(PersonPhone).where(PersonPhone.person_id == hang.id)).all()
    # Everything but the SMS telling her it is done (tests/console/test_console_erasure.py).
    earlier = and_(Message.person_id == hang.id,
                   Message.idempotency_key.is_distinct_from(f"erased:{hang.id}"))
    bodies = demo.scalars(select(Message.body).where(earlier)).all()
    assert bodies and all(b == "" for b in bodies)
    statuses = set(demo.scalars(select(Message.status).where(earlier,
                                                             Message.direction == "out")))
    assert "queued" not in statuses
    kept = demo.get(Case, case.id)
    assert kept is not None and kept.summary == "" and kept.category == 1
    assert not sound.exists() and not sim_copy.exists()
    rec = demo.scalar(select(Recording).where(Recording.external_id == "RE9"))
    assert rec.media_url == "" and rec.local_path is None
    assert demo.scalar(select(Message.triaged_at).where(
        Message.person_id == hang.id, Message.needs_staff.is_(True))) is not None
    assert people_queries.search(demo, HANG) == []
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert "đã xóa" in page and "Chồng em" not in page
    audit = demo.scalar(select(AuditLog).where(AuditLog.action == "person_erase"))
    assert audit.detail["provider_media"] == 1 and "Đỗ" not in str(audit.detail)
    assert audit.detail["recordings"] == 2
    # Twice is refused.
    try:
        people_service.erase(demo, NOW, None, demo.get(Person, hang.id))
    except PeopleError:
        pass
    else:
        raise AssertionError("erased twice")


def test_coordinator_sets_bhyt_end_and_safe_contact_hours_and_the_line_keeps_them(as_user, demo):
    """The BHYT card's end and the hours it is safe to reach her, from the person's page:
    audited, shown, and respected by the next text and the next callback to her."""
    from datetime import date, time

    from hotline.clock import local
    from hotline.config import Settings
    from hotline.models import AuditLog
    from hotline.services import calls
    from hotline.services.outbox import Outbox

    hang = person(demo, HANG)
    coordinator = as_user("dieuphoi")
    form = {"name": hang.name, "bhyt_expires_on": "2026-04-30", "safe_contact_start": "18:00",
            "safe_contact_end": "20:30"}
    assert coordinator.post(f"/console/people/{hang.id}/edit", data=form).status_code == 302
    demo.expire_all()
    assert hang.bhyt_expires_on == date(2026, 4, 30)
    assert (hang.safe_contact_start, hang.safe_contact_end) == (time(18), time(20, 30))
    row = demo.scalars(select(AuditLog).where(AuditLog.action == "person_edit")).all()[-1]
    assert set(row.detail["fields"]) == {"bhyt_expires_on", "safe_contact_start",
                                         "safe_contact_end"}
    page = coordinator.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert "30/04/2026" in page and "18:00–20:30" in page
    assert 'value="2026-04-30"' in page and 'value="18:00"' in page  # the form, prefilled

    # It is 10:00 in Hanoi: a text and a callback to her wait until 18:00.
    message = Outbox(demo).enqueue(NOW, HANG, "STONES: Nhac hop nhom", person=hang)
    assert local(message.due_at).time() == time(18)
    callback = calls.queue_callback(demo, NOW, HANG, hang, reason="sms")
    assert local(calls.next_allowed(NOW, callback, hang, Settings.from_env({}))).time() \
        == time(18)
    demo.rollback()

    # Bad input: a clear message, nothing changed.
    for bad in ({"bhyt_expires_on": "31/04"}, {"safe_contact_start": "late"},
                {"safe_contact_start": "18:00", "safe_contact_end": ""},
                {"bhyt_expires_on": "9999-12-31"}, {"birth_year": str(2**40)},
                {"birth_year": "١٩٨٦"}, {"name": "Hằng\x00"}, {"safe_contact_end": "24:00"}):
        response = coordinator.post(f"/console/people/{hang.id}/edit", data=bad,
                                    follow_redirects=True)
        assert response.status_code == 200 and 'class="flash error"' in response.get_data(
            as_text=True)
    demo.expire_all()
    assert hang.bhyt_expires_on == date(2026, 4, 30) and hang.safe_contact_end == time(20, 30)


def test_coordinator_sets_a_preferred_name_audited_and_shown(as_user, demo):
    hang = person(demo, HANG)
    client = as_user("dieuphoi")
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert 'name="preferred_name" value=""' in page  # the form shows what is there
    client.post(f"/console/people/{hang.id}/edit", data={"name": hang.name,
                                                        "preferred_name": "  chị Hằng  "})
    demo.expire_all()
    assert demo.get(Person, hang.id).preferred_name == "chị Hằng"
    assert demo.get(Person, hang.id).call_name == "chị Hằng"
    audit = demo.scalar(select(AuditLog).where(AuditLog.action == "person_edit"))
    assert audit.detail["fields"] == ["preferred_name"]
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert "gọi là chị Hằng" in page and 'name="preferred_name" value="chị Hằng"' in page
    # Cleared, her given name is used again; erased, it goes with the rest.
    client.post(f"/console/people/{hang.id}/edit", data={"name": hang.name,
                                                        "preferred_name": ""})
    demo.expire_all()
    assert demo.get(Person, hang.id).preferred_name is None
    assert demo.get(Person, hang.id).call_name == "Hằng"
    demo.get(Person, hang.id).preferred_name = "Hằng"
    people_service.erase(demo, NOW, None, demo.get(Person, hang.id))
    assert demo.get(Person, hang.id).preferred_name is None


def test_people_filter_by_group_and_show_each_ones_groups(as_user, demo):
    """Two members called Lan: the group column and filter tell them apart."""
    from tests.factories import join

    cd01, cd02 = group(demo, "CD01"), group(demo, "CD02")
    lan1 = create_person(demo, NOW, phone="+84912000071", name="Nguyễn Thị Lan")
    lan2 = create_person(demo, NOW, phone="+84912000072", name="Trần Thị Lan")
    join(demo, NOW, lan1, cd01)
    join(demo, NOW, lan2, cd02)
    demo.commit()
    client = as_user("dieuphoi")
    page = client.get("/console/people?q=lan").get_data(as_text=True)
    row1 = page[page.index("Nguyễn Thị Lan"):]
    row2 = page[page.index("Trần Thị Lan"):]
    assert "CD01" in row1[:row1.index("</tr>")] and "CD02" in row2[:row2.index("</tr>")]
    page = client.get(f"/console/people?q=lan&group={cd02.id}").get_data(as_text=True)
    assert "Trần Thị Lan" in page and "Nguyễn Thị Lan" not in page
    assert f'<option value="{cd02.id}" selected>' in page
    everyone = client.get(f"/console/people?group={cd01.id}").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in everyone and "Trần Thị Lan" not in everyone
    assert client.get("/console/people?group=abc").status_code == 200


def test_the_merge_form_counts_what_moves_before_merging(as_user, demo):
    hang = person(demo, HANG)
    stranger = create_person(demo, NOW, phone=NEW_SIM)
    demo.add(Message(direction="in", gateway="simulator", phone=NEW_SIM, person_id=stranger.id,
                     body="alo", status="received", created_at=NOW))
    demo.commit()
    open_case(demo, NEW_SIM)
    client = as_user("dieuphoi")
    picker = client.get(f"/console/people/{hang.id}/merge?q=0387654321").get_data(as_text=True)
    assert "0*** *** 321" in picker and "0387 654 321" not in picker  # masked in the picker
    page = client.get(f"/console/people/{hang.id}/merge?other={stranger.id}").get_data(
        as_text=True)
    moves = page[page.index('id="merge-moves"'):page.index("</ul>", page.index("merge-moves"))]
    texts = demo.scalar(select(func.count(Message.id)).where(Message.person_id == stranger.id))
    assert f"{texts} tin nhắn" in moves and "1 hồ sơ" in moves and "1 số điện thoại" in moves
    assert demo.get(Person, stranger.id) is not None  # nothing merged by looking


def test_the_case_page_says_what_she_likes_to_be_called(as_user, demo):
    case = open_case(demo, HANG)
    person(demo, HANG).preferred_name = "Hằng nhỏ"
    demo.commit()
    page = as_user("dieuphoi").get(f"/console/cases/{case.number}").get_data(as_text=True)
    assert "(gọi là Hằng nhỏ)" in page


def test_her_spoken_name_is_on_her_page_for_staff_only(as_user, demo, settings):
    hang, nam = person(demo, HANG), person(demo, NAM)
    sound = Path(settings.audio_dir) / "calls" / "RE7.wav"
    sound.parent.mkdir(parents=True, exist_ok=True)
    sound.write_bytes(b"RIFF-name")
    call = create_call(demo, NOW, HANG, person=hang)
    name = Recording(gateway="twilio", external_id="RE7", call_id=call.id, purpose="name",
                     local_path=str(sound), created_at=NOW)
    complaint = Recording(gateway="twilio", external_id="RE8", call_id=call.id,
                          local_path=str(sound), created_at=NOW)
    demo.add_all([name, complaint])
    demo.commit()
    admin = as_user("admin")
    page = admin.get(f"/console/people/{hang.id}").get_data(as_text=True)
    url = f"/console/people/{hang.id}/name/{name.id}"
    assert 'id="name-recordings"' in page and url in page
    assert f"/name/{complaint.id}" not in page
    sound_response = admin.get(url)
    assert sound_response.data == b"RIFF-name"
    sound_response.close()
    assert 'id="name-recordings"' not in admin.get(f"/console/people/{nam.id}").get_data(
        as_text=True)
    # Not hers, not a name, or no such recording: 404; a peer educator may not listen.
    assert admin.get(f"/console/people/{nam.id}/name/{name.id}").status_code == 404
    assert admin.get(f"/console/people/{hang.id}/name/{complaint.id}").status_code == 404
    assert admin.get(f"/console/people/{hang.id}/name/99999").status_code == 404
    assert as_user("hoa").get(url).status_code in (302, 403)


def test_staff_set_how_she_is_told_audited_in_the_consent_log_and_shown(as_user, demo):
    hang = person(demo, HANG)
    client = as_user("dieuphoi")
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert '<dd id="notify-channel">Bằng tin nhắn</dd>' in page
    response = client.post(f"/console/people/{hang.id}/notify", data={"channel": "voice"})
    assert response.status_code == 302
    demo.expire_all()
    assert demo.get(Person, hang.id).notify_channel == "voice"
    entry = demo.scalar(select(AuditLog).where(AuditLog.action == "notify_channel"))
    assert (entry.detail["before"], entry.detail["after"]) == ("sms", "voice")
    consent = demo.scalar(select(Consent).where(Consent.purpose == "voice_calls"))
    assert (consent.channel, consent.answer) == ("console", "granted")
    page = client.get(f"/console/people/{hang.id}").get_data(as_text=True)
    assert '<dd id="notify-channel">Bằng cuộc gọi</dd>' in page
    # A forged value, or none: a clear refusal, nothing changed; others may not.
    for data in ({"channel": "fax"}, {}):
        response = client.post(f"/console/people/{hang.id}/notify", data=data,
                               follow_redirects=True)
        assert response.status_code == 200 and 'class="flash error"' in response.get_data(
            as_text=True)
    assert client.post("/console/people/999999/notify", data={"channel": "sms"}
                       ).status_code == 404
    assert as_user("hoa").post(f"/console/people/{hang.id}/notify",
                               data={"channel": "sms"}).status_code in (302, 403)
    demo.expire_all()
    assert demo.get(Person, hang.id).notify_channel == "voice"
