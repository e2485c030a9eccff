"""People's Republic of China: Civil Code limitation, LPR-based overdue-payment loss."""

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
    MissingRate,
    RateRow,
)
from .interest import build_result, contractual, eu_directive, interest_start, pct, rate_in_force
from .limitation import Accrual, RestartRules, limitation_deadline

SALES_INTERPRETATION = (
    "Art. 18(4) of the Interpretation of the Supreme People's Court on Issues concerning the "
    "Application of Law in the Trial of Cases of Disputes over Sales Contracts (2020 revision)"
)
#: Art. 18(4): breaches from this day on are measured on the one-year LPR.
LPR_REFORM = date(2019, 8, 20)

RULES = RestartRules(
    jurisdiction="the PRC",
    restarts={
        "demand_delivered": "Civil Code art. 195(1): the right holder's demand to the obligor",
        "acknowledgment_signed": "Civil Code art. 195(2): the obligor agrees to perform",
        "acknowledgment_oral": "Civil Code art. 195(2): the obligor agrees to perform",
        "part_payment": "Civil Code art. 195(2): the obligor agrees to perform",
        "payment_plan": "Civil Code art. 195(2): the obligor agrees to perform",
        "suit": "Civil Code art. 195(3): suit or arbitration",
        "payment_order": "Civil Code art. 195(4): equivalent to bringing suit",
        "preservation": "Civil Code art. 195(4): equivalent to bringing suit",
    },
    never={
        "creditor_demand": "there is no proof that it reached the debtor; a demand interrupts "
        "limitation under Civil Code art. 195(1) only once it reaches the obligor (SPC "
        "Provisions on limitation of actions), so record the proof of delivery and enter it as "
        "a delivered demand",
    },
    not_revived="a right once time-barred is treated conservatively as not revived; a debtor "
    "who later agrees to perform loses the limitation defence (Civil Code art. 192), but "
    "that is not relied on here",
)


def lpr_loss(
    invoice: InvoiceFacts, as_of: date, rates: Sequence[RateRow], uplift: Decimal
) -> InterestResult:
    """Overdue-payment loss: one-year LPR in force when the breach began × (1 + uplift).

    :raises MissingRate: no ``lpr_1y`` row in force on that day, or the breach began before
        the LPR reform of 2019-08-20 (Art. 18(4) then uses the PBOC benchmark lending rate,
        which the rate table does not hold).
    """
    start = interest_start(invoice.due_date)
    if start < LPR_REFORM:
        raise MissingRate(
            "lpr_1y",
            start,
            "For a breach before 2019-08-20, Art. 18(4) measures the loss on the PBOC benchmark "
            "lending rate, which the rate table does not hold: enter the agreed or court rate "
            "as the invoice's contract rate instead.",
        )
    row = rate_in_force(rates, "lpr_1y", start)
    rate = row.rate * (1 + uplift)
    increase = f"increased by {pct(uplift * 100)}%" if uplift else "without increase"
    text = (
        f"Overdue-payment loss is claimed on invoice {invoice.number} at {pct(rate)}% per annum, "
        f"being the one-year Loan Prime Rate of {pct(row.rate)}% (published "
        f"{row.valid_from.isoformat()}) in force when the breach began on {start.isoformat()}, "
        f"{increase}, under {SALES_INTERPRETATION}, simple, on the outstanding principal from "
        f"{start.isoformat()} (the day after the due date)."
    )
    return build_result(
        invoice,
        as_of,
        basis="prc_lpr",
        basis_text=text,
        rate=rate,
        compensation_text="No fixed compensation applies in the PRC.",
    )


class PrcPack:
    """People's Republic of China."""

    code = "cn"
    name = "People's Republic of China"
    currency = "CNY"
    limitation_years = 3

    def interest(
        self,
        invoice: InvoiceFacts,
        as_of: date,
        rates: Sequence[RateRow],
        options: InterestOptions | None = None,
    ) -> InterestResult:
        """Contract rate if agreed, else the EU directive when chosen, else LPR × (1 + uplift).

        :raises MissingRate: the rate table lacks the LPR (or ECB rate) needed.
        """
        options = options or InterestOptions()
        if invoice.contract_rate is not None:
            return contractual(invoice, as_of, law=" (Civil Code art. 585)")
        if options.use_eu_directive:
            return eu_directive(invoice, as_of, rates)
        return lpr_loss(invoice, as_of, rates, options.prc_lpr_uplift)

    def limitation(
        self,
        invoice: InvoiceFacts,
        events: Sequence[LimitationEvent],
        as_of: date,
        *,
        warning_days: int = 90,
        options: LimitationOptions | None = None,
    ) -> LimitationResult:
        """Civil Code art. 188: 3 years from the due date; art. 195 restarts."""
        due = Accrual(invoice.due_date, "due_date", f"due date {invoice.due_date.isoformat()}")
        return limitation_deadline(
            invoice.key,
            due,
            self.limitation_years,
            events,
            as_of,
            RULES,
            warning_days=warning_days,
        )
