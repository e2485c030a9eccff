"""``flask --app portal trust …`` (trusted roots) and ``flask --app portal verify FILE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from ..audit.services import Actor
from ..domain import DomainError
from ..extensions import db
from .certificates import add_trusted_root, remove_trusted_root, trusted_roots
from .models import TrustedRoot
from .verification import verify_file

trust_cli = AppGroup("trust", help="Certificate authorities whose signatures the portal trusts.")


@trust_cli.command("list")
def list_command() -> None:
    """Print the trusted roots."""
    roots = trusted_roots()
    for root in roots:
        demo = " [DEMO]" if root.demo else ""
        click.echo(
            f"{root.id:>4}  {root.fingerprint_sha256[:16]}…  until {root.not_after:%Y-%m-%d}  "
            f"{root.subject}{demo}"
        )
    if not roots:
        click.echo("No trusted roots: every signature verifies as untrusted.")


@trust_cli.command("add")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_command(certificate: Path) -> None:
    """Trust the CA certificate in CERTIFICATE (PEM or DER)."""
    try:
        root = add_trusted_root(Actor.cli(), certificate.read_bytes())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Trusted: {root.subject} (SHA-256 {root.fingerprint_sha256})")


@trust_cli.command("remove")
@click.argument("root_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove_command(root_id: int, yes: bool) -> None:
    """Stop trusting root ROOT_ID (see ``trust list``)."""
    root = db.session.get(TrustedRoot, root_id)
    if root is None:
        raise click.ClickException(f"No trusted root {root_id}.")
    if not yes:
        click.confirm(f"Stop trusting {root.subject}?", abort=True)
    remove_trusted_root(Actor.cli(), root)
    db.session.commit()
    click.echo(f"No longer trusted: {root.subject}")


@click.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
@with_appcontext
def verify_command(pdf: Path, as_json: bool) -> None:
    """Check a PDF: a version the portal made? changed? signed by whom, trusted? Exit 1 unless
    every signature is valid."""
    try:
        verdict = verify_file(pdf.read_bytes())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    body = verdict.payload(None)  # the command line sees every case
    if as_json:
        click.echo(json.dumps(body, indent=2))
    else:
        where = f"case {body['case']} {body['kind']} v{body['version']}" if "case" in body else ""
        if "volume" in body:
            where += f" volume {body['volume']}"
        click.echo(f"Known to the portal: {'yes ' + where if body['known'] else 'no'}")
        click.echo(f"Changed since signing: {'yes' if body['changed'] else 'no'}")
        if not body["signatures"]:
            click.echo("Signatures: none")
        for signature in body["signatures"]:
            click.echo(f"- {signature['summary']}")
    if not body["valid"]:
        sys.exit(1)
