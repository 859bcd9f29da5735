"""The brief in its three forms: an HTML page with charts, a printable PDF (WeasyPrint)
and a CSV of its figures; ``flask brief`` writes the PDF from the command line."""

from __future__ import annotations

import csv
import io
from datetime import date

import click
from flask import current_app, render_template
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from console import charts, labels
from hotline import clock
from hotline.queries import brief as brief_queries
from hotline.services.monitoring import OUTCOMES


def context(session: Session, q: brief_queries.BriefQuery) -> dict:
    """Everything the templates need: the suppressed brief, its shares and charts."""
    b = brief_queries.suppress(brief_queries.build(session, q, clock.utcnow()))

    def bar(label, fig):
        return (label, fig.visible, fig.shown())

    shares = {"resolved": brief_queries.share(b, ("res", "resolved"), ("res", "opened")),
              "satisfied": brief_queries.share(b, ("res", "satisfied"), ("res", "answered"))}
    provider_shares = {r.provider.code: brief_queries.share(
        b, ("pv", r.provider.code, "satisfied"), ("pv", r.provider.code, "answered"))
        for r in b.providers}
    return {
        "b": b, "prev": q.previous(), "sexes": brief_queries.SEXES, "shares": shares,
        "provider_shares": provider_shares,
        "charts": {
            "category": charts.bars(
                [bar(labels.label(labels.CATEGORIES, c), b.fig("k", c))
                 for c in b.categories if b.fig("k", c).value], _("Cases by category")),
            "providers": charts.bars(
                [bar(r.provider.code, b.fig("pv", r.provider.code, "helped"))
                 for r in b.providers], _("Referrals that helped, by service")),
        },
    }


def html(session: Session, q: brief_queries.BriefQuery) -> str:
    return render_template("console/brief_print.html", **context(session, q))


def pdf(session: Session, q: brief_queries.BriefQuery) -> bytes:
    """The printable brief; WeasyPrint is imported here so the web door starts without it."""
    from weasyprint import HTML

    return HTML(string=html(session, q)).write_pdf()


def csv_text(session: Session, q: brief_queries.BriefQuery) -> str:
    """The brief's figures as CSV rows (section, item, detail, value), labels translated."""
    b = context(session, q)["b"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    cat = lambda c: labels.label(labels.CATEGORIES, c)  # noqa: E731
    w.writerow([_("Period"), q.first_day.strftime("%d/%m/%Y"), q.last_day.strftime("%d/%m/%Y"),
                q.ward or _("All wards")])
    w.writerow([_("Section"), _("Item"), _("Detail"), _("Value")])
    for c, ward in b.rows():
        for s in brief_queries.SEXES:
            w.writerow([_("Cases"), f"{cat(c)} · {ward}", labels.label(labels.BRIEF_SEXES, s),
                        b.fig("c", c, ward, s).shown()])
        w.writerow([_("Cases"), f"{cat(c)} · {ward}", _("Total"), b.fig("r", c, ward).shown()])
    for c in b.categories:
        w.writerow([_("This period"), cat(c), "", b.fig("k", c).shown()])
        w.writerow([_("Previous period"), cat(c), "", b.fig("p", c).shown()])
    w.writerow([_("This period"), _("All"), "", b.fig("g").shown()])
    for key in ("opened", "resolved", "answered", "satisfied"):
        w.writerow([_("Resolution and satisfaction"), key, "", b.fig("res", key).shown()])
    for r in b.providers:
        for o in (*OUTCOMES, "pending", "referrals"):
            w.writerow([_("Providers' performance"), r.provider.code,
                        labels.label(labels.REFERRAL_FIGURES, o),
                        b.fig("pv", r.provider.code, o).shown()])
    for i in b.issues:
        w.writerow([_("Collective issues"), i.title,
                    labels.label(labels.ISSUE_STATUSES, i.status), b.fig("ic", i.id).shown()])
    for f in b.forums:
        w.writerow([_("Forums and commitments"), f.title, f.held_on.strftime("%d/%m/%Y"),
                    f.commitments])
    for p in b.press:
        w.writerow([_("Press items"), p.headline, p.outlet, labels.label(labels.TONES, p.tone)])
    return out.getvalue()


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@click.command("brief")
@click.option("--from", "first", required=True, help="first day, YYYY-MM-DD (Hanoi)")
@click.option("--to", "last", required=True, help="last day, YYYY-MM-DD (Hanoi)")
@click.option("--ward", default=None, help="an old or current ward; all when left out")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--lang", default="vi", type=click.Choice(["vi", "en"]))
@with_appcontext
def brief_cmd(first, last, ward, out, lang):
    """Write the anonymised brief for a period (and a ward) as a PDF."""
    q = brief_queries.BriefQuery(_day(first), _day(last), ward or None)
    if q.last_day < q.first_day:
        raise click.BadParameter("--to comes before --from")
    rt = current_app.extensions["hotline"]
    with current_app.test_request_context("/console/brief"):
        from flask import session as web_session

        web_session["lang"] = lang
        with rt.sessions() as db:
            body = pdf(db, q)
    with open(out, "wb") as f:
        f.write(body)
    click.echo(f"brief {q.first_day}..{q.last_day} written to {out} ({len(body)} bytes)")
