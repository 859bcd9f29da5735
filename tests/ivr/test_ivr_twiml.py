"""Rendering screens to TwiML: verbs, attributes, absolute URLs, <Say> fallback."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from audio.prompts import catalogue_at
from audio.render import SAY_LANGUAGE, SAY_VOICE, file_name
from hotline import clock
from ivr import flow
from ivr.menu import MENU
from ivr.twiml import Renderer, reject, render_screen
from tests.conftest import PUBLIC_URL

CATALOGUE = catalogue_at(clock.utcnow())


def render(settings, screen) -> ET.Element:
    return ET.fromstring(Renderer(settings, CATALOGUE, MENU).render(screen))


def test_gather_plays_the_node_inside_and_redirects_to_the_same_step(settings):
    root = render(settings, flow.Screen(("welcome",), flow.Gather("main", 1, None), 4))
    say, gather, redirect = list(root)
    assert say.tag == "Say" and say.text == CATALOGUE["welcome"]
    assert (say.get("language"), say.get("voice")) == (SAY_LANGUAGE, SAY_VOICE)
    assert gather.get("action") == f"{PUBLIC_URL}/ivr/menu?node=main&n=4&r=1"
    assert redirect.text == gather.get("action") and redirect.get("method") == "POST"
    assert [el.text for el in gather] == [CATALOGUE["main_menu"]]


def test_resume_travels_with_the_consent_question(settings):
    root = render(settings, flow.Screen((), flow.Gather("consent", 0, "report"), 2))
    assert root[0].get("action") == f"{PUBLIC_URL}/ivr/menu?node=consent&n=2&r=0&resume=report"


def test_a_file_is_played_from_the_public_audio_url(settings):
    out = Path(settings.audio_dir)
    out.mkdir(parents=True)
    name = file_name("goodbye", CATALOGUE["goodbye"], ".mp3")
    (out / name).write_bytes(b"\xff\xfb")
    root = render(settings, flow.Screen(("goodbye",), flow.Hangup(), 9))
    assert [(el.tag, el.text) for el in root] == [
        ("Play", f"{PUBLIC_URL}/ivr/audio/{name}"), ("Hangup", None)]


def test_record_has_limits_finish_key_and_a_private_status_callback(settings):
    ref = flow.ActRef("report", "1")
    root = render(settings, flow.Screen(("record_instructions",), flow.Record(ref, 0), 5))
    _, record, redirect = list(root)
    assert record.get("maxLength") == "180" and record.get("finishOnKey") == "#"
    assert record.get("action") == f"{PUBLIC_URL}/ivr/recorded?node=report&key=1&fb=0&n=5&r=0"
    assert record.get("recordingStatusCallback") == (
        f"{PUBLIC_URL}/ivr/recording?node=report&key=1&fb=0")
    assert redirect.text == record.get("action")


def test_dial_rings_every_number_with_a_timeout_and_an_action(settings):
    ref = flow.ActRef("main", "5")
    screen = flow.Screen(("dial_duty_connecting",),
                         flow.Dial(ref, ("+84911000001", "+84911000002"), 20), 3)
    dial = render(settings, screen)[-1]
    assert dial.get("timeout") == "20"
    assert dial.get("action") == f"{PUBLIC_URL}/ivr/dialed?node=main&key=5&fb=0&n=3"
    assert [n.text for n in dial] == ["+84911000001", "+84911000002"]


def test_reject_is_alone():
    root = ET.fromstring(reject())
    assert [el.tag for el in root] == ["Reject"]


def test_act_refs_follow_fallbacks():
    voicemail = flow.ActRef("report_safety", "1").fall_back().resolve(MENU)
    assert voicemail.name == "record_complaint" and voicemail.args["category"] == 3
    assert flow.ActRef("gone", "1").resolve(MENU) is None
    assert flow.ActRef("main", "1").resolve(MENU) is None  # a node, not an action


def test_remembered_screens_follow_new_sound_files(settings, monkeypatch):
    """``render_screen`` builds a screen once, and again as soon as a prompt file appears
    (a staff recording, renamed into place as the console does)."""
    built = []
    real = Renderer.render
    monkeypatch.setattr(Renderer, "render", lambda self, s: built.append(s) or real(self, s))
    day = clock.local(clock.utcnow()).date()
    screen = flow.Screen(("goodbye",), flow.Hangup(), 9)
    recorded = Path(settings.audio_dir) / "recorded"
    recorded.mkdir(parents=True)
    first = render_screen(settings, day, screen, MENU)
    assert render_screen(settings, day, screen, MENU) == first and len(built) == 1
    assert ET.fromstring(first)[0].tag == "Say"

    tmp = recorded / ".goodbye.mp3.tmp"
    tmp.write_bytes(b"\xff\xfb")
    os.replace(tmp, recorded / "goodbye.mp3")
    root = ET.fromstring(render_screen(settings, day, screen, MENU))
    assert (root[0].tag, root[0].text) == ("Play", f"{PUBLIC_URL}/ivr/audio/goodbye.mp3")
    assert len(built) == 2


def test_a_screen_new_each_time_looks_its_prompt_files_up_once_per_folder_version(
        settings, monkeypatch):
    """Key 9's screen carries her case number, so it is built each time; its prompts' files
    are looked up once, and again as soon as one appears (renamed into place)."""
    from ivr import twiml

    looked = []
    real = twiml.resolve
    monkeypatch.setattr(twiml, "resolve", lambda key, *a: looked.append(key) or real(key, *a))
    day = clock.local(clock.utcnow()).date()
    recorded = Path(settings.audio_dir) / "recorded"
    recorded.mkdir(parents=True)

    def case_screen(number: int) -> ET.Element:
        prompts = ("emergency_opened", *(f"digit_{d}" for d in str(number)))
        return ET.fromstring(render_screen(settings, day, flow.Screen(prompts, flow.Hangup(),
                                                                      12), MENU))

    assert [v.tag for v in case_screen(1001)] == ["Say"] * 5 + ["Hangup"]
    first = len(looked)
    assert first == 3  # emergency_opened, digit_1, digit_0: each once
    root = case_screen(1011)
    assert len(looked) == first and root[4].text == CATALOGUE["digit_1"]
    tmp = recorded / ".digit_1.mp3.tmp"
    tmp.write_bytes(b"\xff\xfb")
    os.replace(tmp, recorded / "digit_1.mp3")
    root = case_screen(1111)
    assert [(v.tag, v.text) for v in root][1:5] == [
        ("Play", f"{PUBLIC_URL}/ivr/audio/digit_1.mp3")] * 4
    assert len(looked) > first
