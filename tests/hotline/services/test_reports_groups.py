"""Reports broken down by self-help group: members by the group they are in now, cases by
the group they were opened in, texts and calls belonging to no group."""

from __future__ import annotations

from datetime import timedelta

from hotline.services import cases, reports
from hotline.services.outbox import Outbox
from hotline.services.reports import ReportQuery
from tests.conftest import at
from tests.factories import create_group, create_person, join

NOW = at("2026-11-20 10:00")


def test_members_and_cases_by_group_match_the_groups_they_belong_to(db):
    cd01, cd02 = create_group(db, NOW, "CD01"), create_group(db, NOW, "CD02")
    box = Outbox(db, gateway="simulator")
    expected_members = {"CD01": 0, "CD02": 0, reports.UNKNOWN: 0}
    expected_cases = {"CD01": 0, "CD02": 0, reports.UNKNOWN: 0}

    def member(*groups, n_cases=0):
        person = create_person(db, NOW, registered_at=NOW - timedelta(days=40))
        for days, group in enumerate(groups):  # joined one after the other
            join(db, NOW - timedelta(days=30 - days), person, group)
        counted = groups[-1].code if groups else reports.UNKNOWN
        expected_members[counted] += 1
        for _ in range(n_cases):
            cases.open_case(db, NOW - timedelta(days=2), box, person=person, channel="sms")
            expected_cases[counted] += 1
        return person

    for i in range(6):
        member(cd01, n_cases=1 if i < 3 else 0)
    member(cd02, n_cases=2)
    member(cd01, cd02)           # in both: counted once, in the group she joined last
    member(n_cases=1)            # in none
    mover = member(cd02, n_cases=1)
    # She moves to CD01 after her case: the case stays CD02's, she counts in CD01 now.
    join(db, NOW - timedelta(days=1), mover, cd01)
    expected_members["CD02"] -= 1
    expected_members["CD01"] += 1
    db.commit()

    q = ReportQuery((NOW - timedelta(days=30)).date(), NOW.date(), by="group")
    report = reports.build(db, q)
    members = report.indicator("members")
    assert {g: c.value for g, c in members.groups.items()} == expected_members
    assert members.total.value == sum(expected_members.values())
    by_case = report.indicator("cases")
    assert {g: c.value for g, c in by_case.groups.items()
            if g != reports.NOT_APPLICABLE} == expected_cases
    assert sum(c.value for c in by_case.groups.values()) == by_case.total.value == 7
    # Texts are nobody's group's: all in n/a, none in a group.
    texts = report.indicator("texts").groups
    assert all(c.value == 0 for g, c in texts.items() if g != reports.NOT_APPLICABLE)
    table = dict(report.by_category_group)
    assert sum(row["CD01"].value for row in table.values()) == expected_cases["CD01"]
    assert sum(row["CD02"].value for row in table.values()) == expected_cases["CD02"]
