"""What the line decided not to send now, and why (``Message.hold_reason``), for the
dashboard, a person's page, a meeting's page; and the emergencies nobody has accepted yet,
for the banner on every console page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import (
    Call,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseStatus,
    Direction,
    Message,
    MessageStatus,
    NotSent,
    Person,
)
from hotline.services.voice_notices import MACHINE_PREFIXES
from hotline.services.voice_notices import REASON as NOTICE_REASON

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    held: int  # still queued, for later
    never: int  # cancelled: will not be sent


def counts(session: Session, now: datetime, window: timedelta = WINDOW) -> list[ReasonCount]:
    """Decisions not to send now taken in the last ``window``, by reason (index: hold_reason,
    created_at)."""
    rows = session.execute(
        select(Message.hold_reason, Message.status, func.count(Message.id))
        .where(Message.hold_reason.is_not(None), Message.created_at >= now - window,
               Message.direction == Direction.OUT)
        .group_by(Message.hold_reason, Message.status)
    ).all()
    found: dict[str, list[int]] = {}
    for reason, status, n in rows:
        slot = found.setdefault(reason, [0, 0])
        if status == MessageStatus.CANCELLED:
            slot[1] += n
        elif status == MessageStatus.QUEUED:
            slot[0] += n
    return [ReasonCount(r, held, never) for r, (held, never) in sorted(found.items())]


def for_person(session: Session, person: Person, limit: int = 20) -> list[Message]:
    """The latest messages to ``person`` not sent when queued, newest first."""
    return list(session.scalars(
        select(Message)
        .where(Message.person_id == person.id, Message.direction == Direction.OUT,
               Message.hold_reason.is_not(None))
        .order_by(Message.id.desc()).limit(limit)
    ))


# Where a meeting notice stands for a member told by call (her SMS held back for it, or
# sent after all when the calls failed): ``Reminder.by_call``.
CALL_PENDING = "call_pending"  # queued or ringing: not answered yet
BY_CALL = "by_call"  # she answered the call
ON_MACHINE = "on_machine"  # an answering machine took the short message
CALL_FAILED_SMS = "call_failed_sms"  # not answered: the SMS went instead (its status says)
CALL_FAILED = "call_failed"  # given up (her data erased), and no SMS went: not reminded
NO_CALL = "no_call"  # held for a call that was never queued (a number that cannot be called)
TOLD = frozenset({CALL_PENDING, BY_CALL, ON_MACHINE, CALL_FAILED_SMS})


@dataclass(frozen=True)
class Reminder:
    """A member's reminder (or moved notice) of a meeting that did not go as an SMS when it
    was queued: ``message`` with its reason, and for a member told by call, where the call
    stands (``by_call``, one of the states above; None for an SMS simply not sent)."""

    person: Person | None
    message: Message
    by_call: str | None = None

    @property
    def reminded(self) -> bool:
        """Told, or about to be: by a call (pending too) or by the SMS sent after it."""
        return self.by_call in TOLD


def meeting_reminders(session: Session, meeting_id: int) -> list[Reminder]:
    """The meeting's notices that did not go as an SMS when queued: cancelled (the cap or
    quiet hours pushed one past the meeting, the meeting changed, a call told her instead)
    or sent late after the calls that stood for it failed; each with where its call is."""
    rows = session.execute(
        select(Person, Message, CallbackRequest.status, Call.answered_by)
        .join(Person, Person.id == Message.person_id, isouter=True)
        .join(CallbackRequest, (CallbackRequest.message_id == Message.id)
              & (CallbackRequest.reason == NOTICE_REASON), isouter=True)
        .join(Call, Call.id == CallbackRequest.call_id, isouter=True)
        .where(Message.idempotency_key.like(f"meeting:{meeting_id}:%"),
               (Message.status == MessageStatus.CANCELLED)
               | (Message.hold_reason == NotSent.VOICE_FAILED))
        .order_by(Message.id, CallbackRequest.id.desc())
    ).all()
    out: dict[int, Reminder] = {}
    for person, msg, call_status, answered_by in rows:
        if msg.id not in out:  # the latest call standing for it
            out[msg.id] = Reminder(person, msg, _by_call(msg, call_status, answered_by))
    return list(out.values())


def _by_call(msg: Message, call_status: str | None, answered_by: str | None) -> str | None:
    if msg.hold_reason == NotSent.VOICE_FAILED:
        return CALL_FAILED_SMS
    if msg.hold_reason != NotSent.VOICE_INSTEAD:
        return None
    if call_status is None:
        return NO_CALL
    if call_status in (CallbackStatus.QUEUED, CallbackStatus.CALLING):
        return CALL_PENDING
    if call_status == CallbackStatus.DONE:
        machine = (answered_by or "").startswith(MACHINE_PREFIXES)
        return ON_MACHINE if machine else BY_CALL
    return CALL_FAILED


@dataclass(frozen=True)
class Waiting:
    case_id: int
    number: int
    minutes: int  # since it was opened


def unaccepted_emergencies(session: Session, now: datetime, limit: int = 10) -> list[Waiting]:
    """Emergencies nobody has accepted, oldest first, with their age."""
    rows = session.execute(
        select(Case.id, Case.number, Case.created_at)
        .where(Case.emergency.is_(True), Case.status == CaseStatus.NEW)
        .order_by(Case.created_at, Case.id).limit(limit)
    ).all()
    return [Waiting(i, n, max(0, int((now - at).total_seconds() // 60))) for i, n, at in rows]
