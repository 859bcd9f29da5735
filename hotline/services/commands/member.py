"""What a member's SMS keywords do: one small function per command, calling services.

The yes/no answers (``CO``, ``KHONG``, ``1``, ``2``) mean what the question pending on the
person asked (consent, a meeting RSVP, a case follow-up), until it expires.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline import clock, figures
from hotline.models import NotifyChannel
from hotline.services import calls, cases, groups, monitoring, outbox, people
from hotline.services.commands.context import Ctx
from hotline.services.outbox import Outbox
from hotline.templates import render

FOLLOWUP_YES, FOLLOWUP_NO = 1, 2
# After a referral the follow-up offers a third answer: the service could not be reached.
FOLLOWUP_UNREACHABLE = 3


def opt_out(ctx: Ctx) -> None:
    """HUY and its synonyms: stop at once, always, whatever else is pending."""
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


def _pending_kind(ctx: Ctx) -> str | None:
    """What the member's yes or no answers (None when nothing or it expired)."""
    person = ctx.person
    return None if people.pending_expired(person, ctx.now) else person.pending_kind


def _rsvp(ctx: Ctx, attending: bool) -> None:
    groups.rsvp(ctx.session, ctx.now, ctx.person, ctx.person.pending_ref, attending=attending)
    people.clear_pending(ctx.person)
    ctx.reply("rsvp_yes" if attending else "rsvp_no")


def say_no(ctx: Ctx) -> None:
    person, kind = ctx.person, _pending_kind(ctx)
    if kind == "consent":
        people.answer_consent(ctx.session, ctx.now, person, purpose="register", granted=False)
        people.clear_pending(person)
        people.keep_only_the_minimum(ctx.session, ctx.now, person)
        ctx.reply("consent_refused")
    elif kind == "rsvp":
        _rsvp(ctx, attending=False)
    elif kind == "followup":
        _followup(ctx, FOLLOWUP_NO)
    else:
        ctx.reply("no_pending")


def say_yes(ctx: Ctx) -> None:
    kind = _pending_kind(ctx)
    if kind == "rsvp":
        _rsvp(ctx, attending=True)
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
        member_chose=ctx.cmd.category is not None,
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
        # The figures valid today (hotline.figures), the same the voice menu reads.
        ctx.reply(key, **figures.sms_values(clock.local(ctx.now).date()))

    return answer


CHANNEL_REPLIES = {NotifyChannel.VOICE: "channel_voice", NotifyChannel.SMS: "channel_sms",
                   NotifyChannel.BOTH: "channel_both"}


def notify_by(channel: NotifyChannel) -> Callable[[Ctx], None]:
    """NGHE / TIN / CAHAI: her notices (case news, reminders) by call, by SMS or both."""
    def choose(ctx: Ctx) -> None:
        people.set_notify_channel(ctx.session, ctx.now, ctx.person, channel, source="sms")
        ctx.reply(CHANNEL_REPLIES[channel])

    return choose


def erase(ctx: Ctx) -> None:
    ctx.msg.needs_staff = True
    ctx.reply("erase_requested")


def help_(ctx: Ctx) -> None:
    """HD: the commands, how to be told by call, then the numbers after KN (one SMS is too
    short for all three)."""
    ctx.reply("help")
    ctx.reply("help_channel")
    ctx.reply("help_categories")


def free_text(ctx: Ctx) -> None:
    """Free text, a story, an unknown keyword: a person reads it; one kind answer a day."""
    ctx.msg.needs_staff = True
    ctx.reply("free_text", once_per_day=True)


def empty(ctx: Ctx) -> None:
    ctx.reply("not_understood", once_per_day=True)

