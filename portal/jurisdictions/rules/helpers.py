"""Small readings of :class:`CaseFacts` that several rules share. Pure, like the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .base import CaseFacts, EventFact, EvidenceFact, InvoiceFact

#: Dispatched documents that demand payment (the same set as ``portal.cases.claims``).
DEMAND_DOCUMENTS = ("advance_notice", "warning_letter", "demand_letter")

#: What restarts limitation in each jurisdiction, in a clerk's words (see the packs).
RESTARTS = {
    "cn": "a demand that reached the debtor (with proof of delivery), the debtor's agreement to "
    "pay or a part payment",
    "ew": "a written acknowledgment signed by the debtor, or a payment",
    "us": "a written acknowledgment signed by the debtor (or a part payment where state law "
    "allows)",
}

#: Minimum reply periods to a letter of claim in England & Wales, by debtor kind.
EW_REPLY_DAYS = {
    "individual": 30,  # Pre-Action Protocol for Debt Claims para 3.1
    "company": 14,  # Practice Direction - Pre-Action Conduct para 6(c)
}

_CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """``amount`` to the cent (half-up), for comparisons "to the cent"."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str | None) -> str:
    """E.g. ``GBP 1,234.50``."""
    text = f"{cents(amount):,.2f}"
    return f"{currency} {text}" if currency else text


def blank(text: str | None) -> bool:
    return text is None or not text.strip()


def day(value: dt.date) -> str:
    return value.isoformat()


def claim_currency(facts: CaseFacts) -> str | None:
    """The case currency, else that of the first claimed invoice."""
    if facts.currency:
        return facts.currency
    return facts.claimed[0].currency if facts.claimed else None


def claimed_keys(facts: CaseFacts) -> frozenset[str]:
    return frozenset(item.key for item in facts.claimed)


def numbers(facts: CaseFacts, keys: Iterable[str]) -> str:
    """Invoice numbers of ``keys`` in ledger order (unknown keys as they are), comma-separated."""
    wanted = set(keys)
    known = [item.number for item in facts.invoices if item.key in wanted]
    unknown = sorted(wanted - {item.key for item in facts.invoices})
    return ", ".join(known + unknown)


def concerns_claim(item: EvidenceFact, keys: frozenset[str]) -> bool:
    """Whether an item bears on the claim: linked to a claimed invoice, or to none (general)."""
    return not item.invoices or bool(item.invoices & keys)


def only_invoice(item: EvidenceFact) -> str | None:
    """The one invoice an item is linked to, if it is linked to exactly one."""
    return next(iter(item.invoices)) if len(item.invoices) == 1 else None


#: How an item of each kind is called in a sentence, where its kind name alone would mislead.
_KIND_WORDS = {"invoice": "invoice copy", "other": "item"}


def label(item: EvidenceFact) -> str:
    """E.g. ``delivery note #12 (DN-1043.pdf)``, ``invoice copy #4 (INV-1043.pdf)``."""
    kind = _KIND_WORDS.get(item.kind, item.kind.replace("_", " "))
    return f"{kind} #{item.id} ({item.name})"


def invoice_list(facts: CaseFacts, keys: Iterable[str]) -> str:
    """``invoice 2024/101`` / ``invoices 2024/101, 2024/102``."""
    keys = list(keys)
    noun = "invoice" if len(keys) == 1 else "invoices"
    return f"{noun} {numbers(facts, keys)}"


def for_invoices(facts: CaseFacts, item: EvidenceFact) -> str:
    """`` for invoice 2024/101`` / `` for invoices 2024/101, 2024/102`` / ``""``."""
    return f" for {invoice_list(facts, item.invoices)}" if item.invoices else ""


def linked(items: Iterable[EvidenceFact], invoice: InvoiceFact) -> list[EvidenceFact]:
    """The items linked to ``invoice`` (an item without links is not linked to any)."""
    return [item for item in items if invoice.key in item.invoices]


def dispatches(facts: CaseFacts, *documents: str) -> list[EventFact]:
    """``dispatch`` events of the given document kinds, in timeline order."""
    return [
        event for event in facts.events_of("dispatch") if event.details.get("document") in documents
    ]


def delivered_demand_letters(facts: CaseFacts) -> list[EventFact]:
    """Dispatches of a lawyer's demand letter with a delivery date, latest delivery last."""
    letters = [event for event in dispatches(facts, "demand_letter") if event.delivered_on]
    return sorted(letters, key=lambda event: (event.delivered_on, event.id))


def describe_dispatch(event: EventFact) -> str:
    """E.g. ``the demand letter sent on 2025-05-01 (event #7)``."""
    document = str(event.details.get("document", "document")).replace("_", " ")
    return f"the {document} sent on {day(event.date)} (event #{event.id})"


def proven_dispatches(facts: CaseFacts) -> set[int]:
    """Ids of the sending events (dispatches, reconciliation letters) that a proof covers.

    A ``dispatch_proof`` item is taken to belong to the latest sending on or before its
    document date, so a courier receipt for this month's letter does not prove last year's.
    """
    sendings = facts.events_of("dispatch", "reconciliation_sent")
    proven: set[int] = set()
    for item in facts.evidence_of("dispatch_proof"):
        if item.document_date is None:
            continue
        before = [event.date for event in sendings if event.date <= item.document_date]
        if before:
            latest = max(before)
            proven.update(event.id for event in sendings if event.date == latest)
    return proven


def at_risk(invoice: InvoiceFact) -> bool:
    """Limitation expired, or ending within the warning window."""
    result = invoice.limitation
    return result is not None and (result.expired or result.warning)


def limitation_state(invoice: InvoiceFact) -> str:
    """E.g. ``expired on 2025-03-31`` / ``ends on 2025-08-31``."""
    result = invoice.limitation
    if result is None:
        return "is not known"
    verb = "expired on" if result.expired else "ends on"
    return f"{verb} {day(result.deadline)}"


def event_amount(event: EventFact) -> tuple[Decimal | None, str | None]:
    """An event's amount and currency (the amount column, else ``details["amount"]``)."""
    amount = event.amount
    if amount is None and event.details.get("amount") is not None:
        amount = Decimal(str(event.details["amount"]))
    return amount, event.details.get("currency")


def joined(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"
