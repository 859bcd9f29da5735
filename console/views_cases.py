"""Case inbox, case page and its buttons, recordings, the triage inbox."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from console import auth, bp, media
from console.common import act, actor, me, now, outbox, page_number, rt, unit
from console.forms import CaseActionForm, CaseFilterForm, TriageForm, lenient, parse
from hotline import queries
from hotline.models import Case, Message, Recording
from hotline.services import case_actions
from hotline.services import cases as case_service
from hotline.services import triage as triage_service
from hotline.services.case_actions import CaseInput
from hotline.services.errors import ServiceError


def _case_for(db: Session, number: int) -> Case:
    """The case with ``number`` if the signed-in user may see it: 404 or 403 otherwise."""
    case = case_service.by_number(db, number)
    if case is None:
        abort(404)
    if not case_service.may_act(db, case, actor(db)):
        abort(403)
    return case


@bp.get("/cases")
@auth.allow(*auth.CASEWORK)
def cases():
    filters, page = queries.cases.CaseFilters(**lenient(CaseFilterForm).data), page_number()
    with unit() as db:
        user = me(db)
        rows, total = queries.cases.case_inbox(db, user, filters, page)
        return render_template(
            "console/cases.html", cases=rows, total=total, page=page, f=filters,
            choices=queries.cases.case_filter_choices(db, user), page_size=50,
            wards=queries.people.wards(db),
        )


@bp.get("/cases/<int:number>")
@auth.allow(*auth.CASEWORK)
def case_page(number: int):
    with unit() as db:
        case = _case_for(db, number)
        case_actions.read_case(db, now(), case, me(db))
        return render_template("console/case.html", d=queries.cases.case_detail(db, case))


@bp.post("/cases/<int:number>/<action>")
@auth.allow(*auth.CASEWORK)
def case_action(number: int, action: str):
    def change(db):
        given = CaseInput(**parse(CaseActionForm).data)
        done = case_actions.case_action(db, now(), outbox(db), _case_for(db, number), actor(db),
                                        action, given)
        if done.get("no_phone"):
            flash(_("This service has no phone number: the member got no number to call. "
                    "Add one in the service directory, or bring her there."), "warn")
    return act(change, url_for("console.case_page", number=number))


@bp.get("/recordings/<int:recording_id>")
@auth.allow(*auth.CASEWORK)
def recording(recording_id: int):
    """A complaint's sound, only for those who may work its case; every play is logged."""
    with unit() as db:
        rec = db.get(Recording, recording_id)
        if rec is None or rec.case_id is None:
            abort(404)
        case = db.get(Case, rec.case_id)
        if case is None or not case_service.may_act(db, case, actor(db)):
            abort(403)
        case_actions.read_case(db, now(), case, me(db), what=f"recording {rec.id}")
    return media.stream_recording(rec, rt().settings)


@bp.get("/triage")
@auth.allow(*auth.STAFF)
def triage():
    with unit() as db:
        waiting = queries.triage.triage_inbox(db)
        threads = {m.id: queries.triage.conversation(db, m.phone, 6) for m in waiting}
        return render_template("console/triage.html", waiting=waiting, threads=threads,
                               recent=queries.triage.triage_recent(db))


@bp.post("/triage/<int:message_id>/<action>")
@auth.allow(*auth.STAFF)
def triage_action(message_id: int, action: str):
    try:
        number = _triage(message_id, action)
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("console.triage"))
    if number is None:
        flash(_("Saved."), "ok")
        return redirect(url_for("console.triage"))
    flash(_("Case %(number)s opened.", number=number), "ok")
    return redirect(url_for("console.case_page", number=number))


def _triage(message_id: int, action: str) -> int | None:
    """Deal with the message; the number of the case it became, if it became one."""
    fields = parse(TriageForm).data
    with unit() as db:
        msg = db.get(Message, message_id)
        if msg is None:
            abort(404)
        case = triage_service.triage(db, now(), outbox(db), msg, me(db), action, **fields)
        return case.number if case else None
