"""A case's claim as of a date: balances per invoice, interest and limitation from the
jurisdiction pack, with disputed invoices held out. A constant number of queries per case."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..business_time import today_for
from ..extensions import db
from ..jurisdictions import (
    InterestOptions,
    InterestResult,
    InvoiceFacts,
    LimitationEvent,
    LimitationOptions,
    LimitationResult,
    MissingRate,
    RateTable,
    Reduction,
    aggregate,
    get_pack,
)
from ..ledger.allocation import invoice_balances
from ..ledger.models import CreditNote, Invoice, Payment, PaymentAllocation
from ..ledger.rates import table as rate_table
from .models import Case, CaseEvent, EventType, case_invoice
from .timeline import disputed_invoices

ZERO = Decimal(0)
#: Documents whose dispatch is a demand for payment (limitation: PRC restarts when delivered).
DEMAND_DOCUMENTS = frozenset({"advance_notice", "warning_letter", "demand_letter"})


@dataclass
class InvoiceClaim:
    invoice: Invoice
    credited: Decimal
    paid: Decimal
    outstanding: Decimal
    disputed: bool
    reductions: tuple[Reduction, ...]
    limitation: LimitationResult | None = None
    interest: InterestResult | None = None


@dataclass
class CaseClaim:
    as_of: dt.date
    currency: str | None
    invoices: list[InvoiceClaim]
    interest: dict = field(default_factory=dict)
    interest_error: str | None = None
    #: The debtor's payments in the case currency up to ``as_of``: (date, amount).
    payments: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    #: The payments applied to this case's invoices up to ``as_of``, each with the part applied
    #: to them: what a statement of account lists (another case's payments never appear).
    allocated: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    #: The case's timeline up to ``as_of``, oldest first.
    events: list[CaseEvent] = field(default_factory=list)

    @property
    def claimed(self) -> list[InvoiceClaim]:
        """Invoices in the claim: not under an unresolved dispute."""
        return [item for item in self.invoices if not item.disputed]

    @property
    def principal(self) -> Decimal:
        return sum((item.invoice.amount - item.credited for item in self.claimed), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((item.paid for item in self.claimed), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return sum((item.outstanding for item in self.claimed), ZERO)

    @property
    def compensation(self) -> Decimal:
        return self.interest.get("compensation", ZERO) if self.interest else ZERO


def load_rates() -> RateTable:
    """The rate table as the packs want it, with the day each kind is confirmed through."""
    return rate_table()


def interest_options() -> InterestOptions:
    config = current_app.config
    return InterestOptions(
        prc_lpr_uplift=Decimal(str(config.get("INTEREST_PRC_LPR_UPLIFT", "0.5"))),
        use_eu_directive=bool(config.get("INTEREST_USE_EU_DIRECTIVE", False)),
    )


def limitation_events(case: Case, events: list[CaseEvent]) -> list[LimitationEvent]:
    """Timeline events as the limitation rules see them (the packs decide what restarts)."""
    result = []
    for event in events:
        details = event.details or {}
        if event.type is EventType.ACKNOWLEDGMENT:
            kind = "acknowledgment_signed" if details.get("signed") else "acknowledgment_oral"
            result.append(LimitationEvent(kind, event.date, description=f"event #{event.id}"))
        elif event.type is EventType.RECONCILIATION_REPLY and details.get("confirmed"):
            # A returned, signed balance confirmation is the debtor's written acknowledgment.
            result.append(
                LimitationEvent(
                    "acknowledgment_signed", event.date, description="balance confirmed"
                )
            )
        elif event.type is EventType.PROMISE:
            result.append(
                LimitationEvent("acknowledgment_oral", event.date, description="promise to pay")
            )
        elif event.type is EventType.DISPATCH and details.get("document") in DEMAND_DOCUMENTS:
            if event.delivered_on:
                result.append(
                    LimitationEvent(
                        "demand_delivered", event.delivered_on, description=details["document"]
                    )
                )
            else:
                result.append(
                    LimitationEvent("creditor_demand", event.date, description=details["document"])
                )
    return result


def limitation_warning_days() -> int:
    """Days before a limitation deadline from which it is flagged (``LIMITATION_WARNING_DAYS``)."""
    return int(current_app.config.get("LIMITATION_WARNING_DAYS", 90))


def build_claim(case: Case, as_of: dt.date | None = None) -> CaseClaim:
    """Balances, interest and limitation for every invoice of ``case`` as of ``as_of``."""
    return build_claims([case], as_of)[case.id]


def build_claims(cases: Sequence[Case], as_of: dt.date | None = None) -> dict[int, CaseClaim]:
    """``build_claim`` for many cases with the same few queries (no per-case round trips)."""
    as_of = as_of or today_for(case.jurisdiction for case in cases)
    if not cases:
        return {}
    case_ids = [case.id for case in cases]
    credited, paid, outstanding, joins = invoice_balances(as_of)
    rows_by_case: dict[int, list] = defaultdict(list)
    for row in db.session.execute(
        joins(select(case_invoice.c.case_id, Invoice, credited, paid, outstanding))
        .join(case_invoice, case_invoice.c.invoice_id == Invoice.id)
        # As of a date, the claim knows only the invoices issued by then.
        .where(case_invoice.c.case_id.in_(case_ids), Invoice.issue_date <= as_of)
        .order_by(Invoice.due_date, Invoice.id)
    ):
        rows_by_case[row[0]].append(row[1:])
    invoice_ids = [row[0].id for rows in rows_by_case.values() for row in rows]
    reductions: dict[int, list[Reduction]] = defaultdict(list)
    payment_days: dict[int, set[dt.date]] = defaultdict(set)
    #: Per invoice: (payment id, payment date, amount applied to it).
    applied: dict[int, list[tuple[int, dt.date, Decimal]]] = defaultdict(list)
    for chunk in _chunks(invoice_ids):
        for invoice_id, on, amount in db.session.execute(
            select(CreditNote.invoice_id, CreditNote.date, CreditNote.amount).where(
                CreditNote.invoice_id.in_(chunk), CreditNote.date <= as_of
            )
        ):
            reductions[invoice_id].append(Reduction(on=on, amount=amount))
        for invoice_id, payment_id, on, amount in db.session.execute(
            select(
                PaymentAllocation.invoice_id,
                PaymentAllocation.payment_id,
                Payment.date,
                PaymentAllocation.amount,
            )
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.invoice_id.in_(chunk), Payment.date <= as_of)
        ):
            reductions[invoice_id].append(Reduction(on=on, amount=amount))
            payment_days[invoice_id].add(on)
            applied[invoice_id].append((payment_id, on, amount))
    events_by_case: dict[int, list[CaseEvent]] = defaultdict(list)
    for chunk in _chunks(case_ids):
        for event in db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id.in_(chunk), CaseEvent.date <= as_of)
            .order_by(CaseEvent.date, CaseEvent.id)
        ):
            events_by_case[event.case_id].append(event)
    payments_by_key: dict[tuple[int, str], list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for chunk in _chunks(sorted({case.debtor_id for case in cases})):
        for debtor_id, currency, on, amount in db.session.execute(
            select(Payment.debtor_id, Payment.currency, Payment.date, Payment.amount).where(
                Payment.debtor_id.in_(chunk), Payment.date <= as_of
            )
        ):
            payments_by_key[(debtor_id, currency)].append((on, amount))
    context = _Context(
        as_of=as_of,
        rates=load_rates(),
        options=interest_options(),
        warning_days=limitation_warning_days(),
        reductions=reductions,
        payment_days=payment_days,
    )
    return {
        case.id: _claim(
            case,
            rows_by_case[case.id],
            events_by_case[case.id],
            payments_by_key[(case.debtor_id, case.currency or "")],
            context,
            _allocated(rows_by_case[case.id], applied),
        )
        for case in cases
    }


def _allocated(rows, applied) -> list[tuple[dt.date, Decimal]]:
    """The payments applied to these invoices, each with the part applied to them, by date."""
    by_payment: dict[int, list] = {}
    for row in rows:
        for payment_id, on, amount in applied[row[0].id]:
            entry = by_payment.setdefault(payment_id, [on, ZERO])
            entry[1] += amount
    return sorted((on, amount) for on, amount in by_payment.values())


@dataclass(frozen=True)
class _Context:
    as_of: dt.date
    rates: RateTable
    options: InterestOptions
    warning_days: int
    reductions: dict[int, list[Reduction]]
    payment_days: dict[int, set[dt.date]]


def _chunks(ids: Sequence[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _claim(case: Case, rows, events, payments, context: _Context, allocated) -> CaseClaim:
    disputed = disputed_invoices(events)
    pack = get_pack(case.jurisdiction.value)
    lim_events = limitation_events(case, events)
    claim = CaseClaim(
        as_of=context.as_of,
        currency=case.currency,
        invoices=[],
        payments=list(payments),
        allocated=list(allocated),
        events=list(events),
    )
    results: list[InterestResult] = []
    for invoice, credited_sum, paid_sum, outstanding_sum in rows:
        own = tuple(sorted(context.reductions[invoice.id], key=lambda item: item.on))
        facts = InvoiceFacts(
            key=invoice.external_id,
            number=invoice.number,
            currency=invoice.currency,
            amount=invoice.amount,
            issue_date=invoice.issue_date,
            delivery_date=invoice.delivery_date,
            due_date=invoice.due_date,
            contract_rate=invoice.interest_rate,
            reductions=own,
        )
        payments_as_events = [
            LimitationEvent("part_payment", day, frozenset({invoice.external_id}), "payment")
            for day in sorted(context.payment_days[invoice.id])
        ]
        item = InvoiceClaim(
            invoice=invoice,
            credited=credited_sum,
            paid=paid_sum,
            outstanding=outstanding_sum,
            disputed=invoice.external_id in disputed,
            reductions=own,
            limitation=pack.limitation(
                facts,
                [*lim_events, *payments_as_events],
                context.as_of,
                warning_days=context.warning_days,
                options=LimitationOptions(),
            ),
        )
        if not item.disputed and claim.interest_error is None:
            try:
                item.interest = pack.interest(facts, context.as_of, context.rates, context.options)
                results.append(item.interest)
            except MissingRate as error:
                claim.interest_error = str(error)
        claim.invoices.append(item)
    if results and claim.interest_error is None:
        claim.interest = aggregate(results)
    return claim
