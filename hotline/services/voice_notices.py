"""Voice notices: what the line would text a member, told by a call for those who cannot read.

A person's ``notify_channel`` (``NotifyChannel``) says how she is told about her case and her
meetings: ``sms`` (the default: nothing here happens), ``voice`` (the SMS is stored cancelled
with the reason ``voice_instead`` and a call is queued in its place; if the calls fail the
same SMS is sent after all, marked ``voice_failed``) or ``both`` (the SMS goes as always and
a call is queued too).

A notice call is a ``CallbackRequest`` row (``reason`` "notice", never a ``case_id``: that
would make ``calls.settle`` give up after one try) with its kind (``notice``), what it is
about (``notice_ref``: once per kind, ref and person), what it says (``notice_args``) and the
SMS it stands for (``message_id``). ``calls.place_due`` places it inside the notice call
hours (Decree 91: 08:00-17:00 for calls nobody asked for) under a daily cap per number;
the voice door (``/ivr/notice``) reads it and takes the keys of its ``NoticeKind``.

Other modules add kinds with ``register_kind`` (voice broadcasts, BHYT reminders) and queue
them with ``queue``; a module that texts a notice hands the queued SMS to ``tell``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db import insert_once
from hotline.models import (
    CallbackRequest,
    CallbackStatus,
    Message,
    MessageStatus,
    NotifyChannel,
    NotSent,
    Person,
)
from hotline.phones import PhoneError, normalize

REASON = "notice"  # CallbackRequest.reason of a notice call

# What a key does during a notice call (``NoticeKind.keys``).
AGAIN = "again"  # hear the notice again
STOP = "stop"  # no more calls for her: notify_channel back to sms (her SMS still flow)
SOLVED = "solved"  # follow-up: it was solved (closes the case, as the SMS "1")
NOT_SOLVED = "not_solved"  # follow-up: not solved (reopens, as the SMS "2")
UNREACHABLE = "unreachable"  # follow-up after a referral: the service could not be reached
COMING = "coming"  # meeting: she will come (the SMS "CO")
NOT_COMING = "not_coming"  # meeting: she will not (the SMS "KHONG")
ACTIONS = frozenset({AGAIN, STOP, SOLVED, NOT_SOLVED, UNREACHABLE, COMING, NOT_COMING})

# Slots a kind's ``said`` may hold besides prompt keys, filled from the call's ``notice_args``
# by the voice door: how each is spoken.
SLOTS = {
    "{number}": "a case number, digit by digit",
    "{provider}": "a provider's name, said (<Say>)",
    "{phone}": "a phone number, digit by digit, slowly, twice",
    "{when}": "a meeting time (ISO, Hanoi time): weekday, day, month, hour, minutes",
    "{text}": "free text, said (a rendered broadcast)",
    "{recording}": "a staff recording's prompt key, played",
}

# Keys every notice call takes: the keys of informational notices.
INFO_KEYS: Mapping[str, str] = {"1": AGAIN, "*": AGAIN, "0": STOP}


@dataclass(frozen=True)
class NoticeKind:
    """One kind of voice notice.

    ``said``: prompt keys (``audio.catalogue``) and ``SLOTS``, in the order spoken.
    ``keys``: digit -> action (``ACTIONS``); every kind takes ``0`` (stop) and an "again" key.
    ``ask``: the prompt key that reads the keys (at most four choices).
    ``machine``: what is left once on an answering machine (no keys, no question).
    ``asked_for``: the member asked for this call, so it may ring outside the notice hours
    (Decree 91 allows 08:00-17:00 only for calls nobody asked for). None of the notices is:
    only emergencies ring at any hour, and they are not notices.
    ``tries``: calls placed before the SMS goes as the fallback.
    """

    name: str
    said: tuple[str, ...]
    keys: Mapping[str, str] = field(default_factory=lambda: dict(INFO_KEYS))
    ask: str = "notice_keys_info"
    machine: tuple[str, ...] = ("notice_machine",)
    asked_for: bool = False
    tries: int = 3

    def __post_init__(self) -> None:
        unknown = set(self.keys.values()) - ACTIONS
        if unknown or self.keys.get("0") != STOP or AGAIN not in self.keys.values():
            raise ValueError(f"notice {self.name}: keys need 0=stop, an again key, known actions")
        slots = {s for s in self.said if s.startswith("{")}
        if slots - set(SLOTS):
            raise ValueError(f"notice {self.name}: unknown slots {slots - set(SLOTS)}")

    @property
    def slots(self) -> frozenset[str]:
        """The ``notice_args`` names this kind needs (``"{phone}"`` -> ``"phone"``)."""
        return frozenset(s.strip("{}") for s in self.said if s.startswith("{"))


KINDS: dict[str, NoticeKind] = {}


def register_kind(kind: NoticeKind) -> NoticeKind:
    """Add ``kind`` to the registry (a second kind under a used name is a bug)."""
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"notice kind {kind.name} registered twice")
    KINDS[kind.name] = kind
    return kind


_CASE = ("notice_hello", "notice_case_number", "{number}")
_QUESTION_KEYS = {"1": SOLVED, "2": NOT_SOLVED, "*": AGAIN, "0": STOP}
_MEETING_KEYS = {"1": COMING, "2": NOT_COMING, "*": AGAIN, "0": STOP}

# The kinds named like the SMS templates they stand for (``hotline.templates``).
for _kind in (
    NoticeKind("case_accepted", (*_CASE, "notice_case_accepted")),
    NoticeKind("case_waiting", (*_CASE, "notice_case_waiting")),
    NoticeKind("case_referred", (*_CASE, "notice_referred_to", "{provider}",
                                 "notice_referred_phone", "{phone}")),
    NoticeKind("case_referred_no_phone", (*_CASE, "notice_referred_to", "{provider}",
                                          "notice_referred_no_phone")),
    NoticeKind("case_resolved", (*_CASE, "notice_case_resolved")),
    NoticeKind("followup_ask", (*_CASE, "notice_followup"), keys=_QUESTION_KEYS,
               ask="notice_keys_followup"),
    NoticeKind("followup_ask_referral",
               (*_CASE, "notice_followup_referred", "{provider}", "notice_followup"),
               keys={**_QUESTION_KEYS, "3": UNREACHABLE}, ask="notice_keys_followup_referral"),
    NoticeKind("meeting_reminder", ("notice_hello", "notice_meeting", "{when}"),
               keys=_MEETING_KEYS, ask="notice_keys_meeting"),
    NoticeKind("meeting_moved", ("notice_hello", "notice_meeting_moved", "{when}"),
               keys=_MEETING_KEYS, ask="notice_keys_meeting"),
    NoticeKind("meeting_cancelled", ("notice_hello", "notice_meeting_cancelled", "{when}",
                                     "notice_meeting_cancelled_end")),
):
    register_kind(_kind)

# What the call says after a key or at its end (besides the kinds' own prompts).
REPLY_PROMPTS = ("notice_phone_again", "notice_stopped", "notice_followup_thanks",
                 "notice_followup_reopened", "notice_answered_before", "notice_goodbye",
                 "rsvp_yes_said", "rsvp_no_said", "meeting_none", "invalid_key", "no_input")


def prompt_keys() -> set[str]:
    """Every fixed prompt key a notice call can play (slots aside), for ``flask audio
    check`` (through ``ivr.menu.reachable_prompt_keys``)."""
    keys = set(REPLY_PROMPTS)
    for kind in KINDS.values():
        keys.update(k for k in kind.said if not k.startswith("{"))
        keys.update((kind.ask, *kind.machine))
    return keys


def wants_voice(person: Person | None) -> bool:
    """Whether ``person`` is to be told by a call (``voice`` or ``both``) and can be called."""
    return (person is not None and person.notify_channel in (NotifyChannel.VOICE,
                                                              NotifyChannel.BOTH)
            and bool(person.phone) and person.erased_at is None and person.opted_out_at is None)


def _callable(phone: str | None) -> bool:
    try:
        return phone is not None and normalize(phone) == phone
    except PhoneError:
        return False


def queue(session: Session, now: datetime, person: Person, kind: str, *, ref: str,
          sms: Message | None = None, say: Mapping[str, Any] | None = None,
          due_at: datetime | None = None) -> CallbackRequest | None:
    """Queue the notice call ``kind`` about ``ref`` (``"case:12"``, ``"meeting:7:v2:120"``)
    to ``person``, once per (kind, ref, person): the call queued before is returned on a
    second go. ``sms``: the SMS it stands for (sent as the fallback when it was held back by
    ``tell``); ``say``: the values of the kind's slots. None when she cannot be called."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown notice kind {kind!r}")
    if not wants_voice(person) or not _callable(person.phone):
        return None
    args = {k: (str(v) if v is not None else "") for k, v in (say or {}).items()}
    missing = spec.slots - set(args)
    if missing:
        raise ValueError(f"notice {kind}: missing {sorted(missing)}")
    values = {"person_id": person.id, "phone": person.phone, "reason": REASON,
              "urgent": False, "status": CallbackStatus.QUEUED, "attempts": 0,
              "due_at": due_at or now, "note": f"notice {kind}", "notice": kind,
              "notice_ref": ref[:64], "notice_args": args,
              "message_id": sms.id if sms is not None else None, "created_at": now}
    session.flush()
    insert_once(session, CallbackRequest, values, ("person_id", "notice", "notice_ref"))
    return session.scalars(
        select(CallbackRequest).where(CallbackRequest.person_id == person.id,
                                      CallbackRequest.notice == kind,
                                      CallbackRequest.notice_ref == ref[:64])
    ).one()


def tell(session: Session, now: datetime, person: Person, kind: str, sms: Message, *,
         ref: str, say: Mapping[str, Any]) -> CallbackRequest | None:
    """After the SMS notice ``sms`` was queued for ``person``: by her channel, nothing more
    (sms), the SMS held back and a call in its place (voice), or a call as well (both).

    An SMS already sent or given up for another reason (expired, opted out) gets no call.
    """
    from hotline.services.outbox import instead_by_voice

    if kind not in KINDS or not wants_voice(person):
        return None
    if person.notify_channel == NotifyChannel.VOICE:
        if sms.status == MessageStatus.QUEUED:
            instead_by_voice(sms)
        if sms.hold_reason != NotSent.VOICE_INSTEAD:
            return None
    elif sms.status == MessageStatus.CANCELLED:
        return None
    return queue(session, now, person, kind, ref=ref, sms=sms, say=say)
