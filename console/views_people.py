"""People: find by any number, a person's page, edit, merge two records, erase on request."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from console import auth, bp, media
from console.common import act, get_or_404, me, now, outbox, rt, unit
from console.forms import (
    CallbackFilterForm,
    ConfirmForm,
    MergeForm,
    NotifyChannelForm,
    PeopleSearchForm,
    PersonForm,
    lenient,
    parse,
)
from hotline import queries
from hotline.models import Person
from hotline.services import people as people_service
from hotline.services.people import PeopleError


def _person(db, person_id: int) -> Person:
    return get_or_404(db, Person, person_id)


@bp.get("/people")
@auth.allow(*auth.STAFF)
def people():
    search = lenient(PeopleSearchForm)
    q, group_id = search.q.data, search.group_id.data
    with unit() as db:
        found = queries.people.search(db, q, group_id=group_id)
        return render_template("console/people.html", q=q, people=found, group_id=group_id,
                               groups=queries.groups.all_groups(db),
                               their_groups=queries.people.current_groups(db, found))


@bp.get("/people/<int:person_id>")
@auth.allow(*auth.STAFF)
def person_page(person_id: int):
    with unit() as db:
        context = queries.person_page.context(db, now(), me(db), _person(db, person_id),
                                              rt().settings.holiday_dates)
        return render_template("console/person.html", **context)


@bp.get("/people/<int:person_id>/name/<int:recording_id>")
@auth.allow(*auth.STAFF)
def person_name_recording(person_id: int, recording_id: int):
    """Her name as she said it by keypad registration, for staff to type it in."""
    with unit() as db:
        rec = queries.people.name_recording(db, person_id, recording_id)
        if rec is None:
            abort(404)
    return media.stream_recording(rec, rt().settings)


@bp.get("/callbacks")
@auth.allow(*auth.STAFF)
def callbacks():
    """Every callback the line promised, and where it stands."""
    status = lenient(CallbackFilterForm).status.data
    with unit() as db:
        return render_template("console/callbacks.html", status=status,
                               rows=queries.callbacks.callbacks(db, status=status),
                               counts=queries.callbacks.counts(db))


@bp.post("/people/<int:person_id>/edit")
@auth.allow(*auth.STAFF)
def person_edit(person_id: int):
    return act(lambda db: people_service.update_person(
        db, now(), me(db), _person(db, person_id), parse(PersonForm).values()),
        url_for("console.person_page", person_id=person_id))


@bp.post("/people/<int:person_id>/notify")
@auth.allow(*auth.STAFF)
def person_notify_channel(person_id: int):
    """How she is told, as she asked (by phone or in person): consent log and audit."""
    return act(lambda db: people_service.set_notify_channel(
        db, now(), _person(db, person_id), parse(NotifyChannelForm).channel.data,
        source="console", user=me(db)), url_for("console.person_page", person_id=person_id))


@bp.get("/people/<int:person_id>/merge")
@auth.allow(*auth.STAFF)
def person_merge_form(person_id: int):
    search = lenient(PeopleSearchForm)
    q, other_id = search.q.data, search.other.data
    with unit() as db:
        person = _person(db, person_id)
        other = db.get(Person, other_id) if other_id else None
        found = [p for p in queries.people.search(db, q) if p.id != person.id] if q else []
        return render_template(
            "console/merge.html", p=person, other=other, q=q, found=found,
            their_groups=queries.people.current_groups(db, found),
            moves=queries.people.record_counts(db, other) if other else None)


@bp.post("/people/<int:person_id>/merge")
@auth.allow(*auth.STAFF)
def person_merge(person_id: int):
    def change(db):
        form = parse(MergeForm)
        people_service.merge(db, now(), me(db), _person(db, person_id),
                             _person(db, form.other.data or 0), form.current_phone.data or None)
    return act(change, url_for("console.person_page", person_id=person_id),
               done=_("The two records are one now."))


@bp.get("/people/<int:person_id>/erase")
@auth.allow(*auth.STAFF)
def person_erase_form(person_id: int):
    with unit() as db:
        person = _person(db, person_id)
        return render_template(
            "console/erase.html", p=person, counts=queries.erasures.preview(db, person),
            erasure=queries.erasures.open_for_person(db, now(), person,
                                                    rt().settings.holiday_dates))


def _erase(db, person_id: int) -> None:
    """Erase now, and queue the SMS telling her it is done."""
    settings = rt().settings
    people_service.erase(db, now(), me(db), _person(db, person_id), settings.audio_dir,
                         outbox=outbox(db), backup_days=settings.backup_keep_days)


@bp.post("/people/<int:person_id>/erase")
@auth.allow(*auth.STAFF)
def person_erase(person_id: int):
    if not parse(ConfirmForm).confirm.data:
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("console.person_erase_form", person_id=person_id))
    try:
        with unit() as db:
            _erase(db, person_id)
        flash(_("The person's data was erased."), "ok")
    except PeopleError as exc:
        flash(_(str(exc)), "error")
    return redirect(url_for("console.person_page", person_id=person_id))

