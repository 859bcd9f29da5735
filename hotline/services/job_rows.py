"""One bad row never stops a scheduler job.

A job acts on each due row in a transaction of its own (``each_row``); a row whose action
raises is rolled back, recorded as a ``JobFailure`` with its reason (shown to staff on the
dashboard: ``hotline.queries.dashboard.job_failures``), skipped by that job from then on,
and the job goes on with the next row. A database that is down is not a bad row: that
still stops the run, to be retried whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from hotline.models import JobFailure, StaffUser
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError

log = logging.getLogger(__name__)
# Errors of the connection, not of a row: the whole run stops and is retried later.
NOT_A_ROW = (OperationalError, InterfaceError)


@dataclass
class JobReport:
    """What one run of a job that claims due rows and hands each to a gateway did, counted:
    rows put off until later (``deferred``), the gateway's refusals (``failed``) and rows a
    crashed run left claimed, taken back (``recovered``). Each job's report adds its own
    counts; the reports of several runs add up (``total += report``)."""

    deferred: int = 0
    failed: int = 0
    recovered: int = 0

    def __iadd__(self, other: JobReport) -> JobReport:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)
        return self


def quarantined(session: Session, job: str, object_type: str) -> set[str]:
    """Ids of the rows ``job`` gave up on."""
    return set(session.scalars(select(JobFailure.object_id).where(
        JobFailure.job == job, JobFailure.object_type == object_type)))


def record_failure(sessions: sessionmaker[Session], now: datetime, job: str,
                   object_type: str, object_id: Any, exc: BaseException) -> None:
    """Note (in a transaction of its own) that ``job`` could not act on a row, and why."""
    reason = f"{type(exc).__name__}: {exc}"[:1000]
    log.error("%s: %s %s failed, skipped from now on: %s", job, object_type, object_id, reason)
    with session_scope(sessions) as session:
        row = session.scalar(select(JobFailure).where(
            JobFailure.job == job, JobFailure.object_type == object_type,
            JobFailure.object_id == str(object_id)))
        if row is None:
            session.add(JobFailure(job=job, object_type=object_type, object_id=str(object_id),
                                   reason=reason, first_at=now, last_at=now, count=1))
        else:
            row.reason, row.last_at, row.count = reason, now, row.count + 1


def each_row(sessions: sessionmaker[Session], now: datetime, job: str, object_type: str,
             find: Callable[[Session, set[int]], Iterable[Any]],
             act: Callable[[Session, Any], Any], load: Sequence[Any] = ()) -> int:
    """``act(session, row)`` for every row ``find(session, skip)`` returns that ``job`` has
    not given up on, each in its own transaction; returns how many succeeded.

    ``skip`` holds the ids given up on: a ``find`` that returns a limited batch leaves them
    out of its query, or a batch made only of them would stall the job for good. Each row
    is read again in its transaction, with the loader options ``load`` (the people ``act``
    reads of it, in the same statement rather than one more each)."""
    with session_scope(sessions) as session:
        skip = quarantined(session, job, object_type)
        ids = {int(i) for i in skip if i.isdigit()}
        due = [(type(row), row.id) for row in find(session, ids) if str(row.id) not in skip]
    done = 0
    for model, row_id in due:
        try:
            with session_scope(sessions) as session:
                _commit_without_waiting(session)
                row = session.get(model, row_id, options=load)
                if row is not None:
                    act(session, row)
                    done += 1
        except NOT_A_ROW:
            raise
        except Exception as exc:
            record_failure(sessions, now, job, object_type, row_id, exc)
    return done


def _commit_without_waiting(session: Session) -> None:
    """PostgreSQL: this row's commit does not wait for its WAL to reach the disk.

    A job row's transaction only changes the database (a case escalated, a reminder
    queued); what goes out because of it is sent by the drain or the callback job, whose
    own commits (synchronous, as every other) flush the WAL written before them. So a crash
    can lose at most the last few hundred milliseconds of job rows that nothing has acted
    on yet, which the job finds due again and redoes (every job is safe to run twice). A
    wait for the disk per row was most of a tick on PostgreSQL: 100 escalations waited
    for 100 flushes. SQLite (WAL, synchronous=NORMAL) does not wait at commit anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NO_WAIT)


_NO_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def retry(session: Session, now: datetime, user: StaffUser, failure_id: int) -> None:
    """Let the job try the row again (after its cause was fixed); audited."""
    if not session.execute(delete(JobFailure).where(JobFailure.id == failure_id)).rowcount:
        raise ServiceError(N_("This is not possible now."))
    audit(session, now, user, "job_row_retry", "job_failure", failure_id)
