"""What every SMS command handler is given: the message, its sender, the parsed command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.models import Message, Person
from hotline.parser import Command
from hotline.services import replies
from hotline.services.outbox import Outbox


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
        return replies.reply(self.session, self.now, self.outbox, self.msg, self.person, key,
                             hotline_number=self.settings.hotline_number,
                             once_per_day=once_per_day, **values)
