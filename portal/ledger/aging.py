"""Aging of receivables as of a date: per debtor, creditor entity and currency, computed in SQL
from the ledger (``_live_query``) and stored as of one day (``DebtorAging``), which the report,
its CSV and the API read a page or a stream at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, Subquery, case, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from ..db import Money
from ..extensions import db
from ..transactions import on_every_session
from .allocation import invoice_balances
from .models import (
    CreditNote,
    CreditorEntity,
    Debtor,
    DebtorAging,
    Invoice,
    Payment,
    PaymentAllocation,
)

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


def as_date(value) -> dt.date | None:
    """A date from ``MIN(CASE … date)``: SQLite answers with the ISO text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# --- stored aging and the paged report -------------------------------------------------------

#: The bucket keys, in order (also the stored columns of ``DebtorAging``).
KEYS = tuple(key for key, _label, _days in BUCKETS)
#: Session key of the debtors a transaction's flushes touched.
_TOUCHED = "debtor_aging.touched"


def store(as_of: dt.date, debtor_ids: Sequence[int] | None = None) -> int:
    """Replace the stored aging of these debtors (all when ``None``) by their aging as of
    ``as_of``; the number of rows stored."""
    query = _live_query(as_of)
    if debtor_ids is not None:
        query = query.where(Invoice.debtor_id.in_(debtor_ids))
    rows = [
        {**row, "computed_on": as_of, "oldest_overdue": as_date(row["oldest_overdue"])}
        for row in db.session.execute(query).mappings()
    ]
    stale = delete(DebtorAging)
    if debtor_ids is not None:
        stale = stale.where(DebtorAging.debtor_id.in_(debtor_ids))
    db.session.execute(stale)
    if rows:
        db.session.execute(insert(DebtorAging), rows)
    return len(rows)


def source(as_of: dt.date) -> tuple[Subquery, bool]:
    """Rows per debtor, creditor and currency as of a day (the columns of ``DebtorAging``), and
    whether they are the stored ones: stored when they are of that day, else computed live."""
    stored = stored_as_of() == as_of
    return (select(DebtorAging).subquery() if stored else _live_query(as_of).subquery()), stored


def row_total(rows: Subquery):
    """A row's buckets added up (SQL)."""
    return sum((rows.c[key] for key in KEYS[1:]), rows.c.current)


def balances(as_of: dt.date, debtor_ids: Sequence[int]) -> Select:
    """Per debtor and currency: outstanding, open invoices and the oldest overdue due date."""
    rows, _stored = source(as_of)
    return (
        select(
            rows.c.debtor_id,
            rows.c.currency,
            type_coerce(func.sum(row_total(rows)), Money).label("outstanding"),
            func.sum(rows.c.open_invoices).label("open_invoices"),
            func.min(rows.c.oldest_overdue).label("oldest_overdue"),
        )
        .where(rows.c.debtor_id.in_(debtor_ids))
        .group_by(rows.c.debtor_id, rows.c.currency)
        .order_by(rows.c.debtor_id, rows.c.currency)
    )


def stored_as_of() -> dt.date | None:
    """The day every stored row is as of, or ``None`` when they differ or none is stored."""
    low, high = db.session.execute(
        select(func.min(DebtorAging.computed_on), func.max(DebtorAging.computed_on))
    ).one()
    return low if low == high else None


def _live_query(as_of: dt.date) -> Select:
    """Per debtor, creditor and currency, computed from the ledger as of a day: the buckets,
    the invoices with something outstanding and the oldest overdue due date (the columns of
    ``DebtorAging``). Only invoices issued by then count, less credit notes and payments dated
    by then."""
    _credited, _paid, outstanding, joins = invoice_balances(as_of)
    bucket = bucket_expression(as_of)
    group = [
        Invoice.debtor_id.label("debtor_id"),
        Invoice.creditor_id.label("creditor_id"),
        Invoice.currency.label("currency"),
    ]
    sums = [
        type_coerce(func.sum(case((bucket == key, outstanding), else_=0)), Money).label(key)
        for key in KEYS
    ]
    is_open = outstanding > 0
    extra = [
        func.sum(case((is_open, 1), else_=0)).label("open_invoices"),
        func.min(case((is_open & (Invoice.due_date < as_of), Invoice.due_date))).label(
            "oldest_overdue"
        ),
    ]
    return (
        joins(select(*group, *sums, *extra).select_from(Invoice))
        .where(Invoice.issue_date <= as_of)
        .group_by(Invoice.debtor_id, Invoice.creditor_id, Invoice.currency)
        .having(func.sum(outstanding) != 0)
    )


@dataclass(frozen=True)
class AgingFilter:
    creditor_id: int | None = None
    jurisdiction: str | None = None
    #: Only rows with an amount in this bucket.
    bucket: str | None = None


@dataclass(frozen=True)
class AgingPage:
    rows: list[AgingRow]
    #: Bucket totals per currency over every row of the filter (not only this page).
    totals: dict[str, dict[str, Decimal]]
    count: int
    page: int
    pages: int
    #: Read from the stored aging (else computed from the ledger for this request).
    stored: bool


def report_query(as_of: dt.date, by_creditor: bool, filters: AgingFilter):
    """The report's rows (debtor [, creditor], currency, buckets) as one query, with whether it
    reads the stored aging: stored when it is as of ``as_of``, else computed live."""
    rows, stored = source(as_of)
    group = [Debtor.id, Debtor.external_id, Debtor.name, rows.c.currency]
    if by_creditor:
        group.append(CreditorEntity.code)
    sums = [type_coerce(func.sum(rows.c[key]), Money).label(key) for key in KEYS]
    query = select(*group, *sums).select_from(rows).join(Debtor, Debtor.id == rows.c.debtor_id)
    if by_creditor:
        query = query.join(CreditorEntity, CreditorEntity.id == rows.c.creditor_id)
    if filters.creditor_id is not None:
        query = query.where(rows.c.creditor_id == filters.creditor_id)
    if filters.jurisdiction:
        query = query.where(Debtor.jurisdiction == filters.jurisdiction)
    query = query.group_by(*group)
    if filters.bucket in KEYS:
        query = query.having(func.sum(rows.c[filters.bucket]) != 0)
    order = [Debtor.name, Debtor.id, rows.c.currency]
    if by_creditor:
        order.append(CreditorEntity.code)
    return query.order_by(*order), stored


def as_row(mapping, by_creditor: bool) -> AgingRow:
    return AgingRow(
        debtor_id=mapping["id"],
        debtor=mapping["external_id"],
        debtor_name=mapping["name"],
        creditor=mapping["code"] if by_creditor else "",
        currency=mapping["currency"],
        buckets={key: mapping[key] or Decimal(0) for key in KEYS},
    )


def report(
    as_of: dt.date,
    *,
    by_creditor: bool = False,
    filters: AgingFilter = AgingFilter(),  # noqa: B008 - frozen, never mutated
    page: int = 1,
    per_page: int = 50,
) -> AgingPage:
    """One page of the aging report, its row count and its totals per currency (three queries
    besides the freshness check, whatever the size of the ledger when the aging is stored)."""
    query, stored = report_query(as_of, by_creditor, filters)
    grouped = query.order_by(None).subquery()
    count = db.session.scalar(select(func.count()).select_from(grouped)) or 0
    totals: dict[str, dict[str, Decimal]] = {}
    for row in db.session.execute(
        select(
            grouped.c.currency,
            *(type_coerce(func.sum(grouped.c[key]), Money).label(key) for key in KEYS),
        )
        .group_by(grouped.c.currency)
        .order_by(grouped.c.currency)
    ):
        mapping = row._mapping
        totals[mapping["currency"]] = {key: mapping[key] or Decimal(0) for key in KEYS}
    pages = max(1, -(-count // per_page))
    page = min(max(page, 1), pages)
    rows = [
        as_row(row._mapping, by_creditor)
        for row in db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    ]
    return AgingPage(rows, totals, count, page, pages, stored)


def debtor_totals(as_of: dt.date) -> Subquery:
    """Per debtor: outstanding in every currency added up (for ordering only), open invoices and
    the oldest overdue due date — from the stored aging when it is as of ``as_of``."""
    rows, _stored = source(as_of)
    return (
        select(
            rows.c.debtor_id,
            func.sum(row_total(rows)).label("outstanding"),
            func.sum(rows.c.open_invoices).label("open_invoices"),
            func.min(rows.c.oldest_overdue).label("oldest_overdue"),
        )
        .group_by(rows.c.debtor_id)
        .subquery()
    )


def refresh_if_due(today: dt.date) -> bool:
    """Store everyone's aging as of ``today`` unless it already is; whether it ran."""
    if stored_as_of() == today:
        return False
    store(today)
    return True


# --- keeping the stored aging current ----------------------------------------------------------


def _collect(session: Session, _flush_context) -> None:
    """After a flush: note the debtors whose ledger it touched (invoices, payments, credits)."""
    touched = session.info.setdefault(_TOUCHED, {"debtor": set(), "invoice": set()})
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Invoice | Payment | CreditNote):
            touched["debtor"].add(instance.debtor_id)
        elif isinstance(instance, PaymentAllocation):
            touched["invoice"].add(instance.invoice_id)


def _before_commit(session: Session) -> None:
    """Recompute the touched debtors' stored aging inside the transaction, as of the day the
    stored rows are of (so the stored aging stays one day's; the daily refresh moves it on)."""
    # What is still pending is flushed first: its flush tells what it touched.
    session.flush()
    if _TOUCHED not in session.info:
        return
    touched = session.info.pop(_TOUCHED, None) or {}
    debtors = {item for item in touched.get("debtor", ()) if item is not None}
    invoices = [item for item in touched.get("invoice", ()) if item is not None]
    if invoices:
        debtors.update(
            db.session.scalars(select(Invoice.debtor_id).where(Invoice.id.in_(invoices)))
        )
    if not debtors:
        return
    on = db.session.scalar(select(func.max(DebtorAging.computed_on)))
    if on is None:
        # Nothing stored yet: the first daily refresh stores everyone.
        return
    ids = sorted(debtors)
    for start in range(0, len(ids), 500):
        store(on, ids[start : start + 500])
    session.flush()


def _forget(session: Session, *_args) -> None:
    session.info.pop(_TOUCHED, None)


def install() -> None:
    """Keep the stored aging current in every session of the app (idempotent)."""
    on_every_session(
        {"after_flush": _collect, "before_commit": _before_commit, "after_rollback": _forget}
    )
