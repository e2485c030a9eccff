"""Payment allocation and outstanding balances.

Payments go first to the invoice the debtor named (up to what is open on it), the rest to the
oldest open invoice (by due date) of the same debtor and currency, principal only. Allocations are
rows, rebuilt for one debtor and currency whenever its ledger changes, so outstanding amounts are
plain SQL sums everywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, delete, func, insert, select, type_coerce

from ..db import Money
from ..extensions import db
from .models import CreditNote, Invoice, Payment, PaymentAllocation

ZERO = Decimal(0)


def reallocate(debtor_id: int, currency: str) -> None:
    """Rebuild the allocation rows of one debtor's payments in one currency."""
    invoices = db.session.execute(
        select(Invoice.id, Invoice.amount)
        .where(Invoice.debtor_id == debtor_id, Invoice.currency == currency)
        .order_by(Invoice.due_date, Invoice.issue_date, Invoice.id)
    ).all()
    credited = dict(
        db.session.execute(
            select(CreditNote.invoice_id, type_coerce(func.sum(CreditNote.amount), Money))
            .where(CreditNote.debtor_id == debtor_id, CreditNote.currency == currency)
            .group_by(CreditNote.invoice_id)
        ).all()
    )
    open_amounts = {row.id: max(row.amount - credited.get(row.id, ZERO), ZERO) for row in invoices}
    order = [row.id for row in invoices]
    payments = db.session.execute(
        select(Payment.id, Payment.invoice_id, Payment.amount)
        .where(Payment.debtor_id == debtor_id, Payment.currency == currency)
        .order_by(Payment.date, Payment.id)
    ).all()
    rows: list[dict] = []
    for payment in payments:
        left = payment.amount
        targets = ([payment.invoice_id] if payment.invoice_id in open_amounts else []) + order
        for invoice_id in targets:
            if left <= 0:
                break
            take = min(left, open_amounts[invoice_id])
            if take <= 0:
                continue
            open_amounts[invoice_id] -= take
            left -= take
            rows.append({"payment_id": payment.id, "invoice_id": invoice_id, "amount": take})
    db.session.execute(
        delete(PaymentAllocation).where(
            PaymentAllocation.payment_id.in_(
                select(Payment.id).where(
                    Payment.debtor_id == debtor_id, Payment.currency == currency
                )
            )
        )
    )
    if rows:
        merged: dict[tuple[int, int], Decimal] = {}
        for row in rows:
            key = (row["payment_id"], row["invoice_id"])
            merged[key] = merged.get(key, ZERO) + row["amount"]
        db.session.execute(
            insert(PaymentAllocation),
            [
                {"payment_id": payment_id, "invoice_id": invoice_id, "amount": amount}
                for (payment_id, invoice_id), amount in merged.items()
            ],
        )
    db.session.expire_all()


def reallocate_many(keys: Iterable[tuple[int, str]]) -> None:
    """``reallocate`` for each distinct (debtor id, currency)."""
    for debtor_id, currency in sorted(set(keys)):
        reallocate(debtor_id, currency)


def credited_sum(as_of: dt.date | None = None) -> Select:
    """Per invoice: credit notes dated on or before ``as_of`` (all when ``None``)."""
    query = select(
        CreditNote.invoice_id.label("invoice_id"),
        func.sum(CreditNote.amount).label("credited"),
    ).group_by(CreditNote.invoice_id)
    if as_of is not None:
        query = query.where(CreditNote.date <= as_of)
    return query


def paid_sum(as_of: dt.date | None = None) -> Select:
    """Per invoice: allocated payments dated on or before ``as_of`` (all when ``None``)."""
    query = (
        select(
            PaymentAllocation.invoice_id.label("invoice_id"),
            func.sum(PaymentAllocation.amount).label("paid"),
        )
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .group_by(PaymentAllocation.invoice_id)
    )
    if as_of is not None:
        query = query.where(Payment.date <= as_of)
    return query


def invoice_balances(as_of: dt.date | None = None):
    """``(credited, paid, outstanding)`` column expressions and the subqueries to outer-join.

    Use as::

        credited, paid, outstanding, joins = invoice_balances(as_of)
        query = joins(select(Invoice.id, outstanding))
    """
    credits = credited_sum(as_of).subquery("credits")
    payments = paid_sum(as_of).subquery("payments")
    credited: ColumnElement = type_coerce(func.coalesce(credits.c.credited, 0), Money)
    paid: ColumnElement = type_coerce(func.coalesce(payments.c.paid, 0), Money)
    outstanding: ColumnElement = type_coerce(
        Invoice.amount - func.coalesce(credits.c.credited, 0) - func.coalesce(payments.c.paid, 0),
        Money,
    )

    def joins(query: Select) -> Select:
        return query.outerjoin(credits, credits.c.invoice_id == Invoice.id).outerjoin(
            payments, payments.c.invoice_id == Invoice.id
        )

    return credited, paid, outstanding, joins


def debtor_balances(debtor_id: int) -> dict[str, Decimal]:
    """Per currency: invoices − credit notes − payments (negative = the debtor is in credit)."""
    totals: dict[str, Decimal] = {}
    for model, sign in ((Invoice, 1), (CreditNote, -1), (Payment, -1)):
        for currency, amount in db.session.execute(
            select(model.currency, type_coerce(func.sum(model.amount), Money))
            .where(model.debtor_id == debtor_id)
            .group_by(model.currency)
        ):
            totals[currency] = totals.get(currency, ZERO) + sign * amount
    return totals
