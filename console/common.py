"""Small helpers shared by the console views: the runtime, a unit of work, who acts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from console.forms import PageForm, lenient
from hotline import clock
from hotline.db import session_scope
from hotline.models import Person, StaffUser
from hotline.services.cases import Actor, CaseError
from hotline.services.errors import ServiceError
from hotline.services.outbox import Outbox
from web import runtime as rt

PAGE_SIZE = 50


def now() -> datetime:
    return clock.utcnow()


@contextmanager
def unit() -> Iterator[Session]:
    """One unit of work for a request: commit on success, roll back on error."""
    with session_scope(rt().sessions) as session:
        yield session


def me(session: Session) -> StaffUser:
    """The signed-in user as a row of ``session``."""
    user = session.get(StaffUser, current_user.id)
    if user is None:
        abort(403)
    return user


def actor(session: Session) -> Actor:
    """The signed-in user as a case actor (with the person she is, if any)."""
    user = me(session)
    person = session.get(Person, user.person_id) if user.person_id else None
    return Actor(person=person, user=user)


def get_or_404(session: Session, model, key: int):
    """The ``model`` row with primary key ``key``; 404 when there is none."""
    row = session.get(model, key)
    if row is None:
        abort(404)
    return row


def outbox(session: Session) -> Outbox:
    return Outbox.for_settings(session, rt().settings)


def page_number() -> int:
    """The ``page`` of a list (1 when not given or not a page number)."""
    return lenient(PageForm).page.data or 1


def act(change, back: str, done: str | None = None):
    """Run ``change(db)`` in one unit of work, flash how it went, and go ``back``.

    A ``ServiceError`` (a form's refusal too) is the user's mistake, shown to them; a
    ``CaseError`` is an action the case does not allow now. Nothing is saved then.
    """
    try:
        with unit() as db:
            change(db)
        flash(done or _("Saved."), "ok")
    except ServiceError as exc:
        flash(_(str(exc)), "error")
    except CaseError:
        flash(_("This is not possible for this case now."), "error")
    return redirect(back)
