"""Rules of the PRC only: proof that a demand arrived, the payment-order route, the law firm."""

from __future__ import annotations

from collections.abc import Iterator

from .base import CaseFacts, EventFact, Finding, InvoiceFact, rule
from .helpers import (
    DEMAND_DOCUMENTS,
    at_risk,
    blank,
    day,
    describe_dispatch,
    dispatches,
    joined,
    limitation_state,
    proven_dispatches,
)


def _sets_deadline(event: EventFact, invoice: InvoiceFact) -> bool:
    """The invoice's limitation deadline was set by this delivered demand."""
    result = invoice.limitation
    return (
        result is not None
        and event.delivered_on is not None
        and result.set_by_kind == "demand_delivered"
        # ``set_by`` reads "demand delivered to the debtor on YYYY-MM-DD (…)".
        and event.delivered_on.isoformat() in result.set_by
    )


@rule(
    "R9",
    title="Demand relied on for limitation delivered, with proof",
    from_stage="prosecution",
    severity="blocker",
    jurisdictions=("cn",),
    legal_basis="PRC Civil Code art. 195(1); SPC Provisions on limitation of actions in civil "
    "cases (2020 rev.) art. 8 (a demand interrupts limitation when it reaches, or should have "
    "reached, the debtor; the creditor proves it).",
)
def demand_delivery_proof(facts: CaseFacts) -> Iterator[Finding]:
    proven = proven_dispatches(facts)
    demands = [event for event in dispatches(facts, *DEMAND_DOCUMENTS) if event.id not in proven]
    if not demands:
        return
    for invoice in facts.claimed:
        result = invoice.limitation
        if result is None:
            continue
        # A recorded delivery that the deadline rests on, with no proof of it on file.
        resting = [event for event in demands if _sets_deadline(event, invoice)]
        # An undelivered demand does not count (the pack ignores it), so the deadline shown is
        # the one without it; it matters if that deadline is at risk and the demand preceded it.
        missing = [
            event
            for event in demands
            if event.delivered_on is None and at_risk(invoice) and event.date <= result.deadline
        ]
        if resting:
            sent = joined([describe_dispatch(event) for event in resting])
            yield Finding(
                "R9",
                "blocker",
                f"Limitation for invoice {invoice.number} runs to {day(result.deadline)} only "
                f"because of {sent}, and there is no proof of its delivery on file.",
                remedy=f"Upload the courier's proof of delivery (dispatch proof) of {sent}; "
                "without it the deadline falls back to an earlier date.",
                invoice=invoice.key,
            )
        elif missing:
            sent = joined([describe_dispatch(event) for event in missing])
            if result.expired:
                remedy = (
                    f"Upload the courier's proof that {sent} reached the debtor and record the "
                    f"delivery date; if it cannot be proven, remove invoice {invoice.number} "
                    "from the case."
                )
            else:
                remedy = (
                    f"Upload the courier's proof that {sent} reached the debtor and record the "
                    f"delivery date, or deliver a new demand with tracking before "
                    f"{day(result.deadline)}."
                )
            yield Finding(
                "R9",
                "blocker",
                f"Limitation for invoice {invoice.number} {limitation_state(invoice)}; {sent} "
                "would interrupt it, but there is no proof that it reached the debtor.",
                remedy=remedy,
                invoice=invoice.key,
            )


@rule(
    "R17",
    title="Payment order only without dispute or preservation",
    from_stage="prosecution",
    severity="blocker",
    jurisdictions=("cn",),
    legal_basis="PRC Civil Procedure Law (2023) art. 225 (art. 221 before the 2023 amendment): "
    "no other debt dispute between the parties; SPC Interpretation on the application of the "
    "Civil Procedure Law (2022) art. 427: no counter-performance owed by the creditor, no "
    "pre-action preservation applied for.",
)
def payment_order_route(facts: CaseFacts) -> Iterator[Finding]:
    if facts.route != "payment_order":
        return
    for invoice in facts.invoices:
        if invoice.disputed:
            yield Finding(
                "R17",
                "blocker",
                f"Invoice {invoice.number} is disputed; a payment order requires that there be "
                "no other debt dispute between the parties.",
                remedy=f"Resolve the dispute over invoice {invoice.number} first, or change the "
                "route to an ordinary action (suit).",
                invoice=invoice.key,
            )
    for event in facts.events_of("preservation"):
        yield Finding(
            "R17",
            "blocker",
            f"A preservation application was made on {day(event.date)} (event #{event.id}); a "
            "payment order is not available after pre-action preservation.",
            remedy="Change the route to an ordinary action (suit).",
        )


@rule(
    "R19",
    title="PRC lawyer's letter: firm and licence number",
    from_stage="demand_letter",
    severity="blocker",
    jurisdictions=("cn",),
    legal_basis="PRC Lawyers Law art. 25 (the law firm, not the lawyer, accepts the mandate): "
    "law. The letter number, printed name, licence number and firm seal on the letter: "
    "professional practice.",
)
def lawyer_credentials(facts: CaseFacts) -> Iterator[Finding]:
    if facts.lawyer is None:
        return  # N3
    name, firm, licence = facts.lawyer
    missing = []
    if blank(firm):
        missing.append("the law firm")
    if blank(licence):
        missing.append("the practising licence number")
    if missing:
        yield Finding(
            "R19",
            "blocker",
            f"A PRC lawyer's letter is issued by the law firm and states the signing lawyer's "
            f"licence number; {name}'s record lacks {joined(missing)}.",
            remedy=f"Enter {joined(missing)} on {name}'s lawyer record.",
        )
