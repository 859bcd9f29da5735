"""The values the models' status, role and kind columns take, with the sets derived from them.

One module for all of them, grouped by the model module whose tables use them; each state
enum draws its lifecycle in its docstring. ``hotline.models`` re-exports every name.
"""

from enum import IntEnum, StrEnum

# People (``hotline.models.people``) ---------------------------------------------------------------


class Role(StrEnum):
    """A person's part on the line (a console login has its own ``StaffRole``)."""

    MEMBER = "member"
    PEER_EDUCATOR = "peer_educator"
    COORDINATOR = "coordinator"


class Sex(StrEnum):
    """As she gives it; ``X`` for anything else."""

    FEMALE = "F"
    MALE = "M"
    OTHER = "X"


class Residence(StrEnum):
    """Her residence registration where she lives now (thường trú, tạm trú, none), or not
    known; it gates insurance and schools."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    NONE = "none"
    UNKNOWN = "unknown"


class NotifyChannel(StrEnum):
    """How the line tells a person about her case and meetings: by SMS (the default), by a
    voice call (for those who cannot read an unaccented SMS; the SMS is stored, not sent,
    and goes as the fallback when the calls fail), or both."""

    SMS = "sms"
    VOICE = "voice"
    BOTH = "both"


# Groups, meetings and broadcasts (``hotline.models.groups``) --------------------------------------


class GroupRole(StrEnum):
    """A person's part in one group (``Membership.role``)."""

    MEMBER = "member"
    LEADER = "leader"
    DEPUTY = "deputy"
    SECRETARY = "secretary"
    PEER_EDUCATOR = "peer_educator"


class MeetingStatus(StrEnum):
    """A meeting::

        scheduled --> held (attendance taken once it began, or its minutes written)
            +-------> cancelled

    A move keeps ``scheduled`` with a new time (and a new ``Meeting.version``).
    """

    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class ReminderStatus(StrEnum):
    """A reminder moment of one meeting::

        pending --> sent
           +------> skipped (the meeting changed, or its moment passed beyond the grace window)
           +------> cancelled (the meeting moved or was cancelled: new moments replace it)
    """

    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class BroadcastStatus(StrEnum):
    """A broadcast::

        draft --> scheduled --> sent (its messages queued)
                      +-------> cancelled
    """

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


# Cases (``hotline.models.cases``) -----------------------------------------------------------------


class CaseStatus(StrEnum):
    """Life of a case::

        new --> acknowledged --> in_progress --> resolved --> (follow-up "no") --> in_progress
         |            |              |  ^            |
         |            |              v  |            +--> closed (follow-up yes / unanswered)
         |            +--------> referred
         +--> closed_unresolved | lost_contact (from any open state)
    """

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    REFERRED = "referred"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CLOSED_UNRESOLVED = "closed_unresolved"
    LOST_CONTACT = "lost_contact"


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.REFERRED,
)


# Messages (``hotline.models.messages``) -----------------------------------------------------------


class Direction(StrEnum):
    """Of a message and of a call: ``in`` reached the line, ``out`` the line sent or placed."""

    IN = "in"
    OUT = "out"

    @classmethod
    def from_twilio(cls, value: str) -> "Direction":
        """Twilio's ``Direction`` field: ``inbound``, or ``outbound-api`` / ``outbound-dial``."""
        return cls.OUT if value.startswith("outbound") else cls.IN


class MessageStatus(StrEnum):
    """Outbound::

        queued --> sending --> sent --> delivered
          ^  |        |          +----> undelivered
          |  |        +--(transient error)--> queued (due_at = backoff)
          |  |        +--(permanent error)--> failed
          |  +--> cancelled (opted out / erased before sending)

    Provider status callbacks only move a message forward (see ``STATUS_RANK``).
    Inbound messages are ``received``; ``handled_at`` marks them processed.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECEIVED = "received"


STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.CANCELLED: 3,
}
TERMINAL = frozenset(s for s, rank in STATUS_RANK.items() if rank == 3)


class Kind(StrEnum):
    """Why a message goes out; decides quiet hours and the daily cap.

    ``reply`` answers something the person just sent, ``urgent`` is an emergency:
    both go at once. ``normal`` (alerts, reminders, follow-ups, broadcasts) keeps
    quiet hours and counts towards the daily cap.
    """

    REPLY = "reply"
    URGENT = "urgent"
    NORMAL = "normal"


class Lane(IntEnum):
    """The outbox's priority lanes, sent in this order within each gateway's rate
    (ARCHITECTURE rule 8): a lower number always goes first, so a broadcast never holds up
    an answer. Set by whoever enqueues; ``Lane.for_kind`` is the default for a kind."""

    EMERGENCY = 0  # danger: alerts and answers of an emergency
    REPLY = 1  # answers to what a person just sent (SMS command, call, staff answer)
    ALERT = 2  # case alerts to peer educators and coordinators
    REMINDER = 3  # meeting reminders, case follow-ups, renewals, member updates
    BROADCAST = 4  # a group broadcast

    @classmethod
    def for_kind(cls, kind: str) -> "Lane":
        return {Kind.URGENT: cls.EMERGENCY, Kind.REPLY: cls.REPLY}.get(kind, cls.REMINDER)


class NotSent(StrEnum):
    """Why an outbound message did not go when it was queued: held until later, or never sent.
    Every such decision is kept on the message row (``Message.hold_reason``), so staff see it
    on the person's and the case's timeline and counted on the dashboard."""

    QUIET_HOURS = "quiet_hours"  # held until the morning
    DAILY_CAP = "daily_cap"  # held until a day with room under the cap
    SAFE_WINDOW = "safe_window"  # held until the person's safe-contact hours
    FLOOD = "flood"  # an automatic reply over the hourly limit; the text went to triage
    OPTED_OUT = "opted_out"
    ERASED = "erased"
    EXPIRED = "expired"  # it could only have arrived after it mattered
    DUPLICATE = "duplicate"  # other words under a key already used
    CHANGED = "changed"  # what it announced changed (a meeting moved or cancelled)
    # Her notices come by voice call (``notify_channel`` voice): the SMS is kept, not sent,
    # and goes after all only if the calls fail (then ``voice_failed``).
    VOICE_INSTEAD = "voice_instead"
    VOICE_FAILED = "voice_failed"  # sent late: the calls that stood for it were not answered


# Reasons after which the message is never sent (the others only hold it).
NEVER_SENT = frozenset({NotSent.FLOOD, NotSent.OPTED_OUT, NotSent.ERASED, NotSent.EXPIRED,
                        NotSent.DUPLICATE, NotSent.CHANGED})


# Calls, recordings and callbacks (``hotline.models.calls``) ---------------------------------------


class CallStatus(StrEnum):
    """Twilio's ``CallStatus`` values, stored as Twilio sends them::

        queued --> initiated --> ringing --> in-progress --> completed
                                    |
                                    +--> busy | no-answer | failed | canceled
        (inbound) ringing --> rejected  (a missed call: refused unanswered, called back)

    Status callbacks may come late or out of order: a call only moves forward (see
    ``services.calls.CALL_RANK``), and the first final status sets ``Call.outcome`` once.
    """

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    REJECTED = "rejected"


FINAL_CALL_STATUSES = frozenset({CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER,
                                 CallStatus.FAILED, CallStatus.CANCELED, CallStatus.REJECTED})
MISSED = "missed"  # Call.outcome of a missed call (its status is rejected)


class RecordingStatus(StrEnum):
    """Twilio's ``RecordingStatus``::

        in-progress --> completed | absent (nothing was said) | failed

    Only a completed recording of at least a second opens a case.
    """

    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    ABSENT = "absent"
    FAILED = "failed"


class RecordingPurpose(StrEnum):
    COMPLAINT = "complaint"  # a spoken complaint or voicemail: it has its case
    NAME = "name"  # her name, said after registering by keypad, for staff to type in


class CallbackStatus(StrEnum):
    """A call the line owes::

        queued --> calling --> done (answered)
          |           +--(not answered)--> queued (again after 15, 30, 60 min)
          |           +--(the last try, or it cannot be placed)--> given_up
          +--> given_up (she was erased, or a voice notice is no longer to be called)
    """

    QUEUED = "queued"
    CALLING = "calling"
    DONE = "done"
    GIVEN_UP = "given_up"


# Console logins (``hotline.models.staff``) --------------------------------------------------------


class StaffRole(StrEnum):
    """What a console login may do; a peer educator's login also names her ``Person``."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PEER_EDUCATOR = "peer_educator"
    VIEWER = "viewer"
