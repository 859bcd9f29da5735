"""What a peer educator's SMS keywords do, on the cases she is allowed to work."""

from __future__ import annotations

import re
from collections.abc import Callable

from hotline.models import Role
from hotline.services import cases, groups, meetings, monitoring, voice
from hotline.services.cases import Actor, CaseError
from hotline.services.commands import member
from hotline.services.commands.context import Ctx
from hotline.templates import OUTCOME_WORDS
from hotline.text import unaccent


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


def action(example: str, do: Callable[[Ctx, object, Actor], str | None]):
    """A handler for a command on one case: ``do`` acts and names the reply."""
    def run(ctx: Ctx) -> None:
        case = _case_for_worker(ctx, example)
        if case is None:
            return
        try:
            key_values = do(ctx, case, Actor(person=ctx.person))
        except CaseError:
            ctx.reply("pe_refused", number=case.number)
            return
        if key_values:
            key, values = key_values
            ctx.reply(key, number=case.number, **values)

    return run


def accept(ctx, case, actor):
    cases.accept(ctx.session, ctx.now, ctx.outbox, case, actor)
    return "pe_accepted", {"phone": case.person.phone if case.person else "-"}


def note(ctx, case, actor):
    if not ctx.cmd.text.strip():
        return "pe_need_number", {"example": f"GHI {case.number} da goi dien"}
    cases.add_note(ctx.session, ctx.now, case, actor, ctx.cmd.text)
    return "pe_noted", {}


def refer(ctx, case, actor):
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


def outcome(ctx, case, actor):
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


def resolve(ctx, case, actor):
    cases.resolve(ctx.session, ctx.now, ctx.outbox, case, actor, note=ctx.cmd.text)
    return "pe_resolved", {}


def give_back(ctx, case, actor):
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
    group_ids = cases.groups_led_by(ctx.session, ctx.person)
    meeting = meetings.latest_held(ctx.session, group_ids, ctx.now) if group_ids else None
    if meeting is None:
        ctx.reply("attendance_none")
        return
    values = groups.meeting_values(meeting)
    numbers = {int(n) for n in re.findall(r"\d+", ctx.cmd.text)}
    if not numbers:
        roll = meetings.roll(ctx.session, meeting.group_id)
        names = ", ".join(f"{i} {unaccent(p.call_name) or '?'}"
                          for i, p in enumerate(roll, start=1))
        ctx.reply("attendance_list", group=values["group"], when=values["when"][-5:],
                  names=names if len(names) <= 80 else names[:76].rsplit(",", 1)[0] + " ...")
        return
    count = meetings.take_attendance(ctx.session, ctx.now, meeting, numbers)
    ctx.reply("attendance_saved", count=count, group=values["group"], when=values["when"][-5:])


def minutes(ctx: Ctx) -> None:
    """BB 12 BHYT TAMTRU [note]: short minutes of the latest meeting of her group."""
    if ctx.person.role not in (Role.PEER_EDUCATOR, Role.COORDINATOR):
        member.free_text(ctx)  # a member's "bb ..." is a message for a person, not a command
        return
    key, values = voice.minutes_by_sms(ctx.session, ctx.now, ctx.person,
                                       cases.groups_led_by(ctx.session, ctx.person),
                                       ctx.cmd.text)
    ctx.reply(key, **values)
