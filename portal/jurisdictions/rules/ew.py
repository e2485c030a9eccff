"""Rules of England & Wales (R13), and R10, which the US shares."""

from __future__ import annotations

from collections.abc import Iterator

from .base import CaseFacts, Finding, rule
from .helpers import at_risk, day, delivered_demand_letters, joined

#: Pre-Action Protocol for Debt Claims para 3.1: what a letter of claim to an individual encloses.
PAP_DEBT_ENCLOSURES = {
    "information_sheet": "the Information Sheet",
    "reply_form": "the Reply Form",
    "financial_statement": "the Financial Statement",
    "statement_of_account": "an up-to-date statement of account",
}

#: Why an unsigned acknowledgment does not restart limitation, per jurisdiction.
_SIGNED_WRITING = {
    "ew": "Limitation Act 1980 s.30(1) requires it in writing and signed by the debtor",
    "us": "state law requires a promise in writing, signed by the debtor",
}


@rule(
    "R13",
    title="PAP-Debt enclosures (individual debtors)",
    from_stage="prosecution",
    severity="blocker",
    jurisdictions=("ew",),
    legal_basis="Pre-Action Protocol for Debt Claims paras 1.1, 3.1 and Annexes 1-2 (statement "
    "of account, Information Sheet, Reply Form, Financial Statement); PD Pre-Action Conduct "
    "paras 13-16 (sanctions).",
)
def pap_debt_enclosures(facts: CaseFacts) -> Iterator[Finding]:
    if facts.debtor_kind != "individual":
        return
    letters = delivered_demand_letters(facts)
    if any(set(PAP_DEBT_ENCLOSURES) <= set(e.details.get("enclosures") or ()) for e in letters):
        return
    everything = joined(list(PAP_DEBT_ENCLOSURES.values()))
    remedy = (
        f"Send {facts.debtor_name} a letter of claim enclosing {everything}, record the "
        "enclosures on its dispatch, and allow 30 days for a reply."
    )
    if not letters:
        yield Finding(
            "R13",
            "blocker",
            f"{facts.debtor_name} is an individual: the letter of claim must be delivered with "
            f"{everything}, and none has been delivered.",
            remedy=remedy,
        )
        return
    latest = letters[-1]
    enclosed = set(latest.details.get("enclosures") or ())
    missing = [text for key, text in PAP_DEBT_ENCLOSURES.items() if key not in enclosed]
    yield Finding(
        "R13",
        "blocker",
        f"{facts.debtor_name} is an individual, and the demand letter delivered on "
        f"{day(latest.delivered_on)} did not enclose {joined(missing)}.",
        remedy=remedy,
    )


@rule(
    "R10",
    title="Acknowledgment relied on is signed and in writing",
    from_stage="prosecution",
    severity="blocker",
    jurisdictions=("ew", "us"),
    legal_basis="E&W Limitation Act 1980 ss.29(5), 30(1); US: state law, e.g. Illinois 735 ILCS "
    "5/13-206 (a new promise in writing); UCC § 2-725 itself has no restart.",
)
def acknowledgment_signed(facts: CaseFacts) -> Iterator[Finding]:
    unsigned = [e for e in facts.events_of("acknowledgment") if not e.details.get("signed")]
    if not unsigned:
        return
    why = _SIGNED_WRITING.get(facts.jurisdiction, "it must be in writing and signed")
    for invoice in facts.claimed:
        result = invoice.limitation
        if result is None or not at_risk(invoice):
            continue
        # Only acknowledgments before the deadline could have saved the invoice.
        relied = [event for event in unsigned if event.date <= result.deadline]
        if not relied:
            continue
        dates = joined([f"{day(event.date)} (event #{event.id})" for event in relied])
        deadline = day(result.deadline)
        if result.expired:
            state = f"expired on {deadline}"
            remedy = (
                f"Do not rely on the acknowledgment of {dates}. Unless a signed written "
                f"acknowledgment or a payment on or before {deadline} can be found and "
                f"recorded, remove invoice {invoice.number} from the case."
            )
        else:
            state = f"ends on {deadline}"
            remedy = (
                f"Obtain {facts.debtor_name}'s written acknowledgment of invoice "
                f"{invoice.number}, signed, before {deadline}, or issue proceedings by then."
            )
        yield Finding(
            "R10",
            "blocker",
            f"Limitation for invoice {invoice.number} {state}; the debtor's acknowledgment of "
            f"{dates} is oral or unsigned and cannot be relied on ({why}).",
            remedy=remedy,
            invoice=invoice.key,
        )
