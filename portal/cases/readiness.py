"""Completeness of cases: builds the rules' facts for many cases with a fixed number of queries,
evaluates the jurisdiction packs' rules and vetoes stage moves whose blockers remain."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..business_time import today_for
from ..evidence.models import Evidence, evidence_invoice
from ..extensions import db
from ..jurisdictions import rules as _registered_rules  # noqa: F401 - registers the rules
from ..jurisdictions.rules.base import (
    CaseFacts,
    EventFact,
    EvidenceFact,
    Finding,
    InvoiceFact,
    evaluate,
    finding_order,
)
from ..jurisdictions.rules.base import readiness as evaluate_all
from ..ledger.models import DebtorKind, Invoice
from .claims import CaseClaim, build_claims
from .models import Case, CaseStatus, Stage
from .services import readiness_checks, register_readiness_check

#: Days a debtor has to answer a demand letter, per jurisdiction (configurable).
DEFAULT_REPLY_DAYS = {"cn": 7, "ew": 14, "us": 10}
#: England & Wales individuals: PAP-Debt gives 30 days.
PAP_DEBT_REPLY_DAYS = 30


def reply_days(case: Case) -> int:
    if case.jurisdiction.value == "ew" and case.debtor.kind is DebtorKind.INDIVIDUAL:
        return PAP_DEBT_REPLY_DAYS
    configured = current_app.config.get("REPLY_DAYS") or {}
    return int(configured.get(case.jurisdiction.value, DEFAULT_REPLY_DAYS[case.jurisdiction.value]))


def build_facts(
    cases: Sequence[Case],
    as_of: dt.date | None = None,
    claims: dict[int, CaseClaim] | None = None,
) -> dict[int, CaseFacts]:
    """The facts of each case (claims, evidence, events) in a constant number of queries."""
    as_of = as_of or today_for(case.jurisdiction for case in cases)
    claims = claims if claims is not None else build_claims(cases, as_of)
    case_ids = [case.id for case in cases]
    evidence: dict[int, list[EvidenceFact]] = defaultdict(list)
    links: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for evidence_id, key in db.session.execute(
            select(evidence_invoice.c.evidence_id, Invoice.external_id)
            .join(Invoice, Invoice.id == evidence_invoice.c.invoice_id)
            .join(Evidence, Evidence.id == evidence_invoice.c.evidence_id)
            .where(Evidence.case_id.in_(chunk))
        ):
            links[evidence_id].add(key)
        for item in db.session.scalars(
            select(Evidence).where(Evidence.case_id.in_(chunk)).order_by(Evidence.id)
        ):
            evidence[item.case_id].append(
                EvidenceFact(
                    id=item.id,
                    kind=item.kind.value,
                    name=item.original_name,
                    document_date=item.document_date,
                    signed_by_debtor=item.signed_by_debtor,
                    sealed=item.sealed,
                    original_held=item.original_held,
                    description=item.description,
                    source=item.source,
                    proves=item.proves,
                    signer=item.signer,
                    amount=item.amount,
                    currency=item.currency,
                    invoices=frozenset(links[item.id]),
                    duplicate_of=item.duplicate_of_id,
                    parent=item.parent_id,
                )
            )
    return {case.id: _facts(case, claims[case.id], evidence[case.id]) for case in cases}


def _facts(case: Case, claim: CaseClaim, evidence: list[EvidenceFact]) -> CaseFacts:
    lawyer = case.lawyer
    return CaseFacts(
        case_id=case.id,
        reference=case.reference,
        jurisdiction=case.jurisdiction.value,
        stage=case.stage.value,
        as_of=claim.as_of,
        debtor_name=case.debtor.name,
        debtor_kind=case.debtor.kind.value,
        debtor_address=case.debtor.address,
        currency=case.currency,
        lawyer=(lawyer.name, lawyer.firm, lawyer.licence_number) if lawyer else None,
        route=case.route.value if case.route else None,
        invoices=tuple(
            InvoiceFact(
                key=item.invoice.external_id,
                number=item.invoice.number,
                currency=item.invoice.currency,
                amount=item.invoice.amount,
                credited=item.credited,
                paid=item.paid,
                outstanding=item.outstanding,
                due_date=item.invoice.due_date,
                disputed=item.disputed,
                limitation=item.limitation,
                reductions=tuple((reduction.on, reduction.amount) for reduction in item.reductions),
            )
            for item in claim.invoices
        ),
        evidence=tuple(evidence),
        events=tuple(
            EventFact(
                id=event.id,
                type=event.type.value,
                date=event.date,
                due=event.due,
                delivered_on=event.delivered_on,
                amount=event.amount,
                details=dict(event.details or {}),
            )
            for event in claim.events
        ),
        interest_basis=claim.interest.get("basis") if claim.interest else None,
        interest_error=claim.interest_error,
        reply_days=reply_days(case),
    )


def case_readiness(
    case: Case, as_of: dt.date | None = None, claim: CaseClaim | None = None
) -> dict[str, dict]:
    """``{stage: {"ready", "findings"}}`` for one case."""
    claims = {case.id: claim} if claim is not None else None
    facts = build_facts([case], as_of, claims)[case.id]
    result = {}
    for stage in Stage:
        # The rules come from one facts build; other registered checks are asked as well.
        findings = evaluate(facts, stage.value) + [
            finding
            for check in readiness_checks()
            if check is not _veto
            for finding in check(case, stage)
        ]
        findings.sort(key=finding_order)
        result[stage.value] = {
            "ready": not any(finding.severity == "blocker" for finding in findings),
            "findings": findings,
        }
    return result


def readiness_many(
    cases: Sequence[Case],
    as_of: dt.date | None = None,
    claims: dict[int, CaseClaim] | None = None,
) -> dict[int, dict]:
    """Readiness of many cases (lists, dashboards, bulk checks) in batched queries; pass the
    ``claims`` a caller already built for these cases so they are not built twice."""
    loaded = db.session.scalars(
        select(Case)
        .where(Case.id.in_([case.id for case in cases]))
        .options(selectinload(Case.debtor), selectinload(Case.lawyer))
    ).all()
    facts = build_facts(loaded, as_of, claims)
    return {case_id: evaluate_all(item) for case_id, item in facts.items()}


def check_all(batch: int = 500, as_of: dt.date | None = None):
    """Readiness of every open case, ``batch`` cases at a time (a fixed number of queries per
    batch); yields ``(case, readiness)``."""
    last_id = 0
    while True:
        cases = db.session.scalars(
            select(Case)
            .where(Case.id > last_id, Case.status != CaseStatus.CLOSED)
            .order_by(Case.id)
            .limit(batch)
            .options(selectinload(Case.debtor), selectinload(Case.lawyer))
        ).all()
        if not cases:
            return
        facts = build_facts(cases, as_of)
        for case in cases:
            yield case, evaluate_all(facts[case.id])
        last_id = cases[-1].id
        db.session.expunge_all()


@register_readiness_check
def _veto(case: Case, stage: Stage) -> list[Finding]:
    """Stage moves consult the rules of the stage being entered."""
    return evaluate(build_facts([case])[case.id], stage.value)
