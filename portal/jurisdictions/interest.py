"""The shared simple-interest engine: principal periods, rate look-up, results, aggregation.

Simple daily interest, days/365, from the day after the due date to ``as_of`` inclusive. A
reduction (payment, credit note) dated D lowers the principal from D onwards. Nothing is rounded
here except the presentation fields (``amount``, ``daily``, ``compensation``, period amounts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .base import (
    InterestPeriod,
    InterestResult,
    InvoiceFacts,
    MissingRate,
    RateRow,
    RateTable,
    Reduction,
    round_money,
)

ZERO = Decimal(0)
#: rate is percent p.a. and the year has 365 days: interest = principal × rate × days / 36 500.
_YEAR_PERCENT = Decimal(36500)

#: Directive 2011/7/EU Art. 6(1): fixed sum of at least EUR 40 per late invoice.
EU_COMPENSATION = Decimal(40)


def pct(rate: Decimal) -> str:
    """A rate as people write it: 13.25, 5.175, 8 (no trailing zeros, no exponent)."""
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def interest_start(due_date: date) -> date:
    """Interest runs from the day after the due date."""
    return due_date + timedelta(days=1)


def simple_interest(principal: Decimal, rate: Decimal, days: int) -> Decimal:
    """Unrounded simple interest: principal × rate % × days / 365."""
    return principal * rate * days / _YEAR_PERCENT


def principal_on(amount: Decimal, reductions: Sequence[Reduction], day: date) -> Decimal:
    """Principal outstanding on ``day``: reductions dated on or before it count, never below 0."""
    paid = sum((r.amount for r in reductions if r.on <= day), ZERO)
    return max(amount - paid, ZERO)


def principal_periods(
    amount: Decimal, reductions: Sequence[Reduction], start: date, end: date
) -> list[tuple[date, date, Decimal]]:
    """Split [start, end] at each reduction date into (first, last, principal) stretches.

    Stretches where nothing is outstanding are left out. Empty when end < start.
    """
    if end < start:
        return []
    cuts = sorted({r.on for r in reductions if start < r.on <= end})
    bounds = [start, *cuts, end + timedelta(days=1)]
    stretches = []
    for first, after in zip(bounds, bounds[1:], strict=False):
        principal = principal_on(amount, reductions, first)
        if principal > 0:
            stretches.append((first, after - timedelta(days=1), principal))
    return stretches


def interest_periods(
    invoice: InvoiceFacts, start: date, as_of: date, rate: Decimal
) -> tuple[InterestPeriod, ...]:
    """Interest periods from ``start`` to ``as_of`` inclusive at one fixed rate."""
    periods = []
    for first, last, principal in principal_periods(
        invoice.amount, invoice.reductions, start, as_of
    ):
        days = (last - first).days + 1
        exact = simple_interest(principal, rate, days)
        periods.append(
            InterestPeriod(
                start=first,
                end=last,
                days=days,
                principal=principal,
                rate=rate,
                amount_exact=exact,
                amount=round_money(exact),
            )
        )
    return tuple(periods)


def rate_in_force(rates: Sequence[RateRow], kind: str, on: date, hint: str = "") -> RateRow:
    """The row of ``kind`` with the latest valid_from on or before ``on``.

    :raises MissingRate: no row of that kind starts on or before ``on``.
    :raises UnconfirmedRate: ``rates`` is a :class:`RateTable` not confirmed through ``on``.
    :raises ValueError: two rows of the kind start on the same day with different rates.
    """
    candidates = [row for row in rates if row.kind == kind and row.valid_from <= on]
    if not candidates:
        raise MissingRate(kind, on, hint)
    if isinstance(rates, RateTable):
        rates.check_confirmed(kind, on)
    latest = max(row.valid_from for row in candidates)
    in_force = [row for row in candidates if row.valid_from == latest]
    if len({row.rate for row in in_force}) > 1:
        raise ValueError(
            f"the rate table has conflicting {kind!r} rows from {latest.isoformat()}: "
            + ", ".join(pct(row.rate) for row in in_force)
        )
    return in_force[0]


def half_year_start(day: date) -> date:
    """1 January or 1 July of the half-year containing ``day``."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def build_result(
    invoice: InvoiceFacts,
    as_of: date,
    *,
    basis: str,
    basis_text: str,
    rate: Decimal,
    compensation: Decimal = ZERO,
    compensation_text: str = "",
) -> InterestResult:
    """Run the engine at a fixed rate and wrap the figures in an InterestResult.

    Before interest starts (as_of ≤ due date) there are no periods, no daily amount and no
    compensation, since the debt is not yet late.
    """
    start = interest_start(invoice.due_date)
    periods = interest_periods(invoice, start, as_of, rate)
    exact = sum((p.amount_exact for p in periods), ZERO)
    late = as_of >= start
    daily = simple_interest(principal_on(invoice.amount, invoice.reductions, as_of), rate, 1)
    return InterestResult(
        basis=basis,
        basis_text=basis_text,
        rate=rate,
        amount_exact=exact,
        amount=round_money(exact),
        daily=round_money(daily) if late else round_money(ZERO),
        periods=periods,
        compensation=round_money(compensation) if late else round_money(ZERO),
        compensation_text=compensation_text if late else "",
        start=start,
    )


def _running(start: date) -> str:
    day = start.isoformat()
    return f"simple, on the outstanding principal from {day} (the day after the due date)"


def contractual(invoice: InvoiceFacts, as_of: date, law: str) -> InterestResult:
    """Interest at the rate the parties agreed; ``law`` adds the jurisdiction's citation.

    :raises ValueError: the invoice has no contract rate.
    """
    rate = invoice.contract_rate
    if rate is None:
        raise ValueError(f"invoice {invoice.number} has no contract rate")
    start = interest_start(invoice.due_date)
    text = (
        f"Interest is claimed on invoice {invoice.number} at the rate of {pct(rate)}% per annum "
        f"agreed in the contract between the parties{law}, {_running(start)}."
    )
    return build_result(invoice, as_of, basis="contractual", basis_text=text, rate=rate)


def eu_directive(invoice: InvoiceFacts, as_of: date, rates: Sequence[RateRow]) -> InterestResult:
    """Directive 2011/7/EU: ECB rate on the first day of the half-year interest starts in + 8.

    :raises MissingRate: no ``ecb_ref`` row in force on that first day.
    """
    start = interest_start(invoice.due_date)
    reference_day = half_year_start(start)
    row = rate_in_force(rates, "ecb_ref", reference_day)
    rate = row.rate + 8
    text = (
        f"Statutory interest for late payment is claimed on invoice {invoice.number} at "
        f"{pct(rate)}% per annum under Directive 2011/7/EU (Art. 2(6)-(7), Art. 3(2)) as "
        f"transposed by the applicable national law, being the ECB main refinancing rate of "
        f"{pct(row.rate)}% applicable on {reference_day.isoformat()} plus 8 percentage points, "
        f"{_running(start)}."
    )
    if invoice.currency == "EUR":
        compensation = EU_COMPENSATION
        compensation_text = (
            "Fixed compensation for recovery costs of EUR 40 under Art. 6(1) of Directive "
            "2011/7/EU, as transposed by the applicable national law."
        )
    else:
        compensation = ZERO
        compensation_text = (
            f"Directive 2011/7/EU Art. 6 sets EUR 40; the invoice is in {invoice.currency}, so "
            "the sum under the transposing national law must be entered by hand."
        )
    return build_result(
        invoice,
        as_of,
        basis="eu_directive",
        basis_text=text,
        rate=rate,
        compensation=compensation,
        compensation_text=compensation_text,
    )


def aggregate(results: Sequence[InterestResult]) -> dict[str, Any]:
    """Totals over several invoices' results (one currency: the caller groups by currency).

    ``amount``, ``daily`` and ``compensation`` add the per-invoice rounded figures, so a letter's
    invoice table adds up to its total; ``amount_exact`` adds the unrounded ones. ``basis`` is
    the common basis or "mixed" ("none" when there are no results); ``rate`` the common rate or
    None.
    """
    bases = {r.basis for r in results}
    rates = {r.rate for r in results}
    return {
        "basis": bases.pop() if len(bases) == 1 else ("mixed" if bases else "none"),
        "rate": rates.pop() if len(rates) == 1 else None,
        "amount_exact": sum((r.amount_exact for r in results), ZERO),
        "amount": sum((r.amount for r in results), round_money(ZERO)),
        "daily": sum((r.daily for r in results), round_money(ZERO)),
        "compensation": sum((r.compensation for r in results), round_money(ZERO)),
        "periods": tuple(p for r in results for p in r.periods),
        "start": min((r.start for r in results), default=None),
        "count": len(results),
    }
