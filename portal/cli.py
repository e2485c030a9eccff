"""``flask --app portal …`` commands: users, tokens, audit, worker, demo data."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .audit.services import Actor, verify_chain
from .domain import DomainError
from .extensions import db
from .security import Role

users_cli = AppGroup("users", help="Create users and API tokens.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
rates_cli = AppGroup("rates", help="The reference-rate table used for statutory interest.")
storage_cli = AppGroup("storage", help="The content-addressed file store.")


def _read_password() -> str:
    """Prompt twice on a terminal; read one line from stdin otherwise."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("No password given on standard input.")
    return line.rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--name", help="Full name (defaults to the part of the e-mail before @).")
@click.option("--password", help="Without it, the password is prompted for (or read from stdin).")
@click.option("--firm", help="Law firm (lawyers).")
@click.option("--licence", "licence", help="Practising licence number (lawyers).")
@click.option("--firm-address", help="The firm's postal address for its letterhead (lawyers).")
@click.option("--phone", help="Telephone for the signature block (lawyers).")
@click.option("--attorney-code", help="Court attorney code, e.g. Cook County (lawyers).")
def create_user_command(
    email, role, name, password, firm, licence, firm_address, phone, attorney_code
) -> None:
    """Create a user with a role; a duplicate e-mail fails."""
    from .accounts.services import create_user

    if password is None:
        password = _read_password()
    try:
        user = create_user(
            Actor.cli(),
            email=email,
            role=role,
            name=name,
            password=password,
            firm=firm,
            licence_number=licence,
            firm_address=firm_address,
            phone=phone,
            attorney_code=attorney_code,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="CLI token", show_default=True, help="A label for the token.")
def token_command(email, name) -> None:
    """Create an API token for EMAIL and print it alone on the last line (shown once)."""
    from .accounts.services import create_token, user_by_email

    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    try:
        _token, plain = create_token(Actor.cli(), user, name)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"API token for {user.email} (store it now; it is not shown again):")
    click.echo(plain)


@users_cli.command("list")
def list_users_command() -> None:
    """List users with role and state."""
    from .accounts.models import User

    for user in db.session.scalars(select(User).order_by(User.role, User.email)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.id:>5}  {user.role.value:<8} {state:<8} {user.email}  {user.name}")


@users_cli.command("disable")
@click.argument("email")
def disable_user_command(email) -> None:
    """Disable a user: sessions end and API tokens stop working."""
    from .accounts.services import set_active, user_by_email

    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    set_active(Actor.cli(), user, False)
    db.session.commit()
    click.echo(f"Disabled {user.email}.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the hash chain and compare its head with the latest checkpoint; exit 1 on a break."""
    from .audit.checkpoint import check_head, checkpoint_path

    count, broken = verify_chain()
    if broken is not None:
        click.echo(
            f"BROKEN at audit entry {broken.entry_id}: {broken.reason} (checked {count} entries).",
            err=True,
        )
        sys.exit(1)
    truncated = check_head()
    if truncated is not None:
        click.echo(f"BROKEN: {truncated}.", err=True)
        sys.exit(1)
    click.echo(
        f"Audit trail intact: {count} entries, hash chain verified, head matches the latest "
        f"checkpoint in {checkpoint_path()} (where one exists)."
    )


@audit_cli.command("checkpoint")
def checkpoint_command() -> None:
    """Write a checkpoint of the chain's head now (the worker also does so daily)."""
    from .audit.checkpoint import checkpoint_path, write_checkpoint

    written = write_checkpoint("cli")
    click.echo(
        f"Checkpoint: entry {written['entry_id']} of {written['entries']} in {checkpoint_path()}."
    )


@rates_cli.command("load")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
def rates_load_command(file) -> None:
    """Load a rates CSV (kind,valid_from,rate,source); the shipped table without FILE."""
    from .ledger.rates import load_file

    try:
        read, changed = load_file(Actor.cli(), file)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Rates: {read} rows read, {changed} added or changed.")


@rates_cli.command("list")
@click.option("--kind", help="Only this kind.")
def rates_list_command(kind) -> None:
    """Print the table, newest first per kind."""
    from .ledger.models import InterestRate

    query = select(InterestRate).order_by(InterestRate.kind, InterestRate.valid_from.desc())
    if kind:
        query = query.where(InterestRate.kind == kind)
    for row in db.session.scalars(query):
        click.echo(f"{row.kind:<16} {row.valid_from}  {row.rate:>10}%  {row.source}")


@rates_cli.command("set")
@click.argument("kind")
@click.argument("valid_from", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("rate")
@click.option("--source", required=True, help="Where the figure is published.")
def rates_set_command(kind, valid_from, rate, source) -> None:
    """Add or correct one row, e.g. ``rates set boe_base 2026-02-05 3.75 --source "BoE"``."""
    from decimal import Decimal, InvalidOperation

    from .ledger.rates import make_row, set_rate

    try:
        row = make_row(kind, valid_from.date(), Decimal(rate), source)
    except (DomainError, InvalidOperation) as error:
        raise click.ClickException(getattr(error, "message", f"{rate!r} is not a rate")) from error
    _rate, changed = set_rate(Actor.cli(), row)
    db.session.commit()
    click.echo(
        f"{kind} from {row.valid_from}: {row.rate}% ({'saved' if changed else 'unchanged'})."
    )


@rates_cli.command("confirm")
@click.argument("kind")
@click.argument("through", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--source", required=True, help="The publication you checked.")
def rates_confirm_command(kind, through, source) -> None:
    """Confirm KIND holds every rate in force up to THROUGH (after checking its publication)."""
    from .ledger.rates import confirm

    try:
        confirm(Actor.cli(), kind, through.date(), source)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{kind} confirmed through {through.date()}.")


@click.command("demo-tsa")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--url", "url_only", is_flag=True, help="Print the URL (exit 1 without a demo TSA).")
@with_appcontext
def demo_tsa_command(host: str, port: int, url_only: bool) -> None:
    """Serve the demo's RFC 3161 time-stamping authority (made by seed-demo; DEMO only)."""
    from werkzeug.serving import run_simple

    from .seed import demo_ca_path, demo_tsa_path
    from .signing.demo_pki import DemoRevocation
    from .signing.tsa import authority

    path = demo_tsa_path()
    url = f"http://{host}:{port}/tsa"
    if not path.exists():
        raise click.ClickException(
            f"No demo time-stamping authority in {path}: it is made with the demo CA by "
            "seed-demo on a new instance. Signatures stay PAdES B-B."
        )
    if url_only:
        click.echo(url)
        return
    cert_pem, key_pem = _pem_pair(path.read_bytes())
    revocation = None
    if demo_ca_path().exists():
        revocation = DemoRevocation(*_pem_pair(demo_ca_path().read_bytes()))
    click.echo(
        f"Demo time-stamping authority (DEMO CA) on {url}, its CRL on http://{host}:{port}/crl "
        f"and OCSP responder on http://{host}:{port}/ocsp"
    )
    app = authority(cert_pem, key_pem, revocation)
    run_simple(host, port, app, use_reloader=False, threaded=True)


def _pem_pair(data: bytes) -> tuple[bytes, bytes]:
    """A certificate and the private key after it, as written by ``seed.write_secret``."""
    marker = b"-----BEGIN PRIVATE KEY-----"
    return data[: data.index(marker)], data[data.index(marker) :]


@storage_cli.command("check")
@click.option(
    "--remove-orphans",
    is_flag=True,
    help="Delete files no row points at, and partial files, once older than the grace period "
    "and than the oldest running job.",
)
@click.option("--grace-minutes", default=60, show_default=True, help="Younger orphans are kept.")
def storage_check_command(remove_orphans: bool, grace_minutes: int) -> None:
    """Report missing, orphaned and corrupted files (hashes recomputed) and partial files left
    by a crash; exit 1 if any remain."""
    from sqlalchemy import func

    from .jobs.models import Job, JobStatus
    from .storage import file_store

    busy_since = db.session.scalar(
        select(func.min(Job.started_at)).where(Job.status == JobStatus.RUNNING)
    )
    report = file_store().check(
        remove_orphans=remove_orphans,
        grace=dt.timedelta(minutes=grace_minutes),
        busy_since=busy_since,
    )
    click.echo(f"Store {file_store().root}: {report.files} files, {report.referenced} referenced.")
    for label, items in (("missing", report.missing), ("corrupted", report.corrupted),
                         ("orphaned", report.orphans), ("partial", report.partials)):  # fmt: skip
        for sha in items:
            note = ""
            if sha in report.removed or sha in report.removed_partials:
                note = " (removed)"
            elif sha in report.kept:
                note = " (kept: younger than the grace period or a running job)"
            elif label == "partial" and sha not in report.stale_partials:
                note = " (recent: possibly an upload under way)"
            elif label == "partial":
                note = " (left by a crash)"
            click.echo(f"  {label}: {sha}{note}")
    if not report.healthy:
        sys.exit(1)
    removed = len(report.removed) + len(report.removed_partials)
    click.echo("Store OK." if not removed else f"Removed {removed} orphaned or partial files.")


@click.command("readiness")
@with_appcontext
@click.option("--batch", default=500, show_default=True, help="Cases per batch of queries.")
@click.option("--verbose", is_flag=True, help="List each case's blockers for its next stage.")
def readiness_command(batch: int, verbose: bool) -> None:
    """Check every open case against the completeness rules; summary per next stage."""
    from collections import Counter

    from .cases.models import Stage
    from .cases.readiness import check_all

    ladder = list(Stage)
    ready, blocked, total = Counter(), Counter(), 0
    for case, state in check_all(batch):
        total += 1
        position = ladder.index(case.stage)
        if position + 1 == len(ladder):
            continue
        target = ladder[position + 1].value
        if state[target]["ready"]:
            ready[target] += 1
            continue
        blocked[target] += 1
        if verbose:
            rules = sorted({f.rule for f in state[target]["findings"] if f.severity == "blocker"})
            click.echo(f"{case.reference}: not ready for {target} ({', '.join(rules)})")
    click.echo(f"{total} open cases checked.")
    for stage in ladder[1:]:
        name = stage.value
        click.echo(f"  next {name:<15} ready {ready[name]:>6}  blocked {blocked[name]:>6}")


@click.command("worker")
@with_appcontext
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
def worker_command(workers: int) -> None:
    """Run the job-queue consumer (Huey) in this process until interrupted."""
    from .jobs import describe_backend, huey
    from .jobs.sweep import note_worker_alive, sweep

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    grace = int(current_app.config["JOBS_SHUTDOWN_SECONDS"])
    click.echo(
        f"Worker consuming {describe_backend()} with {workers} threads; SIGTERM or Ctrl-C lets "
        f"running jobs finish for {grace} s, then hands them back to the queue."
    )
    # Jobs a dead worker left behind, and jobs committed while the queue was down.
    note_worker_alive()
    click.echo(f"Sweep: {sweep()}.")
    consumer = huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        graceful_signal="TERM",
        shutdown_timeout=grace,
    )
    consumer.run()


@click.command("seed-demo")
@click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Where the portal will be served, for the sign-in hint (make run passes HOST and PORT).",
)
@with_appcontext
def seed_demo_command(url: str | None) -> None:
    """Create the demo users, creditors, debtors and cases (idempotent) and print the users."""
    from .seed import seed_demo

    summary = seed_demo()
    db.session.commit()
    base_url = url or current_app.config.get("SERVER_NAME") or "http://127.0.0.1:5000"
    click.echo(summary.render(base_url.rstrip("/")))


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    from .backup import backup_cli
    from .cases.cli import cases_cli
    from .documents.cli import documents_cli, templates_cli
    from .evidence.cli import evidence_cli
    from .imports.cli import import_cli
    from .jobs.cli import jobs_cli
    from .review.cli import trust_cli, verify_command

    app.cli.add_command(import_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(templates_cli)
    app.cli.add_command(documents_cli)
    app.cli.add_command(trust_cli)
    app.cli.add_command(verify_command)
    for command in (
        users_cli,
        audit_cli,
        rates_cli,
        storage_cli,
        readiness_command,
        worker_command,
        seed_demo_command,
        demo_tsa_command,
    ):
        app.cli.add_command(command)
