"""Gather a case's ``DocumentFacts`` from the database (the only impure step before rendering)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..cases.claims import CaseClaim
from ..cases.models import Case
from ..evidence.models import Evidence
from ..extensions import db
from ..jurisdictions.deadlines import calendar_for, deadline_days
from .context import (
    Agreement,
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


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _fact(name: str, value: Any, source: str, source_id: int | None) -> dict[str, Any]:
    return {"name": name, "value": value, "source": {"type": source, "id": source_id}}


@dataclass(frozen=True)
class Receipt:
    """What the record proves of the debtor's receipt of the goods and invoices.

    A pleading may say the debtor signed for the goods only when a delivery note signed for the
    debtor covers every claimed invoice; that it received the invoices only when a proof of
    invoice delivery (or a balance it confirmed) covers each; that it never objected only when
    no dispute was ever recorded.
    """

    goods_signed_for: bool
    invoices_received: bool
    objected: bool
    goods_evidence: tuple[int, ...] = ()
    invoice_evidence: tuple[int, ...] = ()
    dispute_events: tuple[int, ...] = ()


#: Evidence by which the debtor confirmed it had the invoices.
_INVOICE_RECEIPT = frozenset({"invoice_delivery_proof", "reconciliation_confirmation"})


def receipt_of(claim: CaseClaim, evidence: list[Evidence]) -> Receipt:
    """:class:`Receipt` for the claimed invoices from the case's evidence and events."""
    claimed = {item.invoice.id for item in claim.claimed}
    signed: dict[int, set[int]] = {}
    received: dict[int, set[int]] = {}
    for item in evidence:
        covered = {invoice.id for invoice in item.invoices} & claimed
        if item.kind.value == "delivery_note" and item.signed_by_debtor:
            for invoice_id in covered:
                signed.setdefault(invoice_id, set()).add(item.id)
        elif item.kind.value in _INVOICE_RECEIPT:
            for invoice_id in covered:
                received.setdefault(invoice_id, set()).add(item.id)
    disputes = tuple(event.id for event in claim.events if event.type.value == "dispute")
    return Receipt(
        goods_signed_for=bool(claimed) and claimed <= set(signed),
        invoices_received=bool(claimed) and claimed <= set(received),
        objected=bool(disputes) or any(item.disputed for item in claim.claimed),
        goods_evidence=tuple(sorted(set().union(*signed.values()))) if signed else (),
        invoice_evidence=tuple(sorted(set().union(*received.values()))) if received else (),
        dispute_events=disputes,
    )


def receipt_flags(receipt: Receipt) -> dict[str, bool]:
    """The receipt as the templates read it (``record.goods_signed_for`` …)."""
    return {
        "goods_signed_for": receipt.goods_signed_for,
        "invoices_received": receipt.invoices_received,
        "objected": receipt.objected,
    }


def asserted_facts(
    case: Case,
    claim: CaseClaim,
    *,
    kind: str,
    demand: Demand | None,
    evidence: list[Evidence],
) -> list[dict[str, Any]]:
    """The facts a document of ``kind`` asserts about ``case``, each with the record it comes
    from (``{name, value, source: {type, id}}``): kept with the version and shown to counsel.

    Values are plain (ISO dates, decimal strings) so they read the same in every language.
    """
    currency = case.currency or ""
    facts = [
        _fact("creditor", case.creditor.legal_name, "creditor", case.creditor_id),
        _fact("debtor", case.debtor.name, "debtor", case.debtor_id),
    ]
    for item in claim.claimed:
        invoice = item.invoice
        facts.append(
            _fact(
                f"invoice {invoice.number}",
                f"{invoice.currency} {_cents(invoice.amount)} issued "
                f"{invoice.issue_date.isoformat()}, due {invoice.due_date.isoformat()}; credited "
                f"{_cents(item.credited)}, paid {_cents(item.paid)}, outstanding "
                f"{_cents(item.outstanding)}",
                "invoice",
                invoice.id,
            )
        )
    facts.append(_fact("outstanding", f"{currency} {_cents(claim.outstanding)}", "case", case.id))
    if case.agreement_form:
        when = case.agreement_date.isoformat() if case.agreement_date else "undated"
        parties = case.agreement_parties or "parties not recorded"
        facts.append(
            _fact("agreement", f"{case.agreement_form}, {when}, {parties}", "case", case.id)
        )
    if case.fees_clause:
        facts.append(_fact("lawyer's fees recoverable", "under the contract", "case", case.id))
    if kind in REPEATS_DEMAND:
        receipt = receipt_of(claim, evidence)
        if receipt.goods_signed_for:
            for evidence_id in receipt.goods_evidence:
                facts.append(_fact("goods signed for", "delivery note", "evidence", evidence_id))
        if receipt.invoices_received:
            for evidence_id in receipt.invoice_evidence:
                facts.append(_fact("invoices received", "proof", "evidence", evidence_id))
        for event_id in receipt.dispute_events:
            facts.append(_fact("dispute raised", "recorded", "event", event_id))
    if kind in REPEATS_DEMAND:
        if demand is None:
            facts.append(_fact("demand letter", "none dispatched", "case", case.id))
        else:
            if demand.document_id is not None:
                facts.append(
                    _fact(
                        "demand letter",
                        f"{demand.reference} dated {demand.date.isoformat()}"
                        if demand.date
                        else demand.reference,
                        "document",
                        demand.document_id,
                    )
                )
            facts.append(
                _fact("demand letter sent", demand.sent_on.isoformat(), "event", demand.event_id)
            )
            if demand.delivered_on is not None:
                facts.append(
                    _fact(
                        "demand letter delivered",
                        demand.delivered_on.isoformat(),
                        "event",
                        demand.event_id,
                    )
                )
            if demand.deadline is not None:
                facts.append(
                    _fact(
                        "payment demanded by",
                        demand.deadline.isoformat(),
                        "document" if demand.document_id else "event",
                        demand.document_id or demand.event_id,
                    )
                )
            if demand.state == "expired":
                facts.append(
                    _fact(
                        "not paid by the deadline",
                        f"{currency} {_cents(claim.outstanding)} outstanding on "
                        f"{claim.as_of.isoformat()}",
                        "case",
                        case.id,
                    )
                )
        for number, item in enumerate(evidence, 1):
            described = item.description or item.original_name
            when = item.document_date.isoformat() if item.document_date else "undated"
            facts.append(
                _fact(f"exhibit {number}", f"{described} ({item.kind.value}, {when})", "evidence",
                      item.id)
            )  # fmt: skip
    return facts


def demand_of(case: Case, on: dt.date) -> Demand | None:
    """The demand letter as the record shows it went out by ``on``: the latest ``dispatch`` of
    a demand letter, with the letter's own date, reference and deadline. ``None`` when no demand
    letter was dispatched — a document must then not say that one was.

    The letter is the version the dispatch names (``document_id``, recorded by the dispatch
    form); a dispatch entered without one is matched to the newest demand letter dated on or
    before it. Without a letter the deadline is the delivery plus the case's reply period.
    """
    from ..cases.models import CaseEvent, EventType
    from ..cases.readiness import reply_days
    from .models import Document, DocumentKind

    events = db.session.scalars(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.type == EventType.DISPATCH,
            CaseEvent.date <= on,
        )
        .order_by(CaseEvent.date.desc(), CaseEvent.id.desc())
    )
    event = next((item for item in events if item.details.get("document") == "demand_letter"), None)
    if event is None:
        return None
    letter = None
    if event.details.get("document_id"):
        letter = db.session.get(Document, int(event.details["document_id"]))
    if letter is None:
        letter = db.session.scalar(
            select(Document)
            .where(
                Document.case_id == case.id,
                Document.kind == DocumentKind.DEMAND_LETTER,
                Document.document_date <= event.date,
            )
            .order_by(Document.document_date.desc(), Document.version.desc())
            .limit(1)
        )
    delivered = event.delivered_on if event.delivered_on and event.delivered_on <= on else None
    deadline = letter.deadline if letter is not None else None
    if deadline is None and delivered is not None:
        deadline = delivered + dt.timedelta(days=reply_days(case))
    if delivered is None:
        state = "sent"
    elif deadline is not None and deadline < on:
        state = "expired"
    else:
        state = "delivered"
    return Demand(
        date=letter.document_date if letter is not None else None,
        reference=letter.reference if letter is not None else event.details.get("reference"),
        deadline=deadline,
        state=state,
        sent_on=event.date,
        delivered_on=delivered,
        courier=event.details.get("courier"),
        event_id=event.id,
        document_id=letter.id if letter is not None else None,
    )


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
            incorporation=creditor.incorporation,
        ),
        bank=Bank(creditor.bank_name, creditor.bank_account, creditor.bank_code),
        debtor=Party(
            name=debtor.name,
            registration_id=debtor.registration_id,
            address=debtor.address,
            email=debtor.email,
            phone=debtor.phone,
            kind=debtor.kind.value,
            legal_representative=debtor.legal_representative,
            title=debtor.title,
            surname=debtor.surname,
        ),
        lawyer=Lawyer(
            name=lawyer.name,
            licence_number=lawyer.licence_number,
            email=lawyer.email,
            firm=lawyer.firm,
            firm_address=lawyer.firm_address,
            phone=lawyer.phone,
            attorney_code=lawyer.attorney_code,
        )
        if lawyer
        else None,
        agreement=Agreement(
            form=case.agreement_form,
            date=case.agreement_date,
            parties=case.agreement_parties,
            terms=case.agreement_terms,
            fees_clause=case.fees_clause,
        ),
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
        payments=tuple(claim.allocated),
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
                original_held=item.original_held,
            )
            for item in evidence
        ),
        inputs=inputs,
        received=receipt_flags(receipt_of(claim, evidence)),
    )
