"""A voice broadcast from a staff recording: uploaded on the broadcasts page (checked as real
sound, re-encoded), previewed with its length, minutes and cost, sent, played back by staff,
and played in the notice call to the members told by voice (the text said if it is gone)."""

from __future__ import annotations

import io
import subprocess
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from audio.prompts import broadcast_dir
from hotline.models import AuditLog, Broadcast, CallbackRequest
from scheduler import jobs
from tests.conftest import PUBLIC_URL
from tests.console.conftest import HANG, NOW, group, person
from tests.ivr.ivr_caller import Caller

TEXT = "Hop nhom chu nhat nay, mang theo the BHYT"


def tone(tmp_path, suffix: str, seconds: float, rate: int = 8000) -> bytes:
    """A real tone of ``seconds``, encoded by sox as ``suffix``."""
    path = tmp_path / f"tone-{seconds}{suffix}"
    bits = ["-b", "16"] if suffix == ".wav" else []
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", *bits, str(path), "synth",
                    str(seconds), "sine", "440"], check=True, capture_output=True)
    return path.read_bytes()


def upload(client, data: bytes, name: str, **fields):
    form = {"text": TEXT, "send": "0", **fields}
    if data is not None:
        form["recording"] = (io.BytesIO(data), name)
    response = client.post("/console/broadcasts", data=form, content_type="multipart/form-data")
    # Werkzeug's test client spools a body over 500 kB to a temporary file it never closes;
    # left to the garbage collector it warns (an error here) in whichever test runs then.
    response.request.environ["wsgi.input"].close()
    return response


def stored(settings) -> list[str]:
    folder = broadcast_dir(settings)
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


@pytest.fixture
def voice_member(demo):
    """Hằng (CD01) is told by voice; the others in CD01 by SMS."""
    person(demo, HANG).notify_channel = "voice"
    demo.commit()
    return person(demo, HANG)


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".ogg"])
def test_a_recording_uploaded_shows_its_length_and_bills_its_minutes(
        as_user, settings, tmp_path, voice_member, demo, suffix):
    admin = as_user("dieuphoi")
    cd01 = group(demo, "CD01")
    said = admin.get("/console/broadcasts", query_string={
        "text": TEXT, "group_id": cd01.id}).get_data(as_text=True)
    assert '<dd id="call-minutes">1</dd>' in said and "nội dung tin, đọc lên" in said
    # 100 s of recording: 15 s of greeting and keys around it, 2 started minutes a call.
    response = upload(admin, tone(tmp_path, suffix, 100), f"Thông báo họp{suffix}",
                      group_id=str(cd01.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    [name] = stored(settings)
    assert name.startswith("bc-") and name.endswith(".wav")
    assert '<dd id="calls">1</dd>' in page and '<dd id="call-minutes">2</dd>' in page
    assert '<dd id="call-cost">8.000 đ</dd>' in page  # 2 minutes at 4,000 VND
    assert "bản ghi âm, 100 giây" in page
    assert f'name="recording_name" value="{name}"' in page
    assert f"/console/broadcasts/recordings/{name}" in page
    # Staff listen to it behind the login; the stored sound is the re-encoded one.
    with admin.get(f"/console/broadcasts/recordings/{name}") as sound:
        assert sound.status_code == 200 and sound.mimetype == "audio/wav"
        assert sound.get_data() == (broadcast_dir(settings) / name).read_bytes()
    # The player asks for ranges (to seek): answered from the file read whole.
    with admin.get(f"/console/broadcasts/recordings/{name}",
                   headers={"Range": "bytes=0-99"}) as part:
        assert part.status_code == 206 and len(part.data) == 100


def test_send_plays_the_recording_in_the_notice_call_and_falls_back_to_the_text(
        as_user, client, app, settings, tmp_path, voice_member, demo):
    admin = as_user("admin")
    cd01 = group(demo, "CD01")
    page = upload(admin, tone(tmp_path, ".wav", 30), "hop.wav", group_id=str(cd01.id))
    [name] = stored(settings)
    form = {"text": TEXT, "group_id": str(cd01.id), "recording_name": name}
    confirm = admin.post("/console/broadcasts", data={**form, "send": "1"}).get_data(
        as_text=True)
    assert 'id="confirm-recording">bản ghi âm, 30 giây<' in confirm
    assert f'type="hidden" name="recording_name" value="{name}"' in confirm
    assert demo.scalar(select(Broadcast)) is None  # asked, not sent
    page = admin.post("/console/broadcasts", data={**form, "send": "confirm",
                                                   "recipients": "3"})
    assert page.status_code == 302
    broadcast = demo.scalar(select(Broadcast))
    assert (broadcast.recording, broadcast.recording_seconds) == (name, 30)
    entry = demo.scalar(select(AuditLog).where(AuditLog.action == "broadcast"))
    assert entry.detail["recording"] == name
    listed = admin.get("/console/broadcasts").get_data(as_text=True)
    assert f"/console/broadcasts/recordings/{name}" in listed

    rt = app.extensions["hotline"]
    jobs.queue_broadcasts(rt, NOW)
    demo.expire_all()
    [notice] = demo.scalars(select(CallbackRequest).where(CallbackRequest.reason == "notice"))
    assert (notice.notice, notice.phone) == ("broadcast_recorded", HANG)
    assert notice.notice_args == {"recording": name, "text": TEXT}

    def answer() -> list[ET.Element]:
        her = Caller(client, phone=HANG, outbound=True)
        her.post(f"/ivr/notice?callback={notice.id}&n=0", her.form(AnsweredBy="human"))
        return list(her.waiting)  # the notice, inside the <Gather> for its keys

    played = [el.text for el in answer() if el.tag == "Play"]
    assert f"{PUBLIC_URL}/ivr/audio/{name}" in played
    # Twilio fetches it like a prompt: no login, the re-encoded sound, cached for long.
    with client.get(f"/ivr/audio/{name}") as sound:
        assert sound.status_code == 200 and sound.mimetype == "audio/wav"
        assert sound.get_data() == (broadcast_dir(settings) / name).read_bytes()
    # The file is gone (a disk cleaned up): the call says the text instead, never silence.
    (broadcast_dir(settings) / name).unlink()
    verbs = answer()
    assert not any(el.tag == "Play" and name in (el.text or "") for el in verbs)
    assert TEXT in [el.text for el in verbs if el.tag == "Say"]


@pytest.mark.parametrize(("name", "make", "error"), [
    ("hop.wav", lambda tmp: b"", "Tệp trống."),
    ("hop.mp3", lambda tmp: b"ID3\x04\x00<html><script>alert(1)</script></html>" * 40,
     "không phải tệp âm thanh"),
    ("hop.wav", lambda tmp: b"RIFF\x24\x00\x00\x00WAVE" + bytes(4000), "không phải tệp âm thanh"),
    ("hop.ogg", lambda tmp: tone(tmp, ".wav", 1), "không phải tệp âm thanh"),  # a wav named ogg
    ("hop.exe", lambda tmp: tone(tmp, ".wav", 1), "Xin tải lên tệp .wav, .mp3 hoặc .ogg."),
    ("hop", lambda tmp: tone(tmp, ".wav", 1), "Xin tải lên tệp .wav, .mp3 hoặc .ogg."),
    ("../../etc/passwd", lambda tmp: tone(tmp, ".wav", 1), "Xin tải lên tệp .wav, .mp3"),
    ("hop.wav\x00.exe", lambda tmp: tone(tmp, ".wav", 1), "Xin tải lên tệp .wav, .mp3"),
    (".wav", lambda tmp: tone(tmp, ".wav", 1), "Xin tải lên tệp .wav, .mp3"),
    ("x" * 3000 + ".wav", lambda tmp: b"RIFF" + bytes(100), "không phải tệp âm thanh"),
])
def test_a_bad_upload_is_a_form_error_and_changes_nothing(as_user, settings, tmp_path, demo,
                                                          voice_member, name, make, error):
    admin = as_user("admin")
    for send in ("0", "1", "confirm"):
        response = upload(admin, make(tmp_path), name, send=send, recipients="6")
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and error in page, page[:300]
        assert 'id="confirm"' not in page
    assert stored(settings) == []
    assert demo.scalar(select(Broadcast)) is None


def test_a_huge_upload_is_a_form_error_not_a_413_or_a_500(as_user, settings, demo):
    admin = as_user("admin")
    response = upload(admin, b"RIFF" + bytes(3 * 1024 * 1024), "hop.wav", send="confirm",
                      recipients="6")
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tệp quá lớn (tối đa 2 MB)." in page
    assert stored(settings) == [] and demo.scalar(select(Broadcast)) is None


def test_a_forged_or_vanished_recording_name_is_refused(as_user, settings, tmp_path, demo):
    admin = as_user("admin")
    for name in ("../recorded/welcome.wav", "bc-0123456789abcdef.wav", "bc-x.wav\n"):
        response = admin.post("/console/broadcasts", data={
            "text": TEXT, "recording_name": name, "send": "confirm", "recipients": "6"})
        assert response.status_code == 400, name
        assert "Bản ghi âm không còn nữa" in response.get_data(as_text=True)
    assert demo.scalar(select(Broadcast)) is None
    for name in ("bc-0123456789abcdef.wav", "..%2Fsecret.wav", "welcome.wav"):
        assert admin.get(f"/console/broadcasts/recordings/{name}").status_code == 404


def test_a_sound_uploaded_with_yes_is_asked_about_first(as_user, settings, tmp_path, demo,
                                                      voice_member):
    admin = as_user("admin")
    cd01 = group(demo, "CD01")
    page = upload(admin, tone(tmp_path, ".wav", 5), "hop.wav", group_id=str(cd01.id),
                  send="confirm", recipients="3").get_data(as_text=True)
    assert 'id="confirm-recording">bản ghi âm, 5 giây<' in page
    assert demo.scalar(select(Broadcast)) is None


def test_say_the_text_instead_drops_the_recording(as_user, settings, tmp_path, demo,
                                                  voice_member):
    admin = as_user("admin")
    upload(admin, tone(tmp_path, ".wav", 100), "hop.wav")
    [name] = stored(settings)
    page = admin.post("/console/broadcasts", data={
        "text": TEXT, "recording_name": name, "text_instead": "1", "send": "0"}
    ).get_data(as_text=True)
    assert "nội dung tin, đọc lên" in page and 'name="recording_name"' not in page
    assert '<dd id="call-minutes">1</dd>' in page


def test_only_staff_upload_or_listen(as_user, settings, tmp_path, demo):
    upload(as_user("admin"), tone(tmp_path, ".wav", 2), "hop.wav")
    [name] = stored(settings)
    peer = as_user("hoa")
    assert peer.get(f"/console/broadcasts/recordings/{name}").status_code in (302, 403)
    assert upload(peer, tone(tmp_path, ".wav", 3), "hop.wav").status_code in (302, 403)
    assert stored(settings) == [name]


def test_recordings_of_broadcasts_never_sent_go_after_a_week(as_user, settings, tmp_path,
                                                             demo):
    import os
    import time

    admin = as_user("admin")
    folder = broadcast_dir(settings)
    week_ago = time.time() - 8 * 24 * 3600
    for seconds in (2, 3):
        upload(admin, tone(tmp_path, ".wav", seconds), "hop.wav")
    sent, left = stored(settings)
    admin.post("/console/broadcasts", data={"text": TEXT, "recording_name": sent,
                                            "group_id": str(group(demo, "CD01").id),
                                            "send": "confirm", "recipients": "3"})
    assert demo.scalar(select(Broadcast)).recording == sent
    for name in (sent, left):
        os.utime(folder / name, (week_ago, week_ago))
    upload(admin, tone(tmp_path, ".wav", 4), "hop.wav")  # the next upload sweeps
    names = stored(settings)
    assert sent in names and left not in names and len(names) == 2
