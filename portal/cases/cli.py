"""``flask --app portal cases refresh-figures``: compute the stored figures of cases."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from .figures import BATCH, refresh, refresh_due
from .models import Case


@click.group("cases")
def cases_cli() -> None:
    """Arrears cases."""


@cases_cli.command("refresh-figures")
@click.option("--all", "everything", is_flag=True, help="Every case, not only those due.")
@with_appcontext
def refresh_figures_command(everything: bool) -> None:
    """Compute the figures lists and the work queue read (balances, next deadline, limitation,
    readiness): those missing, stale or not as of today, or with --all every case."""
    started = time.monotonic()
    if everything:
        done, last = 0, 0
        while ids := list(
            db.session.scalars(select(Case.id).where(Case.id > last).order_by(Case.id).limit(BATCH))
        ):
            done += refresh(ids)
            db.session.commit()
            last = ids[-1]
            click.echo(f"  {done} cases …")
    else:
        done = refresh_due()
    click.echo(f"Figures of {done} case(s) computed in {time.monotonic() - started:.1f} s.")
