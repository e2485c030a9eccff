"""United States: UCC § 2-725 limitation for the sale of goods, a state's statutory interest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .base import (
    UCC_LIMITATION_YEARS,
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


@dataclass(frozen=True)
class StateLaw:
    """Where a state's statutory interest rate lives in the rate table and in the statutes."""

    name: str
    rate_kind: str
    interest_statute: str  #: the statute giving the rate
    ucc_section: str  #: the state's enactment of UCC § 2-725


STATES: Mapping[str, StateLaw] = {
    "il": StateLaw("Illinois", "us_il_statutory", "815 ILCS 205/2", "810 ILCS 5/2-725"),
}

_NOT_DEBTOR = "it is not a written acknowledgment or payment by the debtor"


def restart_rules(state: StateLaw, part_payment_restarts: bool) -> RestartRules:
    """Signed written acknowledgment restarts; part payment when state law says so."""
    restarts = {"acknowledgment_signed": "state law: a written promise signed by the debtor"}
    never = {
        "creditor_demand": f"a creditor's demand does not restart the UCC § 2-725 "
        f"({state.ucc_section}) period",
        "demand_delivered": f"a creditor's demand, delivered or not, does not restart the "
        f"UCC § 2-725 ({state.ucc_section}) period",
        "acknowledgment_oral": "only a written acknowledgment signed by the debtor is relied on",
        "payment_plan": "it counts only as a signed written acknowledgment or through a payment "
        "made under it; record those instead",
        "suit": "filing suit stops time for the claim filed, which is in time if filed by the "
        "deadline, but does not start a new period",
        "payment_order": _NOT_DEBTOR,
        "preservation": _NOT_DEBTOR,
    }
    if part_payment_restarts:
        restarts["part_payment"] = "state law: part payment"
    else:
        never["part_payment"] = "the case is set to treat part payments as not restarting"
    return RestartRules(
        jurisdiction=state.name,
        restarts=restarts,
        never=never,
        not_revived="a right once time-barred is treated conservatively as not revived",
    )


def state_law(code: str) -> StateLaw:
    """The state's entry.

    :raises ValueError: the state is not supported.
    """
    try:
        return STATES[code.lower()]
    except KeyError:
        raise ValueError(
            f"US state {code!r} is not supported; expected one of {sorted(STATES)}"
        ) from None


def statutory_interest(
    invoice: InvoiceFacts, as_of: date, rates: Sequence[RateRow], state: StateLaw
) -> InterestResult:
    """The state's statutory rate in force when interest starts, fixed for the debt.

    :raises MissingRate: no row of the state's rate kind in force on that day.
    """
    start = interest_start(invoice.due_date)
    rate = rate_in_force(rates, state.rate_kind, start).rate
    text = (
        f"Interest is claimed on invoice {invoice.number} at the {state.name} statutory rate of "
        f"{pct(rate)}% per annum on money after it became due ({state.interest_statute}), "
        f"simple, on the outstanding principal from {start.isoformat()} (the day after the due "
        "date)."
    )
    return build_result(
        invoice,
        as_of,
        basis="us_statutory",
        basis_text=text,
        rate=rate,
        compensation_text=f"No fixed compensation applies under {state.name} law.",
    )


class UsPack:
    """United States (UCC sale of goods; one state's statutory interest, Illinois by default)."""

    code = "us"
    name = "United States (UCC; Illinois)"
    currency = "USD"
    limitation_years = UCC_LIMITATION_YEARS

    def interest(
        self,
        invoice: InvoiceFacts,
        as_of: date,
        rates: Sequence[RateRow],
        options: InterestOptions | None = None,
    ) -> InterestResult:
        """Contract rate if agreed, else the EU directive when chosen, else the state's rate.

        :raises MissingRate: the rate table lacks the statutory (or ECB) rate needed.
        :raises ValueError: ``options.us_state`` is not supported.
        """
        options = options or InterestOptions()
        state = state_law(options.us_state)
        if invoice.contract_rate is not None:
            return contractual(invoice, as_of, law="")
        if options.use_eu_directive:
            return eu_directive(invoice, as_of, rates)
        return statutory_interest(invoice, as_of, rates, state)

    def limitation(
        self,
        invoice: InvoiceFacts,
        events: Sequence[LimitationEvent],
        as_of: date,
        *,
        warning_days: int = 90,
        options: LimitationOptions | None = None,
        state: str = "il",
    ) -> LimitationResult:
        """UCC § 2-725: 4 years from the due date, or the shorter period the contract sets.

        :raises ValueError: ``state`` is not supported.
        """
        options = options or LimitationOptions()
        law = state_law(state)
        years = options.us_contract_years or self.limitation_years
        due = Accrual(invoice.due_date, "due_date", f"due date {invoice.due_date.isoformat()}")
        return limitation_deadline(
            invoice.key,
            due,
            years,
            events,
            as_of,
            restart_rules(law, options.us_part_payment_restarts),
            warning_days=warning_days,
        )
