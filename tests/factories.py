"""``create_*`` helpers for tests: small rows with sensible defaults."""

from __future__ import annotations

from datetime import datetime
from itertools import count

from hotline.models import GatewayDevice, Group, GroupRole, Membership, Person, PersonPhone, Role
from hotline.phones import carrier

_phones = count(1)


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
