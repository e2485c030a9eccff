"""The work queue: what legal should look at today across the open cases a user may see.

Pure query and presentation code over the services' results: the claims of every open case are
built in one batch (``build_claims``), then read by the timeline functions (no per-case queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..business_time import today as business_today
from ..extensions import db
from . import policy
from .claims import build_claims
from .models import Case, CaseStatus
from .present import effective_next_action
from .timeline import promise_states, reconciliation_state


@dataclass(frozen=True)
class OverdueAction:
    case: Case
    text: str | None
    due: dt.date
    days_late: int
    #: "planned" (legal set it) or "promise broken" (reopened by the timeline).
    reason: str | None = None


@dataclass(frozen=True)
class BrokenPromise:
    case: Case
    promised_on: dt.date
    due: dt.date
    amount: Decimal
    currency: str | None
    paid: Decimal


@dataclass(frozen=True)
class DeemedReconciliation:
    case: Case
    sent: dt.date
    reply_by: dt.date
    deemed_on: dt.date


@dataclass(frozen=True)
class LimitationAlert:
    case: Case
    invoice: str
    deadline: dt.date
    set_by: str
    expired: bool
    days_left: int


@dataclass
class WorkQueue:
    """The four sections of the dashboard's work queue, most urgent first in each."""

    as_of: dt.date
    warning_days: int
    overdue_actions: list[OverdueAction] = field(default_factory=list)
    broken_promises: list[BrokenPromise] = field(default_factory=list)
    deemed_confirmed: list[DeemedReconciliation] = field(default_factory=list)
    limitation: list[LimitationAlert] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (
            len(self.overdue_actions)
            + len(self.broken_promises)
            + len(self.deemed_confirmed)
            + len(self.limitation)
        )


def work_queue(user: User, today: dt.date | None = None) -> WorkQueue:
    """The work queue over ``user``'s visible open cases as of ``today``."""
    today = today or business_today()
    queue = WorkQueue(
        as_of=today, warning_days=int(current_app.config.get("LIMITATION_WARNING_DAYS", 90))
    )
    cases = db.session.scalars(
        policy.visible_cases(user)
        .where(Case.status == CaseStatus.OPEN)
        .options(selectinload(Case.debtor))
        .order_by(Case.id)
    ).all()
    if not cases:
        return queue
    claims = build_claims(cases, today)
    for case in cases:
        claim = claims[case.id]
        promises = promise_states(claim.events, claim.payments, today)
        # A broken promise reopens the next action (see ``present.effective_next_action``).
        action = effective_next_action(case, promises)
        due = dt.date.fromisoformat(action["due"]) if action["due"] else None
        if due is not None and due < today:
            queue.overdue_actions.append(
                OverdueAction(case, action["text"], due, (today - due).days, action["reason"])
            )
        # Only the latest promise counts: a broken promise followed by a new one is history.
        if promises and promises[-1].state == "broken":
            last = promises[-1]
            queue.broken_promises.append(
                BrokenPromise(
                    case,
                    last.event.date,
                    last.event.due,
                    last.event.amount,
                    last.event.currency or case.currency,
                    last.paid,
                )
            )
        sent = reconciliation_state(claim.events, today)
        if sent is not None and sent.state == "deemed_confirmed":
            queue.deemed_confirmed.append(
                DeemedReconciliation(case, sent.sent.date, sent.sent.due, sent.deemed_on)
            )
        for item in claim.invoices:
            limit = item.limitation
            if limit is not None and (limit.expired or limit.warning):
                queue.limitation.append(
                    LimitationAlert(
                        case,
                        item.invoice.number,
                        limit.deadline,
                        limit.set_by,
                        limit.expired,
                        (limit.deadline - today).days,
                    )
                )
    queue.overdue_actions.sort(key=lambda row: (row.due, row.case.id))
    queue.broken_promises.sort(key=lambda row: (row.due, row.case.id))
    queue.deemed_confirmed.sort(key=lambda row: (row.deemed_on, row.case.id))
    queue.limitation.sort(key=lambda row: (row.deadline, row.case.id, row.invoice))
    return queue
