"""The member's SMS commands by keypad, core half: next meeting and RSVP (HOP, CO/KHONG),
opt-out (HUY), the erase request (XOA) and joining a group (DK with a code), each the same
rule the SMS command follows.

Registered like the other voice actions (``hotline.services.voice_actions``); what the caller
hears is ``ivr.actions``. Each writes only on the step's first request (``result.created``).
"""

from __future__ import annotations

from hotline import clock
from hotline.models import Message
from hotline.services import calls, groups, inbound, outbox, people
from hotline.services.voice_actions import (
    FAILED,
    ActionContext,
    VoiceAction,
    register,
)

CHANNEL = calls.CHANNEL
# Groups read out at once for her to pick by number: no menu reads more than four choices.
# The ward's list is read a page of four at a time ('#' the next page), up to GROUP_PAGES
# pages; past the last page with groups it starts again from the first.
MAX_GROUPS_READ = 4
GROUP_PAGES = 5
ERASE_BODY = "XOA (qua điện thoại: bấm phím trong tổng đài)"


def _next_meeting(ctx: ActionContext):
    """The caller's group's next meeting; None (the action FAILED) when there is none."""
    found = groups.next_meeting(ctx.session, ctx.person, ctx.now)
    if found is None:
        ctx.result.outcome = FAILED
    return found


@register
class NextMeeting(VoiceAction):
    """HOP: when and where her group meets next (``result.meeting_at``, Hanoi time, and
    ``result.meeting_place``); FAILED: none."""

    name = "next_meeting"

    def run(self, ctx: ActionContext) -> None:
        found = _next_meeting(ctx)
        if found is None:
            return
        ctx.result.meeting_at = clock.local(found.starts_at)
        ctx.result.meeting_place = (found.place or "").strip()


@register
class Rsvp(VoiceAction):
    """CO / KHONG to the next meeting: recorded on the meeting as the SMS RSVP is."""

    name = "rsvp"

    def run(self, ctx: ActionContext) -> None:
        found = _next_meeting(ctx)
        if found is None:
            return
        if ctx.result.created:
            groups.rsvp(ctx.session, ctx.now, ctx.person, found.id,
                        attending=ctx.args.get("answer") == "yes")


@register
class OptOut(VoiceAction):
    """HUY: no more texts or calls, at once; anyone may ask (no consent needed)."""

    name = "opt_out"
    needs_consent, needs_person = False, True

    def run(self, ctx: ActionContext) -> None:
        if ctx.result.created:
            outbox.opt_out(ctx.session, ctx.person, ctx.now)
            people.clear_pending(ctx.person)
            people.record_withdrawal(ctx.session, ctx.now, ctx.person, channel=CHANNEL)


@register
class EraseRequest(VoiceAction):
    """XOA: a request for staff to erase her data, in the triage inbox beside the texted
    ones (an inbound line marked handled, so no SMS answers it: she heard the answer)."""

    name = "erase_request"
    needs_consent, needs_person = False, True

    def run(self, ctx: ActionContext) -> None:
        if not ctx.result.created:
            return
        msg_id, created = inbound.store(
            ctx.session, ctx.now, gateway=ctx.call.gateway,
            external_id=f"{ctx.call.external_id}:xoa"[:64], sender=ctx.call.phone,
            body=ERASE_BODY,
        )
        if created:
            msg = ctx.session.get(Message, msg_id)
            msg.person_id, msg.command, msg.needs_staff = ctx.person.id, "XOA", True
            msg.handled_at = ctx.now


def _page(ctx: ActionContext, page: int) -> list:
    """Page ``page`` of her groups, and one more to tell whether another page follows."""
    return groups.offered(ctx.session, ctx.person, MAX_GROUPS_READ + 1,
                          offset=page * MAX_GROUPS_READ)


@register
class ListGroups(VoiceAction):
    """A page of the groups she may join by keypad (``groups.offered``), four names to be
    read (``result.group_names``), the page read (``result.group_page``: the first again
    when the one asked for has none) and whether another follows (``result.more_groups``)."""

    name = "list_groups"

    def run(self, ctx: ActionContext) -> None:
        page = ctx.args.get("page", 0)
        page = page if isinstance(page, int) and 0 <= page < GROUP_PAGES else 0
        offered = _page(ctx, page)
        if not offered and page:  # past the end: from the start again
            page, offered = 0, _page(ctx, 0)
        if not offered:
            ctx.result.outcome = FAILED
        ctx.result.group_page = page
        ctx.result.group_names = [g.name for g in offered[:MAX_GROUPS_READ]]
        ctx.result.more_groups = len(offered) > MAX_GROUPS_READ and page + 1 < GROUP_PAGES


@register
class JoinGroup(VoiceAction):
    """DK with a group code, by keypad: the group at ``position`` of the list read (1..4 on
    the first page, 5..8 on the second, ...)."""

    name = "join_group"

    def run(self, ctx: ActionContext) -> None:
        position = ctx.args.get("position")
        if not isinstance(position, int) or position < 1:
            ctx.result.outcome = FAILED
            return
        offered = groups.offered(ctx.session, ctx.person, 1, offset=position - 1)
        if not offered:
            ctx.result.outcome = FAILED
            return
        group = offered[0]
        ctx.result.group_names = [group.name]
        if ctx.result.created:
            groups.join(ctx.session, ctx.now, ctx.person, group)


@register
class ChooseChannel(VoiceAction):
    """NGHE / TIN / CAHAI by keypad: how she is told (``channel``: sms, voice or both)."""

    name = "notify_channel"

    def run(self, ctx: ActionContext) -> None:
        if ctx.result.created:
            people.set_notify_channel(ctx.session, ctx.now, ctx.person,
                                      str(ctx.args.get("channel")), source=CHANNEL)
