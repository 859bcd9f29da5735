"""What each SMS keyword does: the member and peer-educator commands (``member``,
``worker``), dispatched from one table.

``handle`` is called once per stored inbound message (duplicates never get here; see
``hotline.services.inbound.handle_pending``). Replies go through the outbox as
``Kind.REPLY`` (``hotline.services.replies``: capped per number and hour), and none to
service senders or the line's own number, so two machines can never text each other forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from hotline import danger
from hotline.models import Message, NotifyChannel, Role
from hotline.parser import parse
from hotline.phones import is_service_sender, mask
from hotline.services import emergency
from hotline.services.commands import member, worker
from hotline.services.commands.context import Ctx
from hotline.services.outbox import Outbox

log = logging.getLogger(__name__)

# Commands peer educators work cases with.
WORKER_COMMANDS = frozenset({"NHAN", "GHI", "CHUYEN", "XONG", "TRA", "DS", "DD", "KQ", "BB"})


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
    # A peer educator's note on a case she works ("GHI 1024 chong danh chi ay") tells of
    # someone else's danger, which is already a case: only her own words raise it.
    words = [] if cmd.name in WORKER_COMMANDS and person.role != Role.MEMBER \
        else danger.detect(msg.body)
    if words:  # whatever else the text says, and whoever sent it: the emergency path
        emergency.from_text(session, now, ctx.outbox, msg, person, words, category=cmd.category)
        if cmd.name == "HUY":  # opt-out still holds; the safety reply still goes
            member.opt_out(ctx)
    else:
        HANDLERS.get(cmd.name, member.free_text)(ctx)
    session.flush()


HANDLERS: dict[str, Callable[[Ctx], None]] = {
    "HUY": member.opt_out,
    "DK": member.register,
    "DONGY": member.agree,
    "KHONG": member.say_no,
    "CO": member.say_yes,
    "CHOICE": member.choice,
    "KN": member.complain,
    "CG": member.complain,
    "TT": member.status,
    "GOI": member.callback,
    "HOP": member.meeting,
    "NGHE": member.notify_by(NotifyChannel.VOICE),
    "TIN": member.notify_by(NotifyChannel.SMS),
    "CAHAI": member.notify_by(NotifyChannel.BOTH),
    "BHYT": member.info("info_bhyt"),
    "BHXH": member.info("info_bhxh"),
    "TAMTRU": member.info("info_tamtru"),
    "PHAPLY": member.info("info_phaply"),
    "TRATTU": member.info("info_trattu"),
    "BINHDANG": member.info("info_binhdang"),
    "ANTOAN": member.info("info_antoan"),
    "XOA": member.erase,
    "HD": member.help_,
    "EMPTY": member.empty,
    "TEXT": member.free_text,
    "NHAN": worker.action("NHAN 1024", worker.accept),
    "GHI": worker.action("GHI 1024 da goi dien", worker.note),
    "CHUYEN": worker.action("CHUYEN 1024 LUAT", worker.refer),
    "XONG": worker.action("XONG 1024", worker.resolve),
    "TRA": worker.action("TRA 1024", worker.give_back),
    "DS": worker.my_cases,
    "DD": worker.attendance,
    "KQ": worker.action("KQ 1024 2", worker.outcome),
    "BB": worker.minutes,
}
