"""``create_*`` helpers for tests: small rows with sensible defaults."""

from __future__ import annotations

from datetime import datetime
from itertools import count

from hotline.categories import Category
from hotline.models import (
    Call,
    Case,
    Direction,
    GatewayDevice,
    Group,
    GroupRole,
    Meeting,
    Membership,
    Message,
    MessageStatus,
    Person,
    PersonPhone,
    Role,
)
from hotline.phones import carrier
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox

_phones = count(1)
_call_sids = count(1)


def create_person(session, now: datetime, *, phone: str | None = None, role: str = Role.MEMBER,
                  **fields) -> Person:
    phone = phone or f"+849120{next(_phones):05d}"
    person = Person(phone=phone, role=role, created_at=now, **fields)
    session.add(person)
    session.flush()
    session.add(PersonPhone(person_id=person.id, phone=phone, added_at=now))
    session.flush()
    return person


def create_device(session, now: datetime, *, app_device_id: str = "phone-1",
                  phone: str | None = None, seen: datetime | None = None,
                  **fields) -> GatewayDevice:
    """An Android SIM of the pool, seen at ``seen`` (default ``now``: healthy)."""
    fields.setdefault("name", f"SIM {app_device_id}/{fields.get('sim_number') or 1}")
    device = GatewayDevice(app_device_id=app_device_id, phone=phone, carrier=carrier(phone),
                           last_seen_at=seen or now, created_at=now, **fields)
    session.add(device)
    session.flush()
    return device


def create_group(session, now: datetime, code: str = "CD01", **fields) -> Group:
    group = Group(code=code, name=fields.pop("name", f"Nhom {code}"), created_at=now, **fields)
    session.add(group)
    session.flush()
    return group


def join(session, now: datetime, person: Person, group: Group,
         role: str = GroupRole.MEMBER) -> Membership:
    membership = Membership(group_id=group.id, person_id=person.id, role=role, joined_at=now)
    session.add(membership)
    session.flush()
    return membership


def handle_sms(app_or_rt, now: datetime | None = None) -> int:
    """What the scheduler's ``handle_inbound`` job does within a second of a webhook: act on
    every stored inbound SMS. Returns how many it took."""
    from hotline import clock
    from scheduler.jobs import handle_inbound

    rt = getattr(app_or_rt, "extensions", {}).get("hotline", app_or_rt)
    return handle_inbound(rt, now or clock.utcnow())


def create_case(session, now: datetime, person: Person, *, category: int = Category.OTHER,
                summary: str = "bi thu hang o cho", channel: str = "sms",
                emergency: bool = False) -> Case:
    """A case opened for ``person`` the way the line opens one (numbered, alerts queued)."""
    return case_service.open_case(session, now, Outbox(session), person=person, channel=channel,
                                  summary=summary, category=category, emergency=emergency)


def create_incoming_msg(session, now: datetime, phone: str, body: str, *,
                        person: Person | None = None, gateway: str = "simulator",
                        **fields) -> Message:
    """A text the line received (stored, as a webhook stores it), from ``person`` if known."""
    fields.setdefault("status", "received")
    msg = Message(direction=Direction.IN, gateway=gateway, phone=phone, body=body,
                  person_id=person.id if person else None, created_at=now, **fields)
    session.add(msg)
    session.flush()
    return msg


def create_outgoing_msg(session, now: datetime, phone: str, body: str, *,
                        person: Person | None = None, gateway: str = "simulator",
                        status: str = MessageStatus.QUEUED, **fields) -> Message:
    """A row of the outbox (queued and due now unless told otherwise)."""
    fields.setdefault("due_at", now)
    msg = Message(direction=Direction.OUT, gateway=gateway, phone=phone, body=body,
                  person_id=person.id if person else None, status=status, created_at=now,
                  **fields)
    session.add(msg)
    session.flush()
    return msg


def create_call(session, now: datetime, phone: str, *, person: Person | None = None,
                gateway: str = "twilio", external_id: str | None = None,
                direction: str = Direction.IN, **fields) -> Call:
    """A call (inbound unless told otherwise) that began at ``now``."""
    call = Call(gateway=gateway, external_id=external_id or f"CA{next(_call_sids):032d}",
                direction=direction, phone=phone, person_id=person.id if person else None,
                started_at=now, **fields)
    session.add(call)
    session.flush()
    return call


def create_meeting(session, now: datetime, group: Group, *, starts_at: datetime | None = None,
                   place: str = "Nha van hoa", **fields) -> Meeting:
    """A meeting row of ``group`` (no reminders: ``meetings.create`` plans those)."""
    meeting = Meeting(group_id=group.id, starts_at=starts_at or now, place=place,
                      created_at=now, **fields)
    session.add(meeting)
    session.flush()
    return meeting
