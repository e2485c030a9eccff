"""The shared limitation engine: a period from an accrual date, restarted by qualifying events.

Each pack supplies the accrual date, the period and its restart rules; the engine walks the
events in date order. A restart runs the full period again from the event's date, but only when
the event happens on or before the deadline current at that moment: a right once barred is not
revived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .base import LimitationEvent, LimitationResult


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Accrual:
    """When the period starts to run, and how to say so."""

    on: date
    kind: str  #: "due_date" | "delivery_date" | "issue_date"
    text: str  #: e.g. "due date 2024-03-31"


@dataclass(frozen=True)
class RestartRules:
    """Which event kinds restart the period in a jurisdiction, and why the others do not."""

    jurisdiction: str  #: as it reads in a sentence: "England & Wales"
    restarts: Mapping[str, str]  #: event kind → the provision under which it restarts
    never: Mapping[str, str]  #: event kind → why it does not restart (with the provision)
    not_revived: str  #: why an event after the deadline does not help (with the provision)


def limitation_deadline(
    invoice_key: str,
    accrual: Accrual,
    years: int,
    events: Sequence[LimitationEvent],
    as_of: date,
    rules: RestartRules,
    *,
    warning_days: int = 90,
) -> LimitationResult:
    """Deadline for one invoice after applying the events that concern it.

    Events for other invoices are skipped silently; events after ``as_of`` have not happened
    yet and are listed as ignored, as is every event that does not restart the clock.

    :raises ValueError: ``warning_days`` is negative.
    """
    if warning_days < 0:
        raise ValueError(f"warning_days must not be negative, got {warning_days}")
    deadline = add_years(accrual.on, years)
    set_by, set_by_kind = accrual.text, accrual.kind
    ignored: list[str] = []
    mine = [event for event in events if event.covers(invoice_key)]
    for event in sorted(mine, key=lambda event: (event.on, event.kind)):
        label = event.label()
        if event.on > as_of:
            ignored.append(f"{label} is after {as_of.isoformat()}, the date of this calculation")
        elif event.kind not in rules.restarts:
            reason = rules.never[event.kind]
            ignored.append(
                f"{label} does not restart limitation in {rules.jurisdiction} ({reason})"
            )
        elif event.on > deadline:
            ignored.append(
                f"{label} came after the limitation deadline {deadline.isoformat()} had passed "
                f"({rules.not_revived})"
            )
        elif event.on < accrual.on:
            ignored.append(
                f"{label} is before the period began to run on {accrual.on.isoformat()} "
                "and does not extend it"
            )
        else:
            deadline = add_years(event.on, years)
            set_by, set_by_kind = label, event.kind
    expired = as_of > deadline
    return LimitationResult(
        deadline=deadline,
        set_by=set_by,
        set_by_kind=set_by_kind,
        period_years=years,
        expired=expired,
        warning=not expired and (deadline - as_of).days <= warning_days,
        ignored=tuple(ignored),
    )
