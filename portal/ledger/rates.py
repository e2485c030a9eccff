"""The reference-rate table: loaded from the shipped CSV, kept current by admins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..audit.services import Actor, record
from ..business_time import today as business_today
from ..domain import ValidationFailed
from ..extensions import db
from ..jurisdictions import (
    RATE_KINDS,
    SHIPPED_CONFIRMATIONS_CSV,
    SHIPPED_RATES_CSV,
    RateRow,
    RateTable,
    load_confirmations_csv,
    load_rates_csv,
)
from .models import InterestRate, RateConfirmation


def set_rate(actor: Actor, row: RateRow) -> tuple[InterestRate, bool]:
    """Create or update the row for ``(kind, valid_from)``; ``(row, changed)``."""
    existing = db.session.scalar(
        select(InterestRate).where(
            InterestRate.kind == row.kind, InterestRate.valid_from == row.valid_from
        )
    )
    if existing is not None and (existing.rate, existing.source) == (row.rate, row.source):
        return existing, False
    before = {"rate": existing.rate, "source": existing.source} if existing else {}
    if existing is None:
        existing = InterestRate(kind=row.kind, valid_from=row.valid_from)
        db.session.add(existing)
    existing.rate, existing.source = row.rate, row.source
    db.session.flush()
    record(
        actor,
        "rate.update" if before else "rate.create",
        "interest_rate",
        existing.id,
        before=before,
        after={
            "kind": row.kind,
            "valid_from": row.valid_from,
            "rate": row.rate,
            "source": row.source,
        },
    )
    return existing, True


def make_row(kind: str, valid_from: dt.date, rate: Decimal, source: str) -> RateRow:
    """A validated row.

    :raises ValidationFailed: unknown kind, rate outside 0–100, empty source.
    """
    try:
        return RateRow(kind=kind, valid_from=valid_from, rate=rate, source=source.strip())
    except (ValueError, TypeError) as error:
        raise ValidationFailed(str(error)) from error


def load_file(actor: Actor, path: Path | None = None) -> tuple[int, int]:
    """Load a rates CSV (the shipped one by default); ``(rows read, rows changed)``.

    The shipped table also brings the day each kind was checked through; an admin's later
    confirmation is kept (loading never moves a confirmation back).

    :raises ValidationFailed: a bad line (nothing is loaded).
    """
    try:
        rows = load_rates_csv(Path(path) if path else SHIPPED_RATES_CSV)
        checked = [] if path else load_confirmations_csv(SHIPPED_CONFIRMATIONS_CSV)
    except ValueError as error:
        raise ValidationFailed(str(error)) from error
    changed = sum(1 for row in rows if set_rate(actor, row)[1])
    for item in checked:
        current = db.session.get(RateConfirmation, item.kind)
        if current is None or current.confirmed_through < item.through:
            confirm(actor, item.kind, item.through, item.source, allow_future=True)
    return len(rows), changed


def confirm(
    actor: Actor, kind: str, through: dt.date, source: str, *, allow_future: bool = False
) -> RateConfirmation:
    """Record that the table holds every ``kind`` rate in force up to and including ``through``.

    :raises ValidationFailed: unknown kind, empty source, a day after today (nobody can know a
        rate not yet published), or no row of the kind in force on ``through``.
    """
    source = (source or "").strip()
    if kind not in RATE_KINDS:
        message = f"Unknown rate kind {kind!r}."
        raise ValidationFailed(message, fields={"kind": [message]})
    if not source:
        message = "Say what you checked (the publication or URL)."
        raise ValidationFailed(message, fields={"source": [message]})
    if through > business_today() and not allow_future:
        message = f"{through.isoformat()} is in the future: confirm through today at the latest."
        raise ValidationFailed(message, fields={"confirmed_through": [message]})
    first = db.session.scalar(
        select(InterestRate.valid_from)
        .where(InterestRate.kind == kind, InterestRate.valid_from <= through)
        .limit(1)
    )
    if first is None:
        message = f"No {kind} row is in force on {through.isoformat()}: add the rate first."
        raise ValidationFailed(message, fields={"confirmed_through": [message]})
    row = db.session.get(RateConfirmation, kind)
    before = {"confirmed_through": row.confirmed_through, "source": row.source} if row else {}
    if row is None:
        row = RateConfirmation(kind=kind)
        db.session.add(row)
    row.confirmed_through, row.source = through, source
    row.confirmed_by_id = actor.user.id if actor.user else None
    db.session.flush()
    record(
        actor,
        "rate.confirm",
        "rate_confirmation",
        kind,
        before=before,
        after={"kind": kind, "confirmed_through": through, "source": source},
    )
    return row


def confirmations() -> dict[str, dt.date]:
    """Per kind, the day the table is confirmed through."""
    return dict(
        db.session.execute(select(RateConfirmation.kind, RateConfirmation.confirmed_through)).all()
    )


def table() -> RateTable:
    """Every row, oldest first, with the confirmations (what the interest engine reads)."""
    return RateTable(
        [
            RateRow(kind=row.kind, valid_from=row.valid_from, rate=row.rate, source=row.source)
            for row in db.session.scalars(select(InterestRate).order_by(InterestRate.valid_from))
        ],
        confirmations(),
    )


def delete_rate(actor: Actor, rate: InterestRate) -> None:
    """Remove a row (a mistaken entry); audited with what it said."""
    record(
        actor,
        "rate.delete",
        "interest_rate",
        rate.id,
        before={"kind": rate.kind, "valid_from": rate.valid_from, "rate": rate.rate},
    )
    db.session.delete(rate)
    db.session.flush()


def latest_per_kind() -> dict[str, dt.date]:
    """The newest ``valid_from`` per kind (the page shows how current the table is)."""
    result: dict[str, dt.date] = {}
    for kind, valid_from in db.session.execute(select(InterestRate.kind, InterestRate.valid_from)):
        if kind not in result or valid_from > result[kind]:
            result[kind] = valid_from
    return result


KINDS = sorted(RATE_KINDS)
