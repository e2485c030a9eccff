"""Job records: create one for a queued task, report progress, finish or fail it."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from flask import abort, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..accounts.models import User
from ..audit.services import Actor, record
from ..db import utcnow, write_intent
from ..domain import DomainError
from ..extensions import db
from ..security import Role
from ..storage import register_references
from . import RUNNERS, huey
from .lease import Beat, Lease, read, release, worker_name
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
        max_attempts=int(current_app.config["JOBS_MAX_ATTEMPTS"]),
    )
    db.session.add(job)
    db.session.flush()
    record(actor, "job.create", "job", job.id, after={"kind": kind, "title": job.title})
    return job


log = logging.getLogger(__name__)

#: The leases of the jobs this process is running, by job id.
_leases: dict[int, Lease] = {}


#: Set when this worker is stopping: jobs stop at their next checkpoint and are handed back.
stopping = threading.Event()


class LeaseLost(Exception):
    """Another worker took the job over (this one was thought dead): its work is not kept."""


class Interrupted(Exception):
    """The worker is stopping: the job stops after its last committed checkpoint."""


def enqueue(job: Job) -> bool:
    """Hand a committed job to the queue; False when the queue does not answer (the job stays
    queued and the sweeper delivers it once the queue is back)."""
    job_id, runner = job.id, RUNNERS.get(job.kind)
    if runner is None:
        raise ValueError(f"no task runs jobs of kind {job.kind!r}")
    # Nothing of this session may hold the database while the job starts (run inline, the
    # job would wait for the caller's own write lock on SQLite).
    db.session.commit()
    try:
        runner(job_id)
    except Exception:  # the queue's store is down: the sweeper re-delivers
        log.warning("Job %s could not be queued now", job_id, exc_info=True)
        return False
    db.session.execute(update(Job).where(Job.id == job_id).values(enqueued_at=utcnow()))
    db.session.commit()
    return True


def run(job_id: int, body: Callable[[Job], str], what: str) -> str:
    """Claim a queued job and run its ``body`` under a lease; any failure is recorded on the
    job as a sentence and nothing half-done is kept (the session is rolled back). Returns the
    body's outcome, ``failed``, ``lost`` (another worker took over) or ``skipped`` (not queued:
    a second delivery, or cancelled)."""
    # The job writes: its SQLite transactions begin IMMEDIATE (until it returns).
    intent = write_intent.set(True)
    try:
        return _run_claimed(job_id, body, what)
    finally:
        write_intent.reset(intent)


def _run_claimed(job_id: int, body: Callable[[Job], str], what: str) -> str:
    token = _claim(job_id)
    if token is None:
        return "skipped"
    job = db.session.get(Job, job_id)
    assert job is not None  # noqa: S101 - just claimed
    lease = Lease(
        huey.storage,
        job.id,
        token,
        job.done,
        job.total,
        heartbeat=float(current_app.config["JOBS_HEARTBEAT_SECONDS"]),
    )
    _leases[job.id] = lease.start(thread=not huey.immediate)
    try:
        return body(job)
    except Interrupted:
        db.session.rollback()
        requeue(db.session.get(Job, job_id), "its worker was stopped (SIGTERM)", count=False)
        return "interrupted"
    except LeaseLost:
        db.session.rollback()
        log.warning("%s job %s: the lease was lost; its work was not kept", what, job_id)
        return "lost"
    except Exception as error:  # a job must end in a state people can read, whatever happened
        log.exception("%s job %s failed", what, job_id)
        fail(job_id, describe(error), token=token)
        return "failed"
    finally:
        _leases.pop(job_id, None)
        lease.stop()


def _claim(job_id: int) -> str | None:
    """Mark the job running for this worker (only if it is queued), committed; its token."""
    token = secrets.token_hex(16)
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            lease_token=token,
            worker=worker_name(),
            started_at=utcnow(),
        )
    )
    db.session.commit()
    return token if claimed.rowcount == 1 else None


def describe(error: BaseException) -> str:
    """The sentence a job's failure shows: a domain error's own message; otherwise what kind
    of thing failed, never the raw database text (that stays in the worker's log)."""
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, OperationalError | InterfaceError):
        return (
            "The database did not answer while the job ran, so nothing it did was kept. "
            "Start it again once the database is back."
        )
    if isinstance(error, DBAPIError):
        return (
            "The database refused a change the job made, so nothing it did was kept. "
            "An administrator finds the details in the worker's log."
        )
    if isinstance(error, OSError):
        return (
            f"A file could not be read or written ({error.strerror or type(error).__name__}), "
            "so nothing the job did was kept."
        )
    return (
        f"The job stopped on an unexpected error ({type(error).__name__}); nothing it did was "
        "kept. An administrator finds the details in the worker's log."
    )


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Record units done: kept with the lease and written with its next heartbeat, never by
    committing the job's session (which holds the job's uncommitted work)."""
    lease = _leases.get(job.id)
    if lease is not None:
        lease.progress(done, total)


def checkpoint(job: Job, state: dict[str, Any]) -> None:
    """Commit the job's work so far with ``state`` (what a retry resumes from) — only while
    this worker still holds the lease.

    :raises LeaseLost: another worker has taken the job over.
    :raises Interrupted: committed, but the worker is stopping (the job is handed back).
    """
    _fence(job, checkpoint=state)
    db.session.commit()
    if stopping.is_set():
        raise Interrupted(f"job {job.id}")


def _fence(job: Job, **values: Any) -> None:
    """Write ``values`` (and the progress) to the job row in the job's transaction, provided
    the lease is still this worker's; the transaction commits only then."""
    lease = _leases.get(job.id)
    if lease is None:
        raise LeaseLost(f"job {job.id} is not running here")
    written = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease_token == lease.token)
        .values(done=lease.done, total=lease.total, **values)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:
        raise LeaseLost(f"job {job.id} was taken over")


def finish(
    job: Job,
    result: dict[str, Any],
    *,
    output: tuple[str, str] | None = None,
) -> None:
    """Done, with its result and optionally a produced file ``(sha256, name)``, committed
    together with the job's work; audited.

    :raises LeaseLost: another worker has taken the job over (nothing is kept).
    """
    lease = _leases.get(job.id)
    if lease is not None:
        lease.progress(lease.total)
    sha256, name = output or (None, None)
    _fence(
        job,
        status=JobStatus.DONE,
        result=result,
        finished_at=utcnow(),
        lease_token=None,
        output_sha256=sha256,
        output_name=name,
    )
    record(Actor.system(), "job.done", "job", job.id, after={"result": result})
    db.session.commit()
    db.session.refresh(job)


def fail(job_id: int, error: str, *, token: str | None = None, actor: Actor | None = None) -> bool:
    """Failed: the session is rolled back first, so nothing half-done is kept; audited. With
    ``token`` only while that lease holds (a worker that lost its job does not fail it)."""
    db.session.rollback()
    condition = [Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])]
    if token is not None:
        condition.append(Job.lease_token == token)
    written = db.session.execute(
        update(Job)
        .where(*condition)
        .values(status=JobStatus.FAILED, error=error[:4000], finished_at=utcnow(), lease_token=None)
    )
    if written.rowcount != 1:
        db.session.rollback()
        return False
    record(actor or Actor.system(), "job.failed", "job", job_id, after={"error": error[:4000]})
    db.session.commit()
    return True


def requeue(job: Job, reason: str, *, actor: Actor | None = None, count: bool = True) -> bool:
    """Put a running (stalled or interrupted) or failed job back in the queue; audited. With
    ``count=False`` the interrupted attempt does not count against its limit."""
    attempts = job.attempts if count else max(job.attempts - 1, 0)
    written = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == job.status, Job.lease_token == job.lease_token)
        .values(
            status=JobStatus.QUEUED,
            lease_token=None,
            worker=None,
            error=None,
            finished_at=None,
            enqueued_at=None,
            attempts=attempts,
        )
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:
        db.session.rollback()
        return False
    record(actor or Actor.system(), "job.requeued", "job", job.id, after={"reason": reason})
    db.session.commit()
    db.session.refresh(job)
    release(huey.storage, job.id)
    enqueue(job)
    return True


def can_view_job(user: User, job: Job) -> bool:
    """Its owner and admins."""
    return job.created_by_id == user.id or user.role is Role.ADMIN


def recent_jobs(user: User, limit: int = 100) -> list[Job]:
    """The user's newest jobs (everyone's for admins)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if user.role is not Role.ADMIN:
        query = query.where(Job.created_by_id == user.id)
    return list(db.session.scalars(query))


def get_job_or_404(user: User, job_id: int) -> Job:
    """A job the user may follow, else 404."""
    job = db.session.get(Job, job_id)
    if job is None or not can_view_job(user, job):
        abort(404)
    return job


def current_beat(job: Job) -> Beat | None:
    """The running attempt's latest heartbeat (a beat of an earlier attempt does not count)."""
    if job.status is not JobStatus.RUNNING:
        return None
    beat = read(huey.storage, job.id)
    return beat if beat is not None and beat.token == job.lease_token else None


def stalled(job: Job, now: dt.datetime | None = None) -> bool:
    """A running job whose worker has stopped beating (or never began to)."""
    return _stalled(job, current_beat(job), now)


def _stalled(job: Job, beat: Beat | None, now: dt.datetime | None = None) -> bool:
    if job.status is not JobStatus.RUNNING:
        return False
    lease_seconds = float(current_app.config["JOBS_LEASE_SECONDS"])
    if beat is not None:
        return beat.age > lease_seconds
    started = job.started_at or job.created_at
    return (now or utcnow()) - started > dt.timedelta(seconds=lease_seconds)


def progress_of(job: Job) -> tuple[int, int]:
    """Units done and total: from the running attempt's lease (its latest heartbeat), else
    from the row."""
    return _progress(job, current_beat(job))


def _progress(job: Job, beat: Beat | None) -> tuple[int, int]:
    return (beat.done, beat.total) if beat is not None else (job.done, job.total)


def payload(job: Job) -> dict[str, Any]:
    """What ``GET /api/v1/jobs/<id>`` answers."""
    beat = current_beat(job)  # one read of the queue's store for both figures
    done, total = _progress(job, beat)
    body: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "status": job.status.value,
        "progress": job.progress(done, total),
        "done": done,
        "total": total,
        "attempts": job.attempts,
        "stalled": _stalled(job, beat),
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
