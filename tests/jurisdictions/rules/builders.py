"""A complete, clean case (no findings at any stage) to tweak one thing at a time."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from portal.jurisdictions import LimitationResult
from portal.jurisdictions.rules import (
    RULES,
    CaseFacts,
    EventFact,
    EvidenceFact,
    Finding,
    InvoiceFact,
)

AS_OF = date(2025, 6, 30)
CURRENCY = {"cn": "CNY", "ew": "GBP", "us": "USD"}
PERIOD_YEARS = {"cn": 3, "ew": 6, "us": 4}
ALL_ENCLOSURES = ["information_sheet", "reply_form", "financial_statement", "statement_of_account"]


def day(text: str) -> date:
    return date.fromisoformat(text)


def limitation(
    deadline: str = "2027-10-31",
    *,
    set_by: str = "due date 2024-10-31",
    set_by_kind: str = "due_date",
    as_of: date = AS_OF,
    warning_days: int = 90,
) -> LimitationResult:
    """A limitation result whose expired/warning flags follow from ``deadline`` and ``as_of``."""
    end = day(deadline)
    expired = as_of > end
    return LimitationResult(
        deadline=end,
        set_by=set_by,
        set_by_kind=set_by_kind,
        period_years=3,
        expired=expired,
        warning=not expired and end - as_of <= timedelta(days=warning_days),
        ignored=(),
    )


def invoice(key: str = "INV-1", **overrides) -> InvoiceFact:
    """INV-1 (2024/101): 1,200.00 less a payment of 200.00 on 2024-11-15, due 2024-10-31."""
    values = {
        "key": key,
        "number": "2024/101",
        "currency": "GBP",
        "amount": Decimal("1200.00"),
        "credited": Decimal("0.00"),
        "paid": Decimal("200.00"),
        "outstanding": Decimal("1000.00"),
        "due_date": day("2024-10-31"),
        "disputed": False,
        "limitation": limitation(),
        "reductions": ((day("2024-11-15"), Decimal("200.00")),),
    }
    values.update(overrides)
    return InvoiceFact(**values)


def second_invoice(**overrides) -> InvoiceFact:
    """INV-2 (2024/102): 800.00 unpaid, due 2024-11-30."""
    values = {
        "number": "2024/102",
        "amount": Decimal("800.00"),
        "paid": Decimal("0.00"),
        "outstanding": Decimal("800.00"),
        "due_date": day("2024-11-30"),
        "limitation": limitation("2027-11-30", set_by="due date 2024-11-30"),
        "reductions": (),
    }
    values.update(overrides)
    return invoice("INV-2", **values)


def evidence(id: int, kind: str, *invoices: str, **overrides) -> EvidenceFact:
    """A complete item: dated, sourced, signed and sealed by the debtor, original held."""
    values = {
        "id": id,
        "kind": kind,
        "name": f"{kind}-{id}.pdf",
        "document_date": day("2024-10-01"),
        "signed_by_debtor": True,
        "sealed": True,
        "original_held": True,
        "description": f"the {kind.replace('_', ' ')}",
        "source": "debtor",
        "proves": "the debt",
        "signer": "J. Smith, warehouse manager",
        "amount": None,
        "currency": None,
        "invoices": frozenset(invoices),
    }
    values.update(overrides)
    return EvidenceFact(**values)


def event(id: int, type: str, on: str, **overrides) -> EventFact:
    return EventFact(id=id, type=type, date=day(on), **overrides)


def demand_letter(
    id: int = 20,
    sent: str = "2025-05-01",
    delivered: str | None = "2025-05-02",
    **details,
) -> EventFact:
    """A dispatch of the lawyer's demand letter (with the PAP-Debt enclosures by default)."""
    values = {
        "document": "demand_letter",
        "courier": "DHL",
        "tracking": "JD0001",
        "enclosures": list(ALL_ENCLOSURES),
    }
    values.update(details)
    return event(
        id, "dispatch", sent, delivered_on=day(delivered) if delivered else None, details=values
    )


def facts(jurisdiction: str = "ew", **overrides) -> CaseFacts:
    """A complete, clean case in ``jurisdiction``; ``overrides`` replace whole fields."""
    currency = CURRENCY[jurisdiction]
    invoices = (invoice(currency=currency), second_invoice(currency=currency))
    values = {
        "case_id": 1,
        "reference": "AC-2025-0001",
        "jurisdiction": jurisdiction,
        "stage": "demand_letter",
        "as_of": AS_OF,
        "debtor_name": "Northwind Trading Ltd",
        "debtor_kind": "company",
        "debtor_address": "1 Quay Street, Bristol BS1 4DJ",
        "currency": currency,
        "lawyer": ("Wei Li", "Harbour Law LLP", "13101201510000001"),
        "route": "suit",
        "invoices": invoices,
        "evidence": (
            evidence(1, "contract", document_date=day("2024-01-10")),
            evidence(2, "delivery_note", "INV-1", document_date=day("2024-10-01")),
            evidence(3, "delivery_note", "INV-2", document_date=day("2024-10-31")),
            evidence(4, "invoice", "INV-1", amount=Decimal("1200.00"), currency=currency),
            evidence(5, "invoice", "INV-2", amount=Decimal("800.00"), currency=currency),
            evidence(6, "invoice_delivery_proof", "INV-1", "INV-2", source="e-mail server"),
            evidence(
                7,
                "reconciliation_confirmation",
                document_date=day("2024-12-31"),
                amount=Decimal("1800.00"),
                currency=currency,
            ),
            evidence(8, "dispatch_proof", document_date=day("2025-05-02"), source="DHL"),
        ),
        "events": (
            event(
                10,
                "acknowledgment",
                "2025-03-01",
                amount=Decimal("1800.00"),
                details={"signed": True, "amount": "1800.00", "currency": currency},
            ),
            demand_letter(),
        ),
        "interest_basis": "contractual",
        "interest_error": None,
        "reply_days": 14,
    }
    values.update(overrides)
    return CaseFacts(**values)


def change(case: CaseFacts, **overrides) -> CaseFacts:
    return dataclasses.replace(case, **overrides)


def with_evidence(case: CaseFacts, id: int, **changes) -> CaseFacts:
    """``case`` with evidence item ``id`` changed (``remove=True`` drops it)."""
    if changes.pop("remove", False):
        return change(case, evidence=tuple(e for e in case.evidence if e.id != id))
    return change(
        case,
        evidence=tuple(
            dataclasses.replace(e, **changes) if e.id == id else e for e in case.evidence
        ),
    )


def add_evidence(case: CaseFacts, *items: EvidenceFact) -> CaseFacts:
    return change(case, evidence=case.evidence + items)


def with_invoice(case: CaseFacts, key: str, **changes) -> CaseFacts:
    return change(
        case,
        invoices=tuple(
            dataclasses.replace(i, **changes) if i.key == key else i for i in case.invoices
        ),
    )


def with_events(case: CaseFacts, *events: EventFact, keep: bool = True) -> CaseFacts:
    """``case`` with ``events`` added (``keep=False``: instead of the existing ones)."""
    return change(case, events=(case.events if keep else ()) + events)


def check(case: CaseFacts, rule_id: str) -> list[tuple]:
    """Run one rule; its findings as (rule, severity, invoice, evidence), each with a remedy."""
    return summary(list(RULES[rule_id].check(case)))


def summary(findings: list[Finding]) -> list[tuple]:
    for finding in findings:
        assert finding.message.strip(), finding
        assert finding.remedy.strip(), finding
    return [(f.rule, f.severity, f.invoice, f.evidence) for f in findings]


def only(case: CaseFacts, rule_id: str) -> Finding:
    """The single finding of one rule."""
    findings = list(RULES[rule_id].check(case))
    assert len(findings) == 1, findings
    return findings[0]
