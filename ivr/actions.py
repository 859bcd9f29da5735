"""The voice menu's actions, door half: one registered class per action, with what the menu
data must give it (its spec) and the screen the caller hears once the core has run it.

The core half of each action (what it does) is registered under the same name in
``hotline.services`` (``voice_actions.register``); ``ivr.menu.validate`` reports an action
that lacks either half. To add an action: a ``VoiceAction`` subclass in the core, an
``ActionSpec`` subclass here, its prompts in ``audio.catalogue``, and an ``Act`` in the menu.
"""

from __future__ import annotations

from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from hotline.categories import Category
from hotline.services import calls, voice_member  # noqa: F401 (register the core halves)
from hotline.services.voice_actions import FAILED, StepResult
from ivr.flow import GOODBYE, ActRef, Dial, Gather, Record, Run, Said, Screen, then
from ivr.flow import Hangup as HangUp
from ivr.menu import (
    CASE_STATUSES,
    DIGIT_PROMPTS,
    NUMBER_PROMPTS,
    WEEKDAY_PROMPTS,
    Act,
    ActionSpec,
    Menu,
    case_status_prompt,
    digit_prompt_keys,
    group_pick_node,
    number_prompt_keys,
    register,
)


@register
class GiveConsent(ActionSpec):
    name = "consent"
    description = ("Store the answer to the consent question (the text of 'consent_ask' is "
                   "what was asked). answer: 'granted' or 'refused'. Granted: "
                   "'consent_thanks', then `then` (the question asked once, 'channel_offer': "
                   "by call or SMS), then where she was going; refused: 'consent_refused', "
                   "then `then`.")
    prompts = ("consent_thanks", "consent_refused")
    args = ("answer",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        act = run.act
        if result.granted:  # asked once how she is told (`then`), then on where she was going
            return Screen(("consent_thanks",), Gather(act.then, 0, resume), step + 1)
        return then(menu, ("consent_refused",), act.then, run.ref, step)


@register
class RecordComplaint(ActionSpec):
    name = "record_complaint"
    description = (
        "Play 'record_instructions', <Record> until '#', open a case in `category` with the "
        "recording, then say 'case_created', the case number digit by digit, "
        "'case_created_end'. An empty recording plays 'record_empty' and records again. "
        "voicemail=True when it follows an unanswered dial_duty."
    )
    prompts = ("record_instructions", "record_empty", "case_created", *DIGIT_PROMPTS,
               "case_created_end")
    args = ("category",)
    optional = ("voicemail", "emergency")
    input = "recording"
    input_arg = "recording_url"
    options = MappingProxyType({"finish_on_key": "#", "max_length": 180, "play_beep": True})

    def start(self, menu: Menu, prompts: tuple[str, ...], act: Act, ref: ActRef,
              step: int) -> Screen:
        return Screen(prompts + ("record_instructions",), self.record(ref), step + 1)

    def record(self, ref: ActRef, retries: int = 0) -> Record:
        return Record(ref, retries, max_length=int(self.options["max_length"]),
                      finish_on_key=str(self.options["finish_on_key"]),
                      play_beep=bool(self.options["play_beep"]))

    def recording(self, act: Act) -> dict[str, Any]:
        return {"category": int(act.args.get("category", Category.OTHER)),
                "voicemail": bool(act.args.get("voicemail", False)),
                "emergency": bool(act.args.get("emergency", False))}

    def recorded(self, menu: Menu, act: Act, ref: ActRef, kept: Any, step: int) -> Screen:
        if kept.case_number is None:
            return then(menu, (), act.then, ref, step)
        said = ("case_created", *digit_prompt_keys(kept.case_number), "case_created_end")
        return then(menu, said, act.then, ref, step)


@register
class RecordName(RecordComplaint):
    name = "record_name"
    description = ("Play 'name_record_instructions', <Record> her name until '#' (kept on her, "
                   "no case, for staff to type in), then 'name_recorded'. Nothing heard: "
                   "'record_empty' and record again.")
    prompts = ("name_record_instructions", "record_empty", "name_recorded")
    args = ()
    optional = ()
    options = MappingProxyType({"finish_on_key": "#", "max_length": 15, "play_beep": True})

    def start(self, menu: Menu, prompts: tuple[str, ...], act: Act, ref: ActRef,
              step: int) -> Screen:
        return Screen(prompts + ("name_record_instructions",), self.record(ref), step + 1)

    def recording(self, act: Act) -> dict[str, Any]:
        return {"name": True}

    def recorded(self, menu: Menu, act: Act, ref: ActRef, kept: Any, step: int) -> Screen:
        return then(menu, ("name_recorded",), act.then, ref, step)


@register
class CaseStatus(ActionSpec):
    name = "case_status"
    description = ("Look up the keyed case number (only the caller's own cases) and say its "
                   "status with case_status_prompt(status); unknown number: 'case_not_found', "
                   "then fallback.")
    prompts = (*(f"case_status_{s}" for s in CASE_STATUSES), "case_not_found")
    input = "digits"
    input_arg = "case_number"

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        if result.outcome != FAILED and result.case_status:
            said = (case_status_prompt(result.case_status),)
            return then(menu, said, run.act.then, run.ref, step)
        return then(menu, ("case_not_found",), run.act.fallback, run.ref, step)


@register
class Callback(ActionSpec):
    name = "callback"
    description = ("Queue a call back to the caller's number (an outbox row), optional topic "
                   "category; say 'callback_queued'.")
    prompts = ("callback_queued",)
    optional = ("category",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        return then(menu, ("callback_queued",), run.act.then, run.ref, step)


@register
class DialDuty(ActionSpec):
    name = "dial_duty"
    description = ("Say 'dial_duty_connecting' and <Dial> the peer educator on duty (for "
                   "category 3 only one trained for it). No answer: 'dial_duty_failed', then "
                   "fallback (voicemail).")
    prompts = ("dial_duty_connecting", "dial_duty_failed")
    optional = ("category",)
    options = MappingProxyType({"dial_timeout": 20})

    def said_first(self, result: StepResult) -> tuple[str, ...]:
        """What she hears before being connected (or told nobody answers)."""
        return ()

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        said = self.said_first(result)
        if result.outcome != FAILED and result.numbers:
            dial = Dial(run.ref, tuple(result.numbers), int(self.options["dial_timeout"]))
            return Screen(said + ("dial_duty_connecting",), dial, step + 1)
        return then(menu, said + ("dial_duty_failed",), run.act.fallback, run.ref, step)


@register
class Emergency(DialDuty):
    name = "emergency"
    description = (
        "Key 9, for anyone (no consent needed): open an emergency case for the caller (or "
        "join her open one) through the emergency path, say 'emergency_opened', the case "
        "number, 'emergency_numbers', then 'dial_duty_connecting' and <Dial> the trained "
        "responders on call and the coordinators. Nobody to dial, or no answer: "
        "'dial_duty_failed', then fallback (a recorded message on the same case)."
    )
    prompts = ("emergency_opened", *DIGIT_PROMPTS, "emergency_numbers", "dial_duty_connecting",
               "dial_duty_failed")
    optional = ()
    options = MappingProxyType({"dial_timeout": 25})

    def said_first(self, result: StepResult) -> tuple[str, ...]:
        # The numbers first, whatever else happens.
        if result.case_number:
            return ("emergency_opened", *digit_prompt_keys(result.case_number),
                    "emergency_numbers")
        return ("emergency_numbers",)


@register
class Hangup(ActionSpec):
    name = "hangup"
    description = "Say 'goodbye' and hang up."
    prompts = ("goodbye",)

    def start(self, menu: Menu, prompts: tuple[str, ...], act: Act, ref: ActRef,
              step: int) -> Screen:
        return Screen(prompts + GOODBYE, HangUp(), step + 1)


# --------------------------------------------------------------------------------------------
# The member's SMS commands by keypad (core half: hotline.services.voice_member)
# --------------------------------------------------------------------------------------------


def date_prompts(day: date) -> tuple[str, ...]:
    """ "ngày 7 tháng 12": a day and its month, each number said as a word."""
    return ("meeting_date", *number_prompt_keys(day.day), "meeting_month",
            *number_prompt_keys(day.month))


def meeting_prompts(at: datetime) -> tuple[str, ...]:
    """ "Buổi họp tới của nhóm chị vào thứ hai, ngày 7 tháng 12, lúc 9 giờ 30 phút"."""
    said = ["meeting_next", f"weekday_{at.weekday()}", *date_prompts(at),
            "meeting_at", *number_prompt_keys(at.hour), "meeting_hour"]
    if at.minute:
        said += [*number_prompt_keys(at.minute), "meeting_minute"]
    return tuple(said)


@register
class NextMeeting(ActionSpec):
    name = "next_meeting"
    description = ("HOP: say when her group meets next (day, date, time) and where (the "
                   "place as typed, with <Say>), then `then` (the RSVP question); no "
                   "meeting: 'meeting_none', then fallback.")
    prompts = ("meeting_next", *WEEKDAY_PROMPTS, "meeting_date", "meeting_month", "meeting_at",
               "meeting_hour", "meeting_minute", *DIGIT_PROMPTS, *NUMBER_PROMPTS,
               "meeting_place", "meeting_none")

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        if result.outcome == FAILED or result.meeting_at is None:
            return then(menu, ("meeting_none",), run.act.fallback, run.ref, step)
        said = meeting_prompts(result.meeting_at)
        if result.meeting_place:
            said += ("meeting_place", Said(result.meeting_place))
        return then(menu, said, run.act.then, run.ref, step)


@register
class Rsvp(ActionSpec):
    name = "rsvp"
    description = ("CO / KHONG for the next meeting (answer: 'yes' or 'no'), recorded on the "
                   "meeting as by SMS; no meeting any more: 'meeting_none', then fallback.")
    prompts = ("rsvp_yes_said", "rsvp_no_said", "meeting_none")
    args = ("answer",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        if result.outcome == FAILED:
            return then(menu, ("meeting_none",), run.act.fallback, run.ref, step)
        said = "rsvp_yes_said" if run.act.args.get("answer") == "yes" else "rsvp_no_said"
        return then(menu, (said,), run.act.then, run.ref, step)


@register
class OptOut(ActionSpec):
    name = "opt_out"
    description = "HUY: no more texts or calls from the line; say 'opted_out_said'."
    prompts = ("opted_out_said",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        return then(menu, ("opted_out_said",), run.act.then, run.ref, step)


@register
class EraseRequest(ActionSpec):
    name = "erase_request"
    description = ("XOA: a request to erase her data, in the staff's triage inbox; say "
                   "'erase_requested_said'.")
    prompts = ("erase_requested_said",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        return then(menu, ("erase_requested_said",), run.act.then, run.ref, step)


# --------------------------------------------------------------------------------------------
# Registering by keypad: her group, read as a short numbered list
# --------------------------------------------------------------------------------------------

GROUP_PRESS = tuple(f"group_press_{i}" for i in range(1, voice_member.MAX_GROUPS_READ + 1))


@register
class ListGroups(ActionSpec):
    name = "list_groups"
    description = ("Read a page of the groups she may join (her ward's, four at a time; "
                   "`page`, 0 the first): 'group_list_intro' (a later page: "
                   "'group_list_next'; past the last: 'group_list_from_start' and the first "
                   "page), then each group's name (<Say>) and 'group_press_<n>', "
                   "'group_list_more' when another page follows; then the node of the page "
                   "read (``group_pick_node``), which takes the number. No group: "
                   "'group_none', then fallback.")
    prompts = ("group_list_intro", "group_list_next", "group_list_from_start", *GROUP_PRESS,
               "group_list_more", "group_none")
    optional = ("page",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        if result.outcome == FAILED or not result.group_names:
            return then(menu, ("group_none",), run.act.fallback, run.ref, step)
        page = result.group_page
        if page != run.act.args.get("page", 0):
            said: tuple = ("group_list_from_start", "group_list_intro")
        else:
            said = ("group_list_intro",) if page == 0 else ("group_list_next",)
        for press, group_name in zip(GROUP_PRESS, result.group_names, strict=False):
            said += (Said(group_name), press)
        if result.more_groups:
            said += ("group_list_more",)
        return then(menu, said, group_pick_node(page), run.ref, step)


@register
class JoinGroup(ActionSpec):
    name = "join_group"
    description = ("Join the group at `position` of the list 'list_groups' read (leaving her "
                   "old group, as DK with a code does); say 'group_joined' and its name. A "
                   "number not on the list: 'group_not_listed', then fallback.")
    prompts = ("group_joined", "group_not_listed")
    args = ("position",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        if result.outcome == FAILED or not result.group_names:
            return then(menu, ("group_not_listed",), run.act.fallback, run.ref, step)
        return then(menu, ("group_joined", Said(result.group_names[0])), run.act.then,
                    run.ref, step)


CHANNEL_SAID = {"voice": "channel_voice_said", "sms": "channel_sms_said",
                "both": "channel_both_said"}


@register
class ChooseChannel(ActionSpec):
    name = "notify_channel"
    description = ("NGHE / TIN / CAHAI: how she is told (channel: 'sms', 'voice' or 'both'), "
                   "kept in the consent log as by SMS; say what was chosen.")
    prompts = tuple(CHANNEL_SAID.values())
    args = ("channel",)

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        said = CHANNEL_SAID[run.act.args["channel"]]
        # Asked right after consent: on to where she was going before it.
        return then(menu, (said,), resume or run.act.then, run.ref, step)
