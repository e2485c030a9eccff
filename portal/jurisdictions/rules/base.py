"""Facts a completeness rule reads, and the rule registry. Pure: no Flask, no database.

The case side (``portal/cases/readiness.py``) builds ``CaseFacts`` for many cases with a few
batched queries; each rule is a small function of one case's facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..base import LimitationResult

#: The escalation ladder, in order (the same values as ``portal.cases.models.Stage``).
STAGES = ("reconciliation", "notice", "warning", "demand_letter", "prosecution")
JURISDICTIONS = ("cn", "ew", "us")


@dataclass(frozen=True)
class Finding:
    """Something that stands in the way of a stage, or should be looked at."""

    rule: str
    severity: str  #: "blocker" | "warning"
    message: str
    remedy: str = ""
    invoice: str | None = None
    evidence: int | None = None

    def as_dict(self) -> dict:
        data = {"rule": self.rule, "severity": self.severity, "message": self.message}
        if self.remedy:
            data["remedy"] = self.remedy
        if self.invoice is not None:
            data["invoice"] = self.invoice
        if self.evidence is not None:
            data["evidence"] = self.evidence
        return data


@dataclass(frozen=True)
class EvidenceFact:
    id: int
    kind: str  #: contract, purchase_order, delivery_note, invoice, invoice_delivery_proof, …
    name: str
    document_date: dt.date | None
    signed_by_debtor: bool | None
    sealed: bool | None
    original_held: bool | None
    description: str | None
    source: str | None
    proves: str | None
    signer: str | None
    amount: Decimal | None
    currency: str | None
    invoices: frozenset[str] = frozenset()  #: external ids of the linked invoices
    duplicate_of: int | None = None
    parent: int | None = None


@dataclass(frozen=True)
class InvoiceFact:
    key: str  #: external id
    number: str
    currency: str
    amount: Decimal
    credited: Decimal
    paid: Decimal
    outstanding: Decimal
    due_date: dt.date
    disputed: bool
    limitation: LimitationResult | None
    #: (date, amount) of every credit note and allocated payment, oldest first.
    reductions: tuple[tuple[dt.date, Decimal], ...] = ()


@dataclass(frozen=True)
class EventFact:
    id: int
    type: str  #: contact, promise, dispute, …, dispatch, acknowledgment, preservation, note
    date: dt.date
    due: dt.date | None = None
    delivered_on: dt.date | None = None
    amount: Decimal | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CaseFacts:
    case_id: int
    reference: str
    jurisdiction: str
    stage: str
    as_of: dt.date
    debtor_name: str
    debtor_kind: str  #: company | individual
    debtor_address: str | None
    currency: str | None
    #: (name, firm, licence number) of the assigned lawyer.
    lawyer: tuple[str, str | None, str | None] | None
    #: Litigation route chosen (``payment_order`` matters in the PRC), if any.
    route: str | None
    invoices: tuple[InvoiceFact, ...]
    evidence: tuple[EvidenceFact, ...]
    events: tuple[EventFact, ...]
    interest_basis: str | None
    interest_error: str | None
    #: Days the debtor has to answer a demand letter (per jurisdiction; PD-PAC, PAP-Debt …).
    reply_days: int = 14

    @property
    def claimed(self) -> tuple[InvoiceFact, ...]:
        """Invoices in the claim (not under an unresolved dispute)."""
        return tuple(item for item in self.invoices if not item.disputed)

    def evidence_of(self, *kinds: str) -> list[EvidenceFact]:
        return [item for item in self.evidence if item.kind in kinds]

    def events_of(self, *types: str) -> list[EventFact]:
        return [item for item in self.events if item.type in types]


Check = Callable[[CaseFacts], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A completeness rule: its stable id, where it applies, and the check."""

    id: str
    title: str
    #: The first stage it applies to; it applies to every later stage too.
    from_stage: str
    jurisdictions: frozenset[str]
    severity: str
    legal_basis: str
    check: Check
    #: Legal may proceed past it with a recorded reason (a protective claim before limitation
    #: expires); the reason goes to counsel, never into the pleading.
    overridable: bool = False

    def applies(self, jurisdiction: str, stage: str) -> bool:
        return jurisdiction in self.jurisdictions and STAGES.index(stage) >= STAGES.index(
            self.from_stage
        )


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    title: str,
    from_stage: str,
    severity: str,
    legal_basis: str,
    jurisdictions: Sequence[str] = JURISDICTIONS,
    overridable: bool = False,
) -> Callable[[Check], Check]:
    """Register a rule function under a stable id."""
    if from_stage not in STAGES:
        raise ValueError(f"unknown stage {from_stage!r}")

    def decorator(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(
            rule_id,
            title,
            from_stage,
            frozenset(jurisdictions),
            severity,
            legal_basis,
            check,
            overridable,
        )
        return check

    return decorator


def evaluate(facts: CaseFacts, stage: str) -> list[Finding]:
    """Every applicable rule's findings for entering (or being at) ``stage``, blockers first."""
    found = [
        finding
        for item in RULES.values()
        if item.applies(facts.jurisdiction, stage)
        for finding in item.check(facts)
    ]
    return sorted(found, key=finding_order)


def finding_order(finding: Finding) -> tuple[bool, str, int]:
    """Blockers first, then by rule id read as letter and number (R2 before R10)."""
    digits = "".join(char for char in finding.rule if char.isdigit())
    letters = "".join(char for char in finding.rule if not char.isdigit())
    return finding.severity != "blocker", letters, int(digits or 0)


def readiness(facts: CaseFacts) -> dict[str, dict]:
    """``{stage: {"ready": bool, "findings": [...]}}`` for every stage."""
    result = {}
    for stage in STAGES:
        findings = evaluate(facts, stage)
        result[stage] = {
            "ready": not any(finding.severity == "blocker" for finding in findings),
            "findings": findings,
        }
    return result
