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
MAX_GROUPS_READ = 4
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


@register
class ListGroups(VoiceAction):
    """The groups she may join by keypad (``groups.offered``), their names to be read."""

    name = "list_groups"

    def run(self, ctx: ActionContext) -> None:
        offered = groups.offered(ctx.session, ctx.person, MAX_GROUPS_READ)
        if not offered:
            ctx.result.outcome = FAILED
        ctx.result.group_names = [g.name for g in offered]


@register
class JoinGroup(VoiceAction):
    """DK with a group code, by keypad: the group at ``position`` of the list just read."""

    name = "join_group"

    def run(self, ctx: ActionContext) -> None:
        offered = groups.offered(ctx.session, ctx.person, MAX_GROUPS_READ)
        position = ctx.args.get("position")
        if not isinstance(position, int) or not 1 <= position <= len(offered):
            ctx.result.outcome = FAILED
            return
        group = offered[position - 1]
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
