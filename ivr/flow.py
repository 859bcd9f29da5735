"""Walking the menu data: what a keypress means, and what the caller hears next.

Pure functions of the menu and the request (no database, no Flask): the views turn a keypress
into a ``Move``, hand a ``Run`` move's action to one service, and turn the service's answer into
a ``Screen`` that ``ivr.twiml`` renders. A screen is the prompts to play, then what follows:
gather a node, record, dial, or hang up.

Step numbers: a request for step ``n`` answers with URLs for step ``n + 1``; a Gather's action
and the Redirect after it (silence) share that number because only one of them is followed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.categories import Category
from hotline.services.voice_actions import NEEDS_CONSENT, NO_PERSON, ActionRequest, StepResult
from ivr.menu import Act, Menu, Target, choose, digit_prompt_keys

GOODBYE = ("goodbye",)


@dataclass(frozen=True)
class Said:
    """Words from the data (a meeting's place, a group's name), spoken with <Say> in
    Vietnamese among a screen's prompt keys: no recording can exist for them."""

    text: str


Prompt = str | Said


# --------------------------------------------------------------------------------------------
# What follows the prompts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActRef:
    """Where an action sits in the menu: the choice ``key`` of ``node``, followed through
    ``fallback`` hops. Carried in URLs so later requests (record, dial) find their action."""

    node: str
    key: str
    fallback: int = 0

    def params(self) -> dict[str, str | int]:
        return {"node": self.node, "key": self.key, "fb": self.fallback}

    def resolve(self, menu: Menu) -> Act | None:
        if self.node not in menu.nodes:
            return None
        target: Target | None = choose(menu, self.node, self.key)
        for _ in range(self.fallback):
            target = target.fallback if isinstance(target, Act) else None
        return target if isinstance(target, Act) else None

    def fall_back(self) -> ActRef:
        return ActRef(self.node, self.key, self.fallback + 1)


@dataclass(frozen=True)
class Gather:
    node: str
    retries: int = 0
    resume: str | None = None  # after consent given, go here instead of the consent's "then"


@dataclass(frozen=True)
class Record:
    ref: ActRef
    retries: int = 0
    max_length: int = 180  # seconds
    finish_on_key: str = "#"
    play_beep: bool = True


@dataclass(frozen=True)
class Dial:
    ref: ActRef
    numbers: tuple[str, ...]
    timeout: int


@dataclass(frozen=True)
class Hangup:
    pass


Next = Gather | Record | Dial | Hangup


@dataclass(frozen=True)
class Screen:
    prompts: tuple[Prompt, ...]  # catalogue keys, and data read out (``Said``)
    next: Next
    step: int = 0  # the step number the next request carries


# --------------------------------------------------------------------------------------------
# Keypresses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """No input or a wrong key: say why, play the node again (or end after the last try)."""

    prompt: str


@dataclass(frozen=True)
class GoTo:
    node: str


@dataclass(frozen=True)
class Run:
    act: Act
    ref: ActRef


Move = Replay | GoTo | Run


def press(menu: Menu, node: str, digits: str | None) -> Move:
    """What ``digits`` (None: silence) mean on ``node``."""
    if not digits:
        return Replay("no_input")
    target = choose(menu, node, digits)
    if target is None:
        return Replay("invalid_key")
    if isinstance(target, Act):
        return Run(target, ActRef(node, digits))
    return GoTo(target)


def action_request(menu: Menu, act: Act, value: str | None = None) -> ActionRequest:
    """The service's view of ``act``: its name, fixed arguments and keyed input."""
    spec = menu.actions[act.name]
    return ActionRequest(act.name, dict(act.args), value if spec.input == "digits" else None)


@dataclass(frozen=True)
class Answer:
    """An answer to a menu's <Gather> as the request carried it, and what it means: ``move``
    is None for a node the menu no longer has; ``action`` is set for a move that runs one."""

    node: str  # as stored: "?" when the request named none
    digits: str | None
    step: int
    retries: int
    resume: str | None  # a node of the menu, or None
    move: Move | None
    action: ActionRequest | None


def answer(menu: Menu, node: str, digits: str | None, step: int, retries: int,
           resume: str) -> Answer:
    """What the caller's keypress (None: silence) on ``node`` means."""
    move = press(menu, node, digits) if node in menu.nodes else None
    action = action_request(menu, move.act, digits) if isinstance(move, Run) else None
    return Answer(node or "?", digits, step, retries, resume if resume in menu.nodes else None,
                  move, action)


# --------------------------------------------------------------------------------------------
# Screens
# --------------------------------------------------------------------------------------------


def entry(menu: Menu, consent_first: bool, step: int) -> Screen:
    """A call starts: welcome, then the consent question or the main menu."""
    return Screen(("welcome",), Gather(menu.first_call if consent_first else menu.root), step + 1)


def unknown_node(menu: Menu, step: int) -> Screen:
    """A URL naming a node the menu no longer has (a deploy during a call): start over."""
    return Screen(("invalid_key",), Gather(menu.root), step + 1)


def after_move(menu: Menu, node: str, move: Move, retries: int, resume: str | None,
               step: int) -> Screen | None:
    """The screen for a Replay or GoTo; None for Run (it needs the service's answer)."""
    if isinstance(move, Replay):
        go_on = menu.nodes[node].go_on
        if go_on is not None and (move.prompt == "no_input"
                                  or retries >= menu.nodes[node].max_retries):
            return Screen((), Gather(resume or go_on), step + 1)
        if retries >= menu.nodes[node].max_retries:
            return Screen(GOODBYE, Hangup(), step + 1)
        return Screen((move.prompt,), Gather(node, retries + 1, resume), step + 1)
    if isinstance(move, GoTo):
        # '*' on the consent question keeps where the caller was going.
        return Screen((), Gather(move.node, 0, resume if move.node == node else None), step + 1)
    return None


def after_answer(menu: Menu, answer: Answer, result: StepResult | None) -> Screen:
    """What the caller hears after ``answer`` (``result``: what its action did)."""
    move, step = answer.move, answer.step
    if move is None:
        return unknown_node(menu, step)
    if isinstance(move, Run):
        return after_action(menu, move, result, answer.resume, step)
    return after_move(menu, answer.node, move, answer.retries, answer.resume, step)


def after_action(menu: Menu, run: Run, result: StepResult, resume: str | None,
                 step: int) -> Screen:
    """What the caller hears once the service ran ``run.act`` (the action's own screen,
    unless she must first answer the consent question)."""
    act, here = run.act, run.ref.node
    if result.outcome == NEEDS_CONSENT:
        return Screen((), Gather(menu.first_call, 0, here), step + 1)
    if result.outcome == NO_PERSON:
        return Screen(("consent_refused",), Gather(here), step + 1)
    return menu.actions[act.name].screen(menu, run, result, resume, step)


def after_dial(menu: Menu, ref: ActRef, answered: bool, step: int) -> Screen:
    """The duty call ended: goodbye when someone talked with the caller, else the fallback
    (voicemail)."""
    act = ref.resolve(menu)
    if answered or act is None:
        return Screen(GOODBYE, Hangup(), step + 1)
    return then(menu, ("dial_duty_failed",), act.fallback, ref, step)


def after_recording(menu: Menu, ref: ActRef, kept, retries: int, step: int) -> Screen:
    """The caller stopped speaking: what the recording action says of what was kept (a
    ``calls.Kept``; the case number digit by digit), or record again when nothing was."""
    act = ref.resolve(menu)
    if kept is None:
        if act is None or retries >= menu.nodes[ref.node].max_retries:
            return Screen(GOODBYE, Hangup(), step + 1)
        return Screen(("record_empty",), menu.actions[act.name].record(ref, retries + 1),
                      step + 1)
    if act is None:  # the menu changed during the call: the number, then the main menu
        said = ("case_created", *digit_prompt_keys(kept.case_number), "case_created_end")
        return then(menu, said if kept.case_number else (), menu.root, ref, step)
    return menu.actions[act.name].recorded(menu, act, ref, kept, step)


def then(menu: Menu, prompts: tuple[str, ...], target: Target | None, ref: ActRef,
         step: int) -> Screen:
    """``prompts``, then ``target``: a node, a follow-up action, or (None) goodbye."""
    if target is None:
        return Screen(prompts + GOODBYE, Hangup(), step + 1)
    if isinstance(target, Act):
        return _start(menu, prompts, target, ref.fall_back(), step)
    return Screen(prompts, Gather(target), step + 1)


def _start(menu: Menu, prompts: tuple[str, ...], act: Act, ref: ActRef, step: int) -> Screen:
    """Start an action that needs no service call up front (recording, hanging up)."""
    return menu.actions[act.name].start(menu, prompts, act, ref, step)


def recording_args(menu: Menu, ref: ActRef) -> dict:
    """Category, voicemail and emergency flags (or the name flag) of the recording action at
    ``ref``; an
    unknown reference (the menu changed during the call) still keeps the complaint, as
    "other"."""
    act = ref.resolve(menu)
    args = menu.actions[act.name].recording(act) if act is not None else None
    return args or {"category": Category.OTHER, "voicemail": False, "emergency": False}
