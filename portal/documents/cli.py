"""``flask --app portal templates check`` (lint the templates) and ``documents generate``."""

from __future__ import annotations

import sys
import threading

import click
from flask.cli import AppGroup

from ..business_time import today as business_today
from .bulk import BUCKETS
from .lint import check_all
from .models import DocumentKind
from .registry import templates_root

templates_cli = AppGroup("templates", help="The document templates in doc_templates/.")


@templates_cli.command("check")
def check_command() -> None:
    """Check syntax, variables against the manifests and split tags; exit 1 on any problem."""
    root = templates_root()
    count, problems = check_all(root)
    for problem in problems:
        click.echo(str(problem))
    if count == 0:
        click.echo(f"No templates found under {root}.")
    click.echo(f"templates check: {count} templates, {len(problems)} problems")
    if problems or count == 0:
        sys.exit(1)


documents_cli = AppGroup("documents", help="Generate documents from the command line.")


@documents_cli.command("generate")
@click.argument("kind", type=click.Choice([kind.value for kind in DocumentKind]))
@click.option("--user", "email", required=True, help="Legal user (or admin) the job runs as.")
@click.option("--case", "case_ids", type=int, multiple=True, help="Case id (repeatable).")
@click.option("--bucket", type=click.Choice(list(BUCKETS)), help="Every open case of the bucket.")
@click.option("--final", is_flag=True, help="Final documents (cases with missing fields fail).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Document date (default today).")
@click.option("--queue", is_flag=True, help="Hand the job to the worker instead of running here.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the result zip here.")
def generate_command(kind, email, case_ids, bucket, final, as_of, queue, out) -> None:
    """Generate KIND for the cases given (or a bucket), with progress; the zip on request."""
    from ..accounts.services import user_by_email
    from ..audit.services import Actor
    from ..domain import DomainError
    from ..extensions import db
    from ..jobs import services as jobs
    from ..jobs.models import Job, JobStatus
    from ..security import Permission, has_permission
    from ..storage import file_store
    from .bulk import bulk_generate, cases_in_bucket, create_bulk_job, editable_cases

    user = user_by_email(email)
    if user is None or not user.active or not has_permission(user, Permission.GENERATE_DOCUMENTS):
        raise click.ClickException(f"{email} is not an active user who may generate documents.")
    on = as_of.date() if as_of else business_today()
    try:
        if bucket:
            cases = cases_in_bucket(user, bucket, on)
        else:
            cases = editable_cases(user, list(case_ids))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    if not cases:
        raise click.ClickException("No open case of this user is in that bucket.")
    job = create_bulk_job(
        Actor(user=user, label=f"cli as {user.email}"),
        DocumentKind(kind),
        cases,
        final=final,
        on=on,
    )
    click.echo(f"Job {job.id}: {job.title}")
    if queue:
        jobs.enqueue(job)
        click.echo(f"Queued; follow it at /jobs/{job.id} or GET /api/v1/jobs/{job.id}.")
        return
    job_id, total = job.id, job.total
    worker = threading.Thread(target=bulk_generate.call_local, args=(job_id,), daemon=True)
    worker.start()
    shown = 0
    with click.progressbar(length=total, label="Generating") as bar:
        while worker.is_alive():
            worker.join(0.5)
            db.session.expire_all()
            done, _total = jobs.progress_of(db.session.get(Job, job_id))
            bar.update(max(done - shown, 0))
            shown = max(shown, done)
        bar.update(total - shown)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    if job.status is not JobStatus.DONE:
        raise click.ClickException(f"Job {job_id} failed: {job.error}")
    for error in job.result["errors"]:
        click.echo(f"  case {error.get('reference') or error['case']}: {error['message']}")
    click.echo(f"{job.result['generated']} generated, {job.result['failed']} failed.")
    if out:
        with open(out, "wb") as handle:
            handle.write(file_store().read(job.output_sha256))
        click.echo(f"Wrote {out}")
    if job.result["failed"]:
        sys.exit(1)
