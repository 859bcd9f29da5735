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
    "{date}": "a calendar day (ISO date): day and month, as words",
    "{text}": "free text, said (a rendered broadcast)",
    "{recording}": "a voice broadcast's staff recording (its file name), played; the args'"
                   " text said instead when the file is gone",
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
    # The BHYT renewal reminder (``people.remind_bhyt``), and a voice broadcast: a staff
    # text said, or a staff recording played (``broadcasts.queue``).
    NoticeKind("bhyt", ("notice_hello", "notice_bhyt", "{date}", "notice_bhyt_end")),
    NoticeKind("broadcast", ("notice_hello", "notice_broadcast", "{text}")),
    NoticeKind("broadcast_recorded", ("notice_hello", "notice_broadcast", "{recording}")),
):
    register_kind(_kind)

# What the call says after a key or at its end (besides the kinds' own prompts).
REPLY_PROMPTS = ("notice_phone_again", "notice_stopped", "notice_followup_thanks",
                 "notice_followup_reopened", "notice_answered_before", "notice_goodbye",
                 "rsvp_yes_said", "rsvp_no_said", "meeting_none", "invalid_key", "no_input")
# The words around the numbers of a slot read out ("{date}": "ngày" .. "tháng" ..).
SLOT_PROMPTS = ("meeting_date", "meeting_month")


def prompt_keys() -> set[str]:
    """Every fixed prompt key a notice call can play (slots aside), for ``flask audio
    check`` (through ``ivr.menu.reachable_prompt_keys``)."""
    keys = set(REPLY_PROMPTS) | set(SLOT_PROMPTS)
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


# --------------------------------------------------------------------------------------------
# Placing: what ``calls.place_due`` asks of a notice call
# --------------------------------------------------------------------------------------------

# Twilio's answering-machine detection that waits for the greeting to end, so the short
# message left is recorded whole.
MACHINE_DETECTION = "DetectMessageEnd"
# ``AnsweredBy`` values that mean no person picked up (Twilio: machine_start,
# machine_end_beep, machine_end_silence, machine_end_other, fax).
MACHINE_PREFIXES = ("machine", "fax")
# Every ``AnsweredBy`` Twilio documents (on the answer webhook and on status callbacks);
# anything else is not from Twilio and is not stored.
ANSWERED_BY = frozenset({"human", "machine_start", "machine_end_beep", "machine_end_silence",
                         "machine_end_other", "fax", "unknown"})
LEFT_ON_A_MACHINE = "left on a machine"


def answered_by_value(raw: str | None) -> str | None:
    """Twilio's ``AnsweredBy`` as stored, or None for a value Twilio does not send."""
    value = (raw or "").strip().lower()
    return value if value in ANSWERED_BY else None


def is_machine(answered_by: str | None) -> bool:
    return (answered_by or "").startswith(MACHINE_PREFIXES)


def record_answered_by(call, raw: str | None) -> None:
    """Keep Twilio's first verdict on who answered ``call`` (a documented value only)."""
    value = answered_by_value(raw)
    if value is not None and call.answered_by is None:
        call.answered_by = value


def settled_on_a_machine(callback: CallbackRequest, call) -> None:
    """The notice call ended after a machine answered it (Twilio said so in the status
    callback, maybe without an answer webhook): it counts as left on a machine."""
    if (callback.reason == REASON and is_machine(call.answered_by)
            and LEFT_ON_A_MACHINE not in (callback.note or "")):
        callback.note = ((callback.note or "") + f"\n{LEFT_ON_A_MACHINE}").strip()[-2000:]


def tries(callback: CallbackRequest) -> int:
    kind = KINDS.get(callback.notice or "")
    return kind.tries if kind is not None else 1


def asked_for(callback: CallbackRequest) -> bool:
    kind = KINDS.get(callback.notice or "")
    return kind is not None and kind.asked_for


def not_to_call(session: Session, now: datetime, callback: CallbackRequest,
                person: Person | None) -> str | None:
    """Why the notice call is not to be placed any more (its SMS then goes instead), or None:
    she asked for no more calls, or what it announced has begun (a meeting)."""
    if callback.notice not in KINDS:
        return "unknown notice"
    if not wants_voice(person):
        return "calls stopped"
    twin = session.get(Message, callback.message_id) if callback.message_id else None
    if twin is not None and twin.expires_at is not None and now >= twin.expires_at:
        return "past its moment"
    return None


def fall_back(session: Session, now: datetime, callback: CallbackRequest, why: str) -> bool:
    """The notice call was given up (``why``): its SMS, held back for it, goes after all
    (``voice_failed``). True when an SMS was queued."""
    from hotline.services.outbox import send_after_all

    twin = session.get(Message, callback.message_id) if callback.message_id else None
    sent = twin is not None and send_after_all(twin, now)
    callback.note = (callback.note + f"\n{why}" + ("; SMS sent instead" if sent else "")
                     ).strip()[-2000:]
    session.flush()
    return sent


# --------------------------------------------------------------------------------------------
# Answering: the /ivr/notice webhook
# --------------------------------------------------------------------------------------------

# Silence after the question: asked again this many times, then goodbye.
SILENCE_RETRIES = 1
GOODBYE = "notice_goodbye"


@dataclass(frozen=True)
class NoticeScreen:
    """What the notice call says next. ``prompts`` first (a reply to a key), then the notice
    itself when ``read``, then the question when ``ask`` (at step ``step``), else goodbye.
    ``machine``: the short message for an answering machine, then goodbye."""

    callback_id: int
    kind: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    prompts: tuple[str, ...] = ()
    read: bool = False
    ask: bool = False
    step: int = 1
    retries: int = 0
    machine: bool = False


def _object_id(ref: str | None, prefix: str) -> int | None:
    """``"case:12:case_accepted:0"`` -> 12 for prefix "case"."""
    head, _, rest = (ref or "").partition(":")
    raw = rest.split(":", 1)[0]
    return int(raw) if head == prefix and raw.isdigit() else None


def answer(session: Session, now: datetime, outbox, ref, callback_id: int | None, *,
           step: int, retries: int, digits: str | None, answered_by: str | None
           ) -> NoticeScreen:
    """A notice call's webhook: answered (``step`` 0, with Twilio's ``AnsweredBy``), a key
    pressed or silence. Each step is stored once; a retried request answers the same and
    does nothing again. ``ref`` is the ``calls.CallRef`` of the call."""
    from hotline.services import calls

    call, _ = calls.get_call(session, now, ref)
    callback = session.get(CallbackRequest, callback_id) if callback_id is not None else None
    if (callback is None or callback.reason != REASON or callback.notice not in KINDS
            or callback.phone != call.phone):
        return NoticeScreen(callback_id or 0, prompts=(GOODBYE,))
    kind = KINDS[callback.notice]
    if callback.call_id is None:
        callback.call_id = call.id  # answered before the job recorded the call
    created = calls.store_step(session, now, call, str(step), f"notice:{kind.name}", digits)
    screen = NoticeScreen(callback.id, kind.name, dict(callback.notice_args or {}))
    if step == 0:
        return _answered(session, call, callback, screen, answered_by, created)
    if digits is None:
        if retries >= SILENCE_RETRIES:
            return _replace(screen, prompts=(GOODBYE,))
        return _replace(screen, read=True, ask=True, step=step + 1, retries=retries + 1)
    action = kind.keys.get(digits[:1])
    if action is None:
        return _replace(screen, prompts=("invalid_key",), ask=True, step=step + 1)
    if action == AGAIN:
        return _replace(screen, read=True, ask=True, step=step + 1)
    person = session.get(Person, callback.person_id) if callback.person_id else None
    said = _act(session, now, outbox, callback, person, action, created)
    session.flush()
    return _replace(screen, prompts=(*said, GOODBYE))


def _replace(screen: NoticeScreen, **changes) -> NoticeScreen:
    from dataclasses import replace

    return replace(screen, **changes)


def _answered(session: Session, call, callback: CallbackRequest, screen: NoticeScreen,
              answered_by: str | None, created: bool) -> NoticeScreen:
    """Picked up: by her (the notice and its question) or by a machine (the short message
    once; the call counts as delivered to a machine, not as heard by her)."""
    record_answered_by(call, answered_by)
    machine = is_machine(call.answered_by)
    if created and LEFT_ON_A_MACHINE not in (callback.note or ""):
        callback.note = (callback.note + (f"\n{LEFT_ON_A_MACHINE}" if machine else "\nanswered")
                         ).strip()[-2000:]
    session.flush()
    if machine:
        return _replace(screen, machine=True)
    return _replace(screen, read=True, ask=True, step=1)


def _act(session: Session, now: datetime, outbox, callback: CallbackRequest,
         person: Person | None, action: str, created: bool) -> tuple[str, ...]:
    """Do what ``action`` asks (only when the step is new) and return what is said."""
    if action == STOP:
        if created and person is not None and person.erased_at is None:
            from hotline.services import people

            people.set_notify_channel(session, now, person, NotifyChannel.SMS, source="voice",
                                      note="voice opt-out")
        return ("notice_stopped",)
    if action in (SOLVED, NOT_SOLVED, UNREACHABLE):
        return _followup(session, now, outbox, callback, action, created)
    return _rsvp(session, now, callback, person, action == COMING, created)


FOLLOWUP_ANSWERS = {SOLVED: 1, NOT_SOLVED: 2, UNREACHABLE: 3}  # the SMS answers' numbers


def _followup(session: Session, now: datetime, outbox, callback: CallbackRequest,
              action: str, created: bool) -> tuple[str, ...]:
    """The follow-up answered by key, exactly as the SMS answer: the referral's outcome from
    the member, then solved (closed) or not (reopened, alerts again)."""
    from hotline.models import Case, CaseStatus
    from hotline.services import cases, monitoring, people

    said = ("notice_followup_thanks",) if action == SOLVED else ("notice_followup_reopened",)
    case_id = _object_id(callback.notice_ref, "case")
    case = session.get(Case, case_id) if case_id is not None else None
    if not created:
        return said  # Twilio retried the keypress: the same answer, nothing done again
    if case is None or case.status != CaseStatus.RESOLVED or case.followup_answer != "asked":
        return ("notice_answered_before",)
    answer = FOLLOWUP_ANSWERS[action]
    monitoring.record_member_answer(session, now, case, answer)
    cases.record_followup(session, now, outbox, case, solved=answer == 1)
    member = case.person
    if member is not None and member.pending_kind == "followup" \
            and member.pending_ref == case.id:
        people.clear_pending(member)
    return said


def _rsvp(session: Session, now: datetime, callback: CallbackRequest, person: Person | None,
          attending: bool, created: bool) -> tuple[str, ...]:
    """The meeting reminder answered by key: recorded on the meeting as the SMS CO/KHONG."""
    from hotline.models import Meeting, MeetingStatus
    from hotline.services import groups, people

    meeting_id = _object_id(callback.notice_ref, "meeting")
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if (meeting is None or meeting.status != MeetingStatus.SCHEDULED
            or meeting.starts_at <= now or person is None):
        return ("meeting_none",)
    if created:
        groups.rsvp(session, now, person, meeting.id, attending=attending)
        if person.pending_kind == "rsvp" and person.pending_ref == meeting.id:
            people.clear_pending(person)
    return ("rsvp_yes_said",) if attending else ("rsvp_no_said",)
