"""A realistic demo quarter for ``make run``: members, cases with referral outcomes and
follow-up answers, meetings with minutes, two collective issues, a forum, press items.

Rows are written directly (no alerts are queued for cases that are months old). Runs once:
a database that already has a collective issue is left as it is.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import clock
from hotline.models import (
    CASE_NUMBER_OFFSET,
    AdvocacyStep,
    Case,
    CaseStatus,
    CollectiveIssue,
    Forum,
    Group,
    GroupRole,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    Membership,
    Person,
    PersonPhone,
    PressItem,
    Provider,
    Referral,
    Role,
)

NEW_WARD = "Hồng Hà"
FIRST_NAMES = ["Lan", "Hương", "Thảo", "Nhung", "Hạnh", "Loan", "Tuyết", "Hiền", "Thủy", "Dung",
               "Minh", "Hùng", "Tâm", "Phương", "Oanh", "Liên", "Vân", "Bình"]
# Category weights: urban order first, as DOMAIN.md says, then insurance and residence.
CATEGORY_WEIGHTS = {1: 30, 2: 6, 3: 4, 4: 8, 5: 14, 6: 8, 7: 12, 8: 3, 9: 4, 10: 6, 11: 3, 12: 2}
REFER_TO = {1: "UB", 2: "CA", 3: "NHBY", 4: "LUAT", 5: "BHXH", 6: "BHXH", 7: "CA", 8: "111",
            9: "TYT", 10: "LUAT", 11: "UB", 12: "LIGHT"}
# How often each provider helps (the ward committee rarely does: it will be flagged).
HELPS = {"UB": 0.3, "CA": 0.6, "NHBY": 0.9, "LUAT": 0.8, "BHXH": 0.75, "111": 0.9,
         "TYT": 0.8, "LIGHT": 0.85}


def _at(day, hour=9):
    return clock.at_local(day, time(hour))


def seed_quarter(session: Session, now: datetime) -> int:
    """Add the demo quarter unless one is there; returns how many cases it added."""
    if session.scalar(select(func.count(CollectiveIssue.id))):
        return 0
    rng = random.Random(15)
    today = clock.local(now).date()
    groups = list(session.scalars(select(Group).order_by(Group.code)))
    providers = {p.code: p for p in session.scalars(select(Provider))}
    if not groups or not providers:
        return 0
    members = []
    for i in range(48):
        group = groups[i % len(groups)]
        phone = f"+8491300{i:04d}"
        person = session.scalar(select(Person).where(Person.phone == phone))
        if person is None:
            person = Person(
                phone=phone, name=f"{rng.choice(['Nguyễn', 'Trần', 'Lê', 'Phạm'])} Thị "
                                  f"{rng.choice(FIRST_NAMES)}",
                sex="M" if i % 6 == 0 else "F", birth_year=rng.randint(1965, 2000),
                occupation="scrap" if group.code == "CD02" else "vendor",
                home_province=rng.choice(["Thanh Hóa", "Nam Định", "Thái Bình", "Hà Nam"]),
                role=Role.MEMBER, registered_at=now - timedelta(days=200), created_at=now,
                ward_old=group.ward_old, ward_current=NEW_WARD, residence_status="temporary")
            session.add(person)
            session.flush()
            session.add(PersonPhone(person_id=person.id, phone=phone, added_at=now))
            session.add(Membership(group_id=group.id, person_id=person.id,
                                   role=GroupRole.MEMBER, joined_at=now - timedelta(days=200)))
        members.append((person, group))
    coordinator = session.scalar(select(Person).where(Person.role == Role.COORDINATOR))
    # Cases over this quarter and the one before (for the trend).
    cats, weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    added, market_cases = 0, []
    for _ in range(230):
        person, group = rng.choice(members)
        created = _at(today - timedelta(days=rng.randint(1, 180)), rng.randint(7, 20))
        category = rng.choices(cats, weights)[0]
        case = Case(person_id=person.id, group_id=group.id, category=category,
                    channel=rng.choice(["sms", "sms", "voice"]), status=CaseStatus.NEW,
                    summary="(demo)", created_at=created,
                    acknowledged_at=created + timedelta(hours=rng.randint(1, 20)))
        session.add(case)
        session.flush()
        case.number = case.id + CASE_NUMBER_OFFSET
        added += 1
        if category == 1 and group.code in ("CD01", "PT01"):
            market_cases.append(case)
        age = (now - created).days
        if age < 5:
            case.status = CaseStatus.IN_PROGRESS
            continue
        if rng.random() < 0.55:
            code = REFER_TO[category]
            ref = Referral(case_id=case.id, provider_id=providers[code].id, referred_at=created
                           + timedelta(hours=6), by_person_id=coordinator.id if coordinator
                           else None)
            session.add(ref)
            roll = rng.random()
            outcome = ("helped" if roll < HELPS[code] else
                       rng.choice(["not_helped", "unreachable", "reached"]))
            ref.outcome_code, ref.outcome_source = outcome, rng.choice(["peer", "staff"])
            ref.outcome_at = ref.referred_at + timedelta(hours=rng.randint(4, 120))
            if outcome != "unreachable":
                ref.completed_at = ref.outcome_at
            if rng.random() < 0.6:
                ref.member_answer = outcome if outcome != "reached" else "helped"
                ref.member_answered_at = ref.outcome_at + timedelta(days=3)
        case.resolved_at = created + timedelta(days=rng.randint(1, 4))
        solved = rng.random() < 0.75
        case.status = CaseStatus.CLOSED if solved else CaseStatus.CLOSED_UNRESOLVED
        case.closed_at = case.resolved_at + timedelta(days=4)
        case.followup_answer = rng.choice(["solved", "solved", "unanswered"]) if solved \
            else "not_solved"
    # Monthly meetings of every group over the quarter, with minutes.
    minutes = [
        (["TTDT", "PHAPLY"], "Ghi lại ngày giờ, biên lai mỗi lần bị thu hàng",
         "Đội trật tự thu hàng ở chợ Long Biên sáng thứ Ba, không đưa biên bản"),
        (["BHYT", "BHXH"], "Cùng đi làm thẻ BHYT hộ gia đình", "Nhiều chị chưa có tạm trú"),
        (["TAMTRU", "GIOI"], "Hỏi công an phường lịch đăng ký tạm trú", ""),
        (["ANTOAN", "KHAC"], "Lưu số Ngôi nhà Bình yên 1900 969680", ""),
    ]
    first_meeting = None
    for g_i, group in enumerate(groups):
        for k in range(3):
            starts = _at(today - timedelta(days=80 - 30 * k + g_i), 15)
            if starts > now:
                continue
            meeting = Meeting(group_id=group.id, starts_at=starts, place="Nhà văn hóa tổ dân phố",
                              topic="Sinh hoạt nhóm", status=MeetingStatus.HELD, created_at=now)
            session.add(meeting)
            session.flush()
            first_meeting = first_meeting or meeting
            topics, decisions, raised = minutes[(g_i + k) % len(minutes)]
            session.add(MeetingMinutes(
                meeting_id=meeting.id, topics=topics, attended=rng.randint(9, 18),
                decisions=decisions, issues_raised=raised, source=rng.choice(["console", "sms"]),
                by_person_id=coordinator.id if coordinator else None, created_at=starts,
                updated_at=starts))
    # Two collective issues, one forum, press.
    market = CollectiveIssue(
        title="Đội trật tự thu hàng ở chợ Long Biên vào sáng thứ Ba",
        description="Hàng bị thu không có biên bản; chị em không biết nhận lại ở đâu.",
        category=1, ward="Chương Dương", raised_on=today - timedelta(days=78),
        meeting_id=first_meeting.id if first_meeting else None, status="open",
        created_at=now, cases=market_cases[:9], groups=[g for g in groups
                                                         if g.code in ("CD01", "PT01")])
    residence = CollectiveIssue(
        title="Người tạm trú khó làm thẻ BHYT hộ gia đình",
        description="Phường yêu cầu giấy tờ mà người thuê trọ không có.", category=5,
        ward=NEW_WARD, raised_on=today - timedelta(days=50), status="open", created_at=now,
        groups=groups)
    session.add_all([market, residence])
    session.flush()
    forum = Forum(
        title="Đối thoại với UBND phường Hồng Hà về người bán hàng rong",
        held_on=today - timedelta(days=30), place="Hội trường UBND phường Hồng Hà",
        ward=NEW_WARD,
        participants={"authority": 4, "agency": 2, "media": 2, "organisation": 3, "member": 21},
        commitments="Phường hướng dẫn đội trật tự lập biên bản khi thu hàng; "
                    "BHXH cơ sở có buổi tư vấn BHYT hộ gia đình tại phường.",
        follow_up_at=_at(today + timedelta(days=14), 8), created_at=now, issues=[market, residence])
    session.add(forum)
    session.flush()
    steps = [
        (market, "letter", 60, "Thư của các nhóm CD01, PT01 gửi UBND phường"),
        (market, "forum", 30, forum.title), (residence, "forum", 30, forum.title),
        (market, "answer", 12, "Phường trả lời: đội trật tự sẽ lập biên bản"),
        (residence, "letter", 20, "Đề nghị BHXH cơ sở tư vấn tại phường"),
    ]
    for issue, kind, days_ago, note in steps:
        session.add(AdvocacyStep(issue_id=issue.id, kind=kind,
                                 happened_on=today - timedelta(days=days_ago), note=note,
                                 forum_id=forum.id if kind == "forum" else None,
                                 created_at=now))
    market.status, residence.status = "answer", "letter"
    press = [
        ("Lao Động", 70, "Người bán hàng rong mất hàng không biên bản", [1], market, "negative"),
        ("Phụ nữ Việt Nam", 45, "Lao động tự do và chiếc thẻ BHYT", [5, 6], residence, "neutral"),
        ("Hà Nội Mới", 28, "Phường Hồng Hà đối thoại với người lao động tự do", [1, 5], market,
         "positive"),
        ("VnExpress", 10, "Đăng ký tạm trú trực tuyến: người thuê trọ vẫn vướng", [7], None,
         "neutral"),
    ]
    for outlet, days_ago, headline, categories, issue, tone in press:
        session.add(PressItem(outlet=outlet, published_on=today - timedelta(days=days_ago),
                              headline=headline, url="", summary="", categories=categories,
                              issue_id=issue.id if issue else None, tone=tone, created_at=now))
    session.flush()
    from hotline.services.awareness import create_drafts

    create_drafts(session, now)
    return added
