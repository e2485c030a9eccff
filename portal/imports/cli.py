"""``flask --app portal import debtors|invoices|payments FILE [--dry-run]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from ..audit.services import Actor
from ..domain import DomainError
from ..extensions import db
from .services import KINDS, run_import
from .tables import Limits, read_limited

_LABELS = {"check": "Checking {total:,} {kind}", "write": "Writing {total:,} {kind}"}


class _ProgressBars:
    """One click progress bar per phase, on stderr (only the label when it is not a terminal)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.phase: str | None = None
        self.done = 0
        self.bar: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            label = _LABELS.get(phase, phase).format(total=total, kind=self.kind)
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
            self.phase, self.done = phase, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and count the changes; write nothing.")
@with_appcontext
def import_cli(kind: str, file: Path, dry_run: bool) -> None:
    """Import debtors, invoices or payments from a CSV or XLSX FILE: every row or none.

    Exit status 0 when the file is imported (or, with --dry-run, would be); 1 with the errors
    listed when any row is bad, in which case nothing is written.
    """
    progress = _ProgressBars(kind)
    try:
        with file.open("rb") as handle:
            data = read_limited(handle, Limits.from_config().max_bytes)
        report = run_import(
            Actor.cli(), kind, data, filename=file.name, dry_run=dry_run, progress=progress
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    finally:
        progress.close()
    if not report.ok:
        db.session.rollback()
        for error in report.errors:
            row = "-" if error.row is None else str(error.row)
            click.echo(f"row {row}\t{error.field or '-'}\t{error.message}")
        click.echo(
            f"{len(report.errors):,} error{'s' if len(report.errors) != 1 else ''} in "
            f"{report.rows_with_errors:,} of {report.rows:,} rows: nothing imported."
        )
        sys.exit(1)
    if report.written:
        db.session.commit()
    else:
        db.session.rollback()
    verb = ("would be created", "would be updated") if dry_run else ("created", "updated")
    click.echo(
        f"{report.rows:,} {kind} read: {report.created:,} {verb[0]}, {report.updated:,} "
        f"{verb[1]}, {report.unchanged:,} unchanged."
        + (" Dry run: nothing written." if dry_run else "")
    )
