"""Nothing lost: stalled jobs are retried or failed, undelivered ones delivered again.

Run by the worker every minute (and by ``flask --app portal jobs sweep``). A running job whose
lease has not beaten for ``LEASE_SECONDS`` lost its worker (killed, out of memory, the machine
gone): it is queued again while attempts remain, else failed with a sentence. A queued job the
queue does not hold (it was committed while the queue was down, or the queue lost it) is handed
to the queue again. A worker stopped with SIGTERM hands its running jobs back at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from huey import crontab
from huey.constants import EmptyData
from huey.signals import SIGNAL_INTERRUPTED
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..db import utcnow, write_intent
from ..extensions import db
from . import RUNNERS, _state, huey, isolation, periodic
from . import services as jobs
from .lease import worker_name
from .models import Job, JobStatus

log = logging.getLogger(__name__)

#: Seconds a stopping worker keeps trying to hand its interrupted jobs back.
HAND_BACK_SECONDS = 30
#: A queued job not picked up within this long is checked against the queue.
REDELIVER_AFTER = dt.timedelta(seconds=60)


#: Other queued work to re-deliver (evidence renditions …): each takes the sweep's time and
#: returns a line for the report, registered by the package that owns the work.
SWEEPERS: list[Callable[[dt.datetime], str]] = []


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(
            [
                f"{len(self.requeued)} stalled job(s) queued again, {len(self.failed)} failed, "
                f"{len(self.delivered)} undelivered job(s) handed to the queue",
                *self.others,
            ]
        )


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """Retry or fail stalled jobs; hand undelivered queued jobs to the queue."""
    now = now or utcnow()
    report = SweepReport()
    running = db.session.scalars(select(Job).where(Job.status == JobStatus.RUNNING)).all()
    for job in running:
        if not jobs.stalled(job, now):
            continue
        worker = job.worker or "its worker"
        if job.attempts < job.max_attempts:
            reason = f"{worker} stopped answering during attempt {job.attempts}"
            if jobs.requeue(job, reason):
                report.requeued.append(job.id)
        else:
            message = (
                f"The worker running this job stopped during each of its {job.attempts} "
                "attempts, so it was given up; nothing of the last attempt was kept. Start it "
                "again once the worker is healthy, or ask an administrator to check its log."
            )
            if jobs.fail(job.id, message, token=job.lease_token):
                report.failed.append(job.id)
    waiting = db.session.scalars(
        select(Job).where(
            Job.status == JobStatus.QUEUED,
            (Job.enqueued_at.is_(None)) | (Job.enqueued_at < now - REDELIVER_AFTER),
            Job.created_at < now - dt.timedelta(seconds=5),
        )
    ).all()
    if waiting:
        held = held_by_queue(list(RUNNERS.values()))
        for job in waiting:
            if held is not None and job.id not in held and jobs.enqueue(job):
                report.delivered.append(job.id)
    report.others = [sweeper(now) for sweeper in SWEEPERS]
    if report.requeued or report.failed or report.delivered:
        log.info("Job sweep: %s", report)
    return report


def held_by_queue(runners: list[Any]) -> set[int] | None:
    """The first arguments (ids) of the given tasks' calls the queue holds, pending or
    scheduled; None if the queue does not answer."""
    try:
        tasks = list(huey.pending()) + list(huey.scheduled())
    except Exception:
        log.warning("The queue did not answer the sweep", exc_info=True)
        return None
    names = task_names(runners)
    return {
        int(task.args[0])
        for task in tasks
        if type(task).__name__ in names and task.args and isinstance(task.args[0], int)
    }


def task_names(runners: Iterable[Any]) -> set[str]:
    """The queue's names of the given tasks (what ``type(task).__name__`` is in the queue)."""
    return {runner.task_class.__name__ for runner in runners}


#: Where workers note that they are alive (the queue's store), and how old a note may be.
WORKER_BEAT = "portal-worker-beat"
WORKER_SILENT_AFTER = 150


def note_worker_alive() -> None:
    """A worker's sign of life for ``/api/v1/health`` (at start and every minute)."""
    beat = {"worker": worker_name(), "at": time.time()}
    try:
        huey.storage.put_data(WORKER_BEAT, json.dumps(beat).encode())
    except Exception:
        log.warning("Worker sign of life not written", exc_info=True)


def worker_health() -> tuple[str, float | None]:
    """``("ok", age)`` when a worker noted it was alive lately, else a reason and the age."""
    if huey.immediate:
        return "ok", None  # jobs run inline in this process (tests)
    try:
        raw = huey.storage.peek_data(WORKER_BEAT)
    except Exception as error:
        return f"error: {type(error).__name__}", None
    if raw is None or raw is EmptyData:
        return "no worker has been seen", None
    age = max(0.0, time.time() - float(json.loads(raw)["at"]))
    if age > WORKER_SILENT_AFTER:
        return f"no worker seen for {int(age)} s", age
    return "ok", age


@periodic(crontab(minute="*"))
def sweep_jobs() -> None:
    """Every minute, in the worker."""
    note_worker_alive()
    sweep()


@huey.signal(SIGNAL_INTERRUPTED)
def _hand_back(signal: str, task: object) -> None:
    """A worker stopping (SIGTERM after the grace period) hands its running job back to the
    queue: the interrupted attempt does not count against the job's limit."""
    args = getattr(task, "args", ())
    if type(task).__name__ not in task_names(RUNNERS.values()) or not args:
        return
    jobs.stopping.set()  # a job that commits in steps stops at its next one and hands itself back
    isolation.stop_children()  # so does one running in a child process
    write_intent.set(True)
    # The interrupted attempt may still hold the database (SQLite: its batch's write lock);
    # once it commits or the process ends, the job is handed back. If this does not get
    # through, the lease runs out and the sweeper hands it on instead.
    deadline = time.monotonic() + HAND_BACK_SECONDS
    while True:
        with _state["app"].app_context():
            try:
                job = db.session.get(Job, int(args[0]))
                if job is not None and job.status is JobStatus.RUNNING:
                    jobs.requeue(job, "its worker was stopped (SIGTERM)", count=False)
                return
            except OperationalError:
                db.session.rollback()
                if time.monotonic() > deadline:
                    log.warning("Job %s not handed back; the sweeper will", args[0])
                    return
        time.sleep(0.5)
