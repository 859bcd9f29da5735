"""Minutes (console and BB by SMS), collective issues and their steps, forums and their
follow-up reminder through the scheduler and the outbox, press items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.models import (
    Case,
    Direction,
    Forum,
    Group,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    Message,
)
from hotline.services import voice
from scheduler import jobs
from tests.conftest import at
from tests.factories import create_meeting
from tests.hotline.services import test_case_life as life
from tests.hotline.services.test_case_life import COORD, MEMBER, PE1, T0, sent_to, sms

world = life.world


def meeting(rt, starts=T0 - timedelta(hours=2)) -> int:
    with session_scope(rt.sessions) as s:
        group = s.scalar(select(Group).where(Group.code == "CD01"))
        return create_meeting(s, T0, group, starts_at=starts).id


def minutes(rt, meeting_id) -> MeetingMinutes | None:
    with rt.sessions() as s:
        return s.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting_id))


@pytest.mark.parametrize("body, attended, topics, note", [
    ("12 BHYT TAMTRU chi em muon lam the", 12, ["BHYT", "TAMTRU"], "chi em muon lam the"),
    ("8 1 7", 8, ["TTDT", "PHAPLY"], ""),
    ("bhxh 9 gioi", None, ["BHXH"], "9 gioi"),
    ("15 antoan, khac: hen gap lai", 15, ["ANTOAN", "KHAC"], "hen gap lai"),
    ("", None, [], ""),
])
def test_sms_minutes_syntax(body, attended, topics, note):
    assert voice.parse_sms_minutes(body) == (attended, topics, note.lstrip(": "))


def test_peer_educator_texts_short_minutes(rt, world):
    mid = meeting(rt)
    sms(rt, T0, PE1, "BB 12 BHYT TAMTRU chi em hoi ve the BHYT")
    assert "Da ghi bien ban hop CD01" in sent_to(rt, PE1)[-1]
    mm = minutes(rt, mid)
    assert (mm.attended, mm.topics, mm.source) == (12, ["BHYT", "TAMTRU"], "sms")
    assert mm.notes == "chi em hoi ve the BHYT"
    with rt.sessions() as s:
        assert s.get(Meeting, mid).status == MeetingStatus.HELD
    # A correction replaces the minutes, it does not add a second set.
    sms(rt, T0, PE1, "bien ban 13 bhyt")
    assert minutes(rt, mid).attended == 13
    with rt.sessions() as s:
        assert len(s.scalars(select(MeetingMinutes)).all()) == 1


def test_bad_sms_minutes_get_the_syntax_and_members_reach_a_person(rt, world):
    mid = meeting(rt)
    sms(rt, T0, PE1, "BB hom nay vui")
    assert "BB <so nguoi> <chu de>" in sent_to(rt, PE1)[-1]
    assert minutes(rt, mid) is None
    sms(rt, T0, MEMBER, "BB 3 BHYT")
    assert minutes(rt, mid) is None
    with rt.sessions() as s:
        msg = s.scalars(select(Message).where(Message.direction == Direction.IN,
                                              Message.phone == MEMBER)).all()[-1]
        assert msg.needs_staff


def test_no_recent_meeting_is_said(rt, world):
    meeting(rt, starts=T0 - timedelta(days=30))
    sms(rt, T0, PE1, "BB 12 BHYT")
    assert "Khong co buoi hop" in sent_to(rt, PE1)[-1]


def test_minutes_refused_for_future_or_cancelled_meetings(rt, world):
    future = meeting(rt, starts=T0 + timedelta(days=1))
    with session_scope(rt.sessions) as s:
        with pytest.raises(voice.VoiceError):
            voice.save_minutes(s, T0, s.get(Meeting, future), topics=["BHYT"], attended=3)
        m = s.get(Meeting, meeting(rt))
        with pytest.raises(voice.VoiceError):
            voice.save_minutes(s, T0, m, topics=["NOPE"], attended=3)
        m.status = MeetingStatus.CANCELLED
        with pytest.raises(voice.VoiceError):
            voice.save_minutes(s, T0, m, topics=["BHYT"], attended=3)


def issue_form(**fields) -> dict:
    return {"title": "Thu hang o cho Long Bien thu Ba", **fields}


def test_collective_issue_links_cases_and_groups_and_steps_set_its_status(rt, world):
    for _ in range(3):
        sms(rt, T0, MEMBER, "KN 1 bi thu hang o cho")
    with session_scope(rt.sessions) as s:
        numbers = [c.number for c in s.scalars(select(Case))]
        groups = [g.id for g in s.scalars(select(Group))]
        issue = voice.save_issue(s, T0, None, None, **issue_form(
            cases=" ".join(map(str, numbers)), groups=groups, raised_on=date(2026, 11, 20),
            category=1))
        assert sorted(c.number for c in issue.cases) == sorted(numbers)
        assert len(issue.groups) == 2 and issue.status == "open" and issue.category == 1
        voice.add_step(s, T0, None, issue, "letter", date(2026, 11, 25))
        voice.add_step(s, T0, None, issue, "answer", date(2026, 12, 1))
        # A step recorded late for an earlier date does not move the status back.
        voice.add_step(s, T0, None, issue, "forum", date(2026, 11, 22))
        assert issue.status == "answer"
        assert [st.kind for st in issue.steps] == ["forum", "letter", "answer"]
        with pytest.raises(voice.VoiceError):
            voice.add_step(s, T0, None, issue, "won", date(2026, 12, 1))
        with pytest.raises(voice.VoiceError):
            voice.save_issue(s, T0, None, None, **issue_form(cases="999999"))
        with pytest.raises(voice.VoiceError):
            voice.save_issue(s, T0, None, None, **issue_form(title=" "))


def forum_form(issue_ids=(), **fields) -> dict:
    return {"title": "Doi thoai voi UBND phuong Hong Ha", "held_on": date(2026, 12, 1),
            "participants": {"authority": 3, "media": 1, "member": 12},
            "commitments": "Phuong se xem lai", "issues": list(issue_ids), **fields}


def test_forum_raises_issues_and_reminds_the_coordinator_once_on_its_day(rt, world):
    with session_scope(rt.sessions) as s:
        issue = voice.save_issue(s, T0, None, None, **issue_form())
        forum = voice.save_forum(s, T0, None, **forum_form([issue.id],
                                                           follow_up_on=date(2026, 12, 15)))
        assert forum.participants == {"authority": 3, "media": 1, "member": 12}
        assert forum.participant_total == 16
        assert issue.status == "forum" and issue.steps[-1].forum_id == forum.id
        forum_id = forum.id
    before = len(sent_to(rt, COORD))
    jobs.remind_forum_follow_ups(rt, at("2026-12-15 08:00"))
    assert len(sent_to(rt, COORD)) == before
    due = at("2026-12-15 08:30")
    assert jobs.remind_forum_follow_ups(rt, due) == 1
    assert jobs.remind_forum_follow_ups(rt, due) == 0  # twice, late or after a crash: once
    jobs.drain_outbox(rt, due)
    texts = sent_to(rt, COORD)
    assert len(texts) == before + 1 and f"(so {forum_id})" in texts[-1]
    with rt.sessions() as s:
        assert s.get(Forum, forum_id).follow_up_sent_at == due


@pytest.mark.parametrize("fields", [
    {"held_on": None}, {"title": ""}, {"participants": {"media": -2}},
    {"participants": {"member": 10001}}, {"follow_up_on": date(2026, 11, 1)},
])
def test_bad_forums_are_refused(rt, world, fields):
    with session_scope(rt.sessions) as s:
        with pytest.raises(voice.VoiceError):
            voice.save_forum(s, T0, None, **forum_form(**fields))
    with rt.sessions() as s:
        assert not s.scalars(select(Forum)).all()


def test_press_items_are_checked(rt, world):
    with session_scope(rt.sessions) as s:
        issue = voice.save_issue(s, T0, None, None, **issue_form())
        form = {"outlet": "Lao Dong", "published_on": date(2026, 11, 30),
                "headline": "Nguoi ban hang rong", "url": "https://laodong.vn/a",
                "tone": "negative", "issue_id": issue.id, "categories": [1, 99]}
        item = voice.save_press(s, T0, None, **form)
        assert item.categories == [1] and item.issue_id == issue.id
        for bad in ({"url": "javascript:alert(1)"}, {"tone": "angry"}, {"outlet": ""},
                    {"published_on": None}):
            with pytest.raises(voice.VoiceError):
                voice.save_press(s, T0, None, **{**form, **bad})


@pytest.mark.parametrize("body, expect", [
    ("TRATTU", "lap bien ban"), ("trat tu", "lap bien ban"), ("an toan", "1900969680"),
    ("binh dang gioi", "Binh dang gioi"), ("BHXH", "330.000d/thang"), ("bhyt", "1.264.000d"),
    ("tam tru", "sau 30 ngay"),
])
def test_information_keywords_answer_with_todays_figures(rt, world, body, expect):
    sms(rt, T0, MEMBER, body)
    assert expect in sent_to(rt, MEMBER)[-1]


def test_awareness_drafts_are_made_once(rt, world):
    from hotline.models import Broadcast
    from hotline.services import awareness

    with session_scope(rt.sessions) as s:
        made = awareness.create_drafts(s, T0)
        assert len(made) == len(awareness.TOPICS)
        assert awareness.create_drafts(s, T0) == []
    with rt.sessions() as s:
        rows = s.scalars(select(Broadcast)).all()
    assert any("1900969680" in b.body for b in rows) and all(b.body.isascii() for b in rows)
    assert {b.status for b in rows} == {"draft"}
