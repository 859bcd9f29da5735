"""Reports for the project and its donors: aggregates only, small counts suppressed.

The indicators of DOMAIN.md ("What donors and the project want to see"): members, groups,
meetings held and attendance; calls and texts; cases by category and urgency; time to first
response and to resolution; referrals completed; peer-educator response time; satisfaction
at follow-up. Each can be broken down by one dimension (sex, age band, occupation, old or
current ward, home province, channel, self-help group) and filtered by period and ward.

Nothing here returns a row about a person: every number is a count or a median over a group.
``suppress`` hides every count under ``SUPPRESS_BELOW`` (and a median or share resting on
fewer people), and ``export_csv`` applies it, with one more cell hidden in a breakdown where
a single hidden cell could be worked out from the total.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline import clock
from hotline.models import (
    Attendance,
    Call,
    CallbackRequest,
    Case,
    Direction,
    Group,
    Meeting,
    MeetingStatus,
    Membership,
    Message,
    NotifyChannel,
    Person,
    Referral,
    Role,
)
from hotline.services.people import AGE_BANDS

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"
# A cell hidden only so that a small one next to it cannot be worked out from the total.
WITHHELD = "*"
UNKNOWN = "unknown"
NOT_APPLICABLE = "n/a"

DIMENSIONS = ("sex", "age_band", "occupation", "ward_old", "ward_current", "home_province",
              "channel", "group")
SATISFIED = ("solved",)
ANSWERED = ("solved", "not_solved")


@dataclass(frozen=True)
class Period:
    """Hanoi calendar days from ``first_day`` to ``last_day`` (both included), in an optional
    ward (old or current name); ``start`` and ``end`` are the UTC instants around them."""

    first_day: date
    last_day: date
    ward: str | None = None

    @property
    def start(self) -> datetime:
        return clock.at_local(self.first_day, datetime.min.time())

    @property
    def end(self) -> datetime:
        return clock.at_local(self.last_day + timedelta(days=1), datetime.min.time())


@dataclass(frozen=True)
class ReportQuery(Period):
    """A period of the reports, with an optional dimension to break the figures down by."""

    by: str | None = None

    @classmethod
    def default(cls, today: date, **kwargs) -> "ReportQuery":
        """The last 90 days up to ``today``."""
        return cls(today - timedelta(days=89), today, **kwargs)


@dataclass
class Cell:
    """A figure and how many people or events it rests on."""

    value: float | int | None
    n: int
    suppressed: bool = False
    withheld: bool = False

    def shown(self, digits: int = 1) -> str:
        if self.suppressed:
            return SUPPRESSED
        if self.withheld:
            return WITHHELD
        if self.value is None:
            return "–"
        if isinstance(self.value, float):
            return f"{self.value:.{digits}f}"
        return str(self.value)


@dataclass
class Indicator:
    key: str
    kind: str  # count, median_hours, share
    total: Cell
    groups: dict[str, Cell] = field(default_factory=dict)
    # False when the breakdown makes no sense for this indicator (groups held, meetings).
    by_person: bool = True


@dataclass
class Report:
    query: ReportQuery
    indicators: list[Indicator]
    groups: list[str]  # the breakdown's column labels, in order
    by_category: list[tuple[int, Cell]]
    by_urgency: list[tuple[str, Cell]]
    by_month: list[tuple[str, Cell]]
    # Cases by category x the breakdown's dimension (sex, ward ...), when one is chosen.
    by_category_group: list[tuple[int, dict[str, Cell]]] = field(default_factory=list)
    # The members counted, by how they are told (``NotifyChannel``: sms, voice, both).
    told_by: Indicator | None = None
    # Voice notice calls placed, by month: (month, calls, billed minutes); the console
    # prices the minutes with HOTLINE_CALL_PRICE_VND.
    voice_notices: list[tuple[str, int, int]] = field(default_factory=list)

    def indicator(self, key: str) -> Indicator:
        return next(i for i in self.indicators if i.key == key)


# --------------------------------------------------------------------------------------------
# Dimensions as SQL expressions
# --------------------------------------------------------------------------------------------


def _age_band(year: int) -> ColumnElement:
    whens = [
        (and_(Person.birth_year <= year - low, Person.birth_year >= year - high), label)
        for label, low, high in AGE_BANDS
    ]
    return case(*whens, else_=literal(UNKNOWN))


def _dimension(by: str | None, q: ReportQuery, channel: ColumnElement | None,
               group: Callable[[], ColumnElement] | None = None) -> ColumnElement | None:
    if by is None:
        return None
    if by == "group":
        return group() if group is not None else literal(NOT_APPLICABLE)
    if by == "age_band":
        return _age_band(q.last_day.year)
    if by == "channel":
        return channel if channel is not None else literal(NOT_APPLICABLE)
    return getattr(Person, by)


def _group_code(group_id: ColumnElement) -> ColumnElement:
    """The code of the group ``group_id`` names (a case's or a meeting's own group)."""
    return (select(Group.code).where(Group.id == group_id)
            .correlate_except(Group).scalar_subquery())


def _person_group() -> ColumnElement:
    """A member's group: the one she joined last and has not left, as her new cases are
    (``cases.current_group``), so that she counts once."""
    return (select(Group.code).join(Membership, Membership.group_id == Group.id)
            .where(Membership.person_id == Person.id, Membership.left_at.is_(None))
            .order_by(Membership.joined_at.desc(), Membership.id.desc()).limit(1)
            .correlate_except(Group, Membership).scalar_subquery())


def _case_group() -> ColumnElement:
    # The group the case was opened in, not the member's group today: a case keeps its
    # group when she moves on, and when retention hands the case to an anonymous record.
    return _group_code(Case.group_id)


def _ward(q: ReportQuery, old, current) -> ColumnElement[bool]:
    if not q.ward:
        return true()
    return or_(old == q.ward, current == q.ward)


# --------------------------------------------------------------------------------------------
# Indicators
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """How to compute one indicator: a SELECT over rows joined to ``Person`` (outer) whose
    selected value is 1 (counted) or a number of hours (median)."""

    key: str
    kind: str
    build: Callable[[ReportQuery], tuple[Select, ColumnElement | None]]
    by_person: bool = True
    # Which self-help group a row belongs to, for the "group" breakdown; texts and calls
    # belong to none (n/a).
    group: Callable[[], ColumnElement] | None = None


def _in(col, q: ReportQuery) -> ColumnElement[bool]:
    return and_(col >= q.start, col < q.end)


def _members(q):
    return (select(literal(1)).select_from(Person).where(
        Person.role == Role.MEMBER, Person.registered_at < q.end,
        Person.erased_at.is_(None), _ward(q, Person.ward_old, Person.ward_current),
    ), None)


def _new_members(q):
    return (select(literal(1)).select_from(Person).where(
        Person.role == Role.MEMBER, _in(Person.registered_at, q),
        _ward(q, Person.ward_old, Person.ward_current),
    ), None)


def _groups(q):
    return (select(literal(1)).select_from(Group).where(
        Group.active.is_(True), Group.created_at < q.end,
        _ward(q, Group.ward_old, Group.ward_current),
    ), None)


def _meetings(q):
    return (select(literal(1)).select_from(Meeting).join(Group, Group.id == Meeting.group_id)
            .where(Meeting.status == MeetingStatus.HELD, _in(Meeting.starts_at, q),
                   _ward(q, Group.ward_old, Group.ward_current)), None)


def _attendance(q):
    return (select(literal(1)).select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(Person, Person.id == Attendance.person_id)
            .where(Attendance.attended.is_(True), Meeting.status != MeetingStatus.CANCELLED,
                   _in(Meeting.starts_at, q), _ward(q, Person.ward_old, Person.ward_current)),
            None)


def _calls(q):
    return (select(literal(1)).select_from(Call)
            .outerjoin(Person, Person.id == Call.person_id)
            .where(Call.direction == Direction.IN, _in(Call.started_at, q),
                   _ward(q, Person.ward_old, Person.ward_current)), literal("voice"))


def _texts(q):
    return (select(literal(1)).select_from(Message)
            .outerjoin(Person, Person.id == Message.person_id)
            .where(Message.direction == Direction.IN, _in(Message.created_at, q),
                   _ward(q, Person.ward_old, Person.ward_current)), literal("sms"))


def _cases_where(q, *extra):
    return (select(literal(1)).select_from(Case).join(Person, Person.id == Case.person_id)
            .where(_in(Case.created_at, q), _ward(q, Person.ward_old, Person.ward_current),
                   *extra), Case.channel)


def _cases(q):
    return _cases_where(q)


def _emergencies(q):
    return _cases_where(q, Case.emergency.is_(True))


def _durations(q, start, end, *extra):
    sel = (select(start, end).select_from(Case).join(Person, Person.id == Case.person_id)
           .where(_ward(q, Person.ward_old, Person.ward_current), start.is_not(None),
                  end.is_not(None), end >= start, *extra))
    return sel, Case.channel


def _first_response(q):
    return _durations(q, Case.created_at, Case.acknowledged_at, _in(Case.created_at, q))


def _resolution(q):
    return _durations(q, Case.created_at, Case.resolved_at, _in(Case.created_at, q))


def _pe_response(q):
    return _durations(q, Case.assigned_at, Case.acknowledged_at, _in(Case.assigned_at, q))


def _referrals_where(q, *extra):
    return (select(literal(1)).select_from(Referral).join(Case, Case.id == Referral.case_id)
            .join(Person, Person.id == Case.person_id)
            .where(_in(Referral.referred_at, q), _ward(q, Person.ward_old, Person.ward_current),
                   *extra), Case.channel)


def _referrals(q):
    return _referrals_where(q)


def _referrals_completed(q):
    return _referrals_where(q, Referral.completed_at.is_not(None))


def _followups(q, answers):
    """Follow-up answers on cases resolved in the period."""
    return (select(literal(1)).select_from(Case).join(Person, Person.id == Case.person_id)
            .where(_in(Case.resolved_at, q), _ward(q, Person.ward_old, Person.ward_current),
                   Case.followup_answer.in_(answers)), Case.channel)


def _followups_answered(q):
    return _followups(q, ANSWERED)


def _satisfied(q):
    return _followups(q, SATISFIED)


SPECS = (
    _Spec("members", "count", _members, group=_person_group),
    _Spec("new_members", "count", _new_members, group=_person_group),
    _Spec("groups", "count", _groups, by_person=False),
    _Spec("meetings_held", "count", _meetings, by_person=False),
    _Spec("attendances", "count", _attendance, group=lambda: _group_code(Meeting.group_id)),
    _Spec("calls", "count", _calls),
    _Spec("texts", "count", _texts),
    _Spec("cases", "count", _cases, group=_case_group),
    _Spec("emergencies", "count", _emergencies, group=_case_group),
    _Spec("hours_to_first_response", "median_hours", _first_response, group=_case_group),
    _Spec("hours_to_resolution", "median_hours", _resolution, group=_case_group),
    _Spec("pe_response_hours", "median_hours", _pe_response, group=_case_group),
    _Spec("referrals", "count", _referrals, group=_case_group),
    _Spec("referrals_completed", "count", _referrals_completed, group=_case_group),
    _Spec("followups_answered", "count", _followups_answered, group=_case_group),
    _Spec("satisfied", "count", _satisfied, group=_case_group),
)
INDICATORS = tuple(s.key for s in SPECS) + ("satisfaction_share",)


def _count(session: Session, spec: _Spec, q: ReportQuery) -> Indicator:
    sel, channel = spec.build(q)
    total = session.scalar(select(func.count()).select_from(sel.subquery())) or 0
    ind = Indicator(spec.key, "count", Cell(total, total), by_person=spec.by_person)
    dim = _dimension(q.by, q, channel, spec.group) if spec.by_person else None
    if dim is not None:
        labelled = sel.add_columns(dim.label("g")).subquery()
        for g, n in session.execute(
            select(labelled.c.g, func.count()).group_by(labelled.c.g)
        ):
            key = UNKNOWN if g in (None, "") else str(g)
            prev = ind.groups.get(key)
            n = n + (prev.n if prev else 0)
            ind.groups[key] = Cell(n, n)
    return ind


def _median(session: Session, spec: _Spec, q: ReportQuery) -> Indicator:
    sel, channel = spec.build(q)
    dim = _dimension(q.by, q, channel, spec.group)
    if dim is not None:
        sel = sel.add_columns(dim.label("g"))
    values: dict[str | None, list[float]] = {}
    for row in session.execute(sel):
        hours = (row[1] - row[0]).total_seconds() / 3600
        values.setdefault(None, []).append(hours)
        if dim is not None:
            key = UNKNOWN if row[2] in (None, "") else str(row[2])
            values.setdefault(key, []).append(hours)

    def cell(xs: list[float]) -> Cell:
        return Cell(float(statistics.median(xs)) if xs else None, len(xs))

    ind = Indicator(spec.key, "median_hours", cell(values.pop(None, [])))
    ind.groups = {k: cell(v) for k, v in values.items()}
    return ind


def _share(key: str, part: Indicator, whole: Indicator) -> Indicator:
    def cell(p: Cell | None, w: Cell | None) -> Cell:
        if w is None or not w.n:
            return Cell(None, 0)
        return Cell(100.0 * (p.n if p else 0) / w.n, w.n)

    ind = Indicator(key, "share", cell(part.total, whole.total))
    ind.groups = {g: cell(part.groups.get(g), w) for g, w in whole.groups.items()}
    return ind


def build(session: Session, q: ReportQuery) -> Report:
    """Every indicator for ``q``, with its breakdown when ``q.by`` is set."""
    if q.by is not None and q.by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {q.by!r}")
    indicators = []
    for spec in SPECS:
        compute = _count if spec.kind == "count" else _median
        indicators.append(compute(session, spec, q))
    by_key = {i.key: i for i in indicators}
    indicators.append(_share("satisfaction_share", by_key["satisfied"],
                             by_key["followups_answered"]))
    groups = sorted({g for i in indicators for g in i.groups}, key=_group_order)
    # Every group in every breakdown, zero where nothing was counted: a missing row would
    # tell as much as a zero.
    for ind in indicators:
        if q.by is not None and ind.by_person:
            for g in groups:
                ind.groups.setdefault(g, Cell(0 if ind.kind == "count" else None, 0))
            ind.groups = {g: ind.groups[g] for g in groups}
    report = Report(q, indicators, groups, *_case_charts(session, q))
    report.told_by = _told_by(session, q)
    report.voice_notices = voice_notice_months(session, q)
    if q.by is not None:
        report.by_category_group = _category_by(session, q)
    return report


def _months(q: Period) -> list[str]:
    months, day = [], q.first_day.replace(day=1)
    while day <= q.last_day:
        months.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def voice_notice_months(session: Session, q: Period) -> list[tuple[str, int, int]]:
    """Per month of ``q``: the voice notice calls placed and the minutes they bill (each
    call by the started minute, as the voice gateway charges; an unanswered call none)."""
    from hotline.services.voice_notices import REASON

    rows = session.execute(
        select(Call.started_at, Call.duration_s)
        .join(CallbackRequest, CallbackRequest.call_id == Call.id)
        .where(CallbackRequest.reason == REASON, _in(Call.started_at, q)))
    totals = {m: [0, 0] for m in _months(q)}
    for started, duration in rows:
        month = totals.get(clock.local(_aware(started)).strftime("%Y-%m"))
        if month is not None:
            month[0] += 1
            month[1] += -(-(duration or 0) // 60)
    return [(m, calls, minutes) for m, (calls, minutes) in totals.items()]


def _told_by(session: Session, q: ReportQuery) -> Indicator:
    """The members indicator's people by how they are told: every channel, zeros too."""
    sel, _ = _members(q)
    labelled = sel.add_columns(Person.notify_channel.label("g")).subquery()
    counts = dict(session.execute(
        select(labelled.c.g, func.count()).group_by(labelled.c.g)).all())
    total = sum(counts.values())
    groups = {c.value: Cell(counts.get(c.value, 0), counts.get(c.value, 0))
              for c in NotifyChannel}
    return Indicator("members_by_notify_channel", "count", Cell(total, total), groups)


def _category_by(session: Session, q: ReportQuery) -> list[tuple[int, dict[str, Cell]]]:
    """Cases per category and value of the breakdown's dimension, zeros included."""
    sel, channel = _cases(q)
    dim = _dimension(q.by, q, channel, _case_group)
    base = sel.add_columns(Case.category.label("category"), dim.label("g")).subquery()
    counts: dict[int, dict[str, int]] = {}
    for cat, g, n in session.execute(
            select(base.c.category, base.c.g, func.count()).group_by(base.c.category, base.c.g)):
        key = UNKNOWN if g in (None, "") else str(g)
        row = counts.setdefault(cat, {})
        row[key] = row.get(key, 0) + n
    values = sorted({g for row in counts.values() for g in row}, key=_group_order)
    return [(cat, {g: Cell(row.get(g, 0), row.get(g, 0)) for g in values})
            for cat, row in sorted(counts.items())]


def _group_order(label: str) -> tuple:
    bands = [b[0] for b in AGE_BANDS]
    if label in bands:
        return (0, bands.index(label), "")
    return (2 if label in (UNKNOWN, NOT_APPLICABLE) else 1, 0, label)


def _case_charts(session: Session, q: ReportQuery):
    sel, _channel = _cases(q)
    base = sel.add_columns(Case.category.label("category"), Case.emergency.label("emergency"),
                           Case.created_at.label("created_at")).subquery()
    by_category = [(cat, Cell(n, n)) for cat, n in session.execute(
        select(base.c.category, func.count()).group_by(base.c.category)
        .order_by(base.c.category)
    )]
    urgency = dict(session.execute(
        select(base.c.emergency, func.count()).group_by(base.c.emergency)
    ).all())
    by_urgency = [("emergency", Cell(urgency.get(True, 0), urgency.get(True, 0))),
                  ("normal", Cell(urgency.get(False, 0), urgency.get(False, 0)))]
    months: dict[str, int] = {}
    day = q.first_day.replace(day=1)
    while day <= q.last_day:
        months[day.strftime("%Y-%m")] = 0
        day = (day + timedelta(days=32)).replace(day=1)
    for (created,) in session.execute(select(base.c.created_at)):
        label = clock.local(_aware(created)).strftime("%Y-%m")
        if label in months:
            months[label] += 1
    by_month = [(m, Cell(n, n)) for m, n in months.items()]
    return by_category, by_urgency, by_month


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Suppression and export
# --------------------------------------------------------------------------------------------


def _hide(cell: Cell) -> None:
    """Counts under the threshold, and medians or shares resting on fewer people."""
    if cell.n < SUPPRESS_BELOW:
        cell.suppressed = True


def suppress(report: Report) -> Report:
    """Hide small cells in place (primary), then one more cell in any breakdown where exactly
    one is hidden and the total is shown (secondary), so none can be worked out."""
    for ind in (*report.indicators, *([report.told_by] if report.told_by else [])):
        _hide(ind.total)
        for cell in ind.groups.values():
            _hide(cell)
        if ind.kind == "count" and not ind.total.suppressed:
            hidden = [c for c in ind.groups.values() if c.suppressed]
            shown = sorted((c for c in ind.groups.values() if not c.suppressed),
                           key=lambda c: c.n)
            if len(hidden) == 1 and shown:
                shown[0].withheld = True
    for _label, cell in (*report.by_category, *report.by_urgency, *report.by_month):
        _hide(cell)
    # Category x dimension: each row adds up to its category's total, which is shown.
    totals = dict(report.by_category)
    for cat, row in report.by_category_group:
        for cell in row.values():
            if cell.n:  # a zero describes nobody
                _hide(cell)
        hidden = [c for c in row.values() if c.suppressed or c.withheld]
        shown = sorted((c for c in row.values() if not c.suppressed and c.n), key=lambda c: c.n)
        total = totals.get(cat)
        if len(hidden) == 1 and total is not None and not total.suppressed and shown:
            shown[0].withheld = True
    return report


def _same(_kind: str, code: str) -> str:
    return code


def vn_number(text: str) -> str:
    """Vietnamese number format: "1234.5" -> "1.234,5"; anything else as it is."""
    body = text.lstrip("-")
    whole, _, frac = body.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return text
    whole = f"{int(whole):,}".replace(",", ".")
    return ("-" if text.startswith("-") else "") + whole + ("," + frac if frac else "")


def csv_rows(report: Report, label: Callable[[str, str], str] = _same,
             number: Callable[[str], str] = str) -> Iterable[list[str]]:
    """The report's rows; ``label(kind, code)`` names codes (kinds: header, indicator, kind,
    dimension, group, category) and ``number`` formats figures, for a reader's language."""
    q = report.query
    yield ["# period", q.first_day.isoformat(), q.last_day.isoformat()]
    yield ["# ward", q.ward or "all"]
    yield ["# breakdown", q.by or "none"]
    yield ["# counts under 5 are shown as <5; * hides a cell that would reveal one"]
    yield [label("header", h) for h in ("indicator", "kind", "dimension", "group", "value")]
    everyone = label("group", "all")
    for ind in report.indicators:
        name, kind = label("indicator", ind.key), label("kind", ind.kind)
        yield [name, kind, label("dimension", "all"), everyone, number(ind.total.shown())]
        if q.by and ind.by_person:
            for g in report.groups:
                cell = ind.groups.get(g)
                if cell is not None:
                    yield [name, kind, label("dimension", q.by), label("group", g),
                           number(cell.shown())]
    count = label("kind", "count")
    for cat, cell in report.by_category:
        yield [label("indicator", "cases_by_category"), count, label("dimension", "category"),
               label("category", str(cat)), number(cell.shown())]
    for key, cell in report.by_urgency:
        yield [label("indicator", "cases_by_urgency"), count, label("dimension", "urgency"),
               label("group", key), number(cell.shown())]
    for month, cell in report.by_month:
        yield [label("indicator", "cases_by_month"), count, label("dimension", "month"), month,
               number(cell.shown())]
    for cat, row in report.by_category_group:
        for g, cell in row.items():
            # The group's own value first: a spreadsheet must see a formula-like one quoted.
            yield [label("indicator", "cases_by_category"), count,
                   f"{label('dimension', q.by)} × {label('dimension', 'category')}",
                   f"{label('group', g)} · {label('category', str(cat))}", number(cell.shown())]


def _cell_text(value: str) -> str:
    """A spreadsheet must not read a ward or occupation name as a formula."""
    if value and value[0] in "=+-@\t\r" and not value.lstrip("-").replace(".", "").isdigit():
        return "'" + value
    return value


def export_csv(session: Session, q: ReportQuery, label: Callable[[str, str], str] = _same,
               number: Callable[[str], str] = str) -> str:
    """The report as CSV: aggregates only, small counts suppressed; codes and figures as
    ``label`` and ``number`` write them (codes and plain numbers by default)."""
    report = suppress(build(session, q))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv_rows(report, label, number):
        writer.writerow([_cell_text(v) for v in row])
    return out.getvalue()


