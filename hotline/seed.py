"""Demo data for ``make run``: two old wards now one, groups, people, logins.

Idempotent: running it again adds nothing and prints the same logins.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from hotline.models import (
    Group,
    GroupRole,
    Membership,
    Person,
    PersonPhone,
    Provider,
    Role,
    StaffRole,
    StaffUser,
)

NEW_WARD = "Hồng Hà"
GROUPS = [
    ("CD01", "Nhóm bán hàng rong Chương Dương", "Chương Dương"),
    ("CD02", "Nhóm đồng nát Chương Dương", "Chương Dương"),
    ("PT01", "Nhóm bán hàng rong Phúc Tân", "Phúc Tân"),
]
# (phone, name, sex, birth year, occupation, province, group, group role); the line role
# follows from the group role (see _line_role).
PEER = GroupRole.PEER_EDUCATOR
PEOPLE = [
    ("+84901000001", "Nguyễn Thị Hoa", "F", 1978, "scrap", "Thanh Hóa", "CD02", PEER),
    ("+84901000002", "Trần Thị Mai", "F", 1982, "vendor", "Nam Định", "CD01", PEER),
    ("+84901000003", "Lê Thị Thu", "F", 1975, "vendor", "Hà Nam", "PT01", PEER),
    ("+84901000009", "Phạm Thị Lan", "F", 1970, None, "Hà Nội", None, None),
    ("+84912000001", "Đỗ Thị Hằng", "F", 1985, "vendor", "Thái Bình", "CD01", GroupRole.LEADER),
    ("+84912000002", "Vũ Thị Nga", "F", 1990, "vendor", "Nam Định", "CD01", GroupRole.MEMBER),
    ("+84912000003", "Bùi Văn Nam", "M", 1968, "scrap", "Thanh Hóa", "CD02", GroupRole.MEMBER),
    ("+84912000004", "Hoàng Thị Yến", "F", 1995, "vendor", "Hưng Yên", "PT01", GroupRole.SECRETARY),
]
# Every provider has a number a member can call: the national lines DOMAIN.md names (legal
# aid 1800 1233, 111, Peace House 1900 969680) and plausible Hồng Hà ward numbers otherwise.
PROVIDERS = [
    ("CA", "Công an phường Hồng Hà", "02439330215", "Trình báo, tạm trú, an ninh",
     "7:30-17:00"),
    ("UB", "UBND phường Hồng Hà", "02439330210", "Giấy tờ, chính sách, trật tự đô thị",
     "7:30-17:00"),
    ("PN", "Hội Liên hiệp Phụ nữ phường", "02439330230", "Hỗ trợ phụ nữ, bạo lực gia đình",
     "7:30-17:00"),
    ("BHXH", "Bảo hiểm xã hội cơ sở phụ trách phường Hồng Hà", "02439364040",
     "BHXH tự nguyện, BHYT hộ gia đình", "7:30-17:00"),
    ("TYT", "Trạm y tế phường", "02439330250", "Khám bệnh, sức khỏe sinh sản", "7:00-17:00"),
    ("LUAT", "Trung tâm trợ giúp pháp lý Hà Nội", "18001233", "Trợ giúp pháp lý miễn phí",
     "giờ hành chính"),
    ("111", "Tổng đài bảo vệ trẻ em", "111", "Bảo vệ trẻ em", "24/7"),
    ("NHBY", "Ngôi nhà Bình yên", "1900969680", "Hỗ trợ phụ nữ bị bạo lực, nơi tạm lánh", "24/7"),
    ("LIGHT", "Viện LIGHT", "02462733535", "Hỗ trợ nhóm tự lực, quyền của người lao động",
     "8:00-17:00"),
]
# (username, password, role, phone of the linked person)
LOGINS = [
    ("admin", "admin-demo", StaffRole.ADMIN, None),
    ("dieuphoi", "dieuphoi-demo", StaffRole.COORDINATOR, "+84901000009"),
    ("hoa", "hoa-demo-2026", StaffRole.PEER_EDUCATOR, "+84901000001"),
    ("mai", "mai-demo-2026", StaffRole.PEER_EDUCATOR, "+84901000002"),
    ("xem", "xem-demo-2026", StaffRole.VIEWER, None),
]


def _line_role(group_role: GroupRole | None) -> Role:
    """A demo person's role on the line: a group's peer educator is one, the one in no group
    is the coordinator, everyone else a member."""
    if group_role is None:
        return Role.COORDINATOR
    return Role.PEER_EDUCATOR if group_role == GroupRole.PEER_EDUCATOR else Role.MEMBER


def seed_demo(session: Session, now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo rows that are missing; return (username, password, role)."""
    groups = {}
    for code, name, ward_old in GROUPS:
        group = session.scalar(select(Group).where(Group.code == code))
        if group is None:
            group = Group(code=code, name=name, ward_old=ward_old, ward_current=NEW_WARD,
                          created_at=now)
            session.add(group)
        groups[code] = group
    session.flush()
    people = {}
    for i, (phone, name, sex, born, job, province, code, group_role) in enumerate(PEOPLE):
        role = _line_role(group_role)
        person = session.scalar(select(Person).where(Person.phone == phone))
        if person is None:
            person = Person(
                phone=phone, name=name, sex=sex, birth_year=born, occupation=job,
                home_province=province, role=role, registered_at=now, created_at=now,
                ward_old=groups[code].ward_old if code else None, ward_current=NEW_WARD,
                residence_status="temporary",
                on_duty=role == Role.PEER_EDUCATOR, duty_order=i,
                trained_violence=phone == "+84901000001",
                safe_contact_start=time(7) if role == Role.MEMBER else None,
                safe_contact_end=time(21) if role == Role.MEMBER else None,
            )
            session.add(person)
            session.flush()
            session.add(PersonPhone(person_id=person.id, phone=phone, added_at=now))
            if code:
                session.add(Membership(group_id=groups[code].id, person_id=person.id,
                                       role=group_role, joined_at=now))
        people[phone] = person
    for code, name, phone, handles, hours in PROVIDERS:
        provider = session.scalar(select(Provider).where(Provider.code == code))
        if provider is None:
            session.add(Provider(code=code, name=name, phone=phone, handles=handles, hours=hours))
        elif not provider.phone:
            provider.phone = phone  # demo databases seeded before every provider had one
    logins = []
    for username, password, role, phone in LOGINS:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
            session.add(StaffUser(
                username=username, name=people[phone].name if phone else username,
                password_hash=generate_password_hash(password), role=role,
                person_id=people[phone].id if phone else None, created_at=now,
            ))
        logins.append((username, password, role.value))
    session.flush()
    return logins
