"""Aging of receivables as of a date, computed in SQL (one query, whatever the number of rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select, type_coerce

from ..db import Money
from ..extensions import db
from .allocation import invoice_balances
from .models import CreditorEntity, Debtor, Invoice

#: (key, label, oldest days overdue included); ``current`` = not yet due.
BUCKETS: Sequence[tuple[str, str, int | None]] = (
    ("current", "Current", 0),
    ("d1_30", "1–30", 30),
    ("d31_60", "31–60", 60),
    ("d61_90", "61–90", 90),
    ("d91_180", "91–180", 180),
    ("d181_365", "181–365", 365),
    ("over_365", "> 365", None),
)


@dataclass(frozen=True)
class AgingRow:
    debtor_id: int
    debtor: str
    debtor_name: str
    creditor: str
    currency: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))


def bucket_expression(as_of: dt.date):
    """``CASE`` naming an invoice's bucket from its due date (dates compared, so indexes help)."""
    whens = [(Invoice.due_date >= as_of, "current")]
    for key, _label, days in BUCKETS[1:-1]:
        whens.append((Invoice.due_date >= as_of - dt.timedelta(days=days), key))
    return case(*whens, else_="over_365")


def aging(
    as_of: dt.date,
    *,
    by_creditor: bool = True,
    debtor_ids: Sequence[int] | None = None,
    creditor_id: int | None = None,
) -> list[AgingRow]:
    """Outstanding per debtor (and creditor entity) and currency in each bucket as of ``as_of``.

    Only invoices issued by ``as_of`` count, less credit notes and payments dated by then.
    """
    _credited, _paid, outstanding, joins = invoice_balances(as_of)
    bucket = bucket_expression(as_of)
    sums = [
        type_coerce(func.sum(case((bucket == key, outstanding), else_=0)), Money).label(key)
        for key, _label, _days in BUCKETS
    ]
    group = [Debtor.id, Debtor.external_id, Debtor.name, Invoice.currency]
    if by_creditor:
        group.append(CreditorEntity.code)
    query = joins(
        select(*group, *sums)
        .select_from(Invoice)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .join(CreditorEntity, CreditorEntity.id == Invoice.creditor_id)
    ).where(Invoice.issue_date <= as_of)
    if debtor_ids is not None:
        query = query.where(Invoice.debtor_id.in_(debtor_ids))
    if creditor_id is not None:
        query = query.where(Invoice.creditor_id == creditor_id)
    query = query.group_by(*group).having(func.sum(outstanding) != 0).order_by(Debtor.name)
    rows = []
    for row in db.session.execute(query):
        mapping = row._mapping
        rows.append(
            AgingRow(
                debtor_id=mapping["id"],
                debtor=mapping["external_id"],
                debtor_name=mapping["name"],
                creditor=mapping["code"] if by_creditor else "",
                currency=mapping["currency"],
                buckets={key: mapping[key] or Decimal(0) for key, _l, _d in BUCKETS},
            )
        )
    return rows


def totals(rows: Sequence[AgingRow]) -> dict[str, dict[str, Decimal]]:
    """Bucket totals per currency (amounts in different currencies are never added)."""
    result: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        per = result.setdefault(row.currency, {key: Decimal(0) for key, _l, _d in BUCKETS})
        for key, amount in row.buckets.items():
            per[key] += amount
    return result
