"""Broadcasts: one message to a segment, previewed with its cost, queued in bulk.

Opted-out, erased and unregistered people are never in a segment; quiet hours and
the daily cap apply (broadcasts are ``Kind.NORMAL``); the Vietnamese is written once
and sent unaccented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import (
    Broadcast,
    BroadcastStatus,
    Direction,
    Group,
    Membership,
    Message,
    MessageStatus,
    NotifyChannel,
    Person,
    Sex,
    StaffUser,
)
from hotline.services import devices, voice_notices
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError
from hotline.services.outbox import Outbox
from hotline.services.people import AGE_BANDS as PEOPLE_AGE_BANDS
from hotline.text import segments, unaccent

AGE_BANDS = {label: (low, high) for label, low, high in PEOPLE_AGE_BANDS}
SEGMENT_KEYS = ("group_id", "ward_old", "ward_current", "occupation", "sex", "age_band")


class SegmentError(ServiceError):
    """A segment no one can be chosen by; ``str(exc)`` is a message id for the console."""


def check_segment(session: Session, segment: dict) -> dict:
    """``segment`` with only known keys and values that can select someone; a group id
    that is not a group's, an unknown age band or sex raises ``SegmentError`` (before this,
    ``group_id=abc`` was stored and broke the queue_broadcasts job at every tick)."""
    clean = {k: str(v).strip() for k, v in segment.items()
             if k in SEGMENT_KEYS and v not in (None, "") and str(v).strip()}
    raw = clean.get("group_id")
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or session.get(Group, int(raw)) is None:
            raise SegmentError(N_("Choose a group from the list."))
    if "age_band" in clean and clean["age_band"] not in AGE_BANDS:
        raise SegmentError(N_("Choose an age band from the list."))
    if "sex" in clean and clean["sex"] not in {s.value for s in Sex}:
        raise SegmentError(N_("Choose a sex from the list."))
    return clean


def recipients_query(segment: dict, now: datetime) -> Select:
    """People in ``segment`` who may receive a broadcast."""
    query = select(Person).where(
        Person.phone.is_not(None), Person.opted_out_at.is_(None), Person.erased_at.is_(None),
        Person.registered_at.is_not(None),
    )
    if segment.get("group_id"):
        query = query.join(Membership, Membership.person_id == Person.id).where(
            Membership.group_id == int(segment["group_id"]), Membership.left_at.is_(None))
    for column in ("ward_old", "ward_current", "occupation", "sex"):
        if segment.get(column):
            query = query.where(getattr(Person, column) == segment[column])
    if segment.get("age_band") in AGE_BANDS:
        low, high = AGE_BANDS[segment["age_band"]]
        year = clock.local(now).year
        query = query.where(Person.birth_year.between(year - high, year - low))
    return query.order_by(Person.id)


@dataclass(frozen=True)
class Preview:
    recipients: int
    text: str
    segments: int
    messages: int
    cost: float
    # Members told by voice (``voice_notices``) also get the text said in a call.
    calls: int = 0
    minutes: int = 0  # expected, billed by the started minute
    call_cost: float = 0.0
    # A staff recording played in the calls instead of the text said: its length.
    recording_seconds: int | None = None


VOICE_CHANNELS = (NotifyChannel.VOICE, NotifyChannel.BOTH)


@dataclass(frozen=True)
class Recorded:
    """A staff recording a voice broadcast's calls play: its stored file's name (the
    console's audio folder keeps it) and how long it plays."""

    name: str
    seconds: int  # to the nearest second
# A voice broadcast call: the greeting and "the line has news" and the keys to hear it
# again, then the staff recording played, or the text said at about this many characters a
# second (Vietnamese TTS).
CALL_FIXED_S = 15
SAID_CHARS_PER_S = 12


def call_minutes(body: str, recording_seconds: int | None = None) -> int:
    """Started minutes one voice broadcast call of ``body`` (or of its recording, that
    long) is expected to bill."""
    said = recording_seconds if recording_seconds else len(body.strip()) / SAID_CHARS_PER_S
    return max(1, -int(-(CALL_FIXED_S + said) // 60))


def preview(session: Session, now: datetime, body: str, segment: dict,
            price_per_sms: float, price_per_minute: float = 0,
            recording_seconds: int | None = None) -> Preview:
    """What sending would mean: who, how many SMS parts, how many calls to the members
    told by voice and their minutes (the text said, or the staff recording of
    ``recording_seconds`` played), what it costs (``SegmentError`` for a segment
    ``check_segment`` refuses). A voice-only member's SMS is counted too: it is the
    fallback if her calls fail."""
    segment = check_segment(session, segment)
    query = recipients_query(segment, now)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    calls = session.scalar(select(func.count()).select_from(query.where(
        Person.notify_channel.in_(VOICE_CHANNELS)).subquery())) or 0
    text = unaccent(body)
    parts = segments(text)
    spoken = body.strip() or recording_seconds
    minutes = calls * call_minutes(body, recording_seconds) if spoken else 0
    return Preview(count, text, parts, count * parts, count * parts * price_per_sms,
                   calls, minutes, minutes * price_per_minute, recording_seconds or None)


def expected_finish(session: Session, now: datetime, messages: int, settings, *,
                    start: datetime | None = None, ahead: int | None = None
                    ) -> datetime | None:
    """When ``messages`` more messages from ``start`` (default now) should all have gone,
    behind ``ahead`` others (default: everything queued and due now), at the line's real
    send rate (``devices.throughput``), only in the hours outside quiet hours and within
    each day's limits. None when nothing can send now (every Android SIM is silent)."""
    rate = devices.throughput(session, now, settings)
    if rate is None:
        return None
    if ahead is None:
        ahead = session.scalar(select(func.count(Message.id)).where(
            Message.direction == Direction.OUT, Message.status == MessageStatus.QUEUED,
            Message.due_at <= now)) or 0
    quiet_start, quiet_end = settings.quiet
    left = messages + ahead
    moment = clock.next_in_window(max(now, start or now), quiet_end, quiet_start)
    if rate.per_minute is None or left <= 0:
        return moment
    room = rate.left_today if moment < clock.local_day_bounds(now)[1] else rate.per_day
    for _ in range(366):
        closes = clock.next_in_window(moment, quiet_start, quiet_end)  # quiet hours begin
        can = (closes - moment).total_seconds() / 60 * rate.per_minute
        if room is not None:
            can = min(can, room)
        if left <= can:
            return moment + timedelta(minutes=left / rate.per_minute)
        left -= can
        moment = clock.next_in_window(closes, quiet_end, quiet_start)
        room = rate.per_day
    return None


def finish_times(session: Session, now: datetime, recent: list[tuple[Broadcast, dict]],
                 settings) -> dict[int, datetime | None]:
    """``expected_finish`` of each listed broadcast still sending, behind what is queued
    before its messages (replies, alerts, reminders and older broadcasts)."""
    out = {}
    for broadcast, counts in recent:
        queued = counts.get(MessageStatus.QUEUED, 0)
        if not queued:
            continue
        ahead = session.scalar(select(func.count(Message.id)).where(
            Message.direction == Direction.OUT, Message.status == MessageStatus.QUEUED,
            Message.due_at <= now,
            (Message.broadcast_id.is_(None)) | (Message.broadcast_id < broadcast.id))) or 0
        out[broadcast.id] = expected_finish(session, now, queued, settings, ahead=ahead)
    return out


def create(session: Session, now: datetime, body: str, segment: dict, *,
           send_at: datetime | None = None, user: StaffUser | None = None,
           recording: Recorded | None = None) -> Broadcast:
    """A broadcast ready to go at ``send_at`` (now when not given), its voice calls playing
    ``recording`` when given; ``SegmentError`` for a segment ``check_segment`` refuses."""
    clean = check_segment(session, segment)
    broadcast = Broadcast(body=body, segment=clean, status=BroadcastStatus.SCHEDULED,
                          send_at=send_at or now, created_by_id=user.id if user else None,
                          created_at=now, recording=recording.name if recording else None,
                          recording_seconds=recording.seconds if recording else None)
    session.add(broadcast)
    session.flush()
    return broadcast


def cancel(session: Session, broadcast: Broadcast) -> bool:
    if broadcast.status != BroadcastStatus.SCHEDULED:
        return False
    broadcast.status = BroadcastStatus.CANCELLED
    session.flush()
    return True


def due(session: Session, now: datetime) -> list[Broadcast]:
    return list(session.scalars(
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.send_at <= now)
        .order_by(Broadcast.send_at, Broadcast.id)
    ))


# Members loaded and queued at a time: the scheduler holds 900 people and their message
# rows, not the whole segment (10,000 ``Person`` objects and rows were 16-28 MB of its peak
# memory). 900 is the outbox's IN-list size: one look-up of each kind per batch.
QUEUE_BATCH = 900


def queue(session: Session, now: datetime, outbox: Outbox, broadcast: Broadcast) -> int:
    """Queue the broadcast's messages (once, whatever runs twice): the segment is read in one
    query but fetched ``QUEUE_BATCH`` people at a time (a server-side cursor on PostgreSQL),
    each batch queued and let go before the next."""
    members = recipients_query(broadcast.segment or {}, now)
    count = recipients = 0
    for people in session.scalars(
            members.execution_options(yield_per=QUEUE_BATCH)).partitions():
        count += outbox.enqueue_many(now, people, broadcast.body,
                                     key_prefix=f"broadcast:{broadcast.id}",
                                     broadcast_id=broadcast.id)
        _tell_by_voice(session, now, broadcast,
                       [p for p in people if voice_notices.wants_voice(p)])
        recipients += len(people)
    broadcast.status = BroadcastStatus.SENT
    broadcast.queued_at = now
    broadcast.recipients = recipients
    session.flush()
    return count


def _tell_by_voice(session: Session, now: datetime, broadcast: Broadcast,
                   people: list[Person]) -> None:
    """The broadcast's text said in a call to each member told by voice: her SMS held back
    for it (voice) or sent as well (both)."""
    if not people:
        return
    sms = {m.person_id: m for m in session.scalars(select(Message).where(
        Message.broadcast_id == broadcast.id, Message.person_id.in_([p.id for p in people])))}
    ref = f"broadcast:{broadcast.id}"
    kind, say = "broadcast", {"text": broadcast.body}
    if broadcast.recording:  # played; the text said if the file is gone by then
        kind, say = "broadcast_recorded", {"recording": broadcast.recording, **say}
    for person in people:
        if person.id in sms:
            voice_notices.tell(session, now, person, kind, sms[person.id], ref=ref, say=say)


def progress(session: Session, broadcast: Broadcast) -> dict[str, int]:
    """Messages of the broadcast by status."""
    return dict(session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.broadcast_id == broadcast.id)
        .group_by(Message.status)
    ).all())


# --- staff: composed in the console, queued by the broadcast job at ``send_at`` ----------

def create_broadcast(session: Session, now: datetime, user: StaffUser, body: str,
                     segment: Mapping[str, str], send_at: datetime | None,
                     recording: Recorded | None = None) -> Broadcast:
    body = body.strip()
    if not body:
        raise ServiceError(N_("Write the message first."))
    if send_at is not None and send_at < now:
        send_at = now
    broadcast = create(session, now, body, dict(segment), send_at=send_at, user=user,
                       recording=recording)
    # A broadcast said as text has no recording to name in the audit.
    played = ({"recording": broadcast.recording,
               "recording_seconds": broadcast.recording_seconds} if broadcast.recording else {})
    audit(session, now, user, "broadcast", "broadcast", broadcast.id,
          segment=broadcast.segment, send_at=broadcast.send_at, parts=segments(unaccent(body)),
          **played)
    return broadcast


@dataclass(frozen=True)
class Draft:
    """What the broadcasts page sends: the text, who (``SEGMENT_KEYS``), when (None: now),
    and the step: None to preview, "1" for Send, "confirm" for Yes with the number of
    recipients she was shown; the staff recording the calls play, if any."""

    text: str = ""
    segment: dict = field(default_factory=dict)
    send_at: datetime | None = None
    step: str | None = None
    recipients_seen: int | None = None
    recording: Recorded | None = None


@dataclass(frozen=True)
class Composed:
    """What the page shows next: the preview (for the segment as checked), whether to ask
    "Yes, send?", whether it was queued, or the message id saying why not."""

    preview: Preview
    segment: dict
    confirming: bool = False
    queued: bool = False
    refused: str | None = None


def compose(session: Session, now: datetime, user: StaffUser, draft: Draft,
            price_per_sms: float, price_per_minute: float = 0) -> Composed:
    """Preview a broadcast, ask to confirm it, or queue it. Send first shows what will happen
    and to how many; only Yes with the count she saw queues it (if the recipients changed
    meanwhile, she is asked again)."""
    seconds = draft.recording.seconds if draft.recording else None
    try:
        segment = check_segment(session, draft.segment)
    except SegmentError as exc:
        return Composed(preview(session, now, draft.text, {}, price_per_sms,
                                price_per_minute, seconds), {}, refused=str(exc))
    seen = preview(session, now, draft.text, segment, price_per_sms, price_per_minute, seconds)
    changed = draft.recipients_seen != seen.recipients
    if draft.step == "confirm" and not changed:
        try:
            create_broadcast(session, now, user, draft.text, segment, draft.send_at,
                             draft.recording)
        except ServiceError as exc:
            return Composed(seen, segment, refused=str(exc))
        return Composed(seen, segment, queued=True)
    if draft.step == "1" and not draft.text:
        return Composed(seen, segment, refused=N_("Write the message first."))
    asking = (draft.step == "1" and bool(draft.text)) or draft.step == "confirm"
    return Composed(seen, segment, confirming=asking and seen.recipients > 0)


def cancel_broadcast(session: Session, now: datetime, user: StaffUser,
                     broadcast: Broadcast) -> None:
    if not cancel(session, broadcast):
        raise ServiceError(N_("Only a broadcast that has not gone out can be cancelled."))
    audit(session, now, user, "broadcast_cancel", "broadcast", broadcast.id)
