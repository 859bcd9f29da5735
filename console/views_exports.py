"""Exports for coordinators: cases and people as CSV, and everything held about one person."""

from __future__ import annotations

from flask import Response, render_template

from console import auth, bp, labels
from console.common import get_or_404, me, now, unit
from console.forms import ExportForm, lenient
from hotline.models import Person
from hotline.services import exports


def _download(body: str, name: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _csv(export, what: str) -> Response:
    """``export`` as a CSV download; numbers masked unless ``phones=1``."""
    with unit() as db:
        body, _n = export(db, now(), me(db), labels.EXPORT,
                          show_phones=lenient(ExportForm).phones.data)
    return _download(body, f"stones-{what}-{now():%Y%m%d}.csv", "text/csv")


@bp.get("/exports/cases.csv")
@auth.allow(*auth.STAFF)
def export_cases():
    """Every case."""
    return _csv(exports.cases_csv, "cases")


@bp.get("/exports/people.csv")
@auth.allow(*auth.STAFF)
def export_people():
    """Everyone the line knows."""
    return _csv(exports.people_csv, "people")


@bp.get("/people/<int:person_id>/data.txt")
@auth.allow(*auth.STAFF)
def person_data(person_id: int):
    """A data subject's request: everything held about her, as a readable text file."""
    with unit() as db:
        person = get_or_404(db, Person, person_id)
        body = render_template("console/person_data.txt",
                               d=exports.person_data(db, now(), me(db), person))
    return _download(body, f"stones-person-{person_id}.txt", "text/plain")
