"""England & Wales: Late Payment of Commercial Debts (Interest) Act 1998, Limitation Act 1980."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from .base import (
    InterestOptions,
    InterestResult,
    InvoiceFacts,
    LimitationEvent,
    LimitationOptions,
    LimitationResult,
    RateRow,
)
from .interest import build_result, contractual, eu_directive, interest_start, pct, rate_in_force
from .limitation import Accrual, RestartRules, limitation_deadline

ACT = "Late Payment of Commercial Debts (Interest) Act 1998"
RATE_ORDER = "Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002, SI 2002/1675"
#: SI 2002/1675: reference rate + 8 percentage points.
STATUTORY_MARGIN = Decimal(8)

#: s.5A(2): (debt below this, sum); a debt of £10,000 or more gets £100.
COMPENSATION_BANDS = (
    (Decimal(1000), Decimal(40), "a debt of less than £1,000"),
    (Decimal(10000), Decimal(70), "a debt of £1,000 or more but less than £10,000"),
)
COMPENSATION_TOP = (Decimal(100), "a debt of £10,000 or more")

_NOT_DEBTOR = "it is not an acknowledgment or payment by the debtor (Limitation Act 1980 s.29(5))"

RULES = RestartRules(
    jurisdiction="England & Wales",
    restarts={
        "acknowledgment_signed": "Limitation Act 1980 s.29(5)(a), s.30(1): in writing, signed",
        "part_payment": "Limitation Act 1980 s.29(5)(b)",
    },
    never={
        "creditor_demand": "Limitation Act 1980 s.29(5): only the debtor's acknowledgment or "
        "payment restarts the period, never the creditor's own demand",
        "demand_delivered": "Limitation Act 1980 s.29(5): only the debtor's acknowledgment or "
        "payment restarts the period, never the creditor's own demand, delivered or not",
        "acknowledgment_oral": "Limitation Act 1980 s.30(1): an acknowledgment must be in "
        "writing and signed by the debtor",
        "payment_plan": "it counts only as a signed written acknowledgment or through a payment "
        "made under it (Limitation Act 1980 s.29(5), s.30); record those instead",
        "suit": "issuing a claim stops time for the claim issued, which is in time if issued by "
        "the deadline, but does not start a new period (Limitation Act 1980 s.5)",
        "payment_order": _NOT_DEBTOR,
        "preservation": _NOT_DEBTOR,
    },
    not_revived="a right already barred is not revived by a later acknowledgment or payment, "
    "Limitation Act 1980 s.29(7)",
)


def reference_date(start: date) -> date:
    """SI 2002/1675: base rate on 31 Dec (interest starting Jan–Jun) or 30 Jun (Jul–Dec)."""
    if start.month <= 6:
        return date(start.year - 1, 12, 31)
    return date(start.year, 6, 30)


def late_payment_compensation(debt: Decimal) -> tuple[Decimal, str]:
    """s.5A(2): the fixed sum for a debt of this size, and the band in words."""
    for below, compensation, band in COMPENSATION_BANDS:
        if debt < below:
            return compensation, band
    return COMPENSATION_TOP


def late_payment_interest(
    invoice: InvoiceFacts, as_of: date, rates: Sequence[RateRow]
) -> InterestResult:
    """Statutory interest: base rate on the reference date + 8 %, fixed for the debt; s.5A sum.

    :raises MissingRate: no ``boe_base`` row in force on the reference date.
    """
    start = interest_start(invoice.due_date)
    on = reference_date(start)
    base = rate_in_force(rates, "boe_base", on).rate
    rate = base + STATUTORY_MARGIN
    text = (
        f"Statutory interest is claimed on invoice {invoice.number} under the {ACT} at "
        f"{pct(rate)}% per annum, being the Bank of England base rate of {pct(base)}% in force on "
        f"{on.isoformat()} plus 8% ({RATE_ORDER}), simple, on the outstanding principal from "
        f"{start.isoformat()} (the day after the due date)."
    )
    if invoice.currency == "GBP":
        compensation, band = late_payment_compensation(invoice.amount)
        compensation_text = (
            f"Fixed compensation of £{compensation} under s.5A of the {ACT} ({band})."
        )
    else:
        compensation = Decimal(0)
        compensation_text = (
            f"s.5A of the {ACT} sets £40, £70 or £100 by the size of the debt in sterling; the "
            f"invoice is in {invoice.currency}, so the sum must be worked out and entered by hand."
        )
    return build_result(
        invoice,
        as_of,
        basis="late_payment_act",
        basis_text=text,
        rate=rate,
        compensation=compensation,
        compensation_text=compensation_text,
    )


def accrual(invoice: InvoiceFacts) -> Accrual:
    """s.5: time runs from delivery/performance; the issue date stands in when none is recorded."""
    if invoice.delivery_date is not None:
        day = invoice.delivery_date.isoformat()
        return Accrual(invoice.delivery_date, "delivery_date", f"delivery date {day}")
    day = invoice.issue_date.isoformat()
    return Accrual(
        invoice.issue_date,
        "issue_date",
        f"issue date {day} (no delivery date recorded; time runs from delivery, so record it)",
    )


class EnglandWalesPack:
    """England & Wales."""

    code = "ew"
    name = "England & Wales"
    currency = "GBP"
    limitation_years = 6

    def interest(
        self,
        invoice: InvoiceFacts,
        as_of: date,
        rates: Sequence[RateRow],
        options: InterestOptions | None = None,
    ) -> InterestResult:
        """Contract rate if agreed, else the EU directive when chosen, else the 1998 Act.

        :raises MissingRate: the rate table lacks the base rate (or ECB rate) needed.
        """
        options = options or InterestOptions()
        if invoice.contract_rate is not None:
            return contractual(invoice, as_of, law="")
        if options.use_eu_directive:
            return eu_directive(invoice, as_of, rates)
        return late_payment_interest(invoice, as_of, rates)

    def limitation(
        self,
        invoice: InvoiceFacts,
        events: Sequence[LimitationEvent],
        as_of: date,
        *,
        warning_days: int = 90,
        options: LimitationOptions | None = None,
    ) -> LimitationResult:
        """Limitation Act 1980 s.5: 6 years from delivery; s.29(5)/s.30 restarts."""
        return limitation_deadline(
            invoice.key,
            accrual(invoice),
            self.limitation_years,
            events,
            as_of,
            RULES,
            warning_days=warning_days,
        )
