"""The brief: figures against an independent count, suppression (also by difference), the
HTML page, the PDF read back with pypdf, the CSV and ``flask brief``."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from hotline.queries import brief as brief_queries
from hotline.queries.brief import SEXES, BriefQuery
from hotline.services import cases, voice
from hotline.services.cases import Actor
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.console.conftest import NOW, staff
from tests.factories import create_person

Q = BriefQuery(date(2026, 1, 1), date(2026, 3, 9))  # 68 days; the previous: 24 Oct - 31 Dec
WARDS = ("Chương Dương", "Phúc Tân")


@pytest.fixture
def quarter(demo):
    """Random cases over the period and the one before, people of both wards and sexes;
    returns what the test made, to count on its own."""
    rng = random.Random(2026)
    people = [create_person(demo, NOW, phone=f"+8497{i:07d}",
                            sex=rng.choice(["F", "F", "M", None]),
                            ward_old=WARDS[i % 2], ward_current="Hồng Hà")
              for i in range(30)]
    coord = staff(demo, "dieuphoi")
    actor = Actor(user=coord)
    made = []
    for i in range(160):
        person = rng.choice(people)
        previous = i % 4 == 0
        day = (Q.previous() if previous else Q).first_day + timedelta(days=rng.randint(0, 60))
        when = at(f"{day.isoformat()} 10:00")
        category = rng.choice([1, 1, 1, 5, 5, 6, 7, 10, 3])
        case = cases.open_case(demo, when, Outbox(demo), person=person, channel="sms",
                               category=category)
        resolved = rng.random() < 0.5
        if resolved:
            cases.resolve(demo, when, Outbox(demo), case, actor)
            if rng.random() < 0.6:
                cases.record_followup(demo, when, Outbox(demo), case,
                                      solved=rng.random() < 0.7)
        made.append({"category": category, "ward": person.ward_old,
                     "sex": person.sex if person.sex in ("F", "M") else "other",
                     "previous": previous, "resolved": resolved,
                     "answer": case.followup_answer, "id": case.id})
    demo.commit()
    return made


def test_figures_match_an_independent_count(demo, quarter):
    b = brief_queries.build(demo, Q, NOW)
    now = [m for m in quarter if not m["previous"]]
    cells = Counter((m["category"], m["ward"], m["sex"]) for m in now)
    for cat in range(1, 13):
        for ward in WARDS:
            for sex in SEXES:
                assert b.fig("c", cat, ward, sex).value == cells[(cat, ward, sex)]
            assert b.fig("r", cat, ward).value == sum(cells[(cat, ward, s)] for s in SEXES)
        assert b.fig("k", cat).value == sum(1 for m in now if m["category"] == cat)
        assert b.fig("p", cat).value == sum(1 for m in quarter
                                            if m["previous"] and m["category"] == cat)
    assert b.fig("g").value == len(now)
    assert b.fig("res", "opened").value == len(now)
    # A "no" at follow-up reopened the case: it is no longer resolved.
    assert b.fig("res", "resolved").value == sum(
        1 for m in now if m["resolved"] and m["answer"] != "not_solved")
    assert b.fig("res", "satisfied").value == sum(1 for m in now if m["answer"] == "solved")
    assert b.fig("res", "answered").value == sum(
        1 for m in now if m["answer"] in ("solved", "not_solved"))


def test_suppression_leaves_no_figure_alone_in_a_line(demo, quarter):
    b = brief_queries.suppress(brief_queries.build(demo, Q, NOW))
    small = [f for f in b.figures.values() if 0 < f.value < 5]
    assert small and all(f.hidden == "primary" and f.shown() == "<5" for f in small)
    assert any(f.hidden == "complementary" for f in b.figures.values())
    for parts, total in b.lines:
        hidden = [k for k in (*parts, total) if b.fig(*k).hidden]
        assert len(hidden) != 1, (parts, total)
    assert all(f.shown() == str(f.value) for f in b.figures.values()
               if not f.hidden and f.value < 1000)


def test_a_figure_that_subtraction_would_reveal_is_hidden(demo):
    people = {(s, w): create_person(demo, NOW, phone=f"+8498{i:07d}", sex=s, ward_old=w)
              for i, (s, w) in enumerate((s, w) for s in ("F", "M") for w in WARDS)}
    when = at("2026-02-02 09:00")
    for sex, n in (("F", 7), ("M", 3)):
        for _ in range(n):
            cases.open_case(demo, when, Outbox(demo), person=people[(sex, WARDS[0])],
                            channel="sms", category=1)
    for _ in range(6):
        cases.open_case(demo, when, Outbox(demo), person=people[("F", WARDS[1])],
                        channel="sms", category=1)
    demo.commit()
    b = brief_queries.suppress(brief_queries.build(demo, Q, NOW))
    assert b.fig("c", 1, WARDS[0], "M").shown() == "<5"
    # The row total minus F would give M: F is hidden. The F column then needs a second
    # hidden figure (Phuc Tan's 6); Phuc Tan's row total is that same 6, so it goes too, and
    # then Chuong Duong's 10 (16 - 10 = 6). The sexes: 16 - F would give M, so F goes.
    assert b.fig("c", 1, WARDS[0], "F").shown() == "*"
    assert b.fig("c", 1, WARDS[1], "F").shown() == "*"
    assert b.fig("r", 1, WARDS[1]).shown() == "*"
    assert b.fig("r", 1, WARDS[0]).shown() == "*"
    assert b.fig("s", "M").shown() == "<5" and b.fig("s", "F").shown() == "*"
    assert b.fig("g").shown() == "16" and b.fig("k", 1).shown() == "16"


def _seed_voice(demo):
    coord = staff(demo, "dieuphoi")
    issue = voice.save_issue(demo, NOW, coord, None, title="Tuan tra thu hang cho Long Bien",
                             raised_on=date(2026, 1, 10))
    voice.add_step(demo, NOW, coord, issue, "letter", date(2026, 2, 1))
    voice.save_forum(demo, NOW, coord, title="Doi thoai UBND phuong Hong Ha",
                     held_on=date(2026, 2, 20), participants={"authority": 3},
                     commitments="Phuong xem lai lich tuan tra", issues=[issue.id])
    voice.save_press(demo, NOW, coord, outlet="Lao Dong", published_on=date(2026, 2, 21),
                     headline="Nguoi ban rong va cam ket cua phuong", tone="positive")
    demo.commit()


def test_page_pdf_csv_for_a_viewer(as_user, demo, quarter):
    _seed_voice(demo)
    viewer = as_user("xem")
    url = f"?from={Q.first_day}&to={Q.last_day}"
    page = viewer.get("/console/brief" + url).get_data(as_text=True)
    assert "&lt;5" in page and "<svg" in page and "Tuan tra thu hang cho Long Bien" in page
    assert "Doi thoai UBND phuong Hong Ha" in page and "Nguoi ban rong" in page
    b = brief_queries.suppress(brief_queries.build(demo, Q, NOW))
    response = viewer.get("/console/brief.pdf" + url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 2
    text = "\n".join(p.extract_text() for p in reader.pages)
    for heading in ("Vụ việc theo lĩnh vực", "Giải quyết và mức hài lòng",
                    "Vấn đề chung", "Diễn đàn và cam kết", "Bài báo"):
        assert heading in text, heading
    assert "<5" in text and f"\n{b.fig('g').shown()}" in text.replace(" ", "\n")
    assert "Phuong xem lai lich tuan tra" in text
    csv_text = viewer.get("/console/brief.csv" + url).get_data(as_text=True)
    assert "Phần,Mục,Chi tiết,Giá trị" in csv_text  # Vietnamese labels
    assert f"Kỳ này,Tất cả,,{b.fig('g').shown()}" in csv_text and "<5" in csv_text
    for line in csv_text.splitlines():
        assert not any(f",{n}\n" in line + "\n" for n in ("1", "2", "3", "4"))


def test_cli_writes_the_pdf_and_refuses_bad_dates(app, demo, quarter, tmp_path):
    _seed_voice(demo)
    out = tmp_path / "brief.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["brief", "--from", str(Q.first_day), "--to",
                                 str(Q.last_day), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "Doi thoai UBND phuong Hong Ha" in text and "<5" in text
    english = tmp_path / "en.pdf"
    result = runner.invoke(args=["brief", "--from", str(Q.first_day), "--to", str(Q.last_day),
                                 "--out", str(english), "--lang", "en"])
    assert result.exit_code == 0 and "Collective issues" in PdfReader(str(english)).pages[
        0].extract_text() + "".join(p.extract_text() for p in PdfReader(str(english)).pages)
    bad = runner.invoke(args=["brief", "--from", "2026-13-01", "--to", "2026-03-01",
                              "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0 and not (tmp_path / "x.pdf").exists()
