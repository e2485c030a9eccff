"""A case as JSON-ready data (the API body and the case page read the same shape)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..money import quantize
from .claims import CaseClaim, build_claim
from .models import Case
from .readiness import case_readiness
from .timeline import effective_next_action, promise_states, reconciliation_state


def money(amount: Decimal | None, currency: str | None) -> str | None:
    """A decimal string rounded to the currency's minor unit."""
    if amount is None:
        return None
    return str(quantize(amount, currency or "XXX"))


def percent(rate: Decimal | None) -> str | None:
    """``12.75`` rather than ``12.750000``."""
    if rate is None:
        return None
    text = format(rate.normalize(), "f")
    return text


def case_payload(
    case: Case, as_of: dt.date | None = None, claim: CaseClaim | None = None
) -> dict[str, Any]:
    """Everything ``GET /api/v1/cases/<id>`` answers."""
    claim = claim or build_claim(case, as_of)
    currency = case.currency
    interest = claim.interest
    periods = [
        {
            "invoice": item.invoice.external_id,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "days": period.days,
            "principal": money(period.principal, currency),
            "rate": percent(period.rate),
            "amount": money(period.amount, currency),
        }
        for item in claim.claimed
        if item.interest
        for period in item.interest.periods
    ]
    basis_texts = sorted({item.interest.basis_text for item in claim.claimed if item.interest})
    promises = promise_states(claim.events, claim.payments, claim.as_of)
    reconciliation = reconciliation_state(claim.events, claim.as_of)
    return {
        "id": case.id,
        "reference": case.reference,
        "debtor": case.debtor.external_id,
        "debtor_name": case.debtor.name,
        "creditor": case.creditor.code,
        "jurisdiction": case.jurisdiction.value,
        "stage": case.stage.value,
        "status": case.status.value,
        "outcome": case.outcome.value if case.outcome else None,
        "recovered_amount": money(case.recovered_amount, currency),
        "costs": money(case.costs, currency),
        "owner": case.owner.email,
        "lawyer": case.lawyer.email if case.lawyer else None,
        "currency": currency,
        "as_of": claim.as_of.isoformat(),
        "principal": money(claim.principal, currency),
        "paid": money(claim.paid, currency),
        "outstanding": money(claim.outstanding, currency),
        "interest": {
            "amount": money(interest.get("amount"), currency),
            "basis": interest.get("basis"),
            "basis_text": basis_texts,
            "rate": percent(interest.get("rate")),
            "daily": money(interest.get("daily"), currency),
            "periods": periods,
            "error": claim.interest_error,
        },
        "compensation": money(claim.compensation, currency),
        "invoices": [
            {
                "external_id": item.invoice.external_id,
                "number": item.invoice.number,
                "issue_date": item.invoice.issue_date.isoformat(),
                "delivery_date": item.invoice.delivery_date.isoformat()
                if item.invoice.delivery_date
                else None,
                "due_date": item.invoice.due_date.isoformat(),
                "amount": money(item.invoice.amount, currency),
                "credited": money(item.credited, currency),
                "paid": money(item.paid, currency),
                "outstanding": money(item.outstanding, currency),
                "disputed": item.disputed,
                "interest": money(item.interest.amount, currency) if item.interest else None,
                "limitation": {
                    "deadline": item.limitation.deadline.isoformat(),
                    "set_by": item.limitation.set_by,
                    "expired": item.limitation.expired,
                    "warning": item.limitation.warning,
                }
                if item.limitation
                else None,
            }
            for item in claim.invoices
        ],
        "readiness": {
            stage: {
                "ready": state["ready"],
                "findings": [finding.as_dict() for finding in state["findings"]],
            }
            for stage, state in case_readiness(case, claim.as_of, claim).items()
        },
        "next_action": case.next_action,
        "next_action_due": case.next_action_due.isoformat() if case.next_action_due else None,
        "next_action_effective": effective_next_action(case, promises),
        "promises": [
            {
                "event": state.event.id,
                "amount": money(state.event.amount, currency),
                "due": state.event.due.isoformat(),
                "state": state.state,
                "paid": money(state.paid, currency),
            }
            for state in promises
        ],
        "reconciliation": {
            "state": reconciliation.state,
            "sent": reconciliation.sent.date.isoformat(),
            "reply_by": reconciliation.sent.due.isoformat(),
        }
        if reconciliation
        else None,
    }
