"""The voice menu as data.

A ``Menu`` is a set of ``Node``s (what the caller hears and which keys lead where) and a table of
``ActionSpec``s (the things a keypress can make the line do). No Flask, no database: the IVR
blueprint walks this data, calls one service per action and renders TwiML.

How a node is played: its ``prompts`` in order (keys into ``audio.catalogue.CATALOGUE``), inside
one <Gather numDigits=gather_digits finishOnKey=finish_on_key timeout=timeout>. Then ``choose()``
maps what was pressed to a ``Target``:

- a node key (str): play that node;
- an ``Act``: run the action named ``Act.name`` with ``Act.args`` (+ the caller's input for
  actions with ``ActionSpec.input``), play its prompts, then go to ``Act.then`` (a node key;
  None = play "goodbye" and hang up) or, when the action fails (case not found, nobody on duty
  answers), to ``Act.fallback``;
- None: an invalid key: play "invalid_key" and the node again. No input: play "no_input" and the
  node again. After ``max_retries`` replays: "goodbye" and hang up.

On every menu node ``*`` (``repeat_key``) plays the node again and ``0`` (``back_key``) goes to
``parent``. Number entry nodes (``gather_digits`` > 1) use ``*`` to go back instead, because 0 is a
digit there: a number entry either hands the number to ``on_digits`` (a case number) or looks
it up in ``choices`` (a complaint number, 1..12, the same as after KN by SMS).

A call starts with the "welcome" prompt, then ``Menu.first_call`` (consent) for a caller without a
recorded answer to the consent question, else ``Menu.root``. An action with ``needs_consent``
sends a caller who has not agreed to the consent node first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from hotline.categories import Category
from hotline.services import voice_actions, voice_notices
from hotline.services.voice_member import GROUP_PAGES, MAX_GROUPS_READ

if TYPE_CHECKING:
    from hotline.services.voice_actions import StepResult
    from ivr.flow import ActRef, Run, Screen

# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A choice that runs an action. ``args`` are fixed in the menu data (e.g. the category)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    then: str | None = "main"
    fallback: Target | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))


Target = str | Act


@dataclass(frozen=True)
class Node:
    key: str
    prompts: tuple[str, ...]
    choices: Mapping[str, Target] = field(default_factory=dict)
    parent: str | None = None  # where back_key leads; None: the key does nothing special
    repeat_key: str | None = "*"
    back_key: str | None = "0"
    gather_digits: int = 1  # 1 = a menu choice; more = number entry (e.g. a case number)
    finish_on_key: str | None = None  # '#' ends number entry
    on_digits: Act | None = None  # number entry: the action that receives the keyed digits
    timeout: int = 6  # seconds of silence before "no_input"
    max_retries: int = 2  # replays after invalid or no input, then goodbye
    # A question asked once, in passing: silence (or a wrong key after the last replay)
    # goes on to this node (or where the call was going) instead of asking again or
    # saying goodbye.
    go_on: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    @property
    def prompt(self) -> str:
        return self.prompts[0]


class ActionSpec:
    """One action a keypress can make the line do, door half: what the menu data must give it
    and what the caller hears. One subclass per action in ``ivr.actions``, registered with
    ``@register`` under the name its core half (``hotline.services.voice_actions``) has.

    ``args``: required fixed arguments in the menu data; ``optional``: allowed fixed arguments;
    ``input``: what the caller supplies at run time ("digits" for a keyed number, "recording"
    for a recorded message), passed as ``input_arg``; ``options``: how its TwiML is set.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    prompts: ClassVar[tuple[str, ...]] = ()
    args: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    input: ClassVar[str | None] = None
    input_arg: ClassVar[str | None] = None
    options: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    @property
    def needs_consent(self) -> bool:
        """The core decides: an action that stores something about her needs her consent."""
        return voice_actions.get(self.name).needs_consent

    def screen(self, menu: Menu, run: Run, result: StepResult, resume: str | None,
               step: int) -> Screen:
        """What the caller hears once the core ran the action."""
        return self.start(menu, (), run.act, run.ref, step)

    def start(self, menu: Menu, prompts: tuple[str, ...], act: Act, ref: ActRef,
              step: int) -> Screen:
        """Start the action without a core call first (after ``prompts``, e.g. as the
        fallback of another action): only actions whose work comes later can."""
        raise ValueError(f"action {self.name!r} cannot follow another action")

    def recording(self, act: Act) -> dict[str, Any] | None:
        """For an action that records: how the recording's case is opened."""
        return None

    def recorded(self, menu: Menu, act: Act, ref: ActRef, kept: Any, step: int) -> Screen:
        """For an action that records: what she hears once it was kept (a ``calls.Kept``)."""
        raise ValueError(f"action {self.name!r} does not record")


ACTIONS: dict[str, ActionSpec] = {}
register = voice_actions.registrar(ACTIONS, "IVR action")


@dataclass(frozen=True)
class Menu:
    root: str
    first_call: str
    nodes: Mapping[str, Node]
    actions: Mapping[str, ActionSpec]
    global_prompts: tuple[str, ...]

    def node(self, key: str) -> Node:
        return self.nodes[key]

    @property
    def entries(self) -> tuple[str, ...]:
        return (self.first_call, self.root)


# --------------------------------------------------------------------------------------------
# Constants shared with the IVR and the services
# --------------------------------------------------------------------------------------------

CATEGORIES = frozenset(Category)  # DOMAIN.md case categories
DIGIT_PROMPTS = tuple(f"digit_{d}" for d in range(10))
CASE_STATUSES = ("new", "acknowledged", "in_progress", "referred", "resolved", "closed")
# Model statuses that are told as one of the above.
_STATUS_ALIASES = {
    "closed_unresolved": "closed",
    "lost_contact": "closed",
    "reopened": "in_progress",
}
KEYS = frozenset("0123456789*#")
# What an emergency alert call to a responder says (``ivr.twiml.render_alert``).
ALERT_PROMPTS = ("alert_intro", "alert_press_one", "alert_accepted", "alert_taken")
# What the voice notice calls we place say (``ivr.notice``), every kind's fixed prompts.
NOTICE_PROMPTS = tuple(sorted(voice_notices.prompt_keys()))
_KEY_RE = re.compile(r"^[a-z0-9_]+$")


def case_status_prompt(status: str) -> str:
    """Prompt key telling a case status; unknown statuses are told as "in progress"."""
    status = _STATUS_ALIASES.get(status, status)
    if status not in CASE_STATUSES:
        status = "in_progress"
    return f"case_status_{status}"


def number_prompt_keys(n: int) -> list[str]:
    """A small number said as one word (day, month, hour, minute): 7 -> ["digit_7"],
    25 -> ["number_25"]."""
    return [f"digit_{n}"] if n < 10 else [f"number_{n}"]


NUMBER_PROMPTS = tuple(f"number_{n}" for n in range(10, 60))
WEEKDAY_PROMPTS = tuple(f"weekday_{d}" for d in range(7))  # Monday first, as datetime counts
# A choice read out: "bấm một", "bấm phím chín", "bấm một, hai" (12). Repeat (*), back or
# more (0) and the '#' that ends a number are the closing line, not choices.
_READ_CHOICE = re.compile(r"bấm (?:phím )?(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín)\b")
MAX_READ_CHOICES = 4


def read_choices(node: Node, catalogue: Mapping[str, str]) -> int:
    """How many choices the caller hears read on ``node``."""
    return sum(len(_READ_CHOICE.findall(catalogue.get(p, ""))) for p in node.prompts)


def digit_prompt_keys(number: str | int) -> list[str]:
    """Case number 1203 -> ["digit_1", "digit_2", "digit_0", "digit_3"], read one by one."""
    return [f"digit_{c}" for c in str(number) if c.isdigit()]


# --------------------------------------------------------------------------------------------
# Acts the menu uses often (the actions themselves: ``ivr.actions``)
# --------------------------------------------------------------------------------------------


def record(category: int) -> Act:
    return Act("record_complaint", {"category": category})


def voicemail(category: int) -> Act:
    return Act("record_complaint", {"category": category, "voicemail": True})


def dial_duty(category: int = Category.OTHER) -> Act:
    return Act("dial_duty", {"category": category}, fallback=voicemail(category))


# Danger, from the main menu and the safety menu alike; a message left when nobody answers
# goes on the same emergency case.
EMERGENCY = Act("emergency", fallback=Act(
    "record_complaint", {"category": Category.OTHER, "voicemail": True, "emergency": True}))


# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------


def _info(key: str, *prompts: str, category: int, parent: str = "info") -> Node:
    """An information leaf: the text, then repeat / callback on this topic / back."""
    return Node(
        key,
        (*prompts, "info_end"),
        {"4": Act("callback", {"category": category}, then=None)},
        parent=parent,
    )


# The complaint numbers: DOMAIN.md's categories, one list for SMS and voice. A member keys
# the same number she would text after KN (HD tells them): on any report page, the number and
# '#' (or a pause). The pages read four at a time in the list's order; 0 reads the next page.
REPORT_PAGE_SIZE = 4
REPORT_PAGES: tuple[tuple[Category, ...], ...] = tuple(
    tuple(list(Category)[i:i + REPORT_PAGE_SIZE])
    for i in range(0, len(Category), REPORT_PAGE_SIZE)
)
REPORT_NODES = tuple("report" if i == 0 else f"report_{i + 1}" for i in range(len(REPORT_PAGES)))


def category_prompt(category: int) -> str:
    """The prompt that reads one complaint number: "Tạm trú, bấm bảy"."""
    return f"category_{int(category)}"


def _report_target(category: Category) -> Target:
    # Violence is told as "not safe" and leads to the safety choices first.
    return "report_safety" if category == Category.VIOLENCE else record(category)


def _report_pages() -> list[Node]:
    choices = {str(int(c)): _report_target(c) for c in Category}
    nodes = []
    for i, page in enumerate(REPORT_PAGES):
        last = i == len(REPORT_PAGES) - 1
        intro = ("report_menu",) if i == 0 else ()
        nodes.append(Node(
            REPORT_NODES[i],
            (*intro, *(category_prompt(c) for c in page),
             "report_again" if last else "report_more"),
            {**choices, "0": REPORT_NODES[0] if last else REPORT_NODES[i + 1]},
            parent="main", repeat_key=None, back_key="*",
            gather_digits=len(str(max(Category))), finish_on_key="#",
        ))
    return nodes


# Her ward's groups, read four at a time by ``list_groups``: one node per page takes the
# number of a group read ('*' reads the page again, '#' the next four, from the first page
# again after the last; 0 goes back).
GROUP_PICK_NODES = tuple("group_pick" if i == 0 else f"group_pick_{i + 1}"
                         for i in range(GROUP_PAGES))
MORE_GROUPS_KEY = "#"


def group_pick_node(page: int) -> str:
    """The node that takes the number of a group read on ``page``."""
    return GROUP_PICK_NODES[page if 0 <= page < len(GROUP_PICK_NODES) else 0]


def list_groups(page: int) -> Act:
    return Act("list_groups", {"page": page}, then=group_pick_node(page), fallback="profile")


def _group_pages() -> list[Node]:
    return [
        Node(
            key,
            ("group_pick_ask",),
            {
                **{str(n): Act("join_group", {"position": page * MAX_GROUPS_READ + n},
                               then="profile", fallback="profile")
                   for n in range(1, MAX_GROUPS_READ + 1)},
                "*": list_groups(page),
                MORE_GROUPS_KEY: list_groups(page + 1),  # past the last: the first again
            },
            parent="profile",
            repeat_key=None,
        )
        for page, key in enumerate(GROUP_PICK_NODES)
    ]


_NODES = [
    Node(
        "consent",
        ("consent_ask",),
        {
            # Agreed: she is registered (her name and group: "mine", then 4), and asked
            # once how she is told (``channel_offer``).
            "1": Act("consent", {"answer": "granted"}, then="channel_offer"),
            "2": Act("consent", {"answer": "refused"}, then="main"),
        },
        back_key=None,
    ),
    # Right after she agreed by keypad, once: told by calls (1) or by SMS (2); no key keeps
    # SMS and goes on to where she was going (the main menu).
    Node(
        "channel_offer",
        ("channel_offer_ask",),
        {
            "1": Act("notify_channel", {"channel": "voice"}, then="main"),
            "2": Act("notify_channel", {"channel": "sms"}, then="main"),
            "9": EMERGENCY,  # not read here, but danger is never a wrong key
        },
        back_key=None,
        max_retries=1,
        go_on="main",
    ),
    # At most four choices read at once (``read_choices``); key 9, danger, is read first.
    # 4 and 5 stay as the shortcuts they were (callback, the person on duty), not read.
    Node(
        "main",
        ("main_menu",),
        {
            "1": "info",
            "2": "report",
            "3": "more",
            "4": Act("callback", then=None),
            "5": dial_duty(),
            "9": EMERGENCY,
        },
        parent=None,
        back_key=None,
    ),
    # 3 Her case, a call back, the person on duty, her group and her data
    Node(
        "more",
        ("more_menu",),
        {
            "1": "case_lookup",
            "2": Act("callback", then=None),
            "3": dial_duty(),
            "4": "mine",
        },
        parent="main",
    ),
    Node(
        "mine",
        ("mine_menu",),
        {
            "1": Act("next_meeting", then="meeting_rsvp", fallback="mine"),
            "2": "opt_out_confirm",
            "3": "erase_confirm",
            "4": "profile",
        },
        parent="more",
    ),
    # Registering by keypad, under "mine": her name, her group, how she is told.
    Node(
        "profile",
        ("profile_menu",),
        {
            "1": Act("record_name", then="profile"),
            "2": list_groups(0),
            "3": "channel_pick",
            "9": EMERGENCY,
        },
        parent="main",
    ),
    # How she is told (notices): by a call she listens to, by SMS, or both.
    Node(
        "channel_pick",
        ("channel_ask",),
        {
            "1": Act("notify_channel", {"channel": "voice"}, then="profile"),
            "2": Act("notify_channel", {"channel": "sms"}, then="profile"),
            "3": Act("notify_channel", {"channel": "both"}, then="profile"),
        },
        parent="profile",
    ),
    # A page of groups was just read with a number each.
    *_group_pages(),
    Node(
        "meeting_rsvp",
        ("meeting_rsvp_ask",),
        {
            "1": Act("rsvp", {"answer": "yes"}, then="main", fallback="mine"),
            "2": Act("rsvp", {"answer": "no"}, then="main", fallback="mine"),
        },
        parent="mine",
    ),
    Node("opt_out_confirm", ("opt_out_ask",), {"1": Act("opt_out", then=None)}, parent="mine"),
    Node("erase_confirm", ("erase_ask",), {"1": Act("erase_request", then=None)},
         parent="mine"),
    # 1 Information, four topics a page
    Node(
        "info",
        ("info_menu",),
        {"1": "info_bhyt", "2": "info_bhxh", "3": "info_tam_tru", "4": "info_more"},
        parent="main",
    ),
    Node(
        "info_more",
        ("info_more_menu",),
        {"1": "info_legal_aid", "2": "info_goods_seized", "3": "info_gender", "4": "info_safety"},
        parent="info",
    ),
    _info("info_bhyt", "info_bhyt", category=5),
    _info("info_bhxh", "info_bhxh", "info_bhxh_support", category=6),
    _info("info_tam_tru", "info_tam_tru", category=7),
    _info("info_legal_aid", "info_legal_aid", category=10, parent="info_more"),
    _info("info_goods_seized", "info_goods_seized", "info_goods_seized_next", category=1,
          parent="info_more"),
    _info("info_gender", "info_gender", category=12, parent="info_more"),
    _info("info_safety", "info_safety", category=3, parent="info_more"),
    # 2 Report a problem: the complaint numbers, four read at a time (report pages below).
    *_report_pages(),
    Node(
        "report_safety",
        ("report_safety",),
        {"1": dial_duty(Category.VIOLENCE), "2": record(Category.VIOLENCE), "9": EMERGENCY},
        parent="report",
    ),
    # 3 My case: key the number, then '#'.
    Node(
        "case_lookup",
        ("case_enter_number",),
        parent="main",
        repeat_key=None,
        back_key="*",
        gather_digits=10,
        finish_on_key="#",
        on_digits=Act("case_status", then="main", fallback="case_lookup"),
        timeout=10,
    ),
]

MENU = Menu(
    root="main",
    first_call="consent",
    nodes=MappingProxyType({n.key: n for n in _NODES}),
    actions=MappingProxyType(ACTIONS),
    global_prompts=("welcome", "invalid_key", "no_input", "goodbye", *ALERT_PROMPTS,
                    *NOTICE_PROMPTS),
)


# --------------------------------------------------------------------------------------------
# Walking the menu
# --------------------------------------------------------------------------------------------


def choose(menu: Menu, node_key: str, pressed: str) -> Target | None:
    """Where ``pressed`` leads from node ``node_key``; None for an invalid key.

    For a number entry node, ``pressed`` is the whole entry (without the finish key): the
    back key alone goes back, anything else (digits) goes to ``on_digits``.
    """
    node = menu.nodes[node_key]
    if node.back_key is not None and pressed == node.back_key:
        return node.parent if node.parent is not None else node.key
    if node.repeat_key is not None and pressed == node.repeat_key:
        return node.key
    if node.on_digits is not None:
        return node.on_digits if pressed.isdigit() else None
    return node.choices.get(pressed)


def _act_targets(act: Act) -> Iterable[Target]:
    if act.then is not None:
        yield act.then
    if act.fallback is not None:
        yield act.fallback


def _node_targets(node: Node) -> Iterable[Target]:
    yield from node.choices.values()
    if node.on_digits is not None:
        yield node.on_digits
    if node.parent is not None and node.back_key is not None:
        yield node.parent
    if node.go_on is not None:
        yield node.go_on


def _walk(menu: Menu) -> tuple[set[str], set[str]]:
    """Node keys and action names reachable from the entries."""
    nodes: set[str] = set()
    actions: set[str] = set()
    todo: list[Target] = list(menu.entries)
    while todo:
        target = todo.pop()
        if isinstance(target, Act):
            actions.add(target.name)
            todo.extend(_act_targets(target))
        elif target in menu.nodes and target not in nodes:
            nodes.add(target)
            todo.extend(_node_targets(menu.nodes[target]))
    return nodes, actions


def reachable_prompt_keys(menu: Menu | None = None) -> set[str]:
    """Every prompt key a caller can hear: nodes and actions reachable from the entries, the
    global prompts and the digits read back."""
    menu = MENU if menu is None else menu
    nodes, actions = _walk(menu)
    keys = set(menu.global_prompts)
    for key in nodes:
        keys.update(menu.nodes[key].prompts)
    for name in actions:
        if name in menu.actions:
            keys.update(menu.actions[name].prompts)
    return keys


def _check_act(menu: Menu, act: Act, where: str) -> list[str]:
    errors: list[str] = []
    spec = menu.actions.get(act.name)
    if spec is None:
        return [f"{where}: unknown action {act.name!r}"]
    for arg in spec.args:
        if arg not in act.args:
            errors.append(f"{where}: action {act.name!r} needs argument {arg!r}")
    for arg in act.args:
        if arg not in spec.args and arg not in spec.optional:
            errors.append(f"{where}: action {act.name!r} takes no argument {arg!r}")
    if "category" in act.args and act.args["category"] not in CATEGORIES:
        errors.append(f"{where}: category {act.args['category']!r} is not "
                      f"{min(CATEGORIES):d}..{max(CATEGORIES):d}")
    if act.then is not None and act.then not in menu.nodes:
        errors.append(f"{where}: then {act.then!r} is not a node")
    if isinstance(act.fallback, Act):
        errors += _check_act(menu, act.fallback, f"{where} fallback")
    elif act.fallback is not None and act.fallback not in menu.nodes:
        errors.append(f"{where}: fallback {act.fallback!r} is not a node")
    return errors


def validate(menu: Menu, catalogue: Mapping[str, str]) -> list[str]:
    """Everything wrong with ``menu`` against ``catalogue``; empty when all is well."""
    errors: list[str] = []
    for entry in menu.entries:
        if entry not in menu.nodes:
            errors.append(f"entry {entry!r} is not a node")
    for key, node in menu.nodes.items():
        where = f"node {key!r}"
        if node.key != key:
            errors.append(f"{where}: has key {node.key!r}")
        if not _KEY_RE.match(key):
            errors.append(f"{where}: key must be lower case letters, digits, underscores")
        if not node.prompts:
            errors.append(f"{where}: no prompt")
        if read_choices(node, catalogue) > MAX_READ_CHOICES:
            errors.append(f"{where}: reads {read_choices(node, catalogue)} choices at once, "
                          f"at most {MAX_READ_CHOICES}")
        for prompt in node.prompts:
            if prompt not in catalogue:
                errors.append(f"{where}: prompt {prompt!r} missing from the catalogue")
        digits = [k for k in node.choices if k.isdigit()]
        if node.gather_digits == 1 and len(digits) > 9:
            errors.append(f"{where}: {len(digits)} choices, at most 9")
        for pressed, target in node.choices.items():
            if node.gather_digits > 1:  # keyed numbers: 1..12 on a report page
                if not (pressed.isascii() and pressed.isdigit()
                        and len(pressed) <= node.gather_digits):
                    errors.append(f"{where}: choice key {pressed!r} is not a number of at "
                                  f"most {node.gather_digits} digits")
            elif len(pressed) != 1 or pressed not in KEYS:
                errors.append(f"{where}: choice key {pressed!r} is not one phone key")
            if pressed in (node.repeat_key, node.back_key):
                errors.append(f"{where}: choice {pressed!r} hides repeat/back")
            if isinstance(target, Act):
                errors += _check_act(menu, target, f"{where} choice {pressed!r}")
            elif target not in menu.nodes:
                errors.append(f"{where} choice {pressed!r}: target {target!r} does not exist")
        if node.parent is not None and node.parent not in menu.nodes:
            errors.append(f"{where}: parent {node.parent!r} does not exist")
        if node.go_on is not None and node.go_on not in menu.nodes:
            errors.append(f"{where}: go_on {node.go_on!r} does not exist")
        if node.gather_digits > 1:
            if node.on_digits is None and not node.choices:
                errors.append(f"{where}: number entry without on_digits or choices")
            elif node.on_digits is not None and menu.actions.get(node.on_digits.name) and (
                menu.actions[node.on_digits.name].input != "digits"
            ):
                errors.append(f"{where}: action {node.on_digits.name!r} takes no digits")
            if node.choices and node.on_digits is not None:
                errors.append(f"{where}: number entry with both choices and on_digits")
        if node.on_digits is not None:
            errors += _check_act(menu, node.on_digits, f"{where} on_digits")
    for name, spec in menu.actions.items():
        if name not in voice_actions.ACTIONS:
            errors.append(f"action {name!r}: no core half in hotline.services")
        for prompt in spec.prompts:
            if prompt not in catalogue:
                errors.append(f"action {name!r}: prompt {prompt!r} missing from the catalogue")
    for prompt in menu.global_prompts:
        if prompt not in catalogue:
            errors.append(f"global prompt {prompt!r} missing from the catalogue")
    reachable, _ = _walk(menu)
    for key in menu.nodes:
        if key not in reachable:
            errors.append(f"node {key!r} cannot be reached")
    return errors


def prompt_keys_in_call_order(menu: Menu | None = None) -> list[str]:
    """Every prompt key a caller can hear, in the order a caller meets them: the welcome,
    then the menu walked from its entries (first call, then the main menu), each node's own
    prompts before those of its choices in key order, an action's prompts where it is
    chosen; the other prompts that can play anywhere (no input, goodbye, alerts) last."""
    menu = MENU if menu is None else menu
    order: list[str] = []

    def hear(keys) -> None:
        order.extend(k for k in keys if k not in order)

    hear(menu.global_prompts[:1])
    seen: set[str] = set()
    queue: list[Target] = list(menu.entries)
    while queue:
        target = queue.pop(0)
        if isinstance(target, Act):
            spec = menu.actions.get(target.name)
            hear(spec.prompts if spec else ())
            queue.extend(_act_targets(target))
        elif target in menu.nodes and target not in seen:
            seen.add(target)
            node = menu.nodes[target]
            hear(node.prompts)
            queue.extend(node.choices[k] for k in sorted(node.choices))
            if node.on_digits is not None:
                queue.append(node.on_digits)
    hear(menu.global_prompts)
    hear(sorted(reachable_prompt_keys(menu)))
    return order
