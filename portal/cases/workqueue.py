"""The work queue: what legal should look at today across the open cases a user may see.

Read from the stored case deadlines (``cases/figures.py``) with a fixed number of indexed queries
per section, a page at a time: the states that depend on today (overdue, broken, deemed
confirmed, expiring) are decided in SQL against today's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from ..accounts.models import User
from ..business_time import today as business_today
from ..extensions import db
from ..ledger.models import Debtor
from . import policy
from .claims import limitation_warning_days
from .models import Case, CaseDeadline


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


@dataclass(frozen=True)
class Section:
    """One section of the queue: its key, title, the rows of one page and how many in all."""

    key: str
    title: str
    rows: list[Any]
    total: int
    page: int = 1
    per_page: int = 10

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.per_page))

    @property
    def shown_total(self) -> str:
        """The count as shown: exact up to the cap, then "1,000+"."""
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else str(self.total)


#: Rows counted at most: beyond it a section says "1,000+" (a count costs as much as its rows).
COUNT_CAP = 1000

#: Section key → (title, deadline kind).
SECTIONS: dict[str, tuple[str, str]] = {
    "overdue": ("Next actions overdue", "next_action"),
    "promises": ("Broken promises", "promise"),
    "reconciliations": ("Reconciliations deemed confirmed", "reply_by"),
    "limitation": ("Limitation expiring or expired", "limitation"),
}


@dataclass
class WorkQueue:
    """The four sections of the dashboard's work queue, most urgent first in each."""

    as_of: dt.date
    warning_days: int
    sections: dict[str, Section] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(section.total for section in self.sections.values())

    @property
    def shown_count(self) -> str:
        """The badge's count ("1,000+" once any section reaches the cap)."""
        totals = [section.total for section in self.sections.values()]
        shown = sum(min(total, COUNT_CAP) for total in totals)
        return f"{shown:,}+" if any(total > COUNT_CAP for total in totals) else str(shown)


def _query(user: User, key: str, today: dt.date) -> Select:
    """The deadlines of ``key``'s section among the user's visible open cases."""
    kind = SECTIONS[key][1]
    # The rows carry whether their case is open; staff see every case, so no join is needed.
    query = select(CaseDeadline).where(CaseDeadline.kind == kind, CaseDeadline.open.is_(True))
    if not policy.sees_every_case(user):
        visible = policy.visible_cases(user).with_only_columns(Case.id)
        query = query.where(CaseDeadline.case_id.in_(visible))
    if key == "promises":
        # Broken: its day passed without payment in full.
        return query.where(CaseDeadline.due < today, CaseDeadline.paid < CaseDeadline.amount)
    if key == "limitation":
        return query.where(CaseDeadline.due <= today + dt.timedelta(days=limitation_warning_days()))
    return query.where(CaseDeadline.due < today)


def _row(key: str, deadline: CaseDeadline, today: dt.date) -> Any:
    case = deadline.case
    if key == "overdue":
        return OverdueAction(
            case, deadline.label or None, deadline.due, (today - deadline.due).days, deadline.note
        )
    if key == "promises":
        return BrokenPromise(
            case,
            deadline.since,
            deadline.due,
            deadline.amount,
            deadline.currency or case.currency,
            deadline.paid,
        )
    if key == "reconciliations":
        return DeemedReconciliation(
            case, deadline.since, deadline.due, deadline.due + dt.timedelta(days=1)
        )
    return LimitationAlert(
        case,
        deadline.label,
        deadline.due,
        deadline.note or "",
        today > deadline.due,
        (deadline.due - today).days,
    )


def section(
    user: User, key: str, today: dt.date | None = None, page: int = 1, per_page: int = 10
) -> Section:
    """One page of a section (two queries, whatever the number of cases)."""
    today = today or business_today()
    query = _query(user, key, today)
    # Counted up to a cap, so the count costs the same whatever the number of cases.
    total = (
        db.session.scalar(
            select(func.count()).select_from(
                query.with_only_columns(CaseDeadline.id).limit(COUNT_CAP + 1).subquery()
            )
        )
        or 0
    )
    pages = max(1, -(-min(total, COUNT_CAP) // per_page))
    page = min(max(page, 1), pages)
    deadlines = db.session.scalars(
        query.join(Case, Case.id == CaseDeadline.case_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .options(contains_eager(CaseDeadline.case).contains_eager(Case.debtor))
        .order_by(CaseDeadline.due, CaseDeadline.case_id, CaseDeadline.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Section(
        key,
        SECTIONS[key][0],
        [_row(key, deadline, today) for deadline in deadlines],
        total,
        page,
        per_page,
    )


def work_queue(user: User, today: dt.date | None = None, per_section: int = 10) -> WorkQueue:
    """The first ``per_section`` rows of each section over ``user``'s visible open cases."""
    today = today or business_today()
    queue = WorkQueue(as_of=today, warning_days=limitation_warning_days())
    for key in SECTIONS:
        queue.sections[key] = section(user, key, today, per_page=per_section)
    return queue
