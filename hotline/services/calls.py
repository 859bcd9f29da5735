"""Voice calls: the verbs behind the IVR webhooks and the callback queue.

Every webhook is stored once whatever Twilio retries: a call once per CallSid, a menu step
once per (call, step) (the step number travels in the URL Twilio posts back), a recording
once per RecordingSid, and the case of a spoken complaint once per recording. A retried
request gets the same answer and changes nothing more.

Outbound calls are rows first (``CallbackRequest``); ``place_due`` (a scheduler job) places
the due ones inside call hours and ``call_status`` settles them from Twilio's status
callbacks: completed -> done; no answer, busy, failed -> again after 15 min, 30 min, 1 h,
then given up.

Functions take the session and ``now`` (and the outbox where they text), flush, and leave the
commit to the caller; ``place_due`` runs its own short transactions around the gateway call.
"""

from __future__ import annotations

import functools
import logging
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, cast, func, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from hotline import clock
from hotline.categories import Category
from hotline.db import DirectWrite, dialect_insert, insert_once, session_scope
from hotline.gateways.base import GatewayError, VoiceGateway
from hotline.models import (
    FINAL_CALL_STATUSES,
    MISSED,
    Call,
    CallbackRequest,
    CallbackStatus,
    CallStatus,
    CallStep,
    Case,
    Consent,
    Direction,
    Kind,
    NotifyChannel,
    Person,
    Recording,
    RecordingPurpose,
    RecordingStatus,
    Role,
)
from hotline.phones import PhoneError, mask, normalize
from hotline.services import cases, job_rows, people, voice_actions, voice_notices
from hotline.services.outbox import Outbox, instead_by_voice
from hotline.services.voice_actions import (
    FAILED,
    NEEDS_CONSENT,
    NO_PERSON,
    ActionContext,
    ActionRequest,
    StepResult,
    VoiceAction,
    register,
)
from hotline.templates import render
from hotline.text import clean

log = logging.getLogger(__name__)

CHANNEL = "voice"
CONSENT_PURPOSE = "register"
# Twilio CallStatus values, in the order a call goes through them; the final ones end it.
FINAL_STATUSES = FINAL_CALL_STATUSES
CALL_RANK = {CallStatus.QUEUED: 0, CallStatus.INITIATED: 1, CallStatus.RINGING: 2,
             CallStatus.IN_PROGRESS: 3, **{s: 4 for s in FINAL_STATUSES}}
RECORDING_RANK = {RecordingStatus.IN_PROGRESS: 0, RecordingStatus.COMPLETED: 1,
                  RecordingStatus.ABSENT: 1, RecordingStatus.FAILED: 1}
# A callback that is not answered is tried again after these delays, then given up.
RETRY_AFTER = (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1))
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
# A callback whose call never reported a final status is looked at again after this long.
CLAIM_TIMEOUT = timedelta(hours=2)
# A callback asked for in the menu waits until the caller has hung up (she hears goodbye
# first); a missed call was never answered, so it can be called back at once.
MENU_CALLBACK_DELAY = timedelta(minutes=1)
# A voice notice due while another call to her is on waits this long (one call at a time).
NOTICE_GAP = timedelta(minutes=5)
MAX_DIAL_NUMBERS = 10  # Twilio rings at most ten <Number>s at once
MIN_RECORDING_S = 1

@dataclass(frozen=True)
class CallRef:
    """Who is on the line, as the webhook told it. ``caller`` is the member's side: ``From`` of
    an inbound call, ``To`` of one we placed."""

    gateway: str
    sid: str
    caller: str
    direction: str = Direction.IN


# --------------------------------------------------------------------------------------------
# Calls and steps
# --------------------------------------------------------------------------------------------


def _phone(raw: str) -> str | None:
    try:
        return normalize(raw)
    except PhoneError:
        return None


def get_call(session: Session, now: datetime, ref: CallRef) -> tuple[Call, bool]:
    """The call ``ref.sid``, created on its first webhook with the caller's person."""
    call, created, _ = _open_call(session, now, ref)
    return call, created


def _open_call(session: Session, now: datetime, ref: CallRef,
               status: str = CallStatus.RINGING
               ) -> tuple[Call, bool, Person | None]:
    """``get_call``, and the caller's person when it was first met just now (None otherwise:
    a new person has no consent to look up)."""
    query = select(Call).where(Call.gateway == ref.gateway, Call.external_id == ref.sid)
    call = session.scalar(query)
    if call is not None:
        return call, False, None
    phone = _phone(ref.caller)
    person, new_person = people.get_or_create(session, now, phone) if phone else (None, False)
    values = {"gateway": ref.gateway, "external_id": ref.sid, "direction": ref.direction,
              "phone": phone or clean(ref.caller)[:64],
              "person_id": person.id if person else None, "status": status, "started_at": now}
    call_id = insert_once(session, Call, values, ("gateway", "external_id"))
    if call_id is None:  # the same call's webhook raced in on another worker: theirs
        return session.scalars(query).one(), False, None
    call = Call(id=call_id, outcome=None, ended_at=None, duration_s=None, **values)
    make_transient_to_detached(call)  # as if loaded: no second SELECT for what we just wrote
    session.add(call)
    return call, True, person if new_person else None


def store_step(
    session: Session, now: datetime, call: Call, step: str, node: str, digits: str | None = None
) -> bool:
    """Store step ``step`` of ``call`` once; False when it was stored before (a retry).

    One ``INSERT .. ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL (a step is the hot
    path of every webhook); a savepoint elsewhere.
    """
    values = {"call_id": call.id, "step": step[:64], "node": node[:40],
              "digits": digits[:32] if digits else None, "at": now}
    return insert_once(session, CallStep, values, ("call_id", "step")) is not None


def _person(session: Session, call: Call) -> Person | None:
    if call.person_id is None:
        return None
    person = session.get(Person, call.person_id)
    return None if person is None or person.erased_at else person


def _advance(call: Call, status: str) -> None:
    if CALL_RANK.get(status, -1) > CALL_RANK.get(call.status, -1):
        call.status = status


# --------------------------------------------------------------------------------------------
# Consent, asked and answered by voice like an SMS consent
# --------------------------------------------------------------------------------------------


def consent_answered(session: Session, person: Person) -> bool:
    """Whether ``person`` ever answered the consent question (yes or no)."""
    return session.scalar(
        select(Consent.id).where(
            Consent.person_id == person.id,
            Consent.purpose == CONSENT_PURPOSE,
            Consent.answer.is_not(None),
        ).limit(1)
    ) is not None


def _ask_once(session: Session, now: datetime, person: Person, question: str) -> None:
    """Record that the consent question is being put by voice, unless it already is."""
    open_voice = session.scalar(
        select(Consent.id).where(
            Consent.person_id == person.id,
            Consent.purpose == CONSENT_PURPOSE,
            Consent.channel == CHANNEL,
            Consent.answer.is_(None),
        ).limit(1)
    )
    if open_voice is None:
        people.ask_consent(session, now, person, purpose=CONSENT_PURPOSE, question=question,
                           channel=CHANNEL)


# --------------------------------------------------------------------------------------------
# Webhook verbs
# --------------------------------------------------------------------------------------------


@dataclass
class CallStart:
    call: Call
    consent_first: bool  # play the consent question before the menu


def start_call(
    session: Session, now: datetime, ref: CallRef, *, question: str,
    callback_id: int | None = None,
) -> CallStart:
    """A call reaches the menu (an inbound call, or a callback we placed being answered).

    A caller who never answered the consent question hears it first; it is recorded as asked.
    """
    call, _, new_person = _open_call(session, now, ref, status=CallStatus.IN_PROGRESS)
    _advance(call, CallStatus.IN_PROGRESS)
    if callback_id is not None:
        callback = session.get(CallbackRequest, callback_id)
        if (callback is not None and callback.status == CallbackStatus.CALLING
                and callback.call_id is None and callback.phone == call.phone):
            callback.call_id = call.id  # answered before the job recorded the call
    created = store_step(session, now, call, "0", "incoming")
    if new_person is not None:  # first contact ever: nothing to look up
        people.ask_consent(session, now, new_person, purpose=CONSENT_PURPOSE,
                           question=question, channel=CHANNEL)
        return CallStart(call, True)
    person = _person(session, call)
    consent_first = person is not None and not consent_answered(session, person)
    if consent_first and created:
        _ask_once(session, now, person, question)
    session.flush()
    return CallStart(call, consent_first)


def store_move(engine: Engine, now: datetime, ref: CallRef, *, step: int, node: str,
               digits: str | None) -> bool:
    """Store a menu step that runs no action (a keypress that only moves through the menu,
    the most common request of a call) as one ``INSERT .. SELECT`` of the known call's id:
    one statement, committed by itself (``hotline.db.DirectWrite``).

    False when nothing was stored: the call is not known yet, or the step was stored before
    (a retry). ``menu_step`` then does the full work (it creates the call; a retry stays a
    no-op).
    """
    if not _MOVE.supported(engine):
        return False
    return _MOVE(engine, _step_params(now, ref, step, node, digits)) is not None


def _step_params(now: datetime, ref: CallRef, step: int, node: str, digits: str | None
                 ) -> dict:
    return {"gateway": ref.gateway, "sid": ref.sid, "step": str(step)[:64], "node": node[:40],
            "digits": digits[:32] if digits else None, "at": now}


def _step_values(table):
    """The step row to insert, its call found by the gateway's call id (bound parameters)."""
    return select(
        Call.id,
        cast(bindparam("step"), table.c.step.type),
        cast(bindparam("node"), table.c.node.type),
        cast(bindparam("digits"), table.c.digits.type),
        bindparam("at", type_=table.c.at.type),
    ).where(Call.gateway == bindparam("gateway"), Call.external_id == bindparam("sid"))


@functools.cache
def _store_move_stmt(dialect: str):
    insert = dialect_insert(dialect)
    if insert is None:
        return None
    table = CallStep.__table__
    values = _step_values(table)
    return (insert(table).from_select(["call_id", "step", "node", "digits", "at"], values)
            .on_conflict_do_nothing(index_elements=["call_id", "step"])
            .returning(table.c.id))


_MOVE = DirectWrite(_store_move_stmt)


def answer_menu(
    engine: Engine, sessions: sessionmaker, now: datetime, settings, ref: CallRef, *,
    step: int, node: str, digits: str | None, action: ActionRequest | None, question: str,
) -> StepResult | None:
    """A menu answer from the webhook, committed. A keypress that only moves through the menu
    (the most common request of a call) is one autocommitted statement (``store_move``);
    an action, or a step of a call not stored yet, is a ``menu_step`` in its own
    transaction; on PostgreSQL the consent answer and a keyed case number are one statement
    too (``act_in_one_statement``). None when only the move was stored."""
    if action is None and store_move(engine, now, ref, step=step, node=node, digits=digits):
        return None
    if acts_in_one_statement(engine.dialect.name, action):
        result = act_in_one_statement(engine, now, ref, step=step, node=node, digits=digits,
                                      action=action, question=question)
        if result is not None:
            return result
    with session_scope(sessions) as session:
        return menu_step(session, now, ref, step=step, node=node, digits=digits, action=action,
                         question=question, outbox=Outbox.for_settings(session, settings))


# Actions whose step is one statement on PostgreSQL (``act_in_one_statement``).
ONE_STATEMENT_ACTIONS = frozenset({"consent", "case_status"})


def acts_in_one_statement(dialect: str, action: ActionRequest | None) -> bool:
    """Whether ``act_in_one_statement`` can store and act on this step: the consent answer
    and a keyed case number, on PostgreSQL (its data-modifying ``WITH``; SQLite has none, and
    there a statement is an in-process call rather than a round trip)."""
    return (dialect == "postgresql" and action is not None
            and action.name in ONE_STATEMENT_ACTIONS)


def act_in_one_statement(engine: Engine, now: datetime, ref: CallRef, *, step: int,
                         node: str, digits: str | None, action: ActionRequest,
                         question: str = "") -> StepResult | None:
    """The step that answers the consent question, or keys a case number, as one statement
    committed by itself (``hotline.db.DirectWrite``): the step stored once, the caller's
    person and consent read,
    and the write it makes (the answer; the consent question recorded as asked) in one
    ``INSERT .. SELECT`` with its ``WITH``, so it all commits, or none of it, in one round
    trip. Same rules as ``menu_step`` with ``GiveConsent`` / ``CaseStatus`` (compared in
    ``tests/ivr``).

    None when nothing was stored (the call not known yet, or a retried step): ``menu_step``
    then does the full work, and a retry stays a no-op.
    """
    params = _step_params(now, ref, step, node, digits)
    params["asked"] = question  # not named as a column: the UPDATE would SET it
    result = StepResult(None, True)
    if action.name == "consent":
        result.granted = action.args.get("answer") == "granted"
        params["said"] = "granted" if result.granted else "refused"
        row = _ConsentStep(*_CONSENT_STEP(engine, params))
    else:
        value = (action.value or "").strip()
        params["number"] = int(value) if value.isdigit() and len(value) <= 12 else None
        row = _CaseStatusStep(*_CASE_STATUS_STEP(engine, params))
    if not row.stored:
        return None
    if not row.person:
        result.outcome = NO_PERSON
    elif action.name == "case_status":
        if not row.consented:
            result.outcome = NEEDS_CONSENT
        elif row.case_status is None:
            result.outcome = FAILED
        else:
            result.case_status = row.case_status
    return result


def _step_and_caller():
    """The CTEs both one-statement steps start with: ``step`` (the step inserted once, its
    call's id returned only when new) and ``who`` (the call's person, unless erased)."""
    table = CallStep.__table__
    values = _step_values(table)
    step = (dialect_insert("postgresql")(table)
            .from_select(["call_id", "step", "node", "digits", "at"], values)
            .on_conflict_do_nothing(index_elements=["call_id", "step"])
            .returning(table.c.call_id).cte("step"))
    who = (select(Person.id.label("person_id"))
           .join_from(step, Call, Call.id == step.c.call_id)
           .join(Person, Person.id == Call.person_id)
           .where(Person.erased_at.is_(None)).cte("who"))
    return step, who


def _counted(cte):
    return select(func.count()).select_from(cte).scalar_subquery()


def _new_consent(who, answered: bool, where):
    """``INSERT INTO consents .. SELECT`` for her: asked now by voice, answered now too when
    ``answered``; only when ``where`` holds."""
    consents = Consent.__table__
    cols = ["person_id", "purpose", "question", "channel", "asked_at"]
    at = bindparam("at", type_=consents.c.asked_at.type)
    values = [who.c.person_id, literal(CONSENT_PURPOSE, consents.c.purpose.type),
              cast(bindparam("asked"), consents.c.question.type),
              literal(CHANNEL, consents.c.channel.type), at]
    if answered:
        cols += ["answer", "answered_at"]
        values += [cast(bindparam("said"), consents.c.answer.type), at]
    return (dialect_insert("postgresql")(consents)
            .from_select(cols, select(*values).where(where))
            .returning(consents.c.id))


def _voice_question_open(who):
    """Whether a consent question put to her by voice is still open (an alias of
    ``consents``: the statement also writes that table)."""
    c = Consent.__table__.alias("open_voice")
    return select(c.c.id).where(c.c.person_id == who.c.person_id,
                                c.c.purpose == CONSENT_PURPOSE, c.c.channel == CHANNEL,
                                c.c.answer.is_(None)).exists()


@functools.cache
def _consent_step_stmt():
    """GiveConsent: if a voice question is open, the latest open question is answered;
    otherwise a voice question is recorded as asked and answered now (what ``_ask_once``
    then ``people.answer_consent`` do)."""
    step, who = _step_and_caller()
    voice_open = _voice_question_open(who)
    c = Consent.__table__.alias("latest")
    latest = (select(c.c.id).where(c.c.person_id == who.c.person_id,
                                   c.c.purpose == CONSENT_PURPOSE, c.c.answer.is_(None))
              .order_by(c.c.asked_at.desc(), c.c.id.desc()).limit(1).scalar_subquery())
    consents = Consent.__table__
    answered = (update(consents).where(consents.c.id == latest, voice_open)
                .values(answer=cast(bindparam("said"), consents.c.answer.type),
                        answered_at=bindparam("at", type_=consents.c.answered_at.type))
                .returning(consents.c.id).cte("answered"))
    added = _new_consent(who, True, ~voice_open).cte("added")
    # Agreed: registered by keypad, as the SMS DONGY registers her (GiveConsent.run).
    people_table = Person.__table__
    registered = (update(people_table)
                  .where(people_table.c.id.in_(select(who.c.person_id)),
                         people_table.c.registered_at.is_(None),
                         cast(bindparam("said"), consents.c.answer.type) == "granted")
                  .values(registered_at=bindparam("at", type_=people_table.c.registered_at.type))
                  .returning(people_table.c.id).cte("registered"))
    return select(_counted(step).label("stored"), _counted(who).label("person"),
                  _counted(answered).label("answered"), _counted(added).label("added"),
                  _counted(registered).label("registered"))


@functools.cache
def _case_status_step_stmt():
    """CaseStatus: her latest consent answer must be a grant (else the question is recorded
    as asked by voice, unless it already is open); then the status of her own case with
    the keyed number."""
    step, who = _step_and_caller()
    c = Consent.__table__.alias("latest")
    latest_answer = (select(c.c.answer).where(c.c.person_id == who.c.person_id,
                                              c.c.purpose == CONSENT_PURPOSE,
                                              c.c.answer.is_not(None))
                     .order_by(c.c.answered_at.desc(), c.c.id.desc()).limit(1)
                     .scalar_subquery())
    consented = func.coalesce(latest_answer, "") == "granted"
    asked = _new_consent(who, False, ~consented & ~_voice_question_open(who)).cte("asked")
    status = (select(Case.status).where(Case.number == bindparam("number"),
                                        Case.person_id == who.c.person_id)
              .scalar_subquery())
    return select(_counted(step).label("stored"), _counted(who).label("person"),
                  select(consented).select_from(who).scalar_subquery().label("consented"),
                  status.label("case_status"), _counted(asked).label("asked_now"))


# The two one-statement steps, run directly (PostgreSQL only: ``acts_in_one_statement``),
# and their one row.
_CONSENT_STEP = DirectWrite(lambda dialect: _consent_step_stmt())
_CASE_STATUS_STEP = DirectWrite(lambda dialect: _case_status_step_stmt())
_ConsentStep = namedtuple("_ConsentStep", "stored person answered added registered")
_CaseStatusStep = namedtuple("_CaseStatusStep", "stored person consented case_status asked_now")


def menu_step(
    session: Session, now: datetime, ref: CallRef, *, step: int, node: str,
    digits: str | None, action: ActionRequest | None = None, question: str = "",
    outbox: Outbox | None = None,
) -> StepResult:
    """One answer to a menu: stored once per (call, step); ``action`` run when given.

    A retried request (the step exists) runs no write again and answers the same.
    """
    stored = _store_with_caller(session, now, ref, step, node, digits) if action else None
    if stored is not None:  # PostgreSQL, a known call, a new step: one statement for it all
        call, person = stored
        created = True
    else:
        call, _ = get_call(session, now, ref)
        created = store_step(session, now, call, str(step), node, digits)
    result = StepResult(call, created)
    if action is None:
        return result
    handler = voice_actions.get(action.name)
    if stored is None:
        person = _person(session, call)
    if person is None and (handler.needs_consent or handler.needs_person):
        result.outcome = NO_PERSON
        return result
    if handler.needs_consent and not people.has_consent(session, person, CONSENT_PURPOSE):
        result.outcome = NEEDS_CONSENT
        if created:
            _ask_once(session, now, person, question)
        return result
    handler.run(ActionContext(session, now, call, person, action, result, question, outbox))
    session.flush()
    return result


def _store_with_caller(session: Session, now: datetime, ref: CallRef, step: int, node: str,
                       digits: str | None) -> tuple[Call, Person | None] | None:
    """On PostgreSQL, store the step of a known call and load the call and its person in one
    statement (the step's ``INSERT`` in a ``WITH``), where ``get_call``, ``store_step`` and
    ``_person`` took three round trips. None elsewhere, and when nothing was stored (the call
    not known yet, or a retried step): the caller then takes that slower path."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(_store_with_caller_stmt(),
                          _step_params(now, ref, step, node, digits)).first()
    if row is None:
        return None
    call, person = row
    return call, None if person is None or person.erased_at else person


@functools.cache
def _store_with_caller_stmt():
    stored, _ = _step_and_caller()
    return (select(Call, Person).join_from(stored, Call, Call.id == stored.c.call_id)
            .outerjoin(Person, Person.id == Call.person_id))


# --------------------------------------------------------------------------------------------
# The menu's actions (core half; ``ivr.actions`` has what each one says)
# --------------------------------------------------------------------------------------------


@register
class GiveConsent(VoiceAction):
    """The answer to the consent question, stored like an SMS consent."""

    name = "consent"
    needs_consent = False

    def run(self, ctx: ActionContext) -> None:
        result = ctx.result
        result.granted = ctx.args.get("answer") == "granted"
        if ctx.person is None:
            result.outcome = NO_PERSON
            return
        if result.created:
            _ask_once(ctx.session, ctx.now, ctx.person, ctx.question)
            people.answer_consent(ctx.session, ctx.now, ctx.person, purpose=CONSENT_PURPOSE,
                                  granted=result.granted)
            if result.granted:  # registered by keypad, as DK then DONGY by SMS
                ctx.person.registered_at = ctx.person.registered_at or ctx.now


@register
class Callback(VoiceAction):
    """Queue a call back to the caller (an outbox row), on a topic when given."""

    name = "callback"

    def run(self, ctx: ActionContext) -> None:
        category = ctx.args.get("category")
        ctx.result.callback = queue_callback(
            ctx.session, ctx.now, ctx.call.phone, ctx.person, reason="ivr",
            note=f"category {category}" if category else "",
            statuses=(CallbackStatus.QUEUED,), due_at=ctx.now + MENU_CALLBACK_DELAY,
        )
        if ctx.result.callback is None:
            ctx.result.outcome = FAILED


@register
class CaseStatus(VoiceAction):
    """The status of the keyed case number, among the caller's own cases only."""

    name = "case_status"

    def run(self, ctx: ActionContext) -> None:
        value = (ctx.request.value or "").strip()
        case = None
        if ctx.person is not None and value.isdigit() and len(value) <= 12:
            case = cases.for_member(ctx.session, ctx.person, int(value))
        if case is None:
            ctx.result.outcome = FAILED
            return
        ctx.result.case_status = case.status


@register
class DialDuty(VoiceAction):
    """The numbers of the peer educators on duty to connect the caller to."""

    name = "dial_duty"

    def run(self, ctx: ActionContext) -> None:
        ctx.result.numbers = duty_numbers(ctx.session, ctx.args.get("category"),
                                          exclude=ctx.person)
        if not ctx.result.numbers:
            ctx.result.outcome = FAILED


@register
class Emergency(VoiceAction):
    """Key 9: the emergency path for the caller (a case, the safety SMS, alerts), and the
    people to connect her to now. Anyone may press it."""

    name = "emergency"
    needs_consent = False

    def run(self, ctx: ActionContext) -> None:
        from hotline.services import emergency

        person, result = ctx.person, ctx.result
        with emergency.one_ladder(ctx.session):  # the alerts' ladder is whom she is put through to
            if person is not None:
                case = (emergency.raise_for(ctx.session, ctx.now, ctx.outbox, person,
                                            channel=CHANNEL, source=f"call{ctx.call.id}")
                        if result.created else emergency.open_emergency_of(ctx.session, person,
                                                                            ctx.now))
                result.case_number = case.number if case is not None else None
            result.numbers = [p.phone for p in emergency.ladder(ctx.session)
                              if person is None or p.id != person.id][:MAX_DIAL_NUMBERS]
        if not result.numbers:
            result.outcome = FAILED


@register
class RecordComplaint(VoiceAction):
    """A spoken complaint: its case is opened when the recording comes
    (``complaint_recorded`` / ``recording_status``), not at the keypress."""

    name = "record_complaint"


@register
class RecordName(VoiceAction):
    """Her name, spoken: kept as a recording on her (no case) for staff to type in; stored
    when the recording comes, like a complaint."""

    name = "record_name"


@register
class Hangup(VoiceAction):
    """Only said: goodbye."""

    name = "hangup"
    needs_consent = False


def duty_numbers(session: Session, category: int | None, *, exclude: Person | None = None
                 ) -> list[str]:
    """Phones of the peer educators on duty, roster order; violence only to those trained."""
    query = select(Person.phone).where(
        Person.role == Role.PEER_EDUCATOR,
        Person.on_duty.is_(True),
        Person.phone.is_not(None),
        Person.erased_at.is_(None),
        cases.trained_for(category),
    )
    if exclude is not None:
        query = query.where(Person.id != exclude.id)
    query = query.order_by(Person.duty_order, Person.id).limit(MAX_DIAL_NUMBERS)
    return [phone for phone in session.scalars(query) if phone]


def dial_finished(session: Session, now: datetime, ref: CallRef, *, step: int, node: str,
                  dial_status: str) -> bool:
    """The duty roster was dialled; stores the step. True when someone answered."""
    call, _ = get_call(session, now, ref)
    store_step(session, now, call, str(step), node, None)
    # <Dial>'s DialCallStatus: "answered" is what Twilio reports for a bridged call.
    return dial_status in (CallStatus.COMPLETED, "answered")


@dataclass(frozen=True)
class Kept:
    """A recording kept: the number of the case it opened (read back to her), or None for
    a recording that opens no case (her name)."""

    case_number: int | None = None


def complaint_recorded(
    session: Session, now: datetime, outbox: Outbox, ref: CallRef, *, step: int, node: str,
    digits: str | None, recording_sid: str | None, recording_url: str | None,
    duration: int | None, category: int = Category.OTHER, voicemail: bool = False,
    emergency: bool = False, name: bool = False,
) -> Kept | None:
    """The caller finished speaking: the case of this recording (opened once), her name kept
    (``name``), or None when nothing was recorded."""
    call, _ = get_call(session, now, ref)
    store_step(session, now, call, str(step), node, digits)
    if not recording_sid or not recording_url or (duration or 0) < MIN_RECORDING_S:
        return None
    recording = _recording(session, now, call, recording_sid, recording_url, duration, None,
                           purpose=RecordingPurpose.NAME if name else RecordingPurpose.COMPLAINT)
    if name:
        return Kept()
    case = _case_for(session, now, outbox, call, recording, category, voicemail, emergency)
    return Kept(case.number) if case is not None else None


def recording_status(
    session: Session, now: datetime, outbox: Outbox, ref: CallRef, *, recording_sid: str,
    recording_url: str | None, status: str, duration: int | None,
    category: int = Category.OTHER,
    voicemail: bool = False, emergency: bool = False, name: bool = False,
) -> Recording:
    """Twilio's recording status callback: keep the media URL (private; staff listen through
    the console) and make sure a completed complaint recording has its one case. No status
    given is taken as completed."""
    status = (status or "").strip().lower() or RecordingStatus.COMPLETED
    call, _ = get_call(session, now, ref)
    recording = _recording(session, now, call, recording_sid, recording_url, duration, status,
                           purpose=RecordingPurpose.NAME if name else RecordingPurpose.COMPLAINT)
    if (status == RecordingStatus.COMPLETED and (recording.duration_s or 0) >= MIN_RECORDING_S
            and recording.purpose == RecordingPurpose.COMPLAINT):
        _case_for(session, now, outbox, call, recording, category, voicemail, emergency)
    session.flush()
    return recording


def _recording(session: Session, now: datetime, call: Call, sid: str, url: str | None,
               duration: int | None, status: str | None,
               purpose: str = "complaint") -> Recording:
    """The recording ``sid``, stored once: the <Record> action and the status callback of one
    recording may come together, and the first to insert it opens its case."""
    status = status if status in RECORDING_RANK else None
    values = {"gateway": call.gateway, "external_id": sid, "call_id": call.id,
              "media_url": url or "", "duration_s": duration, "purpose": purpose,
              "status": status or RecordingStatus.IN_PROGRESS, "created_at": now}
    inserted = insert_once(session, Recording, values, ("gateway", "external_id")) is not None
    recording = session.scalars(
        select(Recording).where(Recording.gateway == call.gateway, Recording.external_id == sid)
    ).one()
    if inserted:
        return recording
    if url:
        recording.media_url = url
    if duration is not None:
        recording.duration_s = duration
    if status and RECORDING_RANK.get(status, -1) > RECORDING_RANK.get(recording.status, -1):
        recording.status = status
    return recording


def _case_for(session: Session, now: datetime, outbox: Outbox, call: Call,
              recording: Recording, category: int, voicemail: bool,
              emergency: bool = False) -> Case | None:
    """The case of ``recording``: opened on first sight, with the case number texted too; a
    message left after key 9 goes on her emergency case."""
    if recording.case_id is not None:
        return session.get(Case, recording.case_id)
    person = _person(session, call)
    if person is None:
        return None
    if emergency:
        from hotline.services import emergency as emergency_path

        case = emergency_path.raise_for(session, now, outbox, person, channel=CHANNEL,
                                        source=f"call{call.id}")
        cases.event(session, case, now, "recording", note="voicemail",
                    recording_id=recording.id)
        recording.case_id = case.id
        session.flush()
        return case
    case = cases.open_case(session, now, outbox, person=person, channel=CHANNEL,
                           category=category, member_chose=True)
    cases.event(session, case, now, "recording", note="voicemail" if voicemail else "",
                recording_id=recording.id)
    recording.case_id = case.id
    if person.phone:
        msg = outbox.enqueue(now, person.phone, render("case_opened", number=case.number),
                             kind=Kind.REPLY, person=person, case_id=case.id,
                             key=f"case:{case.id}:case_opened:{case.reopened_count}")
        if person.notify_channel == NotifyChannel.VOICE:
            instead_by_voice(msg)  # she heard the number in this call; kept, not sent
    session.flush()
    log.info("voice case %s opened from call %s", case.number, call.id)
    return case


def call_status(session: Session, now: datetime, ref: CallRef, *, status: str,
                duration: int | None, answered_by: str | None = None) -> Call:
    """Twilio's call status callback: status moves forward only; a final one sets outcome,
    end and duration once, and settles the callback the call was placed for. Its
    ``AnsweredBy`` (answering-machine detection) is kept when the call has none yet: a
    notice call a machine answered counts as left on a machine."""
    call, _ = get_call(session, now, ref)
    voice_notices.record_answered_by(call, answered_by)
    status = (status or "").strip().lower()
    if call.outcome is not None or CALL_RANK.get(status, -1) < 0:
        return call
    _advance(call, status)
    if status in FINAL_STATUSES:
        call.outcome = status
        call.ended_at = now
        call.duration_s = duration
        callback = session.scalar(
            select(CallbackRequest).where(
                CallbackRequest.status == CallbackStatus.CALLING,
                CallbackRequest.call_id == call.id,
            )
        )
        if callback is not None:
            if status == CallStatus.COMPLETED:
                voice_notices.settled_on_a_machine(callback, call)
            _settle(session, callback, status, now)
    session.flush()
    return call


def missed_call(session: Session, now: datetime, ref: CallRef) -> CallbackRequest | None:
    """A ring on the missed-call number: rejected unanswered (free for the caller), kept for
    reports, and one callback queued however often the number rings."""
    call, _ = get_call(session, now, ref)
    if call.outcome is None:
        call.status, call.outcome, call.ended_at, call.duration_s = (
            CallStatus.REJECTED, MISSED, now, 0)
    person = _person(session, call)
    callback = queue_callback(session, now, call.phone, person, reason="missed_call")
    session.flush()
    return callback


def queue_callback(
    session: Session, now: datetime, phone: str, person: Person | None, *, reason: str,
    note: str = "", urgent: bool = False, due_at: datetime | None = None,
    statuses: tuple[str, ...] = (CallbackStatus.QUEUED, CallbackStatus.CALLING),
) -> CallbackRequest | None:
    """Queue a call back to ``phone`` (due at ``due_at``, default now), or return the one
    already open (in ``statuses``). None for a number that cannot be called."""
    if _phone(phone) != phone:
        return None
    existing = session.scalar(
        select(CallbackRequest)
        .where(CallbackRequest.status.in_(statuses), CallbackRequest.phone == phone,
               CallbackRequest.case_id.is_(None), CallbackRequest.reason != NOTICE_REASON)
        .order_by(CallbackRequest.id)
        .limit(1)
    )
    if existing is not None:
        if urgent and not existing.urgent:
            existing.urgent = True
        return existing
    callback = CallbackRequest(
        person_id=person.id if person else None, phone=phone, reason=reason, urgent=urgent,
        status=CallbackStatus.QUEUED, due_at=due_at or now, note=note, created_at=now,
    )
    session.add(callback)
    session.flush()
    return callback


# --------------------------------------------------------------------------------------------
# Emergency alert calls: a recorded alert to a responder, "bấm 1 để nhận"
# --------------------------------------------------------------------------------------------

ALERT_REASON = "emergency"
ALERT_PATH = "/ivr/alert"
INCOMING_PATH = "/ivr/incoming"
NOTICE_REASON = voice_notices.REASON
NOTICE_PATH = "/ivr/notice"


def webhook_path(reason: str) -> str:
    """Where a placed call's TwiML comes from, by why it is placed: an emergency alert to a
    responder, a voice notice to a member, else (a callback) the menu."""
    return {ALERT_REASON: ALERT_PATH, NOTICE_REASON: NOTICE_PATH}.get(reason, INCOMING_PATH)


def queue_alert_call(session: Session, now: datetime, case: Case, to: Person
                     ) -> CallbackRequest | None:
    """Queue a voice call to responder ``to`` asking her to accept emergency ``case`` (one
    attempt: the emergency ladder places the next call itself). None without a number."""
    if not to.phone or _phone(to.phone) != to.phone:
        return None
    callback = CallbackRequest(
        person_id=to.id, phone=to.phone, reason=ALERT_REASON, urgent=True,
        status=CallbackStatus.QUEUED, due_at=now, case_id=case.id,
        note=f"case {case.number}", created_at=now,
    )
    session.add(callback)
    session.flush()
    return callback


@dataclass(frozen=True)
class AlertCall:
    """What an answered alert call says: the case number, and whether it still waits."""

    number: int | None
    waiting: bool
    accepted: bool = False


def alert_answered(session: Session, now: datetime, outbox: Outbox, ref: CallRef,
                   callback_id: int | None, digits: str | None = None) -> AlertCall:
    """An alert call was answered (``digits`` None) or answered with a key: 1 accepts the
    case for the responder called, if nobody has meanwhile."""
    call, _ = get_call(session, now, ref)
    callback = session.get(CallbackRequest, callback_id) if callback_id is not None else None
    if callback is None or callback.case_id is None or callback.phone != call.phone:
        return AlertCall(None, False)
    if callback.call_id is None:
        callback.call_id = call.id
    case = session.get(Case, callback.case_id)
    if case is None:
        return AlertCall(None, False)
    waiting = case.status == cases.CaseStatus.NEW
    responder = session.get(Person, callback.person_id) if callback.person_id else None
    if responder is not None and not waiting and case.assignee_id == responder.id \
            and digits == "1":
        return AlertCall(case.number, False, True)  # her own acceptance, retried
    if digits != "1" or not waiting or responder is None:
        return AlertCall(case.number, waiting)
    try:
        cases.accept(session, now, outbox, case, cases.Actor(person=responder))
    except cases.CaseError:  # no longer allowed (taken off call meanwhile): still waiting
        return AlertCall(case.number, waiting)
    cases.event(session, case, now, "accepted_by_call", person_id=responder.id,
                call_id=call.id)
    member = case.person
    outbox.enqueue(
        now, responder.phone, render("pe_accepted", number=case.number,
                                     phone=member.phone if member and member.phone else "-"),
        kind=Kind.URGENT, person=responder, case_id=case.id,
        key=f"case:{case.id}:pe_accepted:{responder.id}:call",
    )
    session.flush()
    return AlertCall(case.number, False, True)


# --------------------------------------------------------------------------------------------
# Placing callbacks (the scheduler job)
# --------------------------------------------------------------------------------------------


def settle(callback: CallbackRequest, outcome: str, now: datetime) -> None:
    """Completed: done. Otherwise again after the next delay, or given up after the last
    (a voice notice after its kind's tries; then ``_settle_notice`` sends its SMS)."""
    tries = voice_notices.tries(callback) if callback.reason == NOTICE_REASON else MAX_ATTEMPTS
    if outcome == CallStatus.COMPLETED:
        callback.status, callback.done_at = CallbackStatus.DONE, now
    elif callback.attempts >= tries or callback.case_id is not None:
        callback.status, callback.done_at = CallbackStatus.GIVEN_UP, now
    else:
        callback.status = CallbackStatus.QUEUED
        callback.due_at = now + RETRY_AFTER[max(callback.attempts, 1) - 1]


def _settle(session: Session, callback: CallbackRequest, outcome: str, now: datetime) -> None:
    """``settle``, and a voice notice given up falls back to the SMS it stood for."""
    settle(callback, outcome, now)
    if callback.reason == NOTICE_REASON and callback.status == CallbackStatus.GIVEN_UP:
        voice_notices.fall_back(session, now, callback,
                                f"not answered after {callback.attempts} calls")


def next_allowed(now: datetime, callback: CallbackRequest, person: Person | None,
                 settings) -> datetime:
    """The first moment at or after ``now`` to call: inside call hours (a voice notice,
    which nobody asked for: the notice hours, Decree 91's 08:00-17:00) and the person's
    safe-contact window; at once for an urgent callback."""
    if callback.urgent:
        return now
    notice = callback.reason == NOTICE_REASON and not voice_notices.asked_for(callback)
    start, end = settings.notice_calling if notice else settings.calling
    due = now
    for _ in range(8):
        due = clock.next_in_window(due, start, end)
        if person is None or not (person.safe_contact_start and person.safe_contact_end):
            return due
        safe = clock.next_in_window(due, person.safe_contact_start, person.safe_contact_end)
        if safe == due:
            return due
        due = safe
    return due


@dataclass
class PlaceReport(job_rows.JobReport):
    placed: int = 0


def place_due(
    sessions: sessionmaker[Session], now: datetime, gateway: VoiceGateway, settings, *,
    limit: int = 50,
) -> PlaceReport:
    """Place due callbacks through ``gateway``; safe to run twice, late or after a crash.

    Each callback is claimed (``calling``) and committed before the gateway is called, and the
    call recorded right after, so none is placed twice in the normal path.
    """
    report = PlaceReport()
    base = settings.public_url.rstrip("/")
    with session_scope(sessions) as session:
        report.recovered = _recover_stale(session, now)
        ids = session.scalars(
            select(CallbackRequest.id)
            .where(CallbackRequest.status == CallbackStatus.QUEUED,
                   CallbackRequest.due_at <= now)
            .order_by(CallbackRequest.due_at, CallbackRequest.id)
            .limit(limit)
        ).all()
        skip = job_rows.quarantined(session, "place_callbacks", "callback")
    for callback_id in ids:
        if str(callback_id) in skip:
            continue
        try:
            with session_scope(sessions) as session:
                callback = _claim(session, callback_id, now, settings, report)
                if callback is None:
                    continue
                to = callback.phone
                path = webhook_path(callback.reason)
                # A notice is left once on a machine: Twilio tells a machine from her.
                amd = ({"machine_detection": voice_notices.MACHINE_DETECTION}
                       if callback.reason == NOTICE_REASON else {})
        except job_rows.NOT_A_ROW:
            raise
        except Exception as exc:  # one bad row: recorded and skipped, the others go on
            job_rows.record_failure(sessions, now, "place_callbacks", "callback", callback_id,
                                    exc)
            continue
        try:
            result = gateway.place_call(
                to, url=f"{base}{path}?callback={callback_id}",
                status_callback=f"{base}/ivr/status", **amd,
            )
        except GatewayError as exc:
            result = exc
        except Exception as exc:  # a bug or an unexpected library error: retry, never lose
            log.exception("voice gateway raised unexpectedly for %s", mask(to))
            result = GatewayError(str(exc) or type(exc).__name__, code="error", transient=True)
        with session_scope(sessions) as session:
            callback = session.get(CallbackRequest, callback_id)
            if isinstance(result, GatewayError):
                report.failed += 1
                callback.note = _note(
                    callback.note, f"attempt {callback.attempts}: [{result.code}] {result}"
                )
                if result.transient:
                    _settle(session, callback, CallStatus.FAILED, now)
                else:
                    callback.status, callback.done_at = CallbackStatus.GIVEN_UP, now
                    if callback.reason == NOTICE_REASON:
                        voice_notices.fall_back(session, now, callback, "cannot be called")
                log.warning("callback %s to %s not placed: %s", callback_id, mask(to), result)
                continue
            report.placed += 1
            # Keyed as the webhooks about this call will name it (``webhook_gateway``: the
            # simulator's calls are answered through the Twilio-shaped /ivr/ webhooks).
            name = getattr(gateway, "webhook_gateway", None) or getattr(gateway, "name", "voice")
            ref = CallRef(name, result.external_id, to, Direction.OUT)
            call, _ = get_call(session, now, ref)
            if callback.status == CallbackStatus.CALLING:  # else the answered call settled it
                callback.call_id = call.id
                if call.outcome is not None:  # the final status overtook us
                    _settle(session, callback, call.outcome, now)
    return report


def _claim(session: Session, callback_id: int, now: datetime, settings,
           report: PlaceReport) -> CallbackRequest | None:
    callback = session.get(CallbackRequest, callback_id)
    if callback is None or callback.status != CallbackStatus.QUEUED:
        return None
    person = session.get(Person, callback.person_id) if callback.person_id else None
    if person is not None and person.erased_at is not None:
        callback.status, callback.done_at = CallbackStatus.GIVEN_UP, now
        callback.note = _note(callback.note, "erased")
        return None
    if callback.reason == NOTICE_REASON:
        why = voice_notices.not_to_call(session, now, callback, person)
        if why is not None:
            callback.status, callback.done_at = CallbackStatus.GIVEN_UP, now
            voice_notices.fall_back(session, now, callback, why)
            return None
    if callback.reason == NOTICE_REASON and _on_the_line(session, callback):
        # One call to her at a time: a second notice waits for the first call to end.
        callback.due_at = now + NOTICE_GAP
        report.deferred += 1
        return None
    allowed = next_allowed(now, callback, person, settings)
    if allowed == now and callback.reason == NOTICE_REASON \
            and calls_today(session, callback.phone, now) >= settings.notice_call_cap:
        # The day's cap of calls to this number is reached: tomorrow, in call hours.
        allowed = next_allowed(clock.local_day_bounds(now)[1], callback, person, settings)
        callback.note = _note(callback.note, "daily cap of calls: tomorrow")
    if allowed > now:
        callback.due_at = allowed
        report.deferred += 1
        return None
    claimed = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == CallbackStatus.QUEUED)
        .values(status=CallbackStatus.CALLING, attempts=CallbackRequest.attempts + 1,
                due_at=now + CLAIM_TIMEOUT, call_id=None)
    ).rowcount
    if not claimed:
        return None  # another runner took it
    return session.get(CallbackRequest, callback_id, populate_existing=True)


def _on_the_line(session: Session, callback: CallbackRequest) -> bool:
    """Whether another call to the same number is being placed or is under way."""
    return session.scalar(
        select(CallbackRequest.id).where(CallbackRequest.phone == callback.phone,
                                         CallbackRequest.status == CallbackStatus.CALLING,
                                         CallbackRequest.id != callback.id).limit(1)
    ) is not None


def calls_today(session: Session, phone: str, now: datetime) -> int:
    """Calls the line placed to ``phone`` on the Hanoi day of ``now`` (index: phone,
    started_at)."""
    start, end = clock.local_day_bounds(now)
    return session.scalar(
        select(func.count(Call.id)).where(Call.phone == phone, Call.direction == Direction.OUT,
                                          Call.started_at >= start, Call.started_at < end)
    ) or 0


def _recover_stale(session: Session, now: datetime) -> int:
    """Callbacks still ``calling`` long after their call: settle from the call's outcome, or
    count the attempt as failed when no final status ever came."""
    stale = session.scalars(
        select(CallbackRequest).where(CallbackRequest.status == CallbackStatus.CALLING,
                                      CallbackRequest.due_at <= now)
    ).all()
    for callback in stale:
        call = session.get(Call, callback.call_id) if callback.call_id else None
        outcome = call.outcome if call is not None and call.outcome else None
        if outcome is None:
            callback.note = _note(callback.note, f"attempt {callback.attempts}: no final status")
        _settle(session, callback, outcome or CallStatus.FAILED, now)
    return len(stale)


def _note(note: str, line: str) -> str:
    return (note + "\n" + line).strip()[-2000:]

