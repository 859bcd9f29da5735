"""The groups' collective voice: service monitoring, minutes, collective issues, forums,
press monitoring and the brief. Thin: parse, one service or query call, render."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from console import auth, bp
from console import brief as brief_output
from console.common import get_or_404, me, now, unit
from console.forms import (
    ForumForm,
    IssueFilterForm,
    IssueForm,
    MinutesForm,
    PeriodForm,
    PressFilterForm,
    PressForm,
    ProviderReportForm,
    StepForm,
    lenient,
    parse,
)
from hotline import clock, queries
from hotline.models import CollectiveIssue, Meeting
from hotline.models.voice import ISSUE_STATUSES, PARTICIPANT_KINDS, STEP_KINDS, TONES, TOPICS
from hotline.queries import monitoring as monitoring_queries
from hotline.queries import voice as voice_queries
from hotline.queries.brief import BriefQuery
from hotline.services import voice
from hotline.services.audit import audit
from hotline.services.errors import ServiceError
from hotline.services.reports import ReportQuery


def _period(form: PeriodForm | None = None) -> ReportQuery:
    """The ?from= / ?to= period of the page (the last 90 days by default)."""
    return (form or lenient(PeriodForm)).query(clock.local(now()).date())


@bp.get("/providers/report")
@auth.allow(*auth.EVERYONE)
def provider_report():
    form = lenient(ProviderReportForm)
    q = _period(form)
    with unit() as db:
        rows = monitoring_queries.provider_report(db, q.start, q.end)
        return render_template(
            "console/provider_report.html", rows=rows, q=q,
            threshold=monitoring_queries.FLAG_HELPED_BELOW,
            min_outcomes=monitoring_queries.FLAG_MIN_OUTCOMES,
            highlight=form.provider.data)


def _change(change, back: str):
    """Run ``change(db)`` in one unit of work; a refusal is flashed and nothing is saved."""
    try:
        with unit() as db:
            change(db)
        flash(_("Saved."), "ok")
    except ServiceError as exc:  # a VoiceError, or a form's refusal
        flash(_(str(exc)), "error")
    return redirect(back)


def _today():
    return clock.local(now()).date()


# --- minutes --------------------------------------------------------------------------------

@bp.get("/minutes")
@auth.allow(*auth.CASEWORK)
def minutes_list():
    with unit() as db:
        return render_template("console/minutes.html",
                               rows=voice_queries.recent_meetings(db, me(db), now()))


def _meeting_for_minutes(db, meeting_id: int) -> Meeting:
    meeting = get_or_404(db, Meeting, meeting_id)
    if not voice_queries.may_write_minutes(db, me(db), meeting):
        abort(403)
    return meeting


@bp.get("/meetings/<int:meeting_id>/minutes")
@auth.allow(*auth.CASEWORK)
def minutes_page(meeting_id: int):
    with unit() as db:
        meeting = _meeting_for_minutes(db, meeting_id)
        return render_template("console/minutes_form.html", m=meeting,
                               mm=voice_queries.minutes_of(db, meeting), topics=TOPICS)


@bp.post("/meetings/<int:meeting_id>/minutes")
@auth.allow(*auth.CASEWORK)
def minutes_save(meeting_id: int):
    return _change(lambda db: voice.save_minutes(
        db, now(), _meeting_for_minutes(db, meeting_id), user=me(db),
        **parse(MinutesForm).values()),
        url_for("console.minutes_page", meeting_id=meeting_id))


# --- collective issues ------------------------------------------------------------------------

@bp.get("/issues")
@auth.allow(*auth.STAFF)
def issues():
    status = lenient(IssueFilterForm).status.data
    with unit() as db:
        return render_template(
            "console/issues.html", statuses=ISSUE_STATUSES, status=status,
            rows=voice_queries.issues_overview(db, _today(), status),
            groups=voice_queries.all_groups(db))


@bp.post("/issues")
@auth.allow(*auth.STAFF)
def issue_create():
    created = {}

    def change(db):
        created["id"] = voice.save_issue(db, now(), me(db), None,
                                         **parse(IssueForm).values()).id

    response = _change(change, url_for("console.issues"))
    return redirect(url_for("console.issue_page", issue_id=created["id"])) if created \
        else response


@bp.get("/issues/<int:issue_id>")
@auth.allow(*auth.STAFF)
def issue_page(issue_id: int):
    with unit() as db:
        return render_template("console/issue.html", i=get_or_404(db, CollectiveIssue, issue_id),
                               today=_today(), kinds=STEP_KINDS,
                               groups=voice_queries.all_groups(db))


@bp.post("/issues/<int:issue_id>")
@auth.allow(*auth.STAFF)
def issue_edit(issue_id: int):
    return _change(lambda db: voice.save_issue(db, now(), me(db), get_or_404(db, CollectiveIssue,
                                                                        issue_id),
                                               **parse(IssueForm).values()),
                   url_for("console.issue_page", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/steps")
@auth.allow(*auth.STAFF)
def issue_step(issue_id: int):
    return _change(lambda db: voice.add_step(db, now(), me(db), get_or_404(
        db, CollectiveIssue, issue_id), **parse(StepForm).values()),
        url_for("console.issue_page", issue_id=issue_id))


# --- forums ---------------------------------------------------------------------------------

@bp.get("/forums")
@auth.allow(*auth.STAFF)
def forums():
    with unit() as db:
        return render_template("console/forums.html", rows=voice_queries.forums(db),
                               issues=voice_queries.all_issues(db), kinds=PARTICIPANT_KINDS)


@bp.post("/forums")
@auth.allow(*auth.STAFF)
def forum_create():
    return _change(lambda db: voice.save_forum(db, now(), me(db), **parse(ForumForm).values()),
                   url_for("console.forums"))


# --- press ----------------------------------------------------------------------------------

@bp.get("/press")
@auth.allow(*auth.STAFF)
def press():
    f = voice_queries.PressFilters(**lenient(PressFilterForm).data)
    with unit() as db:
        return render_template("console/press.html", rows=voice_queries.press_items(db, f),
                               f=f, issues=voice_queries.all_issues(db), tones=TONES)


@bp.post("/press")
@auth.allow(*auth.STAFF)
def press_create():
    return _change(lambda db: voice.save_press(db, now(), me(db), **parse(PressForm).values()),
                   url_for("console.press"))


# --- the brief --------------------------------------------------------------------------------

def _brief_query() -> BriefQuery:
    q = _period()
    return BriefQuery(q.first_day, q.last_day, q.ward)


@bp.get("/brief")
@auth.allow(*auth.EVERYONE)
def brief():
    q = _brief_query()
    with unit() as db:
        return render_template("console/brief.html", wards=queries.people.wards(db),
                               **brief_output.context(db, q))


def _brief_file(render, mimetype: str, ext: str):
    """The brief of the asked period as a ``ext`` file, its download audited."""
    q = _brief_query()
    with unit() as db:
        body = render(db, q)
        audit(db, now(), me(db), f"brief_{ext}", "brief", q.ward or "",
              first=q.first_day, last=q.last_day)
    name = f"stones-brief-{q.first_day.isoformat()}-{q.last_day.isoformat()}.{ext}"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/brief.pdf")
@auth.allow(*auth.EVERYONE)
def brief_pdf():
    return _brief_file(brief_output.pdf, "application/pdf", "pdf")


@bp.get("/brief.csv")
@auth.allow(*auth.EVERYONE)
def brief_csv():
    return _brief_file(brief_output.csv_text, "text/csv", "csv")
