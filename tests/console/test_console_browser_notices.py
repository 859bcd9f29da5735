"""Voice notices in a real browser: how a member is told, set on her page; her spoken name
played there; a broadcast's calls, minutes and cost in the preview; and a voice broadcast
from a staff recording uploaded, previewed, sent and played in the notice call."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from audio.prompts import broadcast_dir
from hotline.models import Broadcast, CallbackRequest, Consent, Recording
from scheduler import jobs
from tests.conftest import PUBLIC_URL
from tests.console import test_console_browser as browser_tests
from tests.console.conftest import HANG, NOW, group, person, shot
from tests.factories import create_call
from tests.ivr.ivr_caller import Caller

pytestmark = browser_tests.pytestmark  # the browser fixtures are in conftest.py


def tone(path, seconds: float):
    """A real 440 Hz tone of ``seconds`` as telephone-quality wav at ``path``."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth",
                    str(seconds), "sine", "440"], check=True, capture_output=True)
    return path


def play(page, selector: str) -> dict:
    """Press play on the <audio> at ``selector`` (after a click on the page, as a person
    would, so autoplay rules allow it) and wait until it is really playing: its length,
    whether it failed, and how far it got."""
    page.click("h1")
    audio = page.locator(selector)
    audio.evaluate("a => a.play()")
    page.wait_for_function(
        "sel => { const a = document.querySelector(sel); return a.error || a.currentTime > 0.2; }",
        arg=selector)
    return audio.evaluate(
        "a => ({duration: a.duration, error: a.error && a.error.code, at: a.currentTime})")


def test_how_she_is_told_set_on_her_page_shown_and_in_the_consent_log(page_for, server, demo):
    hang = person(demo, HANG)
    page = page_for("dieuphoi")
    page.goto(f"{server}/console/people/{hang.id}")
    assert page.inner_text("#notify-channel") == "Bằng tin nhắn"
    page.select_option("#notify-form select[name=channel]", "voice")
    page.click("#notify-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#notify-channel") == "Bằng cuộc gọi"
    assert page.locator("#notify-form select[name=channel]").input_value() == "voice"
    row = page.locator("#consents tbody tr", has_text="Nhận tin báo bằng cuộc gọi")
    assert row.count() == 1
    assert "Nhan tin bao bang cuoc goi thay tin nhan" in row.inner_text()
    assert "Đồng ý" in row.inner_text() and "Trang quản lý" in row.inner_text()
    shot(page, "person-notify-channel")
    demo.expire_all()
    assert person(demo, HANG).notify_channel == "voice"
    consent = demo.scalar(select(Consent).where(Consent.person_id == hang.id,
                                                Consent.purpose == "voice_calls"))
    assert (consent.channel, consent.answer) == ("console", "granted")


def test_her_recorded_name_plays_on_her_page(page_for, server, demo, settings, tmp_path):
    hang = person(demo, HANG)
    sound = tone(tmp_path / "RE-name.wav", 1.5)
    call = create_call(demo, NOW, HANG, person=hang)
    demo.add(Recording(gateway="twilio", external_id="RE" + "5" * 32, call_id=call.id,
                       purpose="name", local_path=str(sound), status="completed",
                       created_at=NOW))
    demo.commit()
    page = page_for("dieuphoi")
    page.goto(f"{server}/console/people/{hang.id}")
    assert page.locator("#name-recordings audio").count() == 1
    heard = play(page, "#name-recordings audio")
    assert heard["error"] is None and abs(heard["duration"] - 1.5) < 0.1, heard
    assert heard["at"] > 0.2


def test_the_broadcast_preview_shows_the_calls_minutes_and_their_cost(page_for, server, demo):
    person(demo, HANG).notify_channel = "voice"
    demo.commit()
    page = page_for("dieuphoi")
    page.goto(server + "/console/broadcasts")
    page.fill("#broadcast-form textarea[name=text]", "Hop nhom chu nhat nay o nha van hoa")
    page.select_option("#broadcast-form select[name=group_id]", str(group(demo, "CD01").id))
    page.click("#broadcast-form button[value='0']")
    page.wait_for_selector("#recipients:text-is('3')")
    assert page.inner_text("#calls") == "1"  # Hằng, told by voice
    assert page.inner_text("#call-minutes") == "1"
    assert page.inner_text("#call-cost") == "4.000 đ"
    assert page.inner_text("#call-sound") == "nội dung tin, đọc lên"


def test_a_voice_broadcast_from_a_recording_end_to_end(page_for, server, app, demo, settings,
                                                       tmp_path):
    person(demo, HANG).notify_channel = "voice"
    demo.commit()
    cd01 = group(demo, "CD01")
    text = "Hop nhom chu nhat nay o nha van hoa"
    page = page_for("dieuphoi")
    page.goto(server + "/console/broadcasts")
    page.fill("#broadcast-form textarea[name=text]", text)
    page.select_option("#broadcast-form select[name=group_id]", str(cd01.id))
    page.set_input_files("#broadcast-form input[name=recording]",
                         str(tone(tmp_path / "thong-bao-hop.wav", 95)))
    page.click("#broadcast-form button[value='0']")
    page.wait_for_selector("#call-sound:has-text('bản ghi âm')")
    # 95 s played and 15 s around it: two started minutes, at 4,000 VND each.
    assert page.inner_text("#call-sound") == "bản ghi âm, 95 giây"
    assert (page.inner_text("#calls"), page.inner_text("#call-minutes"),
            page.inner_text("#call-cost")) == ("1", "2", "8.000 đ")
    heard = play(page, "#voice-recording audio")
    assert heard["error"] is None and abs(heard["duration"] - 95) < 0.5, heard
    shot(page, "broadcast-recording-preview")

    page.click("#broadcast-form button[value='1']")
    page.wait_for_selector("#confirm")
    assert page.inner_text("#confirm-recording") == "bản ghi âm, 95 giây"
    assert demo.scalar(select(Broadcast)) is None  # asked, not sent yet
    page.click("#confirm button[value=confirm]")
    page.wait_for_selector(".flash.ok")
    demo.expire_all()
    broadcast = demo.scalar(select(Broadcast))
    assert broadcast.recording and broadcast.recording_seconds == 95
    assert (broadcast_dir(settings) / broadcast.recording).is_file()
    assert page.locator("#broadcast-list audio.broadcast-recording").count() == 1
    heard = play(page, "#broadcast-list audio.broadcast-recording")
    assert heard["error"] is None and abs(heard["duration"] - 95) < 0.5, heard

    # The scheduler queues it; the notice call to Hằng plays the recording.
    jobs.queue_broadcasts(app.extensions["hotline"], NOW)
    demo.expire_all()
    notice = demo.scalar(select(CallbackRequest).where(CallbackRequest.reason == "notice"))
    assert (notice.notice, notice.phone) == ("broadcast_recorded", HANG)
    her = Caller(app.test_client(), phone=HANG, outbound=True)
    her.post(f"/ivr/notice?callback={notice.id}&n=0", her.form(AnsweredBy="human"))
    played = [el.text for el in her.waiting if el.tag == "Play"]
    url = f"{PUBLIC_URL}/ivr/audio/{broadcast.recording}"
    assert url in played and her.heard[-1] == "notice_keys_info"
    with app.test_client().get(url.removeprefix(PUBLIC_URL)) as sound:
        assert sound.status_code == 200 and sound.mimetype == "audio/wav"
    her.press("1")  # again: the recording once more
    assert url in [el.text for el in her.waiting if el.tag == "Play"]
