"""The groups' collective voice: minutes, collective issues, forums, press items.

Each verb takes the session, ``now``, who acts and plain values (a form's or an SMS's),
checks them, writes, audits and flushes. A refusal is a ``VoiceError`` whose text is a
message id the console translates (``N_`` marks them for the catalogue).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import (
    AdvocacyStep,
    Case,
    CollectiveIssue,
    Forum,
    Group,
    Kind,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    Person,
    PressItem,
    StaffUser,
)
from hotline.models.voice import PARTICIPANT_KINDS, STEP_KINDS, TONES, TOPICS
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError
from hotline.services.outbox import Outbox
from hotline.templates import CATEGORY_WORDS, render
from hotline.text import fold

# A forum's follow-up reminder goes out at this Hanoi time on the follow-up day.
FOLLOW_UP_TIME = time(8, 30)
# The SMS topic words may also be typed as their number in TOPICS (1 = TTDT ... 8 = KHAC).
TOPIC_WORDS = {**{t: t for t in TOPICS}, **{str(i): t for i, t in enumerate(TOPICS, 1)},
               "TRATTU": "TTDT", "TAMTRU": "TAMTRU", "LUAT": "PHAPLY", "GIOITINH": "GIOI",
               "BINHDANG": "GIOI", "AT": "ANTOAN"}


class VoiceError(ServiceError, ValueError):
    """A request refused; ``str(exc)`` is a message id for the console."""


MAX_PEOPLE = 10000  # at a meeting or a forum


def _count(n: int | None) -> int | None:
    if n is not None and not 0 <= n <= MAX_PEOPLE:
        raise VoiceError(N_("Give a number of people from 0 to 10000."))
    return n


def _day(day: date | None) -> date:
    if day is None:
        raise VoiceError(N_("Give a valid date."))
    return day


# --- minutes ------------------------------------------------------------------------------

def save_minutes(session: Session, now: datetime, meeting: Meeting, *, topics: Iterable[str],
                 attended: int | None, decisions: str = "", issues_raised: str = "",
                 notes: str = "", user: StaffUser | None = None, person: Person | None = None,
                 source: str = "console") -> MeetingMinutes:
    """Write (or correct) the minutes of ``meeting``; a meeting that had minutes was held."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise VoiceError(N_("The meeting was cancelled."))
    if meeting.starts_at > now:
        raise VoiceError(N_("Minutes can be written once the meeting has begun."))
    attended = _count(attended)
    chosen = [t for t in TOPICS if t in set(topics)]
    if not chosen:
        raise VoiceError(N_("Choose at least one topic."))
    minutes = session.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id))
    if minutes is None:
        minutes = MeetingMinutes(meeting_id=meeting.id, created_at=now)
        session.add(minutes)
    minutes.topics, minutes.attended = chosen, attended
    minutes.decisions, minutes.issues_raised = decisions[:4000], issues_raised[:4000]
    minutes.notes, minutes.source, minutes.updated_at = notes[:4000], source, now
    minutes.by_user_id = user.id if user else None
    minutes.by_person_id = person.id if person else (user.person_id if user else None)
    if meeting.status == MeetingStatus.SCHEDULED:
        meeting.status = MeetingStatus.HELD
    session.flush()
    audit(session, now, user, "minutes_save", "meeting", meeting.id, source=source,
          topics=chosen, attended=attended)
    return minutes


_SMS_COUNT = re.compile(r"^\s*(\d{1,4})\b")


def parse_sms_minutes(text: str) -> tuple[int | None, list[str], str]:
    """``BB 12 BHYT TAMTRU chi em muon lam the`` -> (12, ['BHYT', 'TAMTRU'], note).
    The count and topic words come first, in any order; the rest is the note."""
    words = text.split()
    attended, topics, i = None, [], 0
    while i < len(words):
        word = fold(words[i]).upper().strip(",.;:")
        if attended is None and word.isdigit() and len(word) <= 4 and not topics:
            attended = int(word)
        elif word in TOPIC_WORDS and (word.isalpha() or attended is not None):
            if TOPIC_WORDS[word] not in topics:
                topics.append(TOPIC_WORDS[word])
        else:
            break
        i += 1
    return attended, topics, " ".join(words[i:])


def minutes_by_sms(session: Session, now: datetime, person: Person, group_ids: list[int],
                   text: str) -> tuple[str, dict]:
    """The peer educator's short minutes for her group's latest meeting: a template key
    and its values for the reply."""
    from hotline.services import meetings

    meeting = meetings.latest_held(session, group_ids, now) if group_ids else None
    if meeting is None:
        return "minutes_no_meeting", {}
    attended, topics, note = parse_sms_minutes(text)
    if attended is None or not topics:
        return "minutes_help", {}
    save_minutes(session, now, meeting, topics=topics, attended=attended, notes=note,
                 person=person, source="sms")
    return "minutes_saved", {"group": meeting.group.code,
                             "when": clock.local(meeting.starts_at).strftime("%d/%m"),
                             "count": attended, "topics": " ".join(topics)[:40]}


# --- collective issues ----------------------------------------------------------------------

def _cases(session: Session, raw: str) -> list[Case]:
    numbers = [int(n) for n in re.findall(r"[0-9]{1,9}", raw or "")]
    found = list(session.scalars(select(Case).where(Case.number.in_(numbers)))) if numbers else []
    if len(found) != len(set(numbers)):
        raise VoiceError(N_("Some case numbers were not found."))
    return found


def save_issue(session: Session, now: datetime, user: StaffUser | None,
               issue: CollectiveIssue | None, *, title: str, description: str = "",
               category: int | None = None, ward: str = "", raised_on: date | None = None,
               meeting_id: int | None = None, cases: str = "",
               groups: Iterable[int] = ()) -> CollectiveIssue:
    """Create or edit a collective issue with the cases (their numbers, in any text) and
    groups it rests on; raised today unless ``raised_on``."""
    title = title.strip()[:200]
    if not title:
        raise VoiceError(N_("Give the issue a title."))
    group_ids = list(groups)
    created = issue is None
    if issue is None:
        issue = CollectiveIssue(created_at=now, created_by_id=user.id if user else None,
                                status="open")
        session.add(issue)
    issue.title, issue.description = title, description.strip()[:4000]
    issue.category = category if category in CATEGORY_WORDS else None
    issue.ward = ward.strip()[:60] or None
    issue.raised_on = raised_on or clock.local(now).date()
    issue.meeting_id = meeting_id if meeting_id and session.get(Meeting, meeting_id) else None
    issue.cases = _cases(session, cases)
    issue.groups = list(session.scalars(select(Group).where(Group.id.in_(group_ids)))) \
        if group_ids else []
    session.flush()
    audit(session, now, user, "issue_add" if created else "issue_edit", "collective_issue",
          issue.id, cases=len(issue.cases), groups=len(issue.groups))
    return issue


def add_step(session: Session, now: datetime, user: StaffUser | None, issue: CollectiveIssue,
             kind: str, on: date, note: str = "", forum: Forum | None = None) -> AdvocacyStep:
    """One advocacy step; the issue's status is its latest step's kind."""
    if kind not in STEP_KINDS:
        raise VoiceError(N_("Choose a step."))
    on = _day(on)
    step = AdvocacyStep(issue_id=issue.id, kind=kind, happened_on=on, note=note[:4000],
                        forum_id=forum.id if forum else None, created_at=now)
    session.add(step)
    session.flush()
    issue.status = session.scalar(
        select(AdvocacyStep.kind).where(AdvocacyStep.issue_id == issue.id)
        .order_by(AdvocacyStep.happened_on.desc(), AdvocacyStep.id.desc()).limit(1))
    session.expire(issue, ["steps"])
    audit(session, now, user, "issue_step", "collective_issue", issue.id, kind=kind,
          on=on.isoformat())
    return step


def issue_age_days(issue: CollectiveIssue, today: date) -> int:
    return (today - issue.raised_on).days


# --- forums ---------------------------------------------------------------------------------

def save_forum(session: Session, now: datetime, user: StaffUser | None, *, title: str,
               held_on: date | None, participants: dict[str, int | None] | None = None,
               place: str = "", ward: str = "", commitments: str = "", notes: str = "",
               follow_up_on: date | None = None, issues: Iterable[int] = ()) -> Forum:
    """A forum held: who came (how many of each of PARTICIPANT_KINDS), the issues raised
    (each gets a "forum" step), the commitments, and when to remind the coordinator to
    check them."""
    title, held_on = title.strip()[:200], _day(held_on)
    if not title:
        raise VoiceError(N_("Give the forum a title."))
    participants = {kind: n for kind, n in (participants or {}).items()
                    if kind in PARTICIPANT_KINDS and _count(n)}
    follow_up = follow_up_on
    if follow_up is not None and follow_up < held_on:
        raise VoiceError(N_("The follow-up date comes after the forum."))
    issue_ids = list(issues)
    issues = list(session.scalars(
        select(CollectiveIssue).where(CollectiveIssue.id.in_(issue_ids)))) if issue_ids else []
    forum = Forum(
        title=title, held_on=held_on, place=place.strip()[:200],
        ward=ward.strip()[:60] or None, participants=participants,
        commitments=commitments.strip()[:4000], notes=notes.strip()[:4000],
        follow_up_at=clock.at_local(follow_up, FOLLOW_UP_TIME) if follow_up else None,
        created_at=now, created_by_id=user.id if user else None, issues=issues)
    session.add(forum)
    session.flush()
    for issue in issues:
        add_step(session, now, user, issue, "forum", held_on, note=title, forum=forum)
    audit(session, now, user, "forum_add", "forum", forum.id, issues=len(issues),
          participants=forum.participant_total)
    return forum


def due_forum_follow_ups(session: Session, now: datetime, limit: int = 100,
                         skip: Collection[int] = ()) -> list[Forum]:
    """Forums whose follow-up moment has come and whose reminder is not yet queued."""
    query = select(Forum).where(Forum.follow_up_at <= now, Forum.follow_up_sent_at.is_(None))
    if skip:
        query = query.where(Forum.id.not_in(skip))
    return list(session.scalars(query.order_by(Forum.follow_up_at, Forum.id).limit(limit)))


def remind_forum_follow_up(session: Session, now: datetime, outbox: Outbox, forum: Forum) -> int:
    """Queue the follow-up reminder to every coordinator; returns how many were queued."""
    from hotline.services.cases import coordinators

    sent = 0
    when = forum.held_on.strftime("%d/%m")
    for coord in coordinators(session):
        if coord.phone:
            outbox.enqueue(now, coord.phone, render("forum_follow_up", when=when,
                                                    number=forum.id),
                           kind=Kind.NORMAL, person=coord,
                           key=f"forum:{forum.id}:follow_up:{coord.id}")
            sent += 1
    forum.follow_up_sent_at = now
    session.flush()
    return sent


# --- press ----------------------------------------------------------------------------------

def save_press(session: Session, now: datetime, user: StaffUser | None, *, outlet: str,
               headline: str, published_on: date | None, url: str = "", tone: str = "",
               summary: str = "", categories: Iterable[int] = (),
               issue_id: int | None = None) -> PressItem:
    """A press item about the line's issues: where, when, its tone, the categories it
    touches and the collective issue it is about."""
    outlet, headline = outlet.strip()[:120], headline.strip()[:300]
    if not outlet or not headline:
        raise VoiceError(N_("Give the outlet and the headline."))
    url = url.strip()[:500]
    if url and not re.match(r"^https?://", url):
        raise VoiceError(N_("A link starts with http:// or https://."))
    tone = tone.strip() or "neutral"
    if tone not in TONES:
        raise VoiceError(N_("Choose a tone."))
    categories = sorted({c for c in categories if c in CATEGORY_WORDS})
    issue = session.get(CollectiveIssue, issue_id) if issue_id else None
    item = PressItem(outlet=outlet, published_on=_day(published_on), headline=headline,
                     url=url, summary=summary.strip()[:4000], categories=categories,
                     issue_id=issue.id if issue else None, tone=tone, created_at=now,
                     created_by_id=user.id if user else None)
    session.add(item)
    session.flush()
    audit(session, now, user, "press_add", "press_item", item.id, tone=tone)
    return item
