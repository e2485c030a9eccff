"""``flask --app portal jobs list|retry|cancel|sweep``: the queue as operators see it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..audit.services import Actor
from ..extensions import db
from . import services as jobs
from .models import Job, JobStatus
from .sweep import sweep


@click.group("jobs")
def jobs_cli() -> None:
    """Background jobs: list them, retry or cancel one, sweep stalled ones."""


@jobs_cli.command("list")
@click.option(
    "--status",
    type=click.Choice([status.value for status in JobStatus] + ["stalled"]),
    help="Only jobs in this state (stalled: running, but the worker stopped answering).",
)
@click.option("--limit", default=50, show_default=True, help="Newest first, at most this many.")
@with_appcontext
def list_command(status: str | None, limit: int) -> None:
    """The newest jobs: id, state, progress, attempts, worker, title, error."""
    query = select(Job).order_by(Job.id.desc())
    if status and status != "stalled":
        query = query.where(Job.status == JobStatus(status))
    elif status == "stalled":
        query = query.where(Job.status == JobStatus.RUNNING)
    shown = 0
    for job in db.session.scalars(query):
        shown = jobs.payload(job)  # state and progress as the API and the Jobs page say
        if status == "stalled" and not shown["stalled"]:
            continue
        state = "stalled" if shown["stalled"] else job.status.value
        click.echo(
            f"{job.id:>6}  {state:<8} {shown['done']:>5}/{shown['total']:<5} "
            f"attempt {job.attempts}/{job.max_attempts}  {job.worker or '-':<24} {job.title}"
        )
        if job.error:
            click.echo(f"        {job.error}")
        shown += 1
        if shown >= limit:
            break
    if not shown:
        click.echo("No jobs.")


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"There is no job {job_id}.")
    return job


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def retry_command(job_id: int) -> None:
    """Queue a failed or stalled job again (its attempts start afresh)."""
    job = _job(job_id)
    if job.status is JobStatus.DONE:
        raise click.ClickException(f"Job {job_id} is done; nothing to retry.")
    if job.status is JobStatus.QUEUED:
        raise click.ClickException(f"Job {job_id} is already queued.")
    if job.status is JobStatus.RUNNING and not jobs.stalled(job):
        raise click.ClickException(
            f"Job {job_id} is running on {job.worker} and its worker answers; let it finish, "
            "or cancel it."
        )
    job.max_attempts = job.attempts + max(job.max_attempts, 1)
    db.session.commit()
    if not jobs.requeue(job, "retried from the command line", actor=Actor.cli()):
        raise click.ClickException(f"Job {job_id} changed meanwhile; look again.")
    click.echo(f"Job {job_id} is queued again.")


@jobs_cli.command("cancel")
@click.argument("job_id", type=int)
@with_appcontext
def cancel_command(job_id: int) -> None:
    """Cancel a queued or running job: it fails with "Cancelled", and a running attempt
    cannot commit anything more."""
    job = _job(job_id)
    if job.status in (JobStatus.DONE, JobStatus.FAILED):
        raise click.ClickException(f"Job {job_id} has already ended ({job.status.value}).")
    if not jobs.fail(job_id, "Cancelled from the command line.", actor=Actor.cli()):
        raise click.ClickException(f"Job {job_id} changed meanwhile; look again.")
    click.echo(f"Job {job_id} is cancelled.")


@jobs_cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """What the worker does every minute: retry or fail stalled jobs, deliver queued ones."""
    click.echo(f"{sweep()}.")
