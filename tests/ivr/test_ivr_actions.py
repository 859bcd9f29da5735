"""One registered class per IVR action: the door half (ivr.actions) and the core half
(hotline.services.voice_actions) under the same name, checked by the menu validator."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from audio.catalogue import CATALOGUE
from hotline.services import voice_actions
from ivr import flow
from ivr.menu import ACTIONS, MENU, Act, ActionSpec, register, validate


def test_every_action_has_its_door_half_and_its_core_half():
    assert set(ACTIONS) == set(voice_actions.ACTIONS)
    for name, spec in ACTIONS.items():
        assert spec.name == name == voice_actions.ACTIONS[name].name


def test_consent_need_is_the_core_halfs():
    for name, spec in ACTIONS.items():
        assert spec.needs_consent is voice_actions.ACTIONS[name].needs_consent


def test_an_action_without_a_core_half_is_reported():
    class Lonely(ActionSpec):
        name = "lonely_action"
        prompts = ("goodbye",)

    actions = {**MENU.actions, "lonely_action": Lonely()}
    nodes = dict(MENU.nodes)
    nodes["main"] = dataclasses.replace(
        nodes["main"], choices={**nodes["main"].choices, "7": Act("lonely_action")})
    menu = dataclasses.replace(MENU, nodes=MappingProxyType(nodes),
                               actions=MappingProxyType(actions))
    assert "action 'lonely_action': no core half in hotline.services" in validate(menu,
                                                                                 CATALOGUE)


def test_a_name_registers_once_on_each_side():
    with pytest.raises(ValueError, match="registered twice"):
        register(type("Again", (ActionSpec,), {"name": "callback"}))
    with pytest.raises(ValueError, match="registered twice"):
        voice_actions.register(type("Again", (voice_actions.VoiceAction,), {"name": "callback"}))
    with pytest.raises(ValueError, match="unknown IVR action"):
        voice_actions.get("fly_away")


def test_recording_arguments_come_from_the_recording_action():
    safety_voicemail = flow.ActRef("report_safety", "1").fall_back()
    assert flow.recording_args(MENU, safety_voicemail) == {
        "category": 3, "voicemail": True, "emergency": False}
    # Not a recording action, or a reference the menu no longer has: kept, as "other".
    other = {"category": 12, "voicemail": False, "emergency": False}
    assert flow.recording_args(MENU, flow.ActRef("report_safety", "1")) == other
    assert flow.recording_args(MENU, flow.ActRef("gone", "1")) == other


def test_only_actions_whose_work_comes_later_can_follow_another():
    ref = flow.ActRef("main", "4")
    with pytest.raises(ValueError, match="cannot follow"):
        ACTIONS["callback"].start(MENU, (), Act("callback"), ref, 1)
    screen = ACTIONS["hangup"].start(MENU, ("consent_refused",), Act("hangup"), ref, 1)
    assert screen.prompts == ("consent_refused", "goodbye")
    assert isinstance(screen.next, flow.Hangup)
