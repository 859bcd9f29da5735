"""People: find by any number they have used, register, consent, opt out and in; and as
staff look after them: edit, merge, erase on request.

Merging: a member with a new SIM first texts as a stranger, so the line has two records of
one person. ``merge`` moves everything of one record onto the other (numbers, cases,
messages, calls, consents, groups, attendance ...) and keeps every earlier number, so the
history stays whole. ``erase`` answers an erasure request under the personal data law:
personal fields and the person's own words go, counts for reports stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.db import Base
from hotline.models import (
    Attendance,
    Call,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseEvent,
    Consent,
    Direction,
    Kind,
    Membership,
    Message,
    NotifyChannel,
    NotSent,
    Person,
    PersonPhone,
    Recording,
    Residence,
    Role,
    Sex,
    StaffUser,
)
from hotline.phones import mask
from hotline.services import retention
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError
from hotline.services.outbox import Outbox, cancel_queued
from hotline.templates import render

# Age bands, for reports and broadcast segments alike: (label, lowest age, highest age), the
# age being the calendar year minus the birth year.
AGE_BANDS = (("<18", 0, 17), ("18-29", 18, 29), ("30-39", 30, 39), ("40-49", 40, 49),
             ("50-59", 50, 59), ("60+", 60, 200))


def find_by_phone(session: Session, phone: str) -> Person | None:
    """The person whose current or any earlier number is ``phone`` (E.164)."""
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is not None:
        return person
    return session.scalar(
        select(Person)
        .join(PersonPhone, PersonPhone.person_id == Person.id)
        .where(PersonPhone.phone == phone, Person.erased_at.is_(None))
        .order_by(PersonPhone.added_at.desc())
        .limit(1)
    )


def get_or_create(session: Session, now: datetime, phone: str) -> tuple[Person, bool]:
    """The person behind ``phone``, created (unregistered) on first contact."""
    person = find_by_phone(session, phone)
    if person is not None:
        return person, False
    person = Person(phone=phone, created_at=now)
    try:
        with session.begin_nested():
            session.add(person)
            session.flush()
            session.add(PersonPhone(person_id=person.id, phone=phone, added_at=now))
    except IntegrityError:
        # A concurrent request created them first.
        return find_by_phone(session, phone), False
    return person, True


def ask_consent(
    session: Session, now: datetime, person: Person, *, purpose: str, question: str, channel: str
) -> Consent:
    """Record that ``question`` was put to ``person``; the answer comes later."""
    consent = Consent(
        person_id=person.id, purpose=purpose, question=question, channel=channel, asked_at=now
    )
    session.add(consent)
    session.flush()
    return consent


def answer_consent(
    session: Session, now: datetime, person: Person, *, purpose: str, granted: bool
) -> Consent | None:
    """Store the answer on the latest open question for ``purpose``."""
    consent = _latest_consent(session, person, purpose, answered=False)
    if consent is None:
        return None
    consent.answer = "granted" if granted else "refused"
    consent.answered_at = now
    session.flush()
    return consent


def has_consent(session: Session, person: Person, purpose: str) -> bool:
    """Whether the person's latest answer for ``purpose`` is a grant."""
    latest = _latest_consent(session, person, purpose, answered=True)
    return latest is not None and latest.answer == "granted"


def _latest_consent(session: Session, person: Person, purpose: str, *,
                    answered: bool) -> Consent | None:
    """The latest answered question for ``purpose`` (by answer time), or the latest still
    open one (by asking time)."""
    answer = Consent.answer.is_not(None) if answered else Consent.answer.is_(None)
    when = Consent.answered_at if answered else Consent.asked_at
    return session.scalar(
        select(Consent).where(Consent.person_id == person.id, Consent.purpose == purpose,
                              answer).order_by(when.desc(), Consent.id.desc()).limit(1))


# A pending question (consent, RSVP, follow-up) stays answerable this long.
PENDING_TTL = timedelta(days=7)


def set_pending(person: Person, now: datetime, kind: str, ref: int | None,
                ttl: timedelta = PENDING_TTL) -> None:
    """Remember the one question the person's next short reply answers."""
    person.pending_kind, person.pending_ref = kind, ref
    person.pending_expires_at = now + ttl


def clear_pending(person: Person) -> None:
    person.pending_kind = person.pending_ref = person.pending_expires_at = None


def pending_expired(person: Person, now: datetime) -> bool:
    return person.pending_kind is None or (
        person.pending_expires_at is not None and person.pending_expires_at < now
    )


def record_withdrawal(session: Session, now: datetime, person: Person, *, channel: str) -> None:
    """Opting out withdraws consent to be contacted; kept with when and how."""
    session.add(Consent(person_id=person.id, purpose="contact", channel=channel,
                        question="Ngung nhan tin (HUY)", asked_at=now, answer="withdrawn",
                        answered_at=now))
    session.flush()


def record_case_consent(session: Session, now: datetime, person: Person, *, keyword: str,
                        channel: str) -> None:
    """Sending KN/CG (or pressing the key) is an explicit request to handle a problem:
    stored as consent to process what the person sent for that purpose."""
    session.add(Consent(person_id=person.id, purpose="case", channel=channel,
                        question=f"Gui {keyword} de bao van de va nhan ho tro",
                        asked_at=now, answer="granted", answered_at=now))
    session.flush()


# The consent log's purpose for how she is told (``Person.notify_channel``).
NOTIFY_PURPOSE = "voice_calls"
# What each change is recorded as having asked (the consent log keeps the question).
NOTIFY_QUESTIONS = {
    NotifyChannel.SMS: "Nhan tin bao bang tin nhan (khong goi)",
    NotifyChannel.VOICE: "Nhan tin bao bang cuoc goi thay tin nhan",
    NotifyChannel.BOTH: "Nhan tin bao bang ca tin nhan va cuoc goi",
}


def set_notify_channel(session: Session, now: datetime, person: Person, channel: str, *,
                       source: str, user: StaffUser | None = None, note: str = "") -> bool:
    """Tell ``person`` her notices by ``channel`` (``NotifyChannel``); False when unchanged.

    Like an opt-out it is kept in the consent log (granted for calls, withdrawn when back to
    SMS), with ``source`` (sms, voice, console) as its channel, and in the audit log with who
    did it (``user``, else the member herself). ``note`` names why ("voice opt-out": key 0
    during a notice call).
    """
    try:
        value = NotifyChannel(channel)
    except ValueError:
        raise PeopleError(N_("Unknown notification channel.")) from None
    if person.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    before = person.notify_channel
    if before == value:
        return False
    person.notify_channel = value
    question = NOTIFY_QUESTIONS[value] + (f" ({note})" if note else "")
    session.add(Consent(person_id=person.id, purpose=NOTIFY_PURPOSE, channel=source[:12],
                        question=question, asked_at=now,
                        answer="withdrawn" if value == NotifyChannel.SMS else "granted",
                        answered_at=now))
    audit(session, now, user, "notify_channel", "person", person.id,
          actor=None if user is not None else f"member ({source})"[:120],
          before=before, after=value.value, source=source, note=note or None)
    session.flush()
    return True


# Days before a health-insurance card ends when the member is reminded.
BHYT_REMINDER_DAYS = (30, 7)


def remind_bhyt(session: Session, now: datetime, outbox: Outbox, person: Person,
                today) -> Message:
    """The BHYT renewal reminder of the window ``person``'s card is in (30, then 7 days
    before it ends), once per window; by a call too (or instead) for a voice member."""
    from hotline.services import voice_notices

    end = person.bhyt_expires_on
    left = (end - today).days
    window = min(d for d in BHYT_REMINDER_DAYS if left <= d)
    key = f"bhyt:{person.id}:{end}:{window}"
    msg = outbox.enqueue(now, person.phone, render("bhyt_renewal", date=f"{end:%d/%m/%Y}"),
                         kind=Kind.NORMAL, person=person, key=key)
    voice_notices.tell(session, now, person, "bhyt", msg, ref=key,
                       say={"date": end.isoformat()})
    return msg


def bhyt_due(session: Session, today) -> list[Person]:
    """People whose card ends within the longest reminder window (index on the end date)."""
    from datetime import timedelta as _td

    return list(session.scalars(
        select(Person).where(
            Person.bhyt_expires_on >= today,
            Person.bhyt_expires_on <= today + _td(days=max(BHYT_REMINDER_DAYS)),
            Person.opted_out_at.is_(None), Person.erased_at.is_(None),
            Person.phone.is_not(None),
        )
    ))


# --------------------------------------------------------------------------------------------
# Staff: editing, merging, erasing
# --------------------------------------------------------------------------------------------

# Personal fields a merge fills in on the kept record when it has none.
FILLABLE = ("name", "preferred_name", "sex", "birth_year", "occupation", "home_province",
            "ward_old", "ward_current", "safe_contact_start", "safe_contact_end",
            "bhyt_expires_on")
EDITABLE = ("name", "preferred_name", "sex", "birth_year", "occupation", "home_province",
            "ward_old", "ward_current", "residence_status", "role", "trained_violence", "on_duty",
            "bhyt_expires_on", "safe_contact_start", "safe_contact_end")


class PeopleError(ServiceError):
    """A merge or erasure that cannot be done; the message is a message id for staff."""


def _clean_field(name: str, value):
    """``value`` (parsed: a str, int, date, time or bool) as the ``Person`` column holds it."""
    if name in ("trained_violence", "on_duty"):
        return bool(value)
    if name == "birth_year":
        if value is not None and not (isinstance(value, int) and 1900 <= value <= 2100):
            raise PeopleError(N_("Birth year must be a year."))
        return value
    if name == "bhyt_expires_on":
        return value if isinstance(value, date) else None
    if name in ("safe_contact_start", "safe_contact_end"):
        return value.replace(second=0, microsecond=0) if isinstance(value, time) else None
    raw = str(value or "").strip()
    if name == "sex":
        return raw if raw in {s.value for s in Sex} else None
    if name == "residence_status":
        return raw if raw in {r.value for r in Residence} else Residence.UNKNOWN.value
    if name == "role":
        return raw if raw in {r.value for r in Role} else Role.MEMBER.value
    limit = {"name": 120, "occupation": 40, "preferred_name": 40}.get(name, 60)
    return raw[:limit] if name == "name" else (raw[:limit] or None)


def update_person(session: Session, now: datetime, user: StaffUser | None, person: Person,
                  changes: Mapping[str, object]) -> list[str]:
    """Change the EDITABLE fields given in ``changes`` (parsed values; the others stay);
    returns the names of those changed."""
    if person.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    values = {name: _clean_field(name, changes[name]) for name in EDITABLE if name in changes}
    window = (values.get("safe_contact_start", person.safe_contact_start),
              values.get("safe_contact_end", person.safe_contact_end))
    if (window[0] is None) != (window[1] is None) or (window[0] and window[0] == window[1]):
        # One end alone, or an empty window, would silently mean "never" or "always".
        raise PeopleError(N_("Give both ends of the safe-contact hours, or neither."))
    changed = []
    for name, value in values.items():
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if changed:
        audit(session, now, user, "person_edit", "person", person.id, fields=changed)
        session.flush()
    return changed


# --------------------------------------------------------------------------------------------
# Merging two records of one person
# --------------------------------------------------------------------------------------------


def _people_references() -> list:
    """Every (table, column) holding a person id, found from the schema itself so tables added
    later are moved too."""
    refs = []
    people = Person.__table__
    for table in Base.metadata.sorted_tables:
        if table is people:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is people:
                refs.append((table, fk.parent))
    return refs


@dataclass
class MergeResult:
    kept: int
    removed: int
    current_phone: str | None
    moved: dict[str, int] = field(default_factory=dict)


def merge(session: Session, now: datetime, user: StaffUser | None, keep: Person, drop: Person,
          current_phone: str | None = None) -> MergeResult:
    """Fold ``drop`` into ``keep``: everything that pointed at ``drop`` points at ``keep``,
    every number stays in ``keep``'s history, and ``current_phone`` (either record's number;
    ``drop``'s by default, as it is usually the new SIM) becomes the current one."""
    if keep.id == drop.id:
        raise PeopleError(N_("Choose two different records."))
    if keep.erased_at is not None or drop.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    current_phone = current_phone or drop.phone or keep.phone
    if current_phone not in (keep.phone, drop.phone):
        raise PeopleError(N_("The current number must be one of the two records' numbers."))
    keep_id, drop_id = keep.id, drop.id
    old_keep_phone, drop_phone = keep.phone, drop.phone

    # Rows with a uniqueness that includes the person: keep the kept record's own.
    keep_meetings = select(Attendance.meeting_id).where(Attendance.person_id == keep_id)
    session.execute(delete(Attendance).where(
        Attendance.person_id == drop_id, Attendance.meeting_id.in_(keep_meetings)
    ))
    keep_groups = select(Membership.group_id).where(
        Membership.person_id == keep_id, Membership.left_at.is_(None)
    )
    session.execute(update(Membership).where(
        Membership.person_id == drop_id, Membership.left_at.is_(None),
        Membership.group_id.in_(keep_groups),
    ).values(left_at=now))

    # Personal fields the kept record lacks; the earliest registration; opted out if either.
    for name in FILLABLE:
        if getattr(keep, name) in (None, "") and getattr(drop, name) not in (None, ""):
            setattr(keep, name, getattr(drop, name))
    if keep.residence_status == Residence.UNKNOWN and drop.residence_status:
        keep.residence_status = drop.residence_status
    if drop.registered_at and (keep.registered_at is None
                               or drop.registered_at < keep.registered_at):
        keep.registered_at = drop.registered_at
    if drop.opted_out_at and not keep.opted_out_at:
        keep.opted_out_at = drop.opted_out_at
    keep.trained_violence = keep.trained_violence or drop.trained_violence
    if keep.role == Role.MEMBER and drop.role != Role.MEMBER:
        keep.role = drop.role
    # The unique phone column: free it on the removed record first.
    drop.phone = None
    session.flush()

    moved = {}
    for table, column in _people_references():
        result = session.execute(update(table).where(column == drop_id).values({column: keep_id}))
        if result.rowcount:
            moved[f"{table.name}.{column.name}"] = result.rowcount
    session.execute(delete(Person).where(Person.id == drop_id))
    session.expunge(drop)

    keep.phone = current_phone
    known = set(session.scalars(select(PersonPhone.phone).where(
        PersonPhone.person_id == keep_id
    )))
    for phone in (old_keep_phone, drop_phone):
        if phone and phone not in known:
            session.add(PersonPhone(person_id=keep_id, phone=phone, added_at=now))
    session.flush()
    session.execute(update(PersonPhone).where(
        PersonPhone.person_id == keep_id, PersonPhone.phone != current_phone,
        PersonPhone.retired_at.is_(None),
    ).values(retired_at=now))
    session.execute(update(PersonPhone).where(
        PersonPhone.person_id == keep_id, PersonPhone.phone == current_phone,
    ).values(retired_at=None))
    session.expire_all()
    audit(session, now, user, "person_merge", "person", keep_id, removed=drop_id,
          current=mask(current_phone or ""), moved=moved)
    session.flush()
    return MergeResult(keep_id, drop_id, current_phone, moved)


# --------------------------------------------------------------------------------------------
# Erasure on request
# --------------------------------------------------------------------------------------------


@dataclass
class EraseResult:
    person_id: int
    messages: int = 0
    cases: int = 0
    recordings: int = 0
    files_removed: int = 0
    provider_media: int = 0
    cancelled: int = 0
    # The SMS telling her it is done (None: she had no number to send it to).
    confirmation_id: int | None = None


# The confirmation's idempotency key: one per person ever; the retention job finds these
# rows by it to forget the number once the SMS has gone.
CONFIRMATION_KEY = "erased:{person_id}"


def _confirm_erasure(now: datetime, outbox: Outbox, person: Person, phone: str,
                     backup_days: int) -> int:
    """Queue the "your data is erased" SMS: a reply she asked for, so it goes to an erased,
    opted-out person too; its words say nothing but that it is done (and that backups age
    out). Queued after her texts were blanked, so it is the one row that still holds her
    number, until it has gone."""
    msg = outbox.enqueue(now, phone, render("erased", days=backup_days), kind=Kind.REPLY,
                         person=person, key=CONFIRMATION_KEY.format(person_id=person.id))
    return msg.id


def erase(session: Session, now: datetime, user: StaffUser | None, person: Person,
          audio_dir: str | None = None, *, outbox: Outbox | None = None,
          backup_days: int = 30) -> EraseResult:
    """Blank everything that identifies ``person`` or is in their words; keep the rows that
    reports count (cases by category and date, attendance, messages and calls as counts).

    Numbers, name, birth year, sex, occupation, province, wards, the message bodies they sent
    and received, their stories on cases and the notes about them, and their recordings go.
    Recordings held by a provider (Twilio) have their link forgotten here; deleting them at
    the provider is counted in ``provider_media`` for a job to do.

    With ``outbox`` she is told by SMS that it is done, at her current number (``erased``).
    """
    if person.erased_at is not None:
        raise PeopleError(N_("This person's data was erased."))
    result = EraseResult(person.id)
    confirm_to = person.phone
    numbers = set(session.scalars(
        select(PersonPhone.phone).where(PersonPhone.person_id == person.id)
    ))
    if person.phone:
        numbers.add(person.phone)
    mine = Message.person_id == person.id
    if numbers:
        mine = or_(mine, Message.phone.in_(numbers))
    result.cancelled = cancel_queued(session, NotSent.ERASED, mine,
                                     Message.direction == Direction.OUT)
    result.messages = session.execute(
        update(Message).where(mine).values(body="", phone="")
    ).rowcount
    case_ids = list(session.scalars(select(Case.id).where(Case.person_id == person.id)))
    result.cases = len(case_ids)
    if case_ids:
        session.execute(update(Case).where(Case.id.in_(case_ids)).values(summary=""))
        session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(case_ids))
                        .values(note=""))
    call_ids = list(session.scalars(select(Call.id).where(
        or_(Call.person_id == person.id, Call.phone.in_(numbers or {""}))
    )))
    if call_ids:
        session.execute(update(Call).where(Call.id.in_(call_ids)).values(phone=""))
    recs = list(session.scalars(select(Recording).where(or_(
        Recording.case_id.in_(case_ids or [-1]), Recording.call_id.in_(call_ids or [-1])
    ))))
    for rec in recs:
        result.recordings += 1
        result.files_removed += retention.remove_recording_files(rec, audio_dir)
        result.provider_media += retention.held_by_provider(rec)
        rec.local_path = None
        rec.media_url = ""
    session.execute(update(CallbackRequest).where(
        CallbackRequest.person_id == person.id, CallbackRequest.status == CallbackStatus.QUEUED
    ).values(status=CallbackStatus.GIVEN_UP))
    session.execute(update(CallbackRequest).where(CallbackRequest.person_id == person.id)
                    .values(phone="", note=""))
    session.execute(update(Membership).where(
        Membership.person_id == person.id, Membership.left_at.is_(None)
    ).values(left_at=now))
    session.execute(delete(PersonPhone).where(PersonPhone.person_id == person.id))
    session.execute(update(Message).where(
        Message.person_id == person.id, Message.needs_staff.is_(True),
        Message.triaged_at.is_(None),
    ).values(triaged_at=now, triaged_by_id=user.id if user else None))
    for name in ("phone", "preferred_name", "sex", "birth_year", "occupation", "home_province",
                 "ward_old", "ward_current", "safe_contact_start", "safe_contact_end",
                 "pending_kind", "pending_ref", "pending_expires_at", "bhyt_expires_on"):
        setattr(person, name, None)
    person.name = ""
    person.residence_status = Residence.UNKNOWN
    person.on_duty = False
    person.opted_out_at = person.opted_out_at or now
    person.erased_at = now
    session.expire(person, ["phones"])
    if outbox is not None and confirm_to:
        result.confirmation_id = _confirm_erasure(now, outbox, person, confirm_to, backup_days)
    audit(session, now, user, "person_erase", "person", person.id, messages=result.messages,
          cases=result.cases, recordings=result.recordings,
          provider_media=result.provider_media,
          sms_confirmation=result.confirmation_id is not None)
    session.flush()
    return result


def keep_only_the_minimum(session: Session, now: datetime, person: Person) -> int:
    """She said no to the consent question: keep her number (so the no is honoured) and the
    consent record the law asks for, nothing else. Her name and profile are cleared, and the
    words of her texts that are not part of a case (the DK that carried her name) blanked.
    Returns how many texts were blanked. Cases she opened stay: they were asked for."""
    person.name = ""
    person.preferred_name = None
    person.sex = person.birth_year = person.occupation = person.home_province = None
    person.ward_old = person.ward_current = None
    person.residence_status = Residence.UNKNOWN
    person.bhyt_expires_on = None
    person.safe_contact_start = person.safe_contact_end = None
    blanked = session.execute(
        update(Message)
        .where(Message.person_id == person.id, Message.direction == Direction.IN,
               Message.case_id.is_(None), Message.needs_staff.is_(False))
        .values(body="")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.flush()
    return blanked
