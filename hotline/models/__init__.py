"""All models, imported here so ``Base.metadata`` knows every table; the values their
columns take (``enums``) are re-exported with them."""

from hotline.categories import Category
from hotline.models.calls import Call, CallbackRequest, CallStep, Recording
from hotline.models.cases import CASE_NUMBER_OFFSET, Case, CaseEvent, Provider, Referral
from hotline.models.devices import DeliveryReport, GatewayDevice
from hotline.models.enums import (
    FINAL_CALL_STATUSES,
    MISSED,
    OPEN_STATUSES,
    STATUS_RANK,
    TERMINAL,
    BroadcastStatus,
    CallbackStatus,
    CallStatus,
    CaseStatus,
    Direction,
    GroupRole,
    Kind,
    Lane,
    MeetingStatus,
    MessageStatus,
    NotifyChannel,
    NotSent,
    RecordingPurpose,
    RecordingStatus,
    ReminderStatus,
    Residence,
    Role,
    Sex,
    StaffRole,
)
from hotline.models.groups import (
    Attendance,
    Broadcast,
    Group,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    Membership,
)
from hotline.models.messages import Message
from hotline.models.people import Consent, Person, PersonPhone
from hotline.models.staff import AuditLog, JobFailure, LoginThrottle, SchedulerState, StaffUser
from hotline.models.voice import (
    AdvocacyStep,
    CollectiveIssue,
    Forum,
    MeetingMinutes,
    PressItem,
)

__all__ = [
    "Category",
    "AdvocacyStep", "CollectiveIssue", "Forum", "MeetingMinutes", "PressItem",
    "Attendance", "AuditLog", "Broadcast", "BroadcastStatus", "MeetingReminder",
    "MeetingSeries", "ReminderStatus", "CASE_NUMBER_OFFSET", "Call", "CallStep", "CallbackRequest",
    "CallbackStatus", "CallStatus", "FINAL_CALL_STATUSES", "MISSED", "RecordingStatus",
    "Case", "CaseEvent", "CaseStatus", "Consent", "DeliveryReport",
    "Direction", "GatewayDevice", "Group", "Lane",
    "GroupRole", "Kind", "Meeting", "MeetingStatus", "Membership", "Message", "MessageStatus",
    "NotSent", "NotifyChannel",
    "OPEN_STATUSES", "Person", "PersonPhone", "Provider", "Recording", "RecordingPurpose",
    "Referral", "Residence",
    "JobFailure", "LoginThrottle", "Role", "STATUS_RANK", "SchedulerState", "Sex", "StaffRole",
    "StaffUser", "TERMINAL",
]
