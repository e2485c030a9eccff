"""Completeness rules of every jurisdiction, and the stage needs N1–N3 of the design table.

Each rule reads the claimed invoices (``facts.claimed``: disputed ones are out of the claim)
unless it says otherwise. Messages use invoice numbers; ``Finding.invoice`` is the external id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from .base import CaseFacts, Finding, rule
from .helpers import (
    EW_REPLY_DAYS,
    RESTARTS,
    blank,
    cents,
    claim_currency,
    claimed_keys,
    concerns_claim,
    day,
    delivered_demand_letters,
    describe_dispatch,
    dispatches,
    event_amount,
    for_invoices,
    invoice_list,
    joined,
    label,
    linked,
    money,
    numbers,
    only_invoice,
)

# --- stage needs -------------------------------------------------------------------------------


@rule(
    "N1",
    title="Debtor address recorded",
    from_stage="reconciliation",
    severity="blocker",
    legal_basis="Practice: every letter of the ladder goes to this address. For the claim: PRC "
    "Civil Procedure Law (2023) art. 124(2); E&W CPR 6.9 (where a company or individual is "
    "served); US FRCP 4(e), 4(h).",
)
def debtor_address(facts: CaseFacts) -> Iterator[Finding]:
    if blank(facts.debtor_address):
        yield Finding(
            "N1",
            "blocker",
            f"No address is recorded for {facts.debtor_name}, so no letter can be sent.",
            remedy=f"Enter the registered or trading address of {facts.debtor_name} on the "
            "debtor record.",
        )


@rule(
    "N2",
    title="Invoices claimed",
    from_stage="reconciliation",
    severity="blocker",
    legal_basis="Practice: a case claims at least one undisputed invoice.",
)
def invoices_claimed(facts: CaseFacts) -> Iterator[Finding]:
    if facts.claimed:
        return
    if facts.invoices:
        yield Finding(
            "N2",
            "blocker",
            f"Every invoice of the case ({numbers(facts, (i.key for i in facts.invoices))}) is "
            "disputed, so nothing is claimed.",
            remedy="Resolve the disputes and record the resolution on the timeline, or add "
            "undisputed invoices to the case.",
        )
    else:
        yield Finding(
            "N2",
            "blocker",
            "The case has no invoices.",
            remedy=f"Add the unpaid invoices of {facts.debtor_name} to the case.",
        )


@rule(
    "N3",
    title="Lawyer assigned",
    from_stage="demand_letter",
    severity="blocker",
    legal_basis="The ladder's demand letter is a lawyer's letter signed by counsel (PRC Lawyers "
    "Law art. 25: the law firm accepts the mandate). Practice in E&W and the US, where a creditor "
    "may write the letter of claim itself.",
)
def lawyer_assigned(facts: CaseFacts) -> Iterator[Finding]:
    if facts.lawyer is None:
        yield Finding(
            "N3",
            "blocker",
            "No lawyer is assigned; the demand letter must be signed by counsel.",
            remedy="Assign an external lawyer to the case.",
        )


# --- R1 limitation ----------------------------------------------------------------------------


@rule(
    "R1",
    title="Limitation not expired",
    from_stage="reconciliation",
    severity="blocker",
    legal_basis="PRC Civil Code arts. 188, 192, 195; E&W Limitation Act 1980 ss.5, 29(5), 30; "
    "US UCC § 2-725 (Illinois 810 ILCS 5/2-725). Limitation is a defence the debtor must raise "
    "(PRC Civil Code art. 193); not pursuing a barred invoice is practice.",
)
def limitation(facts: CaseFacts) -> Iterator[Finding]:
    restarts = RESTARTS.get(facts.jurisdiction, "an event that restarts limitation")
    for invoice in facts.claimed:
        result = invoice.limitation
        if result is None:
            continue
        deadline = day(result.deadline)
        if result.expired:
            yield Finding(
                "R1",
                "blocker",
                f"Limitation for invoice {invoice.number} expired on {deadline} (set by "
                f"{result.set_by}).",
                remedy=f"Look for {restarts} on or before {deadline} that is not on the "
                f"timeline and record it; if there is none, remove invoice {invoice.number} "
                "from the case.",
                invoice=invoice.key,
            )
        elif result.warning:
            left = (result.deadline - facts.as_of).days
            yield Finding(
                "R1",
                "warning",
                f"Limitation for invoice {invoice.number} ends on {deadline}, in {left} days "
                f"(set by {result.set_by}).",
                remedy=f"Issue proceedings for invoice {invoice.number} before {deadline}, or "
                f"obtain {restarts} before then.",
                invoice=invoice.key,
            )


# --- contract and delivery --------------------------------------------------------------------


@rule(
    "R2",
    title="Contract or purchase order",
    from_stage="demand_letter",
    severity="warning",
    legal_basis="E&W PD 16 para 7.3 (a written agreement sued on is attached to the particulars "
    "of claim); US UCC § 2-201 (writing for sales of USD 500 or more; accepted goods excepted by "
    "§ 2-201(3)(c)); PRC Civil Code art. 490, Civil Procedure Law (2023) art. 67 (burden of "
    "proof). A warning: the contract can also be shown by the course of dealing.",
)
def contract(facts: CaseFacts) -> Iterator[Finding]:
    agreements = facts.evidence_of("contract", "purchase_order")
    for invoice in facts.claimed:
        # An agreement linked to no invoice is a framework agreement: it covers all of them.
        if any(not item.invoices or invoice.key in item.invoices for item in agreements):
            continue
        yield Finding(
            "R2",
            "warning",
            f"No contract or purchase order covers invoice {invoice.number}.",
            remedy=f"Upload the contract or purchase order for invoice {invoice.number} and link "
            "it to the invoice, or upload correspondence and earlier paid invoices that show the "
            "course of dealing.",
            invoice=invoice.key,
        )


@rule(
    "R3",
    title="Delivery note",
    from_stage="notice",
    severity="blocker",
    legal_basis="Proof of delivery in an action for the price: PRC SPC Interpretation on sales "
    "contracts (2020 rev.) art. 5 (a VAT invoice alone does not prove delivery); E&W Sale of "
    "Goods Act 1979 s.49(1); US UCC § 2-709(1)(a) (price of goods accepted).",
)
def delivery_note(facts: CaseFacts) -> Iterator[Finding]:
    notes = facts.evidence_of("delivery_note")
    for invoice in facts.claimed:
        if not linked(notes, invoice):
            yield Finding(
                "R3",
                "blocker",
                f"No delivery note is linked to invoice {invoice.number}.",
                remedy=f"Upload the delivery note for invoice {invoice.number} signed by "
                f"{facts.debtor_name} on receipt, or link the one already uploaded.",
                invoice=invoice.key,
            )


@rule(
    "R4",
    title="Delivery note signer's authority",
    from_stage="notice",
    severity="warning",
    legal_basis="PRC Civil Code arts. 170, 172 (acts of staff; apparent authority): courts look "
    "for the company seal or a named receiver. E&W/US: the law of agency (actual or apparent "
    "authority). The check itself is practice.",
)
def delivery_note_signer(facts: CaseFacts) -> Iterator[Finding]:
    keys = claimed_keys(facts)
    for item in facts.evidence_of("delivery_note"):
        if not concerns_claim(item, keys) or item.signed_by_debtor is not True:
            continue
        if item.sealed is True or not blank(item.signer):
            continue
        yield Finding(
            "R4",
            "warning",
            f"The {label(item)}{for_invoices(facts, item)} is signed for {facts.debtor_name} "
            "but bears no company seal and does not name the signer, so the signer's authority "
            "is not shown.",
            remedy=f"Record who signed {label(item)} and their role at {facts.debtor_name}, or "
            "upload a copy that bears the debtor's seal.",
            invoice=only_invoice(item),
            evidence=item.id,
        )


@rule(
    "R5",
    title="Delivery note signed by the debtor",
    from_stage="notice",
    severity="blocker",
    legal_basis="As R3: the debtor's signature on the delivery note is what proves receipt "
    "(PRC SPC Interpretation on sales contracts (2020 rev.) art. 5; E&W Sale of Goods Act 1979 "
    "ss.35, 49; US UCC §§ 2-606, 2-709).",
)
def delivery_note_signed(facts: CaseFacts) -> Iterator[Finding]:
    notes = facts.evidence_of("delivery_note")
    for invoice in facts.claimed:
        mine = linked(notes, invoice)
        if not mine or any(item.signed_by_debtor is True for item in mine):
            continue  # none at all is R3's finding
        yield Finding(
            "R5",
            "blocker",
            f"No delivery note for invoice {invoice.number} is signed by {facts.debtor_name} "
            f"({', '.join(f'#{item.id}' for item in mine)}).",
            remedy=f"Obtain the delivery note for invoice {invoice.number} signed by "
            f"{facts.debtor_name} on receipt and upload it.",
            invoice=invoice.key,
            evidence=mine[0].id if len(mine) == 1 else None,
        )


@rule(
    "R18",
    title="Invoice delivery proof",
    from_stage="notice",
    severity="warning",
    legal_basis="E&W Late Payment of Commercial Debts (Interest) Act 1998 s.4(5)-(6) (without an "
    "agreed date, interest runs from 30 days after the purchaser has notice of the debt). "
    "Elsewhere practice: proof that the invoice arrived fixes the due date and answers 'never "
    "received it'.",
)
def invoice_delivery_proof(facts: CaseFacts) -> Iterator[Finding]:
    proofs = facts.evidence_of("invoice_delivery_proof")
    for invoice in facts.claimed:
        if not linked(proofs, invoice):
            yield Finding(
                "R18",
                "warning",
                f"No proof is on file that {facts.debtor_name} received invoice {invoice.number}.",
                remedy=f"Upload proof that invoice {invoice.number} was sent and received (the "
                "e-mail with its delivery receipt, or the courier receipt) and link it to the "
                "invoice.",
                invoice=invoice.key,
            )


# --- the evidence items -----------------------------------------------------------------------

#: Kinds whose original the debtor could be asked to see.
_ORIGINALS = (
    "contract",
    "purchase_order",
    "delivery_note",
    "acknowledgment",
    "reconciliation_confirmation",
)


@rule(
    "R6",
    title="Original held",
    from_stage="demand_letter",
    severity="warning",
    legal_basis="PRC Civil Procedure Law (2023) art. 73 (documents in the original) and SPC "
    "Provisions on Evidence in Civil Procedure (2019) art. 90(5) (a copy that cannot be checked "
    "against the original is not enough on its own); E&W Civil Evidence Act 1995 s.8 (copies "
    "admissible, weight may suffer: practice); US FRE 1002-1003.",
)
def original_held(facts: CaseFacts) -> Iterator[Finding]:
    keys = claimed_keys(facts)
    for item in facts.evidence_of(*_ORIGINALS):
        if item.original_held is False and concerns_claim(item, keys):
            yield Finding(
                "R6",
                "warning",
                f"Only a copy of the {label(item)}{for_invoices(facts, item)} is held.",
                remedy=f"Find the original of {label(item)} (sales, logistics or finance files), "
                "keep it safe and record it as held; the debtor may deny a copy.",
                invoice=only_invoice(item),
                evidence=item.id,
            )


@rule(
    "R8",
    title="Evidence described for the evidence list",
    from_stage="prosecution",
    severity="blocker",
    legal_basis="PRC SPC Provisions on Evidence in Civil Procedure (2019) art. 19 (each item "
    "numbered, with its source, what it proves and its content); E&W: practice (court guides on "
    "bundles and exhibit indices); US FRCP 26(a)(3)(A)(iii) (identify each document).",
)
def evidence_described(facts: CaseFacts) -> Iterator[Finding]:
    keys = claimed_keys(facts)
    for item in facts.evidence:
        if not concerns_claim(item, keys):
            continue
        missing = []
        if item.kind == "other" and blank(item.description):
            missing.append("a description of what it is")
        if item.document_date is None:
            missing.append("the document date")
        if blank(item.source):
            missing.append("its source")
        if blank(item.proves):
            missing.append("what it proves")
        if missing:
            yield Finding(
                "R8",
                "blocker",
                f"The {label(item)} lacks {joined(missing)}.",
                remedy=f"Complete {label(item)}: enter {joined(missing)} (the evidence list "
                "shows them for every item).",
                invoice=only_invoice(item),
                evidence=item.id,
            )


@rule(
    "R20",
    title="Same file filed twice",
    from_stage="reconciliation",
    severity="warning",
    legal_basis="Practice: one exhibit per document; a duplicate confuses the evidence list and "
    "page references.",
)
def duplicates(facts: CaseFacts) -> Iterator[Finding]:
    for item in facts.evidence:
        if item.duplicate_of is not None:
            yield Finding(
                "R20",
                "warning",
                f"The {label(item)} is the same file (same SHA-256) as item #{item.duplicate_of}.",
                remedy=f"Delete item #{item.id} and link its invoices to item "
                f"#{item.duplicate_of}, unless it is meant as a separate exhibit.",
                invoice=only_invoice(item),
                evidence=item.id,
            )


# --- amounts ----------------------------------------------------------------------------------


@rule(
    "R7",
    title="Amounts reconciled",
    from_stage="demand_letter",
    severity="blocker",
    legal_basis="PRC Civil Procedure Law (2023) art. 124(3) (specific claims); E&W CPR 16.2(1)(b) "
    "and 16.3 (the value of the claim); US FRCP 8(a)(3). To the cent is practice: a wrong figure "
    "is the first thing a debtor disputes.",
)
def amounts_reconciled(facts: CaseFacts) -> Iterator[Finding]:
    documents = facts.evidence_of("invoice")
    for invoice in facts.claimed:
        for item in documents:
            if item.invoices != {invoice.key} or item.amount is None:
                continue
            if item.currency not in (None, invoice.currency):
                continue  # another currency cannot be compared to the cent
            if cents(item.amount) != cents(invoice.amount):
                yield Finding(
                    "R7",
                    "blocker",
                    f"The {label(item)} shows {money(item.amount, invoice.currency)} for invoice "
                    f"{invoice.number}; the ledger has {money(invoice.amount, invoice.currency)}.",
                    remedy=f"Check invoice {invoice.number} against the document: correct the "
                    f"ledger amount or the amount recorded on item #{item.id}, or upload the "
                    "right invoice.",
                    invoice=invoice.key,
                    evidence=item.id,
                )
        expected = invoice.amount - invoice.credited - invoice.paid
        currency = invoice.currency
        if cents(invoice.outstanding) != cents(expected):
            yield Finding(
                "R7",
                "blocker",
                f"Invoice {invoice.number}: the balance {money(invoice.outstanding, currency)} "
                f"is not the amount {money(invoice.amount, currency)} less credit notes "
                f"{money(invoice.credited, currency)} and payments "
                f"{money(invoice.paid, currency)} ({money(expected, currency)}).",
                remedy=f"Check the payments and credit notes of invoice {invoice.number} in the "
                "ledger and correct them.",
                invoice=invoice.key,
            )
        elif invoice.outstanding < 0:
            yield Finding(
                "R7",
                "blocker",
                f"Invoice {invoice.number} is overpaid by {money(-invoice.outstanding, currency)}.",
                remedy=f"Reallocate the excess payment or credit on invoice {invoice.number} to "
                "another invoice (or record the refund), then check the claim again.",
                invoice=invoice.key,
            )


@rule(
    "R11",
    title="Acknowledgment covers the whole debt",
    from_stage="demand_letter",
    severity="warning",
    legal_basis="Practice: an acknowledgment proves the debt only as far as it goes (E&W "
    "Limitation Act 1980 s.29(5); PRC Civil Code art. 195(2)).",
)
def acknowledgment_partial(facts: CaseFacts) -> Iterator[Finding]:
    currency = claim_currency(facts)
    total = sum((invoice.outstanding for invoice in facts.claimed), Decimal(0))
    for event in facts.events_of("acknowledgment"):
        amount, event_currency = event_amount(event)
        if amount is None or event_currency not in (None, currency):
            continue
        if cents(amount) < cents(total):
            yield Finding(
                "R11",
                "warning",
                f"The debtor's acknowledgment of {day(event.date)} (event #{event.id}) covers "
                f"{money(amount, currency)}, less than the {money(total, currency)} claimed.",
                remedy="Rely on it only for the amount acknowledged; for the rest, obtain the "
                "debtor's signed confirmation of the full balance, or prove it by the invoices "
                "and delivery notes.",
            )


@rule(
    "R12",
    title="Balance confirmation sealed and matching the ledger",
    from_stage="reconciliation",
    severity="warning",
    legal_basis="Practice: a balance confirmation is the debtor's written acknowledgment of the "
    "balance (PRC Civil Code art. 195(2); E&W Limitation Act 1980 s.29(5)); it proves the "
    "balance only if it is authentic and agrees with the ledger.",
)
def reconciliation_confirmation(facts: CaseFacts) -> Iterator[Finding]:
    currency = claim_currency(facts)
    for item in facts.evidence_of("reconciliation_confirmation"):
        # Outside the PRC a company need not use a seal; a signature does (Companies Act 2006 s.44).
        needs_seal = facts.jurisdiction == "cn" or item.signed_by_debtor is not True
        if item.sealed is False and needs_seal:
            what = "seal" if facts.jurisdiction == "cn" else "seal or signature"
            yield Finding(
                "R12",
                "warning",
                f"The {label(item)} does not bear {facts.debtor_name}'s {what}.",
                remedy=f"Ask {facts.debtor_name} to return the balance confirmation with its "
                f"{what}, and upload that copy.",
                invoice=only_invoice(item),
                evidence=item.id,
            )
        if item.amount is None or item.document_date is None:
            continue
        if item.currency not in (None, currency):
            continue
        # A confirmation linked to invoices confirms those; an unlinked one the whole claim.
        if item.invoices:
            scope = [invoice for invoice in facts.invoices if invoice.key in item.invoices]
        else:
            scope = list(facts.claimed)
        if not scope:
            continue
        on = item.document_date
        balance = sum(
            (
                invoice.amount - sum((a for d, a in invoice.reductions if d <= on), Decimal(0))
                for invoice in scope
            ),
            Decimal(0),
        )
        if cents(balance) != cents(item.amount):
            yield Finding(
                "R12",
                "warning",
                f"The {label(item)} confirms {money(item.amount, currency)} on {day(on)}; the "
                f"ledger balance of {invoice_list(facts, (i.key for i in scope))} on that date "
                f"was {money(balance, currency)}.",
                remedy=f"Check which invoices and payments the confirmation of {day(on)} lists: "
                "link it to exactly those invoices, or correct the ledger or the amount recorded "
                "on it.",
                invoice=only_invoice(item),
                evidence=item.id,
            )


@rule(
    "R16",
    title="Interest basis, rate and dates",
    from_stage="demand_letter",
    severity="blocker",
    legal_basis="E&W CPR 16.4(1)(b), (2) (basis, rate, dates and daily rate of interest); Late "
    "Payment of Commercial Debts (Interest) Act 1998; PRC Civil Code arts. 577, 584 and SPC "
    "Interpretation on sales contracts (2020 rev.) art. 18(4); US: the state statute (Illinois "
    "815 ILCS 205/2) and FRCP 8(a)(3).",
)
def interest_basis(facts: CaseFacts) -> Iterator[Finding]:
    if facts.interest_error:
        yield Finding(
            "R16",
            "blocker",
            f"Interest cannot be calculated: {facts.interest_error}",
            remedy="Fix the cause given (for example, have an admin add the missing rate, or "
            "enter the agreed rate on the invoices), then check the case again.",
        )
        return  # without a calculation there is no basis to report missing
    overdue = [
        invoice
        for invoice in facts.claimed
        if invoice.due_date < facts.as_of and invoice.outstanding > 0
    ]
    if overdue and blank(facts.interest_basis):
        yield Finding(
            "R16",
            "blocker",
            f"{_upper_first(invoice_list(facts, (i.key for i in overdue)))} "
            f"{'is' if len(overdue) == 1 else 'are'} overdue but no interest basis is recorded "
            "for the case.",
            remedy="Record the interest basis (the agreed rate from the contract, or the "
            "statutory basis) so that the letter states basis, rate, dates and daily amount.",
            invoice=overdue[0].key if len(overdue) == 1 else None,
        )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the demand letter and its reply period ---------------------------------------------------


def reply_days(facts: CaseFacts) -> int:
    """Days the debtor has to answer the demand letter (E&W minima by debtor kind)."""
    if facts.jurisdiction == "ew":
        return max(facts.reply_days, EW_REPLY_DAYS.get(facts.debtor_kind, 14))
    return facts.reply_days


@rule(
    "R14",
    title="Demand letter delivered and reply period over",
    from_stage="prosecution",
    severity="blocker",
    # A claim issued before the period ends (limitation about to expire) is a protective claim.
    overridable=True,
    legal_basis="E&W Pre-Action Protocol for Debt Claims para 3.1 (30 days, individual debtors) "
    "and PD Pre-Action Conduct para 6(c) (14 days, businesses), with PD-PAC paras 13-16 "
    "(sanctions). PRC and US: practice - the deadline the letter itself gives.",
)
def reply_period(facts: CaseFacts) -> Iterator[Finding]:
    letters = delivered_demand_letters(facts)
    if not letters:
        sent = dispatches(facts, "demand_letter")
        if sent:
            yield Finding(
                "R14",
                "blocker",
                f"There is no delivery date for {describe_dispatch(sent[-1])}.",
                remedy="Record the delivery date from the courier's tracking and upload the "
                "proof of delivery; if it was not delivered, send the demand letter again by a "
                "tracked service.",
            )
        else:
            yield Finding(
                "R14",
                "blocker",
                f"{facts.debtor_name} has not been sent a demand letter.",
                remedy="Send the lawyer's demand letter and record its dispatch and delivery.",
            )
        return
    latest = letters[-1]
    days = reply_days(facts)
    last_day = latest.delivered_on + dt.timedelta(days=days)
    period = f"{days} days"
    # The letter's own deadline (recorded with its dispatch) binds when it is later.
    if latest.due is not None and latest.due > last_day:
        last_day, period = latest.due, "the deadline the letter gave"
    if facts.as_of <= last_day:
        first_day = last_day + dt.timedelta(days=1)
        yield Finding(
            "R14",
            "blocker",
            f"The debtor has until {day(last_day)} to reply to the demand letter delivered on "
            f"{day(latest.delivered_on)} ({period}).",
            remedy=f"Record any reply, and prepare the claim on or after {day(first_day)}.",
        )
