"""Retention: closed cases lose what identifies the person; what reports count stays.

The personal data law wants data kept no longer than needed. Months after a case is closed:

1. after ``recording_retention_months`` (default 3) its **recordings** go: the file and the
   row (a provider-held recording has its link forgotten, counted for deletion there);
2. after ``retention_months`` (default 24) the rest: the member's story, every note on the
   timeline, the referral outcomes, the texts about it (bodies and numbers), the number on
   the calls it came from, and **the person on the case**: the case moves to a stand-in record
   without name or number that keeps only what reports break figures down by (sex, birth
   year, occupation, home province, wards), so last year's report gives the same figures.

Category, dates, channel, status, follow-up answer, group and referral provider stay on the
case. The member herself is not touched: she may still be a member of a group. What was
removed is written in the audit log, one row per case or recording.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hotline.models import (
    OPEN_STATUSES,
    Call,
    Case,
    CaseEvent,
    Direction,
    Message,
    MessageStatus,
    Person,
    Recording,
    Referral,
    Role,
)
from hotline.models.messages import ERASURE_CONFIRMATION
from hotline.services.audit import audit

BATCH = 200
# Inbound commands that name a case by its number (a peer educator's note carries free text).
CASE_COMMANDS = ("GHI", "XONG", "KQ", "NHAN", "CHUYEN", "TRA", "TT")
# The fields a stand-in keeps: the report's dimensions, nothing that reaches the person.
DIMENSIONS = ("sex", "birth_year", "occupation", "home_province", "ward_old", "ward_current",
              "residence_status")
# What the phone simulator records lives in this folder of the audio directory, served at
# SIMULATOR_PATH (console/media.py), each file named by its RecordingSid.
SIMULATOR_DIR = "simulator"
SIMULATOR_PATH = "/console/simulator/recordings/"
SIMULATOR_SID = re.compile(r"^RE[0-9a-f]{32}$")


def months_before(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the month's last day when shorter)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    return now.replace(year=year, month=month,
                       day=min(now.day, calendar.monthrange(year, month)[1]))


def _closed_before(cutoff: datetime):
    return (Case.closed_at.is_not(None), Case.closed_at <= cutoff,
            Case.status.not_in(list(OPEN_STATUSES)))


def recording_files(recording: Recording, audio_dir: str | None) -> list[Path]:
    """The files on this server that hold ``recording``: its ``local_path`` (relative to the
    audio directory) and what the phone simulator saved under its id. Without an audio
    directory only an absolute ``local_path`` can be found."""
    found = []
    if recording.local_path:
        path = Path(recording.local_path)
        if path.is_absolute() or audio_dir:
            found.append(path if path.is_absolute() else Path(audio_dir) / path)
    if audio_dir and SIMULATOR_SID.match(recording.external_id or ""):
        found.extend(sorted((Path(audio_dir) / SIMULATOR_DIR).glob(f"{recording.external_id}.*")))
    return found


def remove_recording_files(recording: Recording, audio_dir: str | None) -> int:
    """Delete ``recording_files``; returns how many were there."""
    removed = 0
    for path in recording_files(recording, audio_dir):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def held_by_provider(recording: Recording) -> bool:
    """Whether a copy lives at the provider (Twilio), to be deleted there; a link to a file
    or to our own routes (the simulator's recordings) is not one."""
    url = recording.media_url or ""
    return bool(url) and not url.startswith(("/", "file:")) and SIMULATOR_PATH not in url


# --------------------------------------------------------------------------------------------
# Recordings first
# --------------------------------------------------------------------------------------------


def due_recordings(session: Session, now: datetime, months: int, skip=(),
                   limit: int = BATCH) -> list[Recording]:
    """Recordings of cases closed ``months`` or more ago, oldest closing first."""
    return list(session.scalars(
        select(Recording).join(Case, Case.id == Recording.case_id)
        .where(*_closed_before(months_before(now, months)), Recording.id.not_in(list(skip)))
        .order_by(Case.closed_at, Recording.id).limit(limit)
    ))


def _drop_recording(session: Session, now: datetime, rec: Recording, audio_dir: str,
                    case: Case) -> tuple[int, int]:
    """Delete ``rec``'s files and row; a timeline line keeps which call it came from (the
    later pass blanks that call's number). Returns (files removed, provider-held)."""
    removed = remove_recording_files(rec, audio_dir)
    provider = 1 if held_by_provider(rec) else 0
    session.add(CaseEvent(case_id=case.id, at=now, kind="recording_removed",
                          data={"call_id": rec.call_id, "duration_s": rec.duration_s}))
    session.delete(rec)
    return removed, provider


def remove_recording(session: Session, now: datetime, rec: Recording, audio_dir: str) -> None:
    """The retention job's first step for one recording of a long-closed case."""
    case = session.get(Case, rec.case_id)
    rec_id, channel_id = rec.id, rec.external_id
    files, provider = _drop_recording(session, now, rec, audio_dir, case)
    audit(session, now, None, "retention_recording", "recording", rec_id, case=case.number,
          files_removed=files, provider_media=provider, external_id=channel_id)
    session.flush()


# --------------------------------------------------------------------------------------------
# Then the rest of the case
# --------------------------------------------------------------------------------------------


@dataclass
class Removed:
    summary: bool = False
    notes: int = 0
    referral_outcomes: int = 0
    messages: int = 0
    calls: int = 0
    recordings: int = 0
    files_removed: int = 0
    provider_media: int = 0


def due_cases(session: Session, now: datetime, months: int, skip=(),
              limit: int = BATCH) -> list[Case]:
    """Cases closed ``months`` or more ago that still identify their person."""
    return list(session.scalars(
        select(Case).where(Case.anonymised_at.is_(None),
                           *_closed_before(months_before(now, months)),
                           Case.id.not_in(list(skip)))
        .order_by(Case.closed_at, Case.id).limit(limit)
    ))


def stand_in_for(session: Session, now: datetime, person: Person, case: Case) -> Person:
    """A record without name or number that keeps ``person``'s report dimensions; one per
    case, so two anonymised cases cannot be tied to one person through it."""
    stand_in = Person(name="", phone=None, role=Role.MEMBER, created_at=case.created_at,
                      erased_at=now, **{name: getattr(person, name) for name in DIMENSIONS})
    session.add(stand_in)
    session.flush()
    return stand_in


def anonymise_case(session: Session, now: datetime, case: Case, audio_dir: str) -> Removed:
    """Remove from ``case`` everything that identifies its person; keep what reports count."""
    done = Removed()
    member = session.get(Person, case.person_id)
    stand_in = stand_in_for(session, now, member, case)
    numbers = {p for p in (member.phone,) if p} | {ph.phone for ph in member.phones}

    call_ids = set()
    for rec in session.scalars(select(Recording).where(Recording.case_id == case.id)):
        call_ids.add(rec.call_id)
        files, provider = _drop_recording(session, now, rec, audio_dir, case)
        done.recordings += 1
        done.files_removed += files
        done.provider_media += provider
    session.flush()
    events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
    for ev in events:
        if ev.kind == "recording_removed" and ev.data:
            call_ids.add(ev.data.get("call_id"))
        if ev.note:
            ev.note = ""
            done.notes += 1
        if ev.actor_person_id == member.id:
            ev.actor_person_id = stand_in.id
    call_ids.discard(None)

    done.summary = bool(case.summary)
    case.summary = ""
    done.referral_outcomes = session.execute(
        update(Referral).where(Referral.case_id == case.id, Referral.outcome != "")
        .values(outcome="")
    ).rowcount
    # The texts of the case; and a peer educator's "GHI 1024 ..." that names it by number.
    naming = re.compile(rf"(?<!\d){case.number}(?!\d)")
    by_number = [m.id for m in session.scalars(
        select(Message).where(Message.direction == Direction.IN,
                              Message.command.in_(CASE_COMMANDS),
                              Message.case_id.is_(None),
                              Message.body.like(f"%{case.number}%"))
    ) if naming.search(m.body)]
    mine = or_(Message.case_id == case.id, Message.id.in_(by_number or [-1]))
    done.messages = session.execute(update(Message).where(mine).values(body="")).rowcount
    member_side = or_(Message.person_id == member.id, Message.phone.in_(numbers or {""}))
    session.execute(update(Message).where(mine, member_side)
                    .values(phone="", person_id=stand_in.id))
    if call_ids:
        done.calls = session.execute(
            update(Call).where(Call.id.in_(call_ids))
            .values(phone="", person_id=stand_in.id)
        ).rowcount
    case.person_id = stand_in.id
    case.anonymised_at = now
    session.expire(case, ["person"])
    audit(session, now, None, "retention_case", "case", case.number,
          closed_at=case.closed_at, summary=done.summary, notes=done.notes,
          referral_outcomes=done.referral_outcomes, messages=done.messages, calls=done.calls,
          recordings=done.recordings, files_removed=done.files_removed,
          provider_media=done.provider_media, person="name and numbers removed")
    session.flush()
    return done


def failed(session: Session, now: datetime, what: str, row_id: object, exc: Exception) -> None:
    """A row the retention job could not handle: said in the audit log, tried again later."""
    audit(session, now, None, "retention_failed", what, row_id,
          error=f"{type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------
# The SMS that told an erased person it was done
# --------------------------------------------------------------------------------------------

# Outcomes after which the number is no longer needed: the provider has the message (its
# callbacks match on the provider's id, not the number) or it will never go.
CONFIRMATION_DONE = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED,
                     MessageStatus.FAILED, MessageStatus.CANCELLED)


def due_confirmations(session: Session, skip=(), limit: int = BATCH) -> list[Message]:
    """Erasure confirmations (``people.CONFIRMATION_KEY``) that went and still hold the
    erased person's number, the last trace of it."""
    return list(session.scalars(
        select(Message).join(Person, Person.id == Message.person_id)
        # The partial index's own condition, so it is used: the job walked every sent and
        # delivered message on SQLite (the status index) to find the few confirmations.
        .where(Person.erased_at.is_not(None), ERASURE_CONFIRMATION,
               Message.direction == Direction.OUT, Message.phone != "",
               Message.status.in_(CONFIRMATION_DONE), Message.id.not_in(list(skip)))
        .order_by(Message.id).limit(limit)
    ))


def forget_confirmation_number(session: Session, now: datetime, msg: Message) -> None:
    """The confirmation has gone: its number (and words) go as the rest of hers did."""
    msg.phone = ""
    msg.body = ""
    audit(session, now, None, "retention_confirmation", "person", msg.person_id)
    session.flush()
