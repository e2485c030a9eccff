"""``flask --app portal evidence rerender``: run stuck or failed exhibit renditions again."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..audit.services import Actor, record
from ..extensions import db
from .jobs import queue_renditions, render_evidence
from .models import Evidence, RenditionStatus


@click.group("evidence")
def evidence_cli() -> None:
    """Evidence items and their exhibit renditions."""


@evidence_cli.command("rerender")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Also the renditions that failed.")
@click.option("--here", is_flag=True, help="Render in this process instead of the worker.")
@with_appcontext
def rerender_command(ids: tuple[int, ...], failed: bool, here: bool) -> None:
    """Queue again the renditions still pending (all, or the IDS given); with --failed also
    the failed ones (they are reset to pending first, audited)."""
    statuses = [RenditionStatus.PENDING] + ([RenditionStatus.FAILED] if failed else [])
    query = select(Evidence).where(Evidence.rendition_status.in_(statuses))
    if ids:
        query = query.where(Evidence.id.in_(ids))
    items = list(db.session.scalars(query.order_by(Evidence.id)))
    if not items:
        click.echo("No rendition to run again.")
        return
    for item in items:
        if item.rendition_status is RenditionStatus.FAILED:
            record(
                Actor.cli(),
                "evidence.rerender",
                "evidence",
                item.id,
                before={"error": item.rendition_error},
            )
            item.rendition_status, item.rendition_error = RenditionStatus.PENDING, None
    db.session.commit()
    chosen = [item.id for item in items]
    if here:
        outcomes = [f"#{item} {render_evidence.call_local(item)}" for item in chosen]
        click.echo(f"Rendered here: {', '.join(outcomes)}.")
        return
    queue_renditions(chosen)
    click.echo(f"{len(chosen)} rendition(s) queued: {', '.join(f'#{i}' for i in chosen)}.")
