"""Exports for coordinators: cases and people as CSV, and everything held about one person."""

from __future__ import annotations

from flask import Response, abort, render_template

from console import auth, bp, labels
from console.common import me, now, unit
from console.forms import ExportForm, lenient
from hotline.models import Person
from hotline.services import exports


def _download(body: str, name: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/exports/cases.csv")
@auth.allow(*auth.STAFF)
def export_cases():
    """Every case; numbers masked unless ``phones=1``."""
    with unit() as db:
        body, _n = exports.cases_csv(db, now(), me(db), labels.EXPORT,
                                     show_phones=lenient(ExportForm).phones.data)
    return _download(body, f"stones-cases-{now():%Y%m%d}.csv", "text/csv")


@bp.get("/exports/people.csv")
@auth.allow(*auth.STAFF)
def export_people():
    """Everyone the line knows; numbers masked unless ``phones=1``."""
    with unit() as db:
        body, _n = exports.people_csv(db, now(), me(db), labels.EXPORT,
                                      show_phones=lenient(ExportForm).phones.data)
    return _download(body, f"stones-people-{now():%Y%m%d}.csv", "text/csv")


@bp.get("/people/<int:person_id>/data.txt")
@auth.allow(*auth.STAFF)
def person_data(person_id: int):
    """A data subject's request: everything held about her, as a readable text file."""
    with unit() as db:
        person = db.get(Person, person_id) or abort(404)
        body = render_template("console/person_data.txt",
                               d=exports.person_data(db, now(), me(db), person))
    return _download(body, f"stones-person-{person_id}.txt", "text/plain")
