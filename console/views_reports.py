"""Reports: the project's indicators with charts, filters and a CSV export of aggregates."""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from console import auth, bp, charts, labels
from console.common import me, now, rt, unit
from console.forms import ReportFilterForm, lenient
from hotline import clock, queries
from hotline.services import reports
from hotline.services.audit import audit


def _query() -> reports.ReportQuery:
    return lenient(ReportFilterForm).query(clock.local(now()).date())


def _charts(report: reports.Report) -> dict:
    def row(label, cell):
        return (label, None if cell.suppressed or cell.withheld else cell.value, cell.shown())

    out = {
        "category": charts.bars(
            [row(labels.label(labels.CATEGORIES, cat), cell) for cat, cell in report.by_category],
            _("Cases by category")),
        "urgency": charts.bars(
            [row(_("Emergency") if key == "emergency" else _("Normal"), cell)
             for key, cell in report.by_urgency], _("Cases by urgency")),
        "month": charts.columns([row(m, c) for m, c in report.by_month], _("Cases by month")),
    }
    if report.query.by:
        cases = report.indicator("cases")
        out["breakdown"] = charts.bars(
            [row(labels.label(labels.GROUP_VALUES, g), cases.groups[g])
             for g in report.groups if g in cases.groups],
            _("Cases by %(dimension)s",
              dimension=labels.label(labels.DIMENSIONS, report.query.by)))
    return out


@bp.get("/reports", endpoint="reports")
@auth.allow(*auth.EVERYONE)
def reports_page():
    q = _query()
    with unit() as db:
        report = reports.build(db, q)
        # Viewers (donors, partners) see what an export would show; staff see exact figures.
        if current_user.role == auth.VIEWER:
            reports.suppress(report)
        return render_template(
            "console/reports.html", r=report, q=q, charts=_charts(report),
            wards=queries.people.wards(db), dimensions=reports.DIMENSIONS,
            suppressed=current_user.role == auth.VIEWER, call_price=rt().settings.call_price_vnd,
        )


@bp.get("/reports/export.csv")
@auth.allow(*auth.EVERYONE)
def reports_export():
    q = _query()
    with unit() as db:
        # Labels in the console's language; Vietnamese number formats in Vietnamese.
        vietnamese = str(get_locale() or "vi") == "vi"
        body = reports.export_csv(db, q, labels.csv_label,
                                  reports.vn_number if vietnamese else str)
        audit(db, now(), me(db), "report_export", "report", q.by or "", ward=q.ward or "",
              first=q.first_day, last=q.last_day)
    name = f"stones-report-{q.first_day.isoformat()}-{q.last_day.isoformat()}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
