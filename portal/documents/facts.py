"""Gather a case's ``DocumentFacts`` from the database (the only impure step before rendering)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..cases.claims import CaseClaim
from ..cases.models import Case
from ..evidence.models import Evidence
from ..extensions import db
from ..jurisdictions.deadlines import calendar_for, deadline_days
from .context import (
    Bank,
    Demand,
    DocumentFacts,
    ExhibitLine,
    Interest,
    InterestPeriod,
    InvoiceLine,
    Lawyer,
    Party,
)

ZERO = Decimal(0)
#: Kinds that state the deadline of the demand letter rather than one of their own.
REPEATS_DEMAND = frozenset({"statement_of_claim", "evidence_list"})


def exhibits(case_ids: list[int]) -> dict[int, list[Evidence]]:
    """Each case's exhibits in evidence-list order: by document date, then upload order;
    duplicates left out (they are the same exhibit)."""
    result: dict[int, list[Evidence]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return result
    rows = db.session.scalars(
        select(Evidence)
        .where(Evidence.case_id.in_(case_ids), Evidence.duplicate_of_id.is_(None))
        .order_by(
            Evidence.case_id, Evidence.document_date.is_(None), Evidence.document_date, Evidence.id
        )
    )
    for item in rows:
        result[item.case_id].append(item)
    return result


def gather(
    case: Case,
    claim: CaseClaim,
    *,
    kind: str,
    title: str,
    language: str,
    reference: str,
    version: int,
    draft: bool,
    on: dt.date,
    evidence: list[Evidence],
    inputs: dict[str, str],
    demand: Demand | None = None,
    positions: dict[int, tuple[str, str]] | None = None,
) -> DocumentFacts:
    """The facts a document of ``kind`` states about ``case`` on ``on``.

    A statement of claim or an evidence list repeats the deadline of ``demand`` (the case's
    latest demand letter) when there is one; other kinds set their own from ``on``.
    ``positions`` (evidence id → label and page range) is where each exhibit sits in a filing
    bundle; the evidence list then shows those instead of a plain number and page count.
    """
    positions = positions or {}
    creditor, debtor, lawyer = case.creditor, case.debtor, case.lawyer
    claimed = claim.claimed
    interest = claim.interest or {}
    jurisdiction = case.jurisdiction.value
    days = deadline_days(jurisdiction, kind, debtor.kind.value)
    deadline = calendar_for(jurisdiction).add_business_days(on, days)
    if kind in REPEATS_DEMAND and demand is not None and demand.deadline is not None:
        deadline = demand.deadline
        days = deadline_days(jurisdiction, "demand_letter", debtor.kind.value)
    uplift = current_app.config.get("INTEREST_PRC_LPR_UPLIFT", "0.5")
    return DocumentFacts(
        kind=kind,
        title=title,
        jurisdiction=jurisdiction,
        language=language,
        date=on,
        reference=reference,
        version=version,
        draft=draft,
        case_reference=case.reference,
        creditor=Party(
            name=creditor.legal_name,
            registration_id=creditor.registration_id,
            address=creditor.address,
            email=creditor.email,
            phone=creditor.phone,
            legal_representative=creditor.legal_representative,
        ),
        bank=Bank(creditor.bank_name, creditor.bank_account, creditor.bank_code),
        debtor=Party(
            name=debtor.name,
            registration_id=debtor.registration_id,
            address=debtor.address,
            email=debtor.email,
            phone=debtor.phone,
            kind=debtor.kind.value,
        ),
        lawyer=Lawyer(
            name=lawyer.name,
            licence_number=lawyer.licence_number,
            email=lawyer.email,
            firm=lawyer.firm,
            firm_address=lawyer.firm_address,
        )
        if lawyer
        else None,
        sender_name=case.owner.name,
        sender_email=case.owner.email,
        currency=case.currency or (claimed[0].invoice.currency if claimed else ""),
        invoices=tuple(
            InvoiceLine(
                number=item.invoice.number,
                contract_ref=item.invoice.contract_ref,
                issue_date=item.invoice.issue_date,
                delivery_date=item.invoice.delivery_date,
                due_date=item.invoice.due_date,
                amount=item.invoice.amount,
                credited=item.credited,
                paid=item.paid,
                balance=item.outstanding,
                interest=item.interest.amount if item.interest else None,
            )
            for item in claimed
        ),
        payments=tuple(claim.payments),
        interest=Interest(
            basis=interest.get("basis"),
            rate=interest.get("rate"),
            daily=interest.get("daily", ZERO),
            amount=interest.get("amount", ZERO),
            start=interest.get("start"),
            texts=tuple(item.interest.basis_text for item in claimed if item.interest),
            periods=tuple(
                InterestPeriod(
                    invoice=item.invoice.number,
                    start=period.start,
                    end=period.end,
                    days=period.days,
                    principal=period.principal,
                    rate=period.rate,
                    amount=period.amount,
                )
                for item in claimed
                if item.interest
                for period in item.interest.periods
            ),
            lpr_uplift=Decimal(str(uplift)),
            error=claim.interest_error,
        ),
        compensation=claim.compensation,
        costs=case.costs or ZERO,
        deadline=deadline,
        deadline_days=days,
        demand=demand,
        evidence=tuple(
            ExhibitLine(
                name=item.description or item.original_name,
                kind=item.kind.value,
                date=item.document_date,
                source=item.source,
                proves=item.proves,
                pages=positions[item.id][1] if item.id in positions else item.pages,
                label=positions[item.id][0] if item.id in positions else None,
            )
            for item in evidence
        ),
        inputs=inputs,
    )
