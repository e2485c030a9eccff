"""The reference-rate table: loaded from the shipped CSV, kept current by admins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..audit.services import Actor, record
from ..domain import ValidationFailed
from ..extensions import db
from ..jurisdictions import RATE_KINDS, SHIPPED_RATES_CSV, RateRow, load_rates_csv
from .models import InterestRate


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

    :raises ValidationFailed: a bad line (nothing is loaded).
    """
    try:
        rows = load_rates_csv(Path(path) if path else SHIPPED_RATES_CSV)
    except ValueError as error:
        raise ValidationFailed(str(error)) from error
    changed = sum(1 for row in rows if set_rate(actor, row)[1])
    return len(rows), changed


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
