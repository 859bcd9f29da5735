"""Words the console shows for codes: case categories, statuses, roles, channels."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

CATEGORIES = {
    1: _l("Urban order: fines, goods seized, chases"),
    2: _l("Harassment, theft, extortion"),
    3: _l("Violence: domestic, gender-based, sexual"),
    4: _l("Payment or cheating disputes"),
    5: _l("Health insurance (BHYT)"),
    6: _l("Voluntary social insurance (BHXH)"),
    7: _l("Residence registration"),
    8: _l("Children: school, child protection"),
    9: _l("Health, reproductive health"),
    10: _l("Legal aid and papers"),
    11: _l("Housing, landlord"),
    12: _l("Other"),
}

STATUSES = {
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress"),
    "referred": _l("Referred"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "closed_unresolved": _l("Closed, unresolved"),
    "lost_contact": _l("Lost contact"),
}

STAFF_ROLES = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "peer_educator": _l("Peer educator"),
    "viewer": _l("Viewer"),
}

PERSON_ROLES = {
    "member": _l("Member"),
    "peer_educator": _l("Peer educator"),
    "coordinator": _l("Coordinator"),
}

GROUP_ROLES = {
    "member": _l("Member"),
    "leader": _l("Leader"),
    "deputy": _l("Deputy"),
    "secretary": _l("Secretary"),
    "peer_educator": _l("Peer educator"),
}

SEXES = {"F": _l("Female"), "M": _l("Male"), "X": _l("Other")}

CHANNELS = {"sms": _l("SMS"), "voice": _l("Voice"), "console": _l("Console"),
            "ivr": _l("Voice")}

# How a person is told (``Person.notify_channel``).
NOTIFY_CHANNELS = {"sms": _l("By SMS"), "voice": _l("By voice call"),
                   "both": _l("By SMS and voice call")}

MESSAGE_STATUSES = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Undelivered"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
    "received": _l("Received"),
}

# Why a message did not go when it was queued (``hotline.models.NotSent``).
NOT_SENT = {
    "quiet_hours": _l("Held: quiet hours"),
    "daily_cap": _l("Held: daily cap"),
    "safe_window": _l("Held: safe-contact hours"),
    "flood": _l("Not sent: too many automatic replies this hour (text sent to triage)"),
    "opted_out": _l("Not sent: opted out"),
    "erased": _l("Not sent: data erased"),
    "expired": _l("Not sent: too late to matter"),
    "duplicate": _l("Not sent: already said under the same key"),
    "changed": _l("Not sent: the meeting changed"),
    "voice_instead": _l("Not sent: told by a voice call instead"),
    "voice_failed": _l("Sent late: the voice calls were not answered"),
}

# Where a meeting notice stands for a member told by call (``hotline.queries.notsent``).
REMINDED_BY_CALL = {
    "call_pending": _l("Reminder call pending (not answered yet)"),
    "by_call": _l("Reminded by a call"),
    "on_machine": _l("Reminder left on an answering machine"),
    "call_failed_sms": _l("Calls not answered; the SMS was sent instead"),
    "call_failed": _l("Not reminded: the calls were given up and no SMS went"),
    "no_call": _l("Not reminded: her number cannot be called"),
}

RESIDENCE = {
    "permanent": _l("Permanent"),
    "temporary": _l("Temporary"),
    "none": _l("None"),
    "unknown": _l("Unknown"),
}

OCCUPATIONS = {"vendor": _l("Street vendor"), "scrap": _l("Scrap collector"),
               "other": _l("Other")}

MEETING_STATUSES = {"scheduled": _l("Scheduled"), "held": _l("Held"),
                    "cancelled": _l("Cancelled")}

RSVP = {"yes": _l("Coming"), "no": _l("Not coming")}

# Weekday 0 = Monday, as in Python and in a series rule.
WEEKDAYS = {0: _l("Monday"), 1: _l("Tuesday"), 2: _l("Wednesday"), 3: _l("Thursday"),
            4: _l("Friday"), 5: _l("Saturday"), 6: _l("Sunday")}
NTH = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"), -1: _l("last")}


def series_rule(rule: str) -> str:
    """A series rule in words: "monthly:2:6" is "Chủ nhật thứ hai hằng tháng" (the second
    Sunday of every month), "weekly:5" is "Thứ Bảy hằng tuần"."""
    kind, _, rest = (rule or "").partition(":")
    try:
        args = [int(a) for a in rest.split(":")]
        if kind == "weekly" and len(args) == 1:
            text = gettext("every %(weekday)s", weekday=WEEKDAYS[args[0]])
        elif kind == "monthly" and len(args) == 2:
            text = gettext("the %(nth)s %(weekday)s of every month", nth=NTH[args[0]],
                           weekday=WEEKDAYS[args[1]])
        else:
            return rule
    except (KeyError, ValueError):
        return rule
    return text[:1].upper() + text[1:]

EVENTS = {
    "created": _l("Case opened"),
    "assigned": _l("Assigned"),
    "alerted": _l("Alert sent"),
    "accepted": _l("Accepted"),
    "note": _l("Note"),
    "referred": _l("Referred"),
    "resolved": _l("Resolved"),
    "returned": _l("Given back"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "escalated": _l("Escalated"),
    "recategorized": _l("Category changed"),
    "followup": _l("Follow-up answer"),
    "followup_asked": _l("Follow-up asked"),
    "followup_unanswered": _l("Follow-up unanswered"),
    "escalation_exhausted": _l("Nobody took it: escalation stopped"),
    "danger": _l("Words of danger: emergency path"),
    "alert_call": _l("Alert call placed"),
    "accepted_by_call": _l("Accepted on the alert call"),
    "no_responder": _l("Nobody on call to alert"),
    "emergency_marked": _l("Marked as an emergency"),
    "moved_from": _l("Taken from"),
    "reminded": _l("Reminder sent"),
    "recording": _l("Recording"),
    "referral_outcome": _l("Referral outcome"),
    "referral_answer": _l("Member's answer on the referral"),
    "recording_removed": _l("Recording removed (retention)"),
}

OUTCOMES = {"reached": _l("Reached the provider"), "helped": _l("Helped"),
            "not_helped": _l("Not helped"), "unreachable": _l("Could not reach")}
# The brief's provider lines also count what has no outcome yet, and the whole.
REFERRAL_FIGURES = {**OUTCOMES, "pending": _l("No outcome yet"), "referrals": _l("Referrals")}
OUTCOME_SOURCES = {"peer": _l("peer educator"), "staff": _l("console"), "member": _l("member")}

CONSENT_ANSWERS = {"granted": _l("Granted"), "refused": _l("Refused"),
                   "withdrawn": _l("Withdrawn")}


def label(table: dict, code) -> str:
    """The label for ``code`` in ``table``; the code itself when unknown; a dash for none."""
    if code is None or code == "":
        return "–"
    return str(table.get(code, code))


DIMENSIONS = {
    "sex": _l("Sex"),
    "age_band": _l("Age band"),
    "occupation": _l("Occupation"),
    "ward_old": _l("Old ward"),
    "ward_current": _l("Current ward"),
    "home_province": _l("Home province"),
    "channel": _l("Channel"),
    "group": _l("Self-help group"),
}

INDICATORS = {
    "members": _l("Registered members (end of period)"),
    "new_members": _l("New members"),
    "groups": _l("Active self-help groups"),
    "meetings_held": _l("Meetings held"),
    "attendances": _l("Attendances at meetings"),
    "calls": _l("Calls to the line"),
    "texts": _l("Texts to the line"),
    "cases": _l("Cases opened"),
    "emergencies": _l("Emergency cases"),
    "hours_to_first_response": _l("Median hours to first response"),
    "hours_to_resolution": _l("Median hours to resolution"),
    "pe_response_hours": _l("Median peer-educator response (hours)"),
    "referrals": _l("Referrals made"),
    "referrals_completed": _l("Referrals completed"),
    "followups_answered": _l("Follow-ups answered"),
    "satisfied": _l("Members satisfied at follow-up"),
    "satisfaction_share": _l("Satisfied at follow-up (%)"),
}

GROUP_VALUES = {"unknown": _l("Unknown"), "n/a": _l("Not applicable"), **SEXES,
                **OCCUPATIONS, **CHANNELS}

BROADCAST_STATUSES = {"draft": _l("Draft"), "scheduled": _l("Scheduled"), "sent": _l("Sent"),
                      "cancelled": _l("Cancelled")}

TOPICS = {"TTDT": _l("Urban-order rights"), "BHYT": _l("Health insurance (BHYT)"),
          "BHXH": _l("Social insurance (BHXH)"), "TAMTRU": _l("Residence"),
          "GIOI": _l("Gender"), "ANTOAN": _l("Violence and safety"), "PHAPLY": _l("Legal aid"),
          "KHAC": _l("Other")}
ISSUE_STATUSES = {"open": _l("Open"), "forum": _l("Raised at a forum"),
                  "letter": _l("Letter to the ward People's Committee"),
                  "answer": _l("Answer received"), "resolved": _l("Resolved"),
                  "no_change": _l("No change")}
PARTICIPANTS = {"authority": _l("Authorities"), "agency": _l("Agencies"), "media": _l("Media"),
                "organisation": _l("Organisations"), "member": _l("Members")}
TONES = {"positive": _l("Positive"), "neutral": _l("Neutral"), "negative": _l("Negative")}
MINUTES_SOURCES = {"console": _l("Console"), "sms": _l("SMS")}
BRIEF_SEXES = {"F": _l("Female"), "M": _l("Male"), "other": _l("Other or unknown")}

# The audit log: what was done, to what kind of thing, and the names of its details.
AUDIT_ACTIONS = {
    "login": _l("Signed in"),
    "login_failed": _l("Sign-in failed"),
    "login_locked": _l("Sign-in locked"),
    "logout": _l("Signed out"),
    "set_locale": _l("Changed the language"),
    "read_sensitive": _l("Read a sensitive case"),
    "case_accept": _l("Accepted a case"),
    "case_note": _l("Added a note"),
    "case_assign": _l("Assigned a case"),
    "case_refer": _l("Referred a case"),
    "case_outcome": _l("Recorded a referral outcome"),
    "case_resolve": _l("Resolved a case"),
    "case_reopen": _l("Reopened a case"),
    "case_close": _l("Closed a case"),
    "case_category": _l("Changed a case's category"),
    "case_give_back": _l("Gave a case back"),
    "triage_case": _l("Opened a case from a text"),
    "triage_answer": _l("Answered a text"),
    "triage_done": _l("Filed a text"),
    "person_edit": _l("Edited a person"),
    "person_merge": _l("Merged two records"),
    "person_erase": _l("Erased a person's data"),
    "group_save": _l("Saved a group"),
    "member_add": _l("Added a member to a group"),
    "member_leave": _l("Took a member out of a group"),
    "meeting_add": _l("Scheduled a meeting"),
    "meeting_move": _l("Moved a meeting"),
    "meeting_cancel": _l("Cancelled a meeting"),
    "series_add": _l("Scheduled recurring meetings"),
    "series_stop": _l("Stopped recurring meetings"),
    "attendance": _l("Recorded attendance"),
    "broadcast": _l("Sent a broadcast"),
    "broadcast_cancel": _l("Cancelled a broadcast"),
    "prompt_upload": _l("Uploaded a prompt recording"),
    "prompt_remove": _l("Removed a prompt recording"),
    "provider_add": _l("Added a service"),
    "provider_edit": _l("Edited a service"),
    "report_export": _l("Exported a report"),
    "simulator_sms": _l("Simulator: sent a text"),
    "simulator_call": _l("Simulator: called the line"),
    "simulator_missed_call": _l("Simulator: rang once"),
    "simulator_answer": _l("Simulator: picked up a callback"),
    "simulator_decline": _l("Simulator: declined a callback"),
    "user_add": _l("Added a login"),
    "user_password_reset": _l("Reset a password"),
    "user_deactivate": _l("Deactivated a login"),
    "user_reactivate": _l("Reactivated a login"),
    "user_unlock": _l("Unlocked a login"),
    "export_cases": _l("Exported the cases"),
    "export_people": _l("Exported the people"),
    "person_data_export": _l("Downloaded a person's data"),
    "retention_case": _l("Retention: removed what identified the person on a case"),
    "retention_recording": _l("Retention: removed a recording"),
    "retention_failed": _l("Retention: could not handle a row"),
    "retention_confirmation": _l("Retention: forgot the number an erasure confirmation went to"),
    "user_sessions_ended": _l("Ended every session of a login"),
    "job_row_retry": _l("Let the scheduler retry a row"),
    "issue_add": _l("Added a collective issue"),
    "issue_edit": _l("Edited a collective issue"),
    "issue_step": _l("Added an advocacy step"),
    "forum_add": _l("Added a forum"),
    "minutes_save": _l("Saved meeting minutes"),
    "press_add": _l("Added a press item"),
}

OBJECT_TYPES = {
    "staff_user": _l("Login"), "case": _l("Case"), "person": _l("Person"),
    "group": _l("Group"), "meeting": _l("Meeting"), "meeting_series": _l("Meeting series"),
    "broadcast": _l("Broadcast"), "message": _l("Text message"), "call": _l("Call"),
    "phone": _l("Phone ending"), "prompt": _l("Prompt"), "provider": _l("Service"),
    "report": _l("Report"), "callback": _l("Callback"), "recording": _l("Recording"),
    "job_failure": _l("Scheduler row"),
    "collective_issue": _l("Collective issue"), "forum": _l("Forum"),
    "press_item": _l("Press item"),
}

AUDIT_DETAIL = {
    "status": _l("status"), "contacted": _l("spoke with the member"), "to": _l("to"),
    "category": _l("category"), "what": _l("what"), "fields": _l("fields"),
    "group": _l("group"), "role": _l("role"), "person": _l("person"), "code": _l("code"),
    "starts_at": _l("starts"), "rule": _l("rule"), "time": _l("time"),
    "present": _l("present"), "listed": _l("listed"), "segment": _l("segment"),
    "segments": _l("SMS parts"), "parts": _l("parts"), "send_at": _l("send at"),
    "cancelled": _l("cancelled"), "planned": _l("planned"), "file": _l("file"),
    "files": _l("files"), "bytes": _l("bytes"), "locale": _l("language"),
    "username": _l("login"), "active": _l("active"), "failures": _l("failures"),
    "locked_until": _l("locked until"), "remote": _l("address"), "first": _l("from"),
    "last": _l("to"), "ward": _l("ward"), "callback": _l("callback"), "cases": _l("cases"),
    "messages": _l("texts"), "moved": _l("moved"), "removed": _l("removed"),
    "recordings": _l("recordings"), "current": _l("current number"),
    "recording": _l("recording"), "recording_seconds": _l("recording length (s)"),
    "provider_media": _l("service files"), "referral": _l("referral"),
    "outcome": _l("outcome"), "provider": _l("service"), "case": _l("case"),
    "rows": _l("rows"), "phones": _l("phone numbers"), "summary": _l("story"),
    "notes": _l("notes"), "referral_outcomes": _l("referral notes"), "calls": _l("calls"),
    "files_removed": _l("files removed"), "closed_at": _l("closed"), "error": _l("error"),
    "external_id": _l("provider id"), "numbers": _l("numbers"), "consents": _l("consents"),
    "memberships": _l("groups"), "attendance": _l("attendance"),
    "callbacks": _l("callbacks"), "sms_confirmation": _l("told by SMS"),
    "count": _l("times"), "logins": _l("logins tried"), "first_at": _l("first"),
    "last_at": _l("last"), "bad": _l("wrong name or password"), "locked": _l("while locked"),
    "attended": _l("attended"), "issues": _l("issues"), "kind": _l("step"), "on": _l("on"),
    "participants": _l("participants"), "source": _l("source"), "tone": _l("tone"),
    "topics": _l("topics"),
}

CONSENT_PURPOSES = {"register": _l("Registration: keep the number and what is sent"),
                    "contact": _l("Being contacted"), "case": _l("Help with a case"),
                    "voice_calls": _l("Being told by call")}

# What the line read a text as (the triage badge): the keyword, or none of them.
COMMANDS = {
    "TEXT": _l("Free text"), "EMPTY": _l("Empty text"), "CHOICE": _l("A number only"),
    "XOA": _l("Erasure request (XOA)"), "HUY": _l("Opt-out (HUY)"),
    "DK": _l("Registration (DK)"), "DONGY": _l("Agreed (DONGY)"), "KHONG": _l("No (KHONG)"),
    "CO": _l("Yes (CO)"), "KN": _l("Problem report (KN)"), "CG": _l("Help request (CG)"),
    "TT": _l("Case status (TT)"), "GOI": _l("Callback request (GOI)"),
    "HOP": _l("Meeting question (HOP)"), "BHYT": _l("Health insurance info (BHYT)"),
    "BHXH": _l("Social insurance info (BHXH)"), "TAMTRU": _l("Residence info (TAMTRU)"),
    "PHAPLY": _l("Legal aid info (PHAPLY)"), "HD": _l("Help (HD)"),
    "NHAN": _l("Peer educator accepts (NHAN)"), "GHI": _l("Peer educator note (GHI)"),
    "CHUYEN": _l("Peer educator refers (CHUYEN)"), "XONG": _l("Peer educator resolves (XONG)"),
    "TRA": _l("Peer educator gives back (TRA)"), "DS": _l("Peer educator's list (DS)"),
    "DD": _l("Attendance by text (DD)"), "KQ": _l("Referral outcome by text (KQ)"),
}

PROMPT_SOURCES = {"recorded": _l("human recording"), "gtts": _l("synthetic voice (Google)"),
                  "espeak": _l("synthetic voice (espeak-ng)"),
                  "missing": _l("spoken at call time")}

CALLBACK_STATUSES = {"queued": _l("Waiting to call"), "calling": _l("Calling now"),
                     "done": _l("Answered"), "given_up": _l("Failed: nobody answered")}
CALLBACK_REASONS = {"sms": _l("Asked by text (GOI)"), "ivr": _l("Asked in the voice menu"),
                    "missed_call": _l("Rang once"), "emergency": _l("Emergency alert call")}


# Details whose value is a code with labels of its own (advocacy steps, press, minutes).
_VALUE_TABLES = {"kind": ISSUE_STATUSES, "tone": TONES, "source": MINUTES_SOURCES}


def audit_detail(detail: dict | None) -> str:
    """An audit row's details in words: "tình trạng: Đã nhận · người: 4"."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if key == "status":
            value = label(STATUSES, value)
        elif key == "category":
            value = label(CATEGORIES, value)
        elif key in _VALUE_TABLES:
            value = label(_VALUE_TABLES[key], value)
        elif isinstance(value, bool):
            value = gettext("yes") if value else gettext("no")
        elif isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):  # a broadcast's segment: {"group_id": "3", "sex": "F"}
            names = {**AUDIT_DETAIL, **DIMENSIONS, "group_id": AUDIT_DETAIL["group"]}
            value = ", ".join(f"{label(names, k)} {v}" for k, v in value.items())
        parts.append(f"{label(AUDIT_DETAIL, key)}: {value}")
    return " · ".join(parts)
FOLLOWUP_ANSWERS = {"solved": _l("Solved"), "not_solved": _l("Not solved"),
                    "asked": _l("Asked"), "unanswered": _l("Unanswered")}

# The column headings of the staff CSV exports (hotline.services.exports).
EXPORT_COLUMNS = {
    "number": _l("Case number"), "created": _l("Opened"), "category": _l("Category"),
    "emergency": _l("Emergency"), "status": _l("Status"), "channel": _l("Channel"),
    "group": _l("Group"), "member": _l("Member"), "phone": _l("Phone"), "sex": _l("Sex"),
    "birth_year": _l("Birth year"), "ward_old": _l("Old ward"),
    "ward_current": _l("Current ward"), "assignee": _l("Assigned to"),
    "acknowledged": _l("Acknowledged"), "resolved": _l("Resolved"), "closed": _l("Closed"),
    "followup": _l("Follow-up answer"), "id": _l("Record"), "name": _l("Name"),
    "occupation": _l("Occupation"), "home_province": _l("Home province"),
    "residence": _l("Residence"), "role": _l("Role"), "groups": _l("Groups"),
    "registered": _l("Registered"), "opted_out": _l("Opted out"),
}


class _ExportLabels:
    """``hotline.services.exports.Labels`` in the console's language of the moment."""

    tables = {"category": CATEGORIES, "status": STATUSES, "channel": CHANNELS, "sex": SEXES,
              "occupation": OCCUPATIONS, "residence": RESIDENCE, "role": PERSON_ROLES,
              "followup": FOLLOWUP_ANSWERS}

    def column(self, key: str) -> str:
        return str(EXPORT_COLUMNS[key])

    def value(self, table: str, code) -> str:
        if table == "yes_no":
            return gettext("yes") if code else gettext("no")
        if code is None or code == "":
            return ""
        return str(self.tables[table].get(code, code))


EXPORT = _ExportLabels()

# The CSV export's own words (console/views_reports.csv_label).
CSV_HEADERS = {"indicator": _l("Indicator"), "kind": _l("Kind"), "dimension": _l("Dimension"),
               "group": _l("Group"), "value": _l("Value")}
CSV_KINDS = {"count": _l("count"), "median_hours": _l("median, hours"), "share": _l("share, %")}
CSV_INDICATORS = {"cases_by_category": _l("Cases by category"),
                  "cases_by_urgency": _l("Cases by urgency"),
                  "cases_by_month": _l("Cases by month")}
CSV_DIMENSIONS = {"all": _l("All"), "category": _l("Category"), "urgency": _l("Urgency"),
                  "month": _l("Month")}
CSV_GROUPS = {"all": _l("All"), "emergency": _l("Emergency"), "normal": _l("Normal")}


def csv_label(kind: str, code: str) -> str:
    """A report CSV code in the reader's language."""
    table = {
        "header": CSV_HEADERS, "kind": CSV_KINDS,
        "indicator": {**INDICATORS, **CSV_INDICATORS},
        "dimension": {**DIMENSIONS, **CSV_DIMENSIONS},
        "group": {**GROUP_VALUES, **CSV_GROUPS},
        "category": {str(k): v for k, v in CATEGORIES.items()},
    }.get(kind, {})
    return str(table.get(code, code))
