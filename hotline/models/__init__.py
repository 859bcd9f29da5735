"""All models, imported here so ``Base.metadata`` knows every table."""

from hotline.categories import Category
from hotline.models.calls import (
    FINAL_CALL_STATUSES,
    MISSED,
    Call,
    CallbackRequest,
    CallbackStatus,
    CallStatus,
    CallStep,
    Recording,
    RecordingPurpose,
    RecordingStatus,
)
from hotline.models.cases import (
    CASE_NUMBER_OFFSET,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    Provider,
    Referral,
)
from hotline.models.devices import DeliveryReport, GatewayDevice
from hotline.models.groups import (
    Attendance,
    Broadcast,
    BroadcastStatus,
    Group,
    GroupRole,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    MeetingStatus,
    Membership,
    ReminderStatus,
)
from hotline.models.messages import (
    STATUS_RANK,
    TERMINAL,
    Direction,
    Kind,
    Lane,
    Message,
    MessageStatus,
    NotSent,
)
from hotline.models.people import (
    Consent,
    NotifyChannel,
    Person,
    PersonPhone,
    Residence,
    Role,
    Sex,
)
from hotline.models.staff import (
    AuditLog,
    JobFailure,
    LoginThrottle,
    SchedulerState,
    StaffRole,
    StaffUser,
)
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
