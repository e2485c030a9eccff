"""Job records: create one for a queued task, report progress, finish or fail it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import abort
from sqlalchemy import select

from ..accounts.models import User
from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from ..security import Role
from ..storage import register_references
from .models import Job, JobStatus


def create_job(actor: Actor, kind: str, title: str, params: dict[str, Any], total: int) -> Job:
    """A queued job owned by the actor's user (the caller commits before enqueueing)."""
    if actor.user is None:
        raise ValueError("a job needs a user to own it")
    job = Job(
        kind=kind,
        title=title[:300],
        status=JobStatus.QUEUED,
        done=0,
        total=total,
        params=params,
        created_by_id=actor.user.id,
    )
    db.session.add(job)
    db.session.flush()
    record(actor, "job.create", "job", job.id, after={"kind": kind, "title": job.title})
    return job


log = logging.getLogger(__name__)


def run(job_id: int, body: Callable[[Job], str], what: str) -> str:
    """Run a queued job's ``body``; any failure is recorded on the job and nothing half-done is
    kept (the session is rolled back). Returns the body's outcome, ``failed`` or ``gone``."""
    job = db.session.get(Job, job_id)
    if job is None:
        return "gone"
    try:
        return body(job)
    except Exception as error:  # a job must end in a state people can read, whatever happened
        log.exception("%s job %s failed", what, job_id)
        message = (
            error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        )
        fail(job_id, message)
        return "failed"


def start(job: Job) -> None:
    """Mark running and commit, so pollers see it at once."""
    job.status = JobStatus.RUNNING
    job.started_at = utcnow()
    db.session.commit()


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Record units done and commit (the work committed so far goes with it)."""
    job.done = done
    if total is not None:
        job.total = total
    db.session.commit()


def finish(
    job: Job,
    result: dict[str, Any],
    *,
    output: tuple[str, str] | None = None,
) -> None:
    """Done, with its result and optionally a produced file ``(sha256, name)``; audited."""
    job.status = JobStatus.DONE
    job.result = result
    job.done = job.total
    job.finished_at = utcnow()
    if output:
        job.output_sha256, job.output_name = output
    record(Actor.system(), "job.done", "job", job.id, after={"result": result})
    db.session.commit()


def fail(job_id: int, error: str) -> None:
    """Failed: the session is rolled back first, so nothing half-done is kept; audited."""
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None:
        return
    job.status = JobStatus.FAILED
    job.error = error[:4000]
    job.finished_at = utcnow()
    record(Actor.system(), "job.failed", "job", job.id, after={"error": job.error})
    db.session.commit()


def can_view_job(user: User, job: Job) -> bool:
    """Its owner and admins."""
    return job.created_by_id == user.id or user.role is Role.ADMIN


def get_job_or_404(user: User, job_id: int) -> Job:
    """A job the user may follow, else 404."""
    job = db.session.get(Job, job_id)
    if job is None or not can_view_job(user, job):
        abort(404)
    return job


def recent_jobs(user: User, limit: int = 20) -> list[Job]:
    """The user's latest jobs (all jobs for admins)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if user.role is not Role.ADMIN:
        query = query.where(Job.created_by_id == user.id)
    return list(db.session.scalars(query))


def payload(job: Job) -> dict[str, Any]:
    """What ``GET /api/v1/jobs/<id>`` answers."""
    body: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "status": job.status.value,
        "progress": job.progress,
        "done": job.done,
        "total": job.total,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.result is not None:
        body["result"] = job.result
    if job.error:
        body["error"] = job.error
    return body


def _stored_hashes():
    yield from db.session.scalars(select(Job.output_sha256).where(Job.output_sha256.isnot(None)))


register_references(_stored_hashes)
