"""A spoken complaint: one case per recording whatever Twilio retries; the number heard and
texted; the recording kept private for the console."""

from __future__ import annotations

import threading
from xml.etree.ElementTree import tostring

import pytest
from sqlalchemy import delete, func, select

from hotline.models import Case, CaseEvent, Direction, Message, Recording
from hotline.templates import render
from ivr.menu import digit_prompt_keys
from tests.conftest import AUTH_TOKEN
from tests.ivr.ivr_caller import PUBLIC_URL, Caller, fresh_sid, sign


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN)


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def reporting(client, *keys: str) -> Caller:
    """A caller who agreed to consent and chose a problem, at the beep."""
    caller = Caller(client).call().agree().press("2")
    for key in keys:
        caller.press(key)
    assert caller.kind == "record" and caller.heard[-1] == "record_instructions"
    return caller


def sms_to(db, phone):
    return db.scalars(select(Message).where(Message.direction == Direction.OUT,
                                            Message.phone == phone)).all()


def test_spoken_complaint_opens_one_case_read_back_digit_by_digit_and_texted(client, db):
    caller = reporting(client, "1")  # goods seized, fines
    record = caller.waiting
    assert record.get("maxLength") == "180" and record.get("finishOnKey") == "#"
    assert record.get("playBeep") == "true"

    caller.speak(recording_sid="RE" + "a" * 32, duration=12)
    case = db.scalar(select(Case))
    assert (case.category, case.channel, case.status) == (1, "voice", "new")
    assert caller.heard == ["case_created", *digit_prompt_keys(case.number), "case_created_end",
                            "main_menu"]
    recording = db.scalar(select(Recording))
    assert recording.case_id == case.id and recording.external_id == "RE" + "a" * 32
    assert recording.media_url == caller.recording_status[1]["RecordingUrl"]
    assert (recording.status, recording.duration_s) == ("completed", 12)
    [sms] = sms_to(db, caller.phone)
    assert sms.body == render("case_opened", number=case.number) and sms.case_id == case.id
    assert db.scalar(select(CaseEvent.kind).where(CaseEvent.kind == "recording")) == "recording"


def test_retried_record_action_and_status_callback_make_one_case(client, db):
    caller = reporting(client, "4")
    caller.speak(status_callback=False)
    heard = caller.heard
    caller.retry()
    caller.retry()
    assert caller.heard == heard
    caller.send_recording_status()
    caller.send_recording_status()
    assert count(db, Case) == 1 and count(db, Recording) == 1
    assert len(sms_to(db, caller.phone)) == 1


def test_status_callback_first_then_action_still_one_case_and_the_same_number(client, db):
    caller = reporting(client, "7")  # residence: the same number as KN 7 by SMS
    record = caller.waiting
    sid = fresh_sid("RE")
    # Twilio's recording status callback can overtake the action.
    status_path = record.get("recordingStatusCallback").removeprefix(PUBLIC_URL)
    form = {"CallSid": caller.sid, "RecordingSid": sid, "RecordingStatus": "completed",
            "RecordingUrl": f"https://api.twilio.com/Recordings/{sid}", "RecordingDuration": "5"}
    assert client.post(status_path, data=form, headers=sign(status_path, form)).status_code == 204
    case = db.scalar(select(Case))
    assert case.category == 7
    caller.speak(recording_sid=sid, status_callback=False)
    assert caller.heard[1:-2] == digit_prompt_keys(case.number)
    assert count(db, Case) == 1 and len(sms_to(db, caller.phone)) == 1


def test_nothing_recorded_asks_again_twice_then_ends_kindly(client, db):
    caller = reporting(client, "9")
    caller.silence()  # Twilio skips the action on silence and follows the Redirect
    assert caller.heard == ["record_empty"] and caller.kind == "record"
    caller.speak(duration=0, status_callback=False)  # an empty recording reaches the action
    assert caller.heard == ["record_empty"] and caller.kind == "record"
    caller.silence()
    assert caller.heard == ["goodbye"] and caller.kind == "hangup"
    assert count(db, Case) == 0 and count(db, Recording) == 0


def test_absent_recording_is_kept_without_a_case(client, db):
    caller = reporting(client, "2")
    caller.speak(duration=0, status_callback=False)
    path, form = caller.recording_status
    form = {**form, "RecordingStatus": "absent", "RecordingDuration": "0"}
    caller.recording_status = (path, form)
    caller.send_recording_status()
    assert count(db, Case) == 0
    assert db.scalar(select(Recording.status)) == "absent"


def test_recording_media_never_appears_in_what_the_caller_gets(client, db):
    caller = reporting(client, "1")
    caller.speak()
    media = caller.recording_status[1]["RecordingUrl"]
    assert media not in tostring(caller.root, encoding="unicode")
    assert all(el.text is None or "api.twilio.com" not in el.text for el in caller.root.iter())


def test_safety_voicemail_is_category_three_and_noted_as_voicemail(client, db):
    caller = reporting(client, "3", "2")  # not safe -> leave a message
    caller.speak()
    case = db.scalar(select(Case))
    assert case.category == 3
    caller2 = Caller(client).call().agree().press("5")  # nobody on duty -> voicemail
    caller2.speak()
    notes = db.scalars(select(CaseEvent.note).where(CaseEvent.kind == "recording")
                       .order_by(CaseEvent.id)).all()
    assert notes == ["", "voicemail"]


def test_each_complaint_number_keyed_is_the_case_category_as_after_kn(client, db):
    """The report pages take the numbers of KN by SMS: 5 BHYT, 6 BHXH, 10..12 keyed with
    two digits, on whichever page she is."""
    for keys, category in ((("5",), 5), (("6",), 6), (("0", "10"), 10), (("0", "0", "11"), 11),
                           (("12",), 12), (("0", "9"), 9)):
        reporting(client, *keys).speak()
        case = db.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
        assert (case.category, case.category_hint) == (category, category)


def test_action_and_status_callback_racing_make_one_case(app, client, db):
    """Twilio sends the <Record> action and the recording status callback at the same time."""
    callers = [reporting(client, "1") for _ in range(6)]
    for caller in callers:
        caller.speak(status_callback=False)  # only to learn the URLs and forms
    db.expire_all()
    for model in (Case, Recording, Message):
        db.execute(delete(model))
    db.commit()

    def post(path, form):
        with app.test_client() as own:
            for _ in range(3):  # a 503 (database busy) is retried, as Twilio would
                resp = own.post(path, data=form, headers=sign(path, form))
                if resp.status_code != 503:
                    return resp.status_code
        return 503

    def send(barrier, results, path, form):
        barrier.wait()
        results.append(post(path, form))

    for caller in callers:
        barrier, results = threading.Barrier(2), []
        threads = [threading.Thread(target=send, args=(barrier, results, *request))
                   for request in ((caller.last_path, caller.last_form), caller.recording_status)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 204]
    assert count(db, Case) == len(callers) and count(db, Recording) == len(callers)
    assert db.scalar(select(func.count(func.distinct(Recording.case_id)))) == len(callers)
