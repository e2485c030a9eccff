"""A job kind for the tests of heavy jobs in a child process: it says which process ran it, and
with ``wait`` it commits a first step and then waits to be killed."""

from __future__ import annotations

import os
import time

from portal.jobs import job_task
from portal.jobs import services as jobs
from portal.jobs.models import Job


@job_task("tests.pid")
def pid_job(job_id: int) -> str:
    """The job body, under its lease like every job kind."""
    return jobs.run(job_id, _body, "pid test")


def _body(job: Job) -> str:
    if job.params.get("wait"):
        # The test sees which process to kill, in which attempt.
        jobs.checkpoint(job, {"pid": os.getpid(), "attempt": job.attempts})
        time.sleep(120)  # the test kills this process long before
    jobs.finish(job, {"pid": os.getpid()})
    return "done"
