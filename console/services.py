"""What the console changes: each function takes a session, ``now`` and the acting user,
does one thing through the core services, writes an audit row, and flushes. No Flask here;
the view commits through ``session_scope``.

(Console-only verbs live here; those that the SMS and voice lines share stay in
``hotline.services``.)
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from hotline import clock
from hotline.models import (
    Broadcast,
    Case,
    CaseStatus,
    Group,
    GroupRole,
    Kind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Message,
    Person,
    Provider,
    Referral,
    Role,
    StaffRole,
    StaffUser,
)
from hotline.services import broadcasts as broadcast_service
from hotline.services import cases as case_service
from hotline.services import groups as group_service
from hotline.services import meetings as meeting_service
from hotline.services import monitoring
from hotline.services import people as people_service
from hotline.services.audit import audit
from hotline.services.cases import Actor, CaseError
from hotline.services.outbox import Outbox
from hotline.templates import CATEGORY_WORDS
from hotline.text import segments, unaccent


def N_(message: str) -> str:
    """Marks a message id for translation; the view translates it when it shows it."""
    return message


class ConsoleError(Exception):
    """A request the console refuses; ``str(exc)`` is a message id shown to the user."""


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


# A console login: letters, digits and . _ - ; passwords at least this long.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Which kind of person each login may stand for (its cases and groups come from that person).
LINKED_ROLES = {StaffRole.PEER_EDUCATOR.value: (Role.PEER_EDUCATOR.value,),
                StaffRole.COORDINATOR.value: (Role.COORDINATOR.value,)}


def _check_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise ConsoleError(N_("A password needs at least 10 characters."))
    if password.strip().lower() == username.lower():
        raise ConsoleError(N_("The password cannot be the user name."))
    return generate_password_hash(password)


def _linked_person(session: Session, role: str, raw: str | None,
                   user: StaffUser | None = None) -> Person | None:
    """The person a login stands for: needed by peer educators (their groups decide which
    cases they see), optional for coordinators, none for administrators and viewers."""
    allowed = LINKED_ROLES.get(role)
    raw = (raw or "").strip()
    if allowed is None:
        return None
    if not raw:
        if role == StaffRole.PEER_EDUCATOR:
            raise ConsoleError(N_("A peer educator's login needs the person she is."))
        return None
    try:
        person = session.get(Person, int(raw))
    except ValueError:
        person = None
    if person is None or person.erased_at is not None or person.role not in allowed:
        raise ConsoleError(N_("This person cannot have this kind of login."))
    other = session.scalar(
        select(StaffUser.id).where(StaffUser.person_id == person.id, StaffUser.active.is_(True))
        .limit(1)
    )
    if other is not None and (user is None or other != user.id):
        raise ConsoleError(N_("This person already has a login."))
    return person


def create_user(session: Session, now: datetime, admin: StaffUser, form: Mapping[str, str]
                ) -> StaffUser:
    """A new console login with its initial password (hashed; never stored or logged as
    typed, never shown again)."""
    username = (form.get("username") or "").strip().lower()
    if not USERNAME.match(username):
        raise ConsoleError(N_("A user name is 3 to 40 letters, digits, dots or dashes."))
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.username) == username)):
        raise ConsoleError(N_("This user name is taken."))
    role = (form.get("role") or "").strip()
    if role not in {r.value for r in StaffRole}:
        raise ConsoleError(N_("Choose a role."))
    person = _linked_person(session, role, form.get("person_id"))
    password_hash = _check_password(form.get("password") or "", username)
    name = (form.get("name") or "").strip()[:120] or (person.name if person else "") or username
    user = StaffUser(username=username, name=name, role=role, password_hash=password_hash,
                     person_id=person.id if person else None, active=True, created_at=now)
    session.add(user)
    session.flush()
    audit(session, now, admin, "user_add", "staff_user", user.id, username=username, role=role,
          person=user.person_id)
    return user


def _last_active_admin(session: Session, user: StaffUser) -> bool:
    if user.role != StaffRole.ADMIN or not user.active:
        return False
    others = session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.role == StaffRole.ADMIN,
                                               StaffUser.active.is_(True),
                                               StaffUser.id != user.id)
    )
    return not others


def set_user_active(session: Session, now: datetime, admin: StaffUser, user: StaffUser,
                    active: bool) -> None:
    """Deactivate (signed out at her next request, cannot sign in) or reactivate a login."""
    if user.active == active:
        return
    if not active:
        if user.id == admin.id:
            raise ConsoleError(N_("You cannot deactivate your own login."))
        if _last_active_admin(session, user):
            raise ConsoleError(N_("The last administrator cannot be deactivated."))
    else:
        _linked_person(session, user.role, str(user.person_id or ""), user)
    user.active = active
    session.flush()
    audit(session, now, admin, "user_reactivate" if active else "user_deactivate",
          "staff_user", user.id, username=user.username)


def reset_password(session: Session, now: datetime, admin: StaffUser, user: StaffUser,
                   password: str) -> None:
    """A new password chosen by the administrator; the login is unlocked and every session
    opened with the old one ends."""
    user.password_hash = _check_password(password or "", user.username)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit(session, now, admin, "user_password_reset", "staff_user", user.id,
          username=user.username)


def unlock_user(session: Session, now: datetime, admin: StaffUser, user: StaffUser) -> None:
    """Lift the lock that repeated failed sign-ins put on a login."""
    was = (user.failed_logins, user.locked_until)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit(session, now, admin, "user_unlock", "staff_user", user.id, username=user.username,
          failures=was[0], locked_until=was[1])


def signed_out(session: Session, now: datetime, user: StaffUser) -> None:
    audit(session, now, user, "logout", "staff_user", user.id)


def set_locale(session: Session, now: datetime, user: StaffUser, locale: str) -> None:
    if user.locale != locale:
        user.locale = locale
        audit(session, now, user, "set_locale", "staff_user", user.id, locale=locale)
        session.flush()


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

CLOSE_STATUSES = (CaseStatus.CLOSED_UNRESOLVED, CaseStatus.LOST_CONTACT)


def read_case(session: Session, now: datetime, case: Case, user: StaffUser, what: str = "case"
              ) -> None:
    """Log a read of a sensitive case (violence, health): its page or its recording."""
    if case.sensitive:
        audit(session, now, user, "read_sensitive", "case", case.number, what=what,
              category=case.category)


def case_action(session: Session, now: datetime, outbox: Outbox, case: Case, actor: Actor,
                action: str, form: Mapping[str, str]) -> dict:
    """Run one of the case page's buttons; returns what the audit row recorded.
    Raises ConsoleError or CaseError when refused."""
    handler = _CASE_ACTIONS.get(action)
    if handler is None:
        raise ConsoleError(N_("Unknown action."))
    if not case_service.may_act(session, case, actor):
        raise CaseError("not allowed on this case")
    detail = handler(session, now, outbox, case, actor, form) or {}
    audit(session, now, actor.user, f"case_{action}", "case", case.number, **detail)
    session.flush()
    return detail


def _accept(session, now, outbox, case, actor, form):
    case_service.accept(session, now, outbox, case, actor)
    return {"status": case.status}


def _note(session, now, outbox, case, actor, form):
    note = (form.get("note") or "").strip()
    if not note:
        raise ConsoleError(N_("Write a note first."))
    case_service.add_note(session, now, case, actor, note[:4000],
                          contacted=form.get("contacted") == "1")
    return {"contacted": form.get("contacted") == "1"}


def _assign(session, now, outbox, case, actor, form):
    if actor.user is None or actor.user.role not in (StaffRole.ADMIN, StaffRole.COORDINATOR):
        raise CaseError("only coordinators assign cases")
    if not case.is_open:
        raise ConsoleError(N_("The case is not open."))
    from console.queries import assignable_people

    try:
        person_id = int(form.get("person_id", ""))
    except ValueError:
        raise ConsoleError(N_("Choose a person.")) from None
    target = next((p for p in assignable_people(session, case) if p.id == person_id), None)
    if target is None:
        raise ConsoleError(N_("This person cannot take this case."))
    case_service.assign(session, now, outbox, case, target, actor=actor)
    return {"to": target.id}


def _refer(session, now, outbox, case, actor, form):
    try:
        provider = session.get(Provider, int(form.get("provider_id", "")))
    except ValueError:
        provider = None
    if provider is None or not provider.active:
        raise ConsoleError(N_("Choose a service."))
    case_service.refer(session, now, outbox, case, actor, provider)
    return {"provider": provider.code, "no_phone": not monitoring.has_phone(provider)}


def _outcome(session, now, outbox, case, actor, form):
    """What came of one of the case's referrals (service monitoring)."""
    try:
        referral = session.get(Referral, int(form.get("referral_id", "")))
    except ValueError:
        referral = None
    if referral is None or referral.case_id != case.id:
        raise ConsoleError(N_("Choose a referral."))
    outcome = form.get("outcome", "")
    if outcome not in monitoring.OUTCOMES:
        raise ConsoleError(N_("Choose an outcome."))
    monitoring.record_outcome(session, now, referral, outcome, actor,
                              note=(form.get("note") or "").strip()[:4000], source="staff")
    return {"referral": referral.id, "outcome": outcome}


def _resolve(session, now, outbox, case, actor, form):
    case_service.resolve(session, now, outbox, case, actor, (form.get("note") or "")[:4000])
    return {"status": case.status}


def _reopen(session, now, outbox, case, actor, form):
    if case.is_open:
        raise ConsoleError(N_("The case is already open."))
    case_service.reopen(session, now, outbox, case, actor, (form.get("note") or "")[:4000])
    return {"status": case.status}


def _close(session, now, outbox, case, actor, form):
    try:
        status = CaseStatus(form.get("status", ""))
    except ValueError:
        raise ConsoleError(N_("Choose how the case ends.")) from None
    if status not in CLOSE_STATUSES:
        raise ConsoleError(N_("Choose how the case ends."))
    if not case.is_open:
        raise ConsoleError(N_("The case is not open."))
    case_service.close(session, now, case, actor, status, (form.get("note") or "")[:4000])
    return {"status": status.value}


def _give_back(session, now, outbox, case, actor, form):
    case_service.give_back(session, now, outbox, case, actor)
    return {"status": case.status}


def _category(session, now, outbox, case, actor, form):
    try:
        category = int(form.get("category", ""))
    except ValueError:
        category = 0
    if category not in CATEGORY_WORDS:
        raise ConsoleError(N_("Choose a category."))
    emergency = form.get("emergency") == "1"
    before = (case.category, case.emergency)
    case.category, case.emergency = category, emergency
    case_service.event(session, case, now, "recategorized", actor,
                       category=category, emergency=emergency, was=before[0])
    return {"category": category, "emergency": emergency, "was": before[0]}


_CASE_ACTIONS = {
    "accept": _accept,
    "note": _note,
    "assign": _assign,
    "refer": _refer,
    "outcome": _outcome,
    "resolve": _resolve,
    "reopen": _reopen,
    "close": _close,
    "give_back": _give_back,
    "category": _category,
}


# --------------------------------------------------------------------------------------------
# Triage inbox
# --------------------------------------------------------------------------------------------


def _mark_triaged(msg: Message, now: datetime, user: StaffUser) -> None:
    if msg.triaged_at is not None:
        raise ConsoleError(N_("Someone has already dealt with this message."))
    msg.triaged_at = now
    msg.triaged_by_id = user.id


def triage(session: Session, now: datetime, outbox: Outbox, msg: Message, user: StaffUser,
           action: str, form: Mapping[str, str]) -> Case | None:
    """Deal with a message waiting for staff: make it a case, answer it, or just file it."""
    if not msg.needs_staff:
        raise ConsoleError(N_("This message is not waiting for staff."))
    if action == "case":
        if msg.person is None:
            raise ConsoleError(N_("The sender is not a phone number; no case can be opened."))
        try:
            category = int(form.get("category", "12"))
        except ValueError:
            category = 12
        _mark_triaged(msg, now, user)
        case = case_service.open_case(
            session, now, outbox, person=msg.person, channel="sms", summary=msg.body,
            category=category, emergency=form.get("emergency") == "1",
        )
        msg.case_id = case.id
        audit(session, now, user, "triage_case", "message", msg.id, case=case.number)
        session.flush()
        return case
    if action == "answer":
        text = (form.get("text") or "").strip()
        if not text:
            raise ConsoleError(N_("Write an answer first."))
        if msg.person is None:
            raise ConsoleError(N_("The sender is not a phone number; no answer can be sent."))
        _mark_triaged(msg, now, user)
        outbox.enqueue(now, msg.phone, text[:612], kind=Kind.REPLY, person=msg.person,
                       key=f"triage:{msg.id}:answer", case_id=msg.case_id)
        audit(session, now, user, "triage_answer", "message", msg.id,
              segments=segments(unaccent(text[:612])))
        session.flush()
        return None
    if action == "done":
        _mark_triaged(msg, now, user)
        audit(session, now, user, "triage_done", "message", msg.id)
        session.flush()
        return None
    raise ConsoleError(N_("Unknown action."))


# --------------------------------------------------------------------------------------------
# Groups, members, meetings, attendance
# --------------------------------------------------------------------------------------------


def save_group(session: Session, now: datetime, user: StaffUser, group: Group | None,
               form: Mapping[str, str]) -> Group:
    code = (form.get("code") or "").strip().upper()[:10]
    name = (form.get("name") or "").strip()[:120]
    if not code or not name:
        raise ConsoleError(N_("A group needs a code and a name."))
    clash = session.scalar(select(Group).where(Group.code == code))
    if clash is not None and clash is not group:
        raise ConsoleError(N_("Another group has this code."))
    if group is None:
        group = Group(code=code, name=name, created_at=now)
        session.add(group)
    group.code, group.name = code, name
    group.ward_old = (form.get("ward_old") or "").strip()[:60] or None
    group.ward_current = (form.get("ward_current") or "").strip()[:60] or None
    group.active = form.get("active", "1") == "1"
    session.flush()
    audit(session, now, user, "group_save", "group", group.id, code=code)
    return group


def add_member(session: Session, now: datetime, user: StaffUser, group: Group,
               phone: str, role: str) -> Membership:
    """Put the person with ``phone`` (any format) in ``group`` (``groups.join``: a member
    leaves her old group, history kept); an existing member gets the new role."""
    from hotline.phones import PhoneError, normalize

    try:
        e164 = normalize(phone)
    except PhoneError:
        raise ConsoleError(N_("Not a phone number.")) from None
    if role not in {r.value for r in GroupRole}:
        role = GroupRole.MEMBER
    person, _created = people_service.get_or_create(session, now, e164)
    if person.erased_at is not None:
        raise ConsoleError(N_("This person's data was erased."))
    membership = group_service.join(session, now, person, group, role)
    membership.role = role
    session.flush()
    audit(session, now, user, "member_add", "group", group.id, person=person.id, role=role)
    return membership


def remove_member(session: Session, now: datetime, user: StaffUser, membership: Membership
                  ) -> None:
    """The person leaves the group; the membership stays as history."""
    if membership.left_at is None:
        membership.left_at = now
        audit(session, now, user, "member_leave", "group", membership.group_id,
              person=membership.person_id)
        session.flush()


def schedule_meeting(session: Session, now: datetime, user: StaffUser, group: Group,
                     starts_at: datetime, place: str, topic: str) -> Meeting:
    """A one-off meeting; its reminders are planned by ``meetings.create``."""
    meeting = meeting_service.create(session, now, group, starts_at, place=place[:200],
                                     topic=topic[:2000])
    audit(session, now, user, "meeting_add", "meeting", meeting.id, group=group.id)
    return meeting


def move_meeting(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                 meeting: Meeting, starts_at: datetime, place: str | None) -> None:
    """New time or place: old reminders withdrawn, new ones planned, members told once."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ConsoleError(N_("Only a scheduled meeting can be moved."))
    meeting_service.move(session, now, outbox, meeting, starts_at, place=place)
    audit(session, now, user, "meeting_move", "meeting", meeting.id,
          starts_at=starts_at.isoformat())


def record_attendance(session: Session, now: datetime, user: StaffUser, meeting: Meeting,
                      present: set[int], listed: set[int]) -> None:
    """Mark ``present`` as attended and the rest of ``listed`` as absent; a meeting that has
    begun is held."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise ConsoleError(N_("The meeting was cancelled."))
    for person_id in sorted(listed):
        person = session.get(Person, person_id)
        if person is not None:
            meeting_service.record_attendance(session, now, meeting, person,
                                              person_id in present)
    if meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at <= now:
        meeting.status = MeetingStatus.HELD
    session.flush()
    audit(session, now, user, "attendance", "meeting", meeting.id,
          present=len(present & listed), listed=len(listed))


def cancel_meeting(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                   meeting: Meeting) -> None:
    """Cancelled: reminders withdrawn, every member told once."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ConsoleError(N_("Only a scheduled meeting can be cancelled."))
    meeting_service.cancel(session, now, outbox, meeting)
    audit(session, now, user, "meeting_cancel", "meeting", meeting.id)


# Recurring series: ``weekly:<weekday>`` or ``monthly:<nth>:<weekday>`` (weekday 0 = Monday,
# nth 1-4 or -1 for the last), at a Hanoi time; the planner job keeps ``PLAN_AHEAD`` planned.
SERIES_KINDS = ("weekly", "monthly")
SERIES_NTH = (1, 2, 3, 4, -1)


def series_rule(form: Mapping[str, str]) -> str:
    """The rule a series form describes; ConsoleError when it describes none."""
    kind = (form.get("kind") or "").strip()
    try:
        weekday = int(form.get("weekday", ""))
        nth = int(form.get("nth") or "1")
    except ValueError:
        raise ConsoleError(N_("Choose when the group meets.")) from None
    if kind not in SERIES_KINDS or not 0 <= weekday <= 6 or nth not in SERIES_NTH:
        raise ConsoleError(N_("Choose when the group meets."))
    return f"weekly:{weekday}" if kind == "weekly" else f"monthly:{nth}:{weekday}"


def create_series(session: Session, now: datetime, user: StaffUser, group: Group,
                  form: Mapping[str, str]) -> MeetingSeries:
    """A recurring meeting; ``meetings.create_series`` plans its first meetings and their
    reminders at once, the planner job the later ones."""
    rule = series_rule(form)
    try:
        at = time.fromisoformat((form.get("time") or "").strip() or "15:00")
        raw_start = (form.get("starts_on") or "").strip()
        starts_on = date.fromisoformat(raw_start) if raw_start else None
    except ValueError:
        raise ConsoleError(N_("Give the meeting a date and time.")) from None
    if starts_on is not None and starts_on < clock.local(now).date():
        starts_on = None  # from today: the past is never planned anyway
    series = meeting_service.create_series(
        session, now, group, rule, at.replace(second=0, microsecond=0, tzinfo=None),
        place=(form.get("place") or "").strip()[:200],
        topic=(form.get("topic") or "").strip()[:2000], starts_on=starts_on,
    )
    planned = session.scalar(
        select(func.count(Meeting.id)).where(Meeting.series_id == series.id)
    )
    audit(session, now, user, "series_add", "meeting_series", series.id, group=group.id,
          rule=rule, time=series.local_time.strftime("%H:%M"), planned=planned)
    return series


def stop_series(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                series: MeetingSeries) -> int:
    """No more meetings of the series (see ``meetings.stop_series``); returns how many
    meetings ahead were cancelled."""
    if not series.active:
        raise ConsoleError(N_("This series has already stopped."))
    ahead = meeting_service.stop_series(session, now, outbox, series)
    audit(session, now, user, "series_stop", "meeting_series", series.id,
          group=series.group_id, cancelled=len(ahead))
    return len(ahead)


# --------------------------------------------------------------------------------------------
# Service directory
# --------------------------------------------------------------------------------------------


def save_provider(session: Session, now: datetime, user: StaffUser, provider: Provider | None,
                  form: Mapping[str, str]) -> Provider:
    code = (form.get("code") or "").strip().upper()[:12]
    name = (form.get("name") or "").strip()[:160]
    if not code or not name or not code.replace("_", "").isalnum():
        raise ConsoleError(N_("A service needs a code (letters and digits) and a name."))
    clash = session.scalar(select(Provider).where(Provider.code == code))
    if clash is not None and clash is not provider:
        raise ConsoleError(N_("Another service has this code."))
    created = provider is None
    if provider is None:
        provider = Provider(code=code, name=name)
        session.add(provider)
    provider.code, provider.name = code, name
    provider.phone = (form.get("phone") or "").strip()[:40]
    provider.handles = (form.get("handles") or "").strip()[:2000]
    provider.hours = (form.get("hours") or "").strip()[:120]
    provider.address = (form.get("address") or "").strip()[:200]
    provider.active = form.get("active", "1") == "1"
    session.flush()
    audit(session, now, user, "provider_add" if created else "provider_edit", "provider",
          provider.id, code=code, active=provider.active)
    return provider


# --------------------------------------------------------------------------------------------
# Broadcasts: composed here, queued by the scheduler's broadcast job at ``send_at``
# --------------------------------------------------------------------------------------------


def create_broadcast(session: Session, now: datetime, user: StaffUser, body: str,
                     segment: Mapping[str, str], send_at: datetime | None) -> Broadcast:
    body = body.strip()
    if not body:
        raise ConsoleError(N_("Write the message first."))
    if send_at is not None and send_at < now:
        send_at = now
    broadcast = broadcast_service.create(session, now, body, dict(segment), send_at=send_at,
                                         user=user)
    audit(session, now, user, "broadcast", "broadcast", broadcast.id,
          segment=broadcast.segment, send_at=broadcast.send_at, parts=segments(unaccent(body)))
    return broadcast


def cancel_broadcast(session: Session, now: datetime, user: StaffUser,
                     broadcast: Broadcast) -> None:
    if not broadcast_service.cancel(session, broadcast):
        raise ConsoleError(N_("Only a broadcast that has not gone out can be cancelled."))
    audit(session, now, user, "broadcast_cancel", "broadcast", broadcast.id)


# --------------------------------------------------------------------------------------------
# Prompts: staff recordings beat synthesis
# --------------------------------------------------------------------------------------------

PROMPT_KEY = re.compile(r"^[a-z0-9_]{1,60}$")
RECORDING_TYPES = {".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), ".wav": (b"RIFF",)}


def save_prompt_recording(session: Session, now: datetime, user: StaffUser,
                          recordings_dir: str | os.PathLike[str], key: str, filename: str,
                          data: bytes) -> Path:
    """Store an uploaded human recording as ``<recordings_dir>/<key>.<ext>`` (atomically);
    the other format's file for the key goes, so the new one is the one played."""
    if not PROMPT_KEY.match(key):
        raise ConsoleError(N_("Unknown prompt."))
    suffix = Path(filename or "").suffix.lower()
    if suffix not in RECORDING_TYPES:
        raise ConsoleError(N_("Upload an .mp3 or .wav file."))
    if not data or not data.startswith(RECORDING_TYPES[suffix]):
        raise ConsoleError(N_("This file is not a sound file of that type."))
    folder = Path(recordings_dir)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{key}{suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for other in RECORDING_TYPES:
        if other != suffix:
            (folder / f"{key}{other}").unlink(missing_ok=True)
    audit(session, now, user, "prompt_upload", "prompt", key, file=dest.name, bytes=len(data))
    return dest


def remove_prompt_recording(session: Session, now: datetime, user: StaffUser,
                            recordings_dir: str | os.PathLike[str], key: str) -> None:
    if not PROMPT_KEY.match(key):
        raise ConsoleError(N_("Unknown prompt."))
    removed = []
    for suffix in RECORDING_TYPES:
        path = Path(recordings_dir) / f"{key}{suffix}"
        if path.exists():
            path.unlink()
            removed.append(path.name)
    if not removed:
        raise ConsoleError(N_("There is no recording to remove."))
    audit(session, now, user, "prompt_remove", "prompt", key, files=removed)
