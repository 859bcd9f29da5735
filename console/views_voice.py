"""The groups' collective voice: service monitoring, minutes, collective issues, forums,
press monitoring and the brief. Thin: parse, one service or query call, render."""

from __future__ import annotations

from flask import render_template, request

from console import auth, bp
from console.common import arg_date, arg_int, now, unit
from hotline import clock
from hotline.queries import monitoring as monitoring_queries
from hotline.services.reports import ReportQuery


def _period() -> ReportQuery:
    """The ?from= / ?to= period of the page (the last 90 days by default)."""
    default = ReportQuery.default(clock.local(now()).date())
    first = arg_date("from", default.first_day)
    last = arg_date("to", default.last_day)
    if last < first:
        first, last = last, first
    return ReportQuery(first, last, ward=(request.args.get("ward") or "").strip()[:60] or None)


@bp.get("/providers/report")
@auth.allow(*auth.EVERYONE)
def provider_report():
    q = _period()
    with unit() as db:
        rows = monitoring_queries.provider_report(db, q.start, q.end)
        return render_template(
            "console/provider_report.html", rows=rows, q=q,
            threshold=monitoring_queries.FLAG_HELPED_BELOW,
            min_outcomes=monitoring_queries.FLAG_MIN_OUTCOMES,
            highlight=arg_int("provider"))
