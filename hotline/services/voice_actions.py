"""The voice menu's actions, core half: what each one does.

One class per action, registered under the action's name (as CTFd registers challenge types);
the voice door registers the other half, what the caller hears, under the same name
(``ivr.actions``). ``hotline.services.calls.menu_step`` stores the step, checks consent for an
action that needs it and runs the action's ``run``; the result goes back to the door in a
``StepResult``. This module holds the types and the registry only (no rule imports it back),
so the modules with the actions themselves can import each other freely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.orm import Session

from hotline.models import Call, CallbackRequest, Person

if TYPE_CHECKING:
    from hotline.services.outbox import Outbox

# What a menu step's action came to (``StepResult.outcome``).
OK = "ok"
FAILED = "failed"
NEEDS_CONSENT = "needs_consent"
NO_PERSON = "no_person"  # a withheld or foreign number: nothing can be stored for it


@dataclass(frozen=True)
class ActionRequest:
    """A menu action to run: its name and fixed arguments from the menu data, and what the
    caller keyed (``value``)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    value: str | None = None


@dataclass
class StepResult:
    call: Call | None  # None from a one-statement step (``calls.act_in_one_statement``)
    created: bool  # False: a retried request; nothing was written again
    outcome: str = OK
    granted: bool | None = None  # consent
    case_status: str | None = None  # case_status
    numbers: list[str] = field(default_factory=list)  # dial_duty, emergency
    case_number: int | None = None  # emergency
    callback: CallbackRequest | None = None  # callback
    meeting_at: datetime | None = None  # next_meeting, Hanoi time
    meeting_place: str = ""  # next_meeting, as staff typed it
    group_names: list[str] = field(default_factory=list)  # list_groups, join_group
    group_page: int = 0  # list_groups: the page read (0: the first)
    more_groups: bool = False  # list_groups: another page follows


@dataclass(frozen=True)
class ActionContext:
    """Everything an action may use: one value instead of seven positional parameters."""

    session: Session
    now: datetime
    call: Call
    person: Person | None
    request: ActionRequest
    result: StepResult
    question: str = ""  # the consent question as asked today
    outbox: Outbox | None = None

    @property
    def args(self) -> Mapping[str, Any]:
        return self.request.args


class VoiceAction:
    """An action a keypress can make the line do. ``run`` writes (only when
    ``ctx.result.created``, so a retried webhook changes nothing) and fills ``ctx.result``;
    the default does nothing now (the work comes in a later webhook, or is only said).
    An action that needs consent, or ``needs_person``, is not run for a caller the line
    cannot know (no usable number): the step's outcome is NO_PERSON."""

    name: ClassVar[str]
    needs_consent: ClassVar[bool] = True
    needs_person: ClassVar[bool] = False

    def run(self, ctx: ActionContext) -> None:
        return None


def registrar(table: dict[str, Any], what: str) -> Callable[[type], type]:
    """A class decorator: the one instance of a class answers for its ``name`` in ``table``
    (the core's actions here, the menu's screens of them in ``ivr.menu``)."""

    def register(cls: type) -> type:
        if cls.name in table:
            raise ValueError(f"{what} {cls.name!r} registered twice")
        table[cls.name] = cls()
        return cls

    return register


ACTIONS: dict[str, VoiceAction] = {}
register = registrar(ACTIONS, "voice action")


def get(name: str) -> VoiceAction:
    action = ACTIONS.get(name)
    if action is None:
        raise ValueError(f"unknown IVR action {name!r}")
    return action
