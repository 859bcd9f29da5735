"""What each SMS keyword does: one small function per command, calling services.

``handle`` is called once per stored inbound message (duplicates never get here).
Replies go through the outbox as ``Kind.REPLY``; at most ``MAX_REPLIES_PER_HOUR``
automatic replies go to one number an hour, and none to service senders or the
line's own number, so two machines can never text each other forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import Direction, Kind, Message, Person, Role
from hotline.phones import is_service_sender, mask
from hotline.services import cases, groups, monitoring, people, voice
from hotline.services.cases import Actor, CaseError
from hotline.services.outbox import Outbox
from hotline.templates import OUTCOME_WORDS, render
from hotline.text import unaccent
from sms.parser import Command, parse

log = logging.getLogger(__name__)

MAX_REPLIES_PER_HOUR = 5
FOLLOWUP_YES, FOLLOWUP_NO = 1, 2
# After a referral the follow-up offers a third answer: the service could not be reached.
FOLLOWUP_UNREACHABLE = 3


@dataclass
class Ctx:
    session: Session
    now: datetime
    settings: object
    msg: Message
    person: Person
    cmd: Command
    outbox: Outbox

    def reply(self, key: str, *, once_per_day: bool = False, **values) -> Message | None:
        """Queue a reply, unless this number already had its share this hour."""
        values.setdefault("hotline", self.settings.hotline_number)
        since = self.now - timedelta(hours=1)
        recent = self.session.scalar(
            select(func.count(Message.id)).where(
                Message.phone == self.msg.phone,
                Message.direction == Direction.OUT,
                Message.kind == Kind.REPLY,
                Message.created_at >= since,
            )
        )
        if recent >= MAX_REPLIES_PER_HOUR:
            log.warning("reply limit reached for %s; not answering", mask(self.msg.phone))
            return None
        key_ = f"reply:{self.msg.id}"
        if once_per_day:
            key_ = f"{key}:{self.person.id}:{clock.local(self.now).date().isoformat()}"
        return self.outbox.enqueue(
            self.now, self.msg.phone, render(key, **values), kind=Kind.REPLY,
            person=self.person, key=key_,
        )


def handle(session: Session, now: datetime, msg: Message, settings) -> None:
    """Act on one stored inbound message; mark what it was and whether staff must look."""
    cmd = parse(msg.body)
    msg.command = cmd.name
    msg.handled_at = now
    person = msg.person
    if person is None or is_service_sender(msg.phone) or msg.phone == settings.hotline_number:
        # Operator notices, brandnames, our own number: keep, never answer.
        log.info("no reply to service sender %s", mask(msg.phone))
        session.flush()
        return
    ctx = Ctx(session, now, settings, msg, person, cmd, Outbox.for_settings(session, settings))
    HANDLERS.get(cmd.name, free_text)(ctx)
    session.flush()


# --- members -----------------------------------------------------------------------------

def opt_out(ctx: Ctx) -> None:
    """HUY and its synonyms: stop at once, always, whatever else is pending."""
    from hotline.services import outbox

    outbox.opt_out(ctx.session, ctx.person, ctx.now)
    people.clear_pending(ctx.person)
    people.record_withdrawal(ctx.session, ctx.now, ctx.person, channel="sms")
    ctx.reply("opted_out")


def register(ctx: Ctx) -> None:
    person, cmd = ctx.person, ctx.cmd
    if cmd.text:
        person.name = cmd.text[:120]
    group = groups.by_code(ctx.session, cmd.code) if cmd.code else None
    if cmd.code and group is None:
        ctx.reply("unknown_group", code=cmd.code[:10])
    if person.registered_at and people.has_consent(ctx.session, person, "register"):
        person.opted_out_at = None
        _welcome(ctx, group)
        return
    question = render("consent_ask")
    people.ask_consent(ctx.session, ctx.now, person, purpose="register", question=question,
                       channel="sms")
    people.set_pending(person, ctx.now, "consent", group.id if group else None)
    ctx.reply("consent_ask")


def _welcome(ctx: Ctx, group) -> None:
    if group is not None:
        groups.join(ctx.session, ctx.now, ctx.person, group)
        ctx.reply("registered_group", group=group.code)
    else:
        ctx.reply("registered")


def agree(ctx: Ctx) -> None:
    person = ctx.person
    if person.pending_kind != "consent" or people.pending_expired(person, ctx.now):
        ctx.reply("no_pending")
        return
    people.answer_consent(ctx.session, ctx.now, person, purpose="register", granted=True)
    person.registered_at = person.registered_at or ctx.now
    person.opted_out_at = None
    group = ctx.session.get(groups.Group, person.pending_ref) if person.pending_ref else None
    people.clear_pending(person)
    _welcome(ctx, group)


def say_no(ctx: Ctx) -> None:
    person = ctx.person
    kind = None if people.pending_expired(person, ctx.now) else person.pending_kind
    if kind == "consent":
        people.answer_consent(ctx.session, ctx.now, person, purpose="register", granted=False)
        people.clear_pending(person)
        ctx.reply("consent_refused")
    elif kind == "rsvp":
        groups.rsvp(ctx.session, ctx.now, person, person.pending_ref, attending=False)
        people.clear_pending(person)
        ctx.reply("rsvp_no")
    elif kind == "followup":
        _followup(ctx, FOLLOWUP_NO)
    else:
        ctx.reply("no_pending")


def say_yes(ctx: Ctx) -> None:
    person = ctx.person
    kind = None if people.pending_expired(person, ctx.now) else person.pending_kind
    if kind == "rsvp":
        groups.rsvp(ctx.session, ctx.now, person, person.pending_ref, attending=True)
        people.clear_pending(person)
        ctx.reply("rsvp_yes")
    elif kind == "consent":
        agree(ctx)
    elif kind == "followup":
        _followup(ctx, FOLLOWUP_YES)
    else:
        ctx.reply("no_pending")


def choice(ctx: Ctx) -> None:
    person = ctx.person
    if person.pending_kind == "followup" and not people.pending_expired(person, ctx.now):
        if ctx.cmd.number in (FOLLOWUP_YES, FOLLOWUP_NO) or (
                ctx.cmd.number == FOLLOWUP_UNREACHABLE and _referred(ctx, person.pending_ref)):
            _followup(ctx, ctx.cmd.number)
            return
    ctx.reply("no_pending")


def _referred(ctx: Ctx, case_id: int | None) -> bool:
    case = ctx.session.get(cases.Case, case_id) if case_id else None
    return case is not None and monitoring.latest_referral(ctx.session, case) is not None


def _followup(ctx: Ctx, answer: int) -> None:
    case = ctx.session.get(cases.Case, ctx.person.pending_ref)
    people.clear_pending(ctx.person)
    if case is None:
        ctx.reply("no_pending")
        return
    monitoring.record_member_answer(ctx.session, ctx.now, case, answer)
    cases.record_followup(ctx.session, ctx.now, Outbox.for_settings(ctx.session, ctx.settings),
                          case, solved=answer == FOLLOWUP_YES)
    ctx.reply("followup_thanks" if answer == FOLLOWUP_YES else "followup_reopened",
              number=case.number)


def complain(ctx: Ctx) -> None:
    """KN / CG: a case from the member's own words; the number goes back by SMS."""
    if not ctx.cmd.text.strip():
        ctx.reply("complaint_empty")
        return
    people.record_case_consent(ctx.session, ctx.now, ctx.person, keyword=ctx.cmd.name,
                               channel="sms")
    case = cases.open_case(
        ctx.session, ctx.now, ctx.outbox, person=ctx.person, channel="sms",
        summary=ctx.cmd.text, category=ctx.cmd.category,
    )
    ctx.msg.case_id = case.id
    ctx.reply("case_opened", number=case.number)


def status(ctx: Ctx) -> None:
    if ctx.cmd.number is None:
        ctx.reply("status_no_number")
        return
    case = cases.for_member(ctx.session, ctx.person, ctx.cmd.number)
    if case is None:
        ctx.reply("case_not_found", number=ctx.cmd.number)
    else:
        ctx.reply("case_status", number=case.number, status=cases.status_words(case))


def callback(ctx: Ctx) -> None:
    from hotline.services import calls

    calls.queue_callback(ctx.session, ctx.now, ctx.person.phone, ctx.person, reason="sms")
    ctx.reply("callback_queued")


def meeting(ctx: Ctx) -> None:
    found = groups.next_meeting(ctx.session, ctx.person, ctx.now)
    if found is None:
        ctx.reply("no_meeting")
        return
    people.set_pending(ctx.person, ctx.now, "rsvp", found.id)
    ctx.reply("next_meeting", **groups.meeting_values(found))


def info(key: str) -> Callable[[Ctx], None]:
    def answer(ctx: Ctx) -> None:
        ctx.reply(key)

    return answer


def erase(ctx: Ctx) -> None:
    ctx.msg.needs_staff = True
    ctx.reply("erase_requested")


def help_(ctx: Ctx) -> None:
    ctx.reply("help")


def free_text(ctx: Ctx) -> None:
    """Free text, a story, an unknown keyword: a person reads it; one kind answer a day."""
    ctx.msg.needs_staff = True
    ctx.reply("free_text", once_per_day=True)


def empty(ctx: Ctx) -> None:
    ctx.reply("not_understood", once_per_day=True)


# --- peer educators ----------------------------------------------------------------------

def _case_for_worker(ctx: Ctx, example: str):
    """The case a peer educator names, or None after a refusal that reveals nothing."""
    if ctx.cmd.number is None:
        ctx.reply("pe_need_number", example=example)
        return None
    case = cases.by_number(ctx.session, ctx.cmd.number)
    if case is None or not cases.may_act(ctx.session, case, Actor(person=ctx.person)):
        ctx.reply("pe_refused", number=ctx.cmd.number)
        return None
    return case


def _worker_action(example: str, action: Callable[[Ctx, object, Actor], str | None]):
    def run(ctx: Ctx) -> None:
        case = _case_for_worker(ctx, example)
        if case is None:
            return
        try:
            key_values = action(ctx, case, Actor(person=ctx.person))
        except CaseError:
            ctx.reply("pe_refused", number=case.number)
            return
        if key_values:
            key, values = key_values
            ctx.reply(key, number=case.number, **values)

    return run


def _accept(ctx, case, actor):
    cases.accept(ctx.session, ctx.now, ctx.outbox, case, actor)
    return "pe_accepted", {"phone": case.person.phone if case.person else "-"}


def _note(ctx, case, actor):
    if not ctx.cmd.text.strip():
        return "pe_need_number", {"example": f"GHI {case.number} da goi dien"}
    cases.add_note(ctx.session, ctx.now, case, actor, ctx.cmd.text)
    return "pe_noted", {}


def _refer(ctx, case, actor):
    provider = cases.find_provider(ctx.session, ctx.cmd.code) if ctx.cmd.code else None
    if provider is None:
        codes = " ".join(cases.provider_codes(ctx.session))
        return "pe_unknown_provider", {"code": (ctx.cmd.code or "?")[:8], "codes": codes[:80]}
    if not monitoring.has_phone(provider):
        codes = " ".join(monitoring.sms_referable(ctx.session))
        return "pe_provider_no_phone", {"code": provider.code, "codes": codes[:70]}
    cases.refer(ctx.session, ctx.now, ctx.outbox, case, actor, provider)
    if ctx.cmd.text.strip():
        cases.add_note(ctx.session, ctx.now, case, actor, ctx.cmd.text)
    return "pe_referred", {"provider": provider.code}


def _outcome(ctx, case, actor):
    """KQ 1024 2 [note]: what came of the case's latest referral (service monitoring)."""
    referral = monitoring.latest_referral(ctx.session, case)
    if referral is None:
        return "pe_outcome_no_referral", {}
    outcome = monitoring.outcome_from_sms(ctx.cmd.code)
    if outcome is None:
        return "pe_outcome_help", {}
    monitoring.record_outcome(ctx.session, ctx.now, referral, outcome, actor,
                              note=ctx.cmd.text.strip(), source="peer")
    return "pe_outcome_saved", {"provider": referral.provider.code,
                                "outcome": OUTCOME_WORDS[outcome]}


def _resolve(ctx, case, actor):
    cases.resolve(ctx.session, ctx.now, ctx.outbox, case, actor, note=ctx.cmd.text)
    return "pe_resolved", {}


def _give_back(ctx, case, actor):
    cases.give_back(ctx.session, ctx.now, ctx.outbox, case, actor)
    return "pe_returned", {}


def my_cases(ctx: Ctx) -> None:
    mine = cases.open_cases_of(ctx.session, ctx.person)
    if not mine:
        ctx.reply("pe_list_empty")
        return
    numbers = " ".join(str(c.number) for c in mine)
    if len(numbers) > 100:
        numbers = numbers[:96].rsplit(" ", 1)[0] + " ..."
    ctx.reply("pe_list", numbers=numbers)


def attendance(ctx: Ctx) -> None:
    """DD: the roll of the latest meeting; DD 1 3 5 marks those present."""
    import re

    from hotline.services import meetings

    group_ids = cases.groups_led_by(ctx.session, ctx.person)
    meeting = meetings.latest_held(ctx.session, group_ids, ctx.now) if group_ids else None
    if meeting is None:
        ctx.reply("attendance_none")
        return
    values = groups.meeting_values(meeting)
    numbers = {int(n) for n in re.findall(r"\d+", ctx.cmd.text)}
    if not numbers:
        roll = meetings.roll(ctx.session, meeting.group_id)
        names = ", ".join(f"{i} {unaccent(p.name.split()[-1]) if p.name else '?'}"
                          for i, p in enumerate(roll, start=1))
        ctx.reply("attendance_list", group=values["group"], when=values["when"][-5:],
                  names=names if len(names) <= 80 else names[:76].rsplit(",", 1)[0] + " ...")
        return
    count = meetings.take_attendance(ctx.session, ctx.now, meeting, numbers)
    ctx.reply("attendance_saved", count=count, group=values["group"], when=values["when"][-5:])


def minutes(ctx: Ctx) -> None:
    """BB 12 BHYT TAMTRU [note]: short minutes of the latest meeting of her group."""
    if ctx.person.role not in (Role.PEER_EDUCATOR, Role.COORDINATOR):
        free_text(ctx)  # a member's "bb ..." is a message for a person, not a command
        return
    key, values = voice.minutes_by_sms(ctx.session, ctx.now, ctx.person,
                                       cases.groups_led_by(ctx.session, ctx.person),
                                       ctx.cmd.text)
    ctx.reply(key, **values)


HANDLERS: dict[str, Callable[[Ctx], None]] = {
    "HUY": opt_out,
    "DK": register,
    "DONGY": agree,
    "KHONG": say_no,
    "CO": say_yes,
    "CHOICE": choice,
    "KN": complain,
    "CG": complain,
    "TT": status,
    "GOI": callback,
    "HOP": meeting,
    "BHYT": info("info_bhyt"),
    "BHXH": info("info_bhxh"),
    "TAMTRU": info("info_tamtru"),
    "PHAPLY": info("info_phaply"),
    "XOA": erase,
    "HD": help_,
    "EMPTY": empty,
    "TEXT": free_text,
    "NHAN": _worker_action("NHAN 1024", _accept),
    "GHI": _worker_action("GHI 1024 da goi dien", _note),
    "CHUYEN": _worker_action("CHUYEN 1024 LUAT", _refer),
    "XONG": _worker_action("XONG 1024", _resolve),
    "TRA": _worker_action("TRA 1024", _give_back),
    "DS": my_cases,
    "DD": attendance,
    "KQ": _worker_action("KQ 1024 2", _outcome),
    "BB": minutes,
}
