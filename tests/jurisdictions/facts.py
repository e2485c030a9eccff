"""Builders for the facts the packs take; every value can be overridden per test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.jurisdictions import InvoiceFacts, LimitationEvent, RateRow, Reduction


def invoice(**overrides) -> InvoiceFacts:
    """A GBP invoice of 5,000.00 due 2023-08-31, delivered 2023-08-01, no agreed rate."""
    values = {
        "key": "INV-1",
        "number": "2023/001",
        "currency": "GBP",
        "amount": Decimal("5000.00"),
        "issue_date": date(2023, 8, 1),
        "delivery_date": date(2023, 8, 1),
        "due_date": date(2023, 8, 31),
        "contract_rate": None,
        "reductions": (),
    }
    values.update(overrides)
    return InvoiceFacts(**values)


def rate(kind: str, valid_from: str, percent: str) -> RateRow:
    """A synthetic rate row (tests do not depend on the shipped CSV)."""
    return RateRow(kind, date.fromisoformat(valid_from), Decimal(percent), "test figure")


def paid(on: str, amount: str) -> Reduction:
    return Reduction(date.fromisoformat(on), Decimal(amount))


def event(kind: str, on: str, *keys: str, description: str = "") -> LimitationEvent:
    """An event for the given invoice keys (none given = every invoice of the case)."""
    return LimitationEvent(
        kind, date.fromisoformat(on), frozenset(keys) if keys else None, description
    )


def day(text: str) -> date:
    return date.fromisoformat(text)
