"""Meetings: one-off and recurring, reminders that follow moves, RSVPs, attendance.

Reminder moments are rows (``MeetingReminder``) created with the meeting and polled
by the reminder job; moving a meeting cancels the moments not yet sent, makes new
ones and tells members once; a moment that passed beyond ``GRACE`` is skipped, and
every reminder SMS expires when the meeting starts, so none arrives late.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import (
    Attendance,
    Group,
    Kind,
    Meeting,
    MeetingReminder,
    MeetingSeries,
    MeetingStatus,
    Membership,
    MessageStatus,
    NotSent,
    Person,
    ReminderStatus,
    StaffUser,
)
from hotline.services import people, voice_notices
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError
from hotline.services.groups import meeting_values
from hotline.services.outbox import Outbox
from hotline.templates import render

# Minutes before the start: a day before and two hours before.
DEFAULT_OFFSETS = (24 * 60, 120)
GRACE = timedelta(minutes=20)
PLAN_AHEAD = timedelta(days=62)


def create(session: Session, now: datetime, group: Group, starts_at: datetime, *,
           place: str = "", topic: str = "", series: MeetingSeries | None = None,
           occurrence: date | None = None, offsets=DEFAULT_OFFSETS) -> Meeting:
    meeting = Meeting(group_id=group.id, starts_at=starts_at, place=place, topic=topic,
                      series_id=series.id if series else None, occurrence=occurrence,
                      created_at=now)
    session.add(meeting)
    session.flush()
    _plan_reminders(session, now, meeting, offsets)
    return meeting


def _plan_reminders(session: Session, now: datetime, meeting: Meeting, offsets) -> None:
    for minutes in offsets:
        due = meeting.starts_at - timedelta(minutes=minutes)
        if due + GRACE < now:
            continue  # a moment already gone when the meeting was (re)planned
        session.add(MeetingReminder(meeting_id=meeting.id, version=meeting.version,
                                    offset_minutes=minutes, due_at=max(due, now)))
    session.flush()


def _cancel_pending(session: Session, now: datetime, meeting: Meeting) -> None:
    session.execute(
        update(MeetingReminder)
        .where(MeetingReminder.meeting_id == meeting.id,
               MeetingReminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, done_at=now)
    )
    # Reminders already queued but not yet sent are withdrawn too.
    from hotline.models import Message, NotSent
    from hotline.services.outbox import cancel_queued

    cancel_queued(session, NotSent.CHANGED,
                  Message.idempotency_key.like(f"meeting:{meeting.id}:v{meeting.version}:%"))


def move(session: Session, now: datetime, outbox: Outbox, meeting: Meeting,
         starts_at: datetime, *, place: str | None = None, offsets=DEFAULT_OFFSETS) -> None:
    """New time (and place): old reminders withdrawn, new ones planned, members told once."""
    _cancel_pending(session, now, meeting)
    meeting.version += 1
    meeting.starts_at = starts_at
    if place is not None:
        meeting.place = place
    session.flush()
    _plan_reminders(session, now, meeting, offsets)
    _tell_members(session, now, outbox, meeting, "meeting_moved", rsvp=True)


def cancel(session: Session, now: datetime, outbox: Outbox, meeting: Meeting, *,
           notify: bool = True) -> None:
    """Cancelled: pending reminders withdrawn, one notice to every member."""
    if meeting.status == MeetingStatus.CANCELLED:
        return
    _cancel_pending(session, now, meeting)
    meeting.status = MeetingStatus.CANCELLED
    session.flush()
    if notify:
        _tell_members(session, now, outbox, meeting, "meeting_cancelled", rsvp=False)


def stop_series(session: Session, now: datetime, outbox: Outbox,
                series: MeetingSeries) -> list[Meeting]:
    """No more meetings of ``series``: those ahead are cancelled and members get one
    notice for the whole series, not one per meeting. Returns the cancelled meetings."""
    series.active = False
    ahead = list(session.scalars(
        select(Meeting).where(Meeting.series_id == series.id,
                              Meeting.status == MeetingStatus.SCHEDULED,
                              Meeting.starts_at > now)
        .order_by(Meeting.starts_at)
    ))
    for meeting in ahead:
        cancel(session, now, outbox, meeting, notify=False)
    if ahead:
        values = meeting_values(ahead[0])
        for person in members(session, series.group_id):
            outbox.enqueue(now, person.phone, render("meeting_series_stopped", **values),
                           kind=Kind.NORMAL, person=person,
                           key=f"series:{series.id}:stopped:{person.id}")
    session.flush()
    return ahead


def members(session: Session, group_id: int) -> list[Person]:
    """Current members who may be texted: registered, not opted out, not erased."""
    return list(session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group_id, Membership.left_at.is_(None),
               Person.phone.is_not(None), Person.opted_out_at.is_(None),
               Person.erased_at.is_(None), Person.registered_at.is_not(None))
        .order_by(Membership.id)
    ))


def _tell_members(session: Session, now: datetime, outbox: Outbox, meeting: Meeting,
                  key: str, *, rsvp: bool, tag: str = "") -> int:
    values = meeting_values(meeting)
    count = 0
    when = clock.local(meeting.starts_at).isoformat()
    for person in members(session, meeting.group_id):
        key_sent = f"meeting:{meeting.id}:v{meeting.version}:{key}{tag}:{person.id}"
        msg = outbox.enqueue(
            now, person.phone, render(key, **values), kind=Kind.NORMAL, person=person,
            key=key_sent, expires_at=meeting.starts_at,
        )
        # Told by a call instead (or as well) when she asked for voice, RSVP by key.
        voice_notices.tell(session, now, person, key, msg, ref=key_sent, say={"when": when})
        if msg.status == MessageStatus.CANCELLED and msg.hold_reason != NotSent.VOICE_INSTEAD:
            continue  # past its moment: kept with its reason
        count += 1
        if rsvp:
            # The member's next CO/KHONG answers this meeting, whichever else is coming.
            people.set_pending(person, now, "rsvp", meeting.id,
                               ttl=meeting.starts_at - now + timedelta(hours=1))
    return count


def due_reminders(session: Session, now: datetime, limit: int = 200,
                  skip: Collection[int] = ()) -> list[MeetingReminder]:
    query = select(MeetingReminder).where(MeetingReminder.status == ReminderStatus.PENDING,
                                          MeetingReminder.due_at <= now)
    if skip:
        query = query.where(MeetingReminder.id.not_in(skip))
    return list(session.scalars(
        query.order_by(MeetingReminder.due_at, MeetingReminder.id).limit(limit)))


def send_reminder(session: Session, now: datetime, outbox: Outbox,
                  reminder: MeetingReminder) -> None:
    meeting = reminder.meeting
    if (meeting.status != MeetingStatus.SCHEDULED or reminder.version != meeting.version
            or now > reminder.due_at + GRACE or now >= meeting.starts_at):
        reminder.status, reminder.done_at = ReminderStatus.SKIPPED, now
        return
    reminder.recipients = _tell_members(session, now, outbox, meeting, "meeting_reminder",
                                        rsvp=True, tag=f":{reminder.offset_minutes}")
    reminder.status, reminder.done_at = ReminderStatus.SENT, now


# --- recurring series ----------------------------------------------------------------------

def occurrences(series: MeetingSeries, start: date, end: date) -> list[date]:
    """Dates in [start, end] that the series rule gives."""
    kind, *args = series.rule.split(":")
    first = max(start, series.starts_on)
    last = min(end, series.until) if series.until else end
    found: list[date] = []
    if kind == "weekly":
        weekday = int(args[0])
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        while day <= last:
            found.append(day)
            day += timedelta(days=7)
    elif kind == "monthly":
        nth, weekday = int(args[0]), int(args[1])
        year, month = first.year, first.month
        while date(year, month, 1) <= last:
            days = [d for d in calendar.Calendar().itermonthdates(year, month)
                    if d.month == month and d.weekday() == weekday]
            if len(days) >= abs(nth):
                day = days[nth - 1] if nth > 0 else days[nth]
                if first <= day <= last:
                    found.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        raise ValueError(f"unknown rule {series.rule!r}")
    return found


def plan_series(session: Session, now: datetime, series: MeetingSeries) -> list[Meeting]:
    """Create the series' meetings up to ``PLAN_AHEAD`` that do not exist yet."""
    today = clock.local(now).date()
    have = set(session.scalars(
        select(Meeting.occurrence).where(Meeting.series_id == series.id)
    ))
    made = []
    for day in occurrences(series, today, (now + PLAN_AHEAD).date()):
        starts_at = clock.at_local(day, series.local_time)
        if day in have or starts_at <= now:
            continue
        made.append(create(session, now, series.group, starts_at, place=series.place,
                           topic=series.topic, series=series, occurrence=day))
    return made


def active_series(session: Session) -> list[MeetingSeries]:
    return list(session.scalars(select(MeetingSeries).where(MeetingSeries.active.is_(True))))


def create_series(session: Session, now: datetime, group: Group, rule: str, local_time: time,
                  *, place: str = "", topic: str = "", starts_on: date | None = None
                  ) -> MeetingSeries:
    series = MeetingSeries(group_id=group.id, rule=rule, local_time=local_time, place=place,
                           topic=topic, starts_on=starts_on or clock.local(now).date(),
                           created_at=now)
    session.add(series)
    session.flush()
    occurrences(series, series.starts_on, series.starts_on)  # validates the rule
    plan_series(session, now, series)
    return series


# --- attendance ----------------------------------------------------------------------------

def record_attendance(session: Session, now: datetime, meeting: Meeting, person: Person,
                      attended: bool) -> Attendance:
    row = session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                  Attendance.person_id == person.id))
    if row is None:
        row = Attendance(meeting_id=meeting.id, person_id=person.id)
        session.add(row)
    row.attended, row.recorded_at = attended, now
    session.flush()
    return row


def latest_held(session: Session, group_ids: list[int], now: datetime) -> Meeting | None:
    """The most recent meeting of these groups in the past week (for taking attendance)."""
    return session.scalar(
        select(Meeting)
        .where(Meeting.group_id.in_(group_ids), Meeting.status != MeetingStatus.CANCELLED,
               Meeting.starts_at <= now + timedelta(hours=3),
               Meeting.starts_at >= now - timedelta(days=7))
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def roll(session: Session, group_id: int) -> list[Person]:
    """Everyone in the group now, in a stable order: the numbering used by ``DD``."""
    return list(session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group_id, Membership.left_at.is_(None),
               Person.erased_at.is_(None))
        .order_by(Membership.id)
    ))


def _held_once_begun(meeting: Meeting, now: datetime) -> None:
    """The "meeting held" rule: attendance taken for a meeting that has begun means it
    was held (a cancelled one stays cancelled)."""
    if meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at <= now:
        meeting.status = MeetingStatus.HELD


def take_attendance(session: Session, now: datetime, meeting: Meeting,
                    present: set[int]) -> int:
    """Mark roll numbers in ``present`` (1-based) as attended and the rest as absent."""
    count = 0
    for number, person in enumerate(roll(session, meeting.group_id), start=1):
        record_attendance(session, now, meeting, person, number in present)
        count += number in present
    _held_once_begun(meeting, now)
    session.flush()
    return count


# --- staff: meetings and series, audited ---------------------------------------------------

def schedule_meeting(session: Session, now: datetime, user: StaffUser, group: Group,
                     day: date, at: time, place: str = "", topic: str = "") -> Meeting:
    """A one-off meeting on ``day`` at ``at`` (Hanoi time); its reminders are planned by
    ``meetings.create``."""
    starts_at = clock.at_local(day, at)
    meeting = create(session, now, group, starts_at, place=place[:200],
                                     topic=topic[:2000])
    audit(session, now, user, "meeting_add", "meeting", meeting.id, group=group.id)
    return meeting


def move_meeting(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                 meeting: Meeting, *, day: date, at: time, place: str = "") -> None:
    """New day, time (Hanoi) or place (empty: the same): old reminders withdrawn, new ones
    planned, members told once."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ServiceError(N_("Only a scheduled meeting can be moved."))
    starts_at, place = clock.at_local(day, at), place.strip() or None
    move(session, now, outbox, meeting, starts_at, place=place)
    audit(session, now, user, "meeting_move", "meeting", meeting.id,
          starts_at=starts_at.isoformat())


def record_roll(session: Session, now: datetime, user: StaffUser, meeting: Meeting,
                      present: set[int], listed: set[int]) -> None:
    """Mark ``present`` as attended and the rest of ``listed`` as absent; a meeting that has
    begun is held."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(N_("The meeting was cancelled."))
    for person_id in sorted(listed):
        person = session.get(Person, person_id)
        if person is not None:
            record_attendance(session, now, meeting, person,
                                              person_id in present)
    _held_once_begun(meeting, now)
    session.flush()
    audit(session, now, user, "attendance", "meeting", meeting.id,
          present=len(present & listed), listed=len(listed))


def cancel_meeting(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                   meeting: Meeting) -> None:
    """Cancelled: reminders withdrawn, every member told once."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ServiceError(N_("Only a scheduled meeting can be cancelled."))
    cancel(session, now, outbox, meeting)
    audit(session, now, user, "meeting_cancel", "meeting", meeting.id)


# Recurring series: ``weekly:<weekday>`` or ``monthly:<nth>:<weekday>`` (weekday 0 = Monday,
# nth 1-4 or -1 for the last), at a Hanoi time; the planner job keeps ``PLAN_AHEAD`` planned.
SERIES_KINDS = ("weekly", "monthly")
SERIES_NTH = (1, 2, 3, 4, -1)


def series_rule(kind: str, weekday: int | None, nth: int = 1) -> str:
    """The rule ``kind`` (weekly, monthly), ``weekday`` (0 Monday) and ``nth`` describe;
    ServiceError when they describe none."""
    if weekday is None or kind not in SERIES_KINDS or not 0 <= weekday <= 6 \
            or nth not in SERIES_NTH:
        raise ServiceError(N_("Choose when the group meets."))
    return f"weekly:{weekday}" if kind == "weekly" else f"monthly:{nth}:{weekday}"


def add_series(session: Session, now: datetime, user: StaffUser, group: Group, *, kind: str,
               weekday: int | None, nth: int = 1, at: time = time(15),
               starts_on: date | None = None, place: str = "", topic: str = "") -> MeetingSeries:
    """A recurring meeting (see ``series_rule``) at ``at`` Hanoi time from ``starts_on``
    (today if None); ``meetings.create_series`` plans its first meetings and their
    reminders at once, the planner job the later ones."""
    rule = series_rule(kind, weekday, nth)
    if starts_on is not None and starts_on < clock.local(now).date():
        starts_on = None  # from today: the past is never planned anyway
    series = create_series(
        session, now, group, rule, at.replace(second=0, microsecond=0, tzinfo=None),
        place=place.strip()[:200], topic=topic.strip()[:2000], starts_on=starts_on,
    )
    planned = session.scalar(
        select(func.count(Meeting.id)).where(Meeting.series_id == series.id)
    )
    audit(session, now, user, "series_add", "meeting_series", series.id, group=group.id,
          rule=rule, time=series.local_time.strftime("%H:%M"), planned=planned)
    return series


def end_series(session: Session, now: datetime, outbox: Outbox, user: StaffUser,
                series: MeetingSeries) -> int:
    """No more meetings of the series (see ``meetings.stop_series``); returns how many
    meetings ahead were cancelled."""
    if not series.active:
        raise ServiceError(N_("This series has already stopped."))
    ahead = stop_series(session, now, outbox, series)
    audit(session, now, user, "series_stop", "meeting_series", series.id,
          group=series.group_id, cancelled=len(ahead))
    return len(ahead)
