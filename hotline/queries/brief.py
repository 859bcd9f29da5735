"""The brief: anonymised evidence for a forum with authorities or the media.

For a period of Hanoi days and an area (a ward, old or current name; all when none): cases
by category × ward × sex with the trend against the period before, resolution and
satisfaction, providers' performance, collective issues and their status, forums and their
commitments, press items.

Anonymity (``suppress``): every count from 1 to 4 is hidden (*primary*), and then, in every
line of figures that add up to a shown or hidden total (a row, a column, the categories of
the trend, a provider's outcomes), a line with exactly one hidden figure gets a second one
hidden (*complementary*), the smallest non-zero, until no hidden figure can be worked out
by subtraction. Zeros are shown: they describe nobody.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hotline.models import Case, CaseStatus, CollectiveIssue, Forum, Person, PressItem
from hotline.queries.monitoring import ProviderRow, provider_report
from hotline.services.monitoring import OUTCOMES
from hotline.services.reports import SUPPRESS_BELOW, SUPPRESSED, WITHHELD, Period

SEXES = ("F", "M", "other")
RESOLVED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


@dataclass(frozen=True)
class BriefQuery(Period):
    """The brief's period and ward."""

    def previous(self) -> BriefQuery:
        """The period of the same length just before."""
        days = (self.last_day - self.first_day).days + 1
        return BriefQuery(self.first_day - timedelta(days=days),
                          self.first_day - timedelta(days=1), self.ward)


@dataclass
class Figure:
    """A count shown in the brief; ``hidden`` is None, "primary" or "complementary"."""

    value: int
    hidden: str | None = None

    def shown(self) -> str:
        if self.hidden == "primary":
            return SUPPRESSED
        if self.hidden:
            return WITHHELD
        return f"{self.value:,}".replace(",", ".")  # Vietnamese thousands separator

    @property
    def visible(self) -> int | None:
        return None if self.hidden else self.value


@dataclass
class Share:
    part: Figure
    whole: Figure

    def shown(self) -> str:
        if self.part.hidden or self.whole.hidden or not self.whole.value:
            return "–"
        return f"{100 * self.part.value / self.whole.value:.0f}%"


@dataclass
class Brief:
    query: BriefQuery
    generated_at: datetime
    # ("c", cat, ward, sex), ("r", cat, ward), ("k", cat), ("s", sex), ("g",),
    # ("p", cat), ("pg",), ("pv", code, outcome | "pending" | "referrals")
    figures: dict[tuple, Figure]
    lines: list[tuple[list[tuple], tuple]]
    categories: list[int]
    wards: list[str]
    providers: list[ProviderRow]
    issues: list[CollectiveIssue]
    forums: list[Forum]
    press: list[PressItem]
    resolution: dict[str, Figure] = field(default_factory=dict)

    def fig(self, *key) -> Figure:
        return self.figures.get(tuple(key)) or Figure(0)

    def rows(self) -> list[tuple[int, str]]:
        """(category, ward) rows that have any case, in order."""
        return [(c, w) for c in self.categories for w in self.wards
                if self.fig("r", c, w).value]

    def trend(self, cat: int) -> str:
        now, before = self.fig("k", cat), self.fig("p", cat)
        if now.hidden or before.hidden:
            return "–"
        diff = now.value - before.value
        return f"{diff:+d}" if diff else "0"

    def press_by(self, attr: str) -> Counter:
        counts: Counter = Counter()
        for item in self.press:
            values = getattr(item, attr)
            for v in values if isinstance(values, list) else [values]:
                counts[v] += 1
        return counts


def _ward_of(person: Person | None) -> str:
    if person is None:
        return "?"
    return person.ward_old or person.ward_current or "?"


def _sex_of(person: Person | None) -> str:
    sex = person.sex if person else None
    return sex if sex in ("F", "M") else "other"


def _cases(session: Session, q: BriefQuery) -> list[tuple[Case, Person]]:
    stmt = (select(Case, Person).join(Person, Person.id == Case.person_id)
            .where(Case.created_at >= q.start, Case.created_at < q.end))
    if q.ward:
        stmt = stmt.where(or_(Person.ward_old == q.ward, Person.ward_current == q.ward))
    return [(c, p) for c, p in session.execute(stmt)]


def build(session: Session, q: BriefQuery, now: datetime) -> Brief:
    """Every figure of the brief, exact (call ``suppress`` before showing it anywhere)."""
    rows = _cases(session, q)
    previous = _cases(session, q.previous())
    figures: dict[tuple, Figure] = {}

    def add(key, n=1):
        figures.setdefault(key, Figure(0)).value += n

    categories = list(range(1, 13))
    wards = sorted({_ward_of(p) for _c, p in rows})
    for key in [("g",), ("pg",), *(("s", s) for s in SEXES)]:
        figures[key] = Figure(0)
    for cat in categories:
        figures[("k", cat)] = Figure(0)
        figures[("p", cat)] = Figure(0)
        for ward in wards:
            figures[("r", cat, ward)] = Figure(0)
            for sex in SEXES:
                figures[("c", cat, ward, sex)] = Figure(0)
    for case, person in rows:
        ward, sex = _ward_of(person), _sex_of(person)
        for key in (("c", case.category, ward, sex), ("r", case.category, ward),
                    ("k", case.category), ("s", sex), ("g",)):
            add(key)
    for case, _person in previous:
        add(("p", case.category))
        add(("pg",))
    lines: list[tuple[list[tuple], tuple]] = []
    for cat in categories:
        for ward in wards:
            lines.append(([("c", cat, ward, s) for s in SEXES], ("r", cat, ward)))
        lines.append(([("r", cat, w) for w in wards], ("k", cat)))
    for sex in SEXES:
        lines.append(([("c", c, w, sex) for c in categories for w in wards], ("s", sex)))
    lines.append(([("k", c) for c in categories], ("g",)))
    lines.append(([("s", s) for s in SEXES], ("g",)))
    lines.append(([("p", c) for c in categories], ("pg",)))

    resolution = {
        "opened": Figure(len(rows)),
        "resolved": Figure(sum(1 for c, _p in rows if c.resolved_at is not None
                               or c.status in RESOLVED)),
        "answered": Figure(sum(1 for c, _p in rows
                               if c.followup_answer in ("solved", "not_solved"))),
        "satisfied": Figure(sum(1 for c, _p in rows if c.followup_answer == "solved")),
    }
    figures.update({("res", k): v for k, v in resolution.items()})

    case_ids = {c.id for c, _p in rows}
    providers = [r for r in provider_report(session, q.start, q.end, case_ids) if r.referrals]
    for row in providers:
        code = row.provider.code
        figures[("pv", code, "referrals")] = Figure(row.referrals)
        figures[("pv", code, "pending")] = Figure(row.pending)
        figures[("pv", code, "answered")] = Figure(row.answered)
        figures[("pv", code, "satisfied")] = Figure(row.satisfied)
        for outcome in OUTCOMES:
            figures[("pv", code, outcome)] = Figure(row.outcomes[outcome])
        lines.append(([("pv", code, o) for o in (*OUTCOMES, "pending")],
                      ("pv", code, "referrals")))

    issues = list(session.scalars(
        select(CollectiveIssue).where(CollectiveIssue.raised_on <= q.last_day)
        .order_by(CollectiveIssue.raised_on)))
    if q.ward:
        issues = [i for i in issues if i.ward in (None, "", q.ward)
                  or any(g.ward_old == q.ward or g.ward_current == q.ward for g in i.groups)]
    for issue in issues:
        figures[("ic", issue.id)] = Figure(len(issue.cases))
    forums = list(session.scalars(
        select(Forum).where(Forum.held_on >= q.first_day, Forum.held_on <= q.last_day)
        .order_by(Forum.held_on)))
    if q.ward:
        forums = [f for f in forums if f.ward in (None, "", q.ward)]
    press = list(session.scalars(
        select(PressItem).where(PressItem.published_on >= q.first_day,
                                PressItem.published_on <= q.last_day)
        .order_by(PressItem.published_on)))
    return Brief(q, now, figures, lines, categories, wards, providers, issues, forums, press,
                 resolution)


def _primary(fig: Figure) -> None:
    if 0 < fig.value < SUPPRESS_BELOW:
        fig.hidden = "primary"


def suppress(brief: Brief) -> Brief:
    """Hide small counts, then a second figure in any line where one alone is hidden."""
    for fig in brief.figures.values():
        _primary(fig)
    changed = True
    while changed:
        changed = False
        for parts, total in brief.lines:
            members = [*parts, total]
            hidden = [k for k in members if brief.fig(*k).hidden]
            if len(hidden) != 1:
                continue
            candidates = sorted((k for k in parts if k in brief.figures
                                 and not brief.figures[k].hidden and brief.figures[k].value),
                                key=lambda k: brief.figures[k].value)
            if not candidates and total in brief.figures and not brief.figures[total].hidden:
                candidates = [total]
            if candidates:
                brief.figures[candidates[0]].hidden = "complementary"
                changed = True
    return brief


def share(brief: Brief, part: tuple, whole: tuple) -> Share:
    return Share(brief.fig(*part), brief.fig(*whole))
