"""What the timeline means: disputes in force, promises kept or broken, reconciliations replied
or deemed confirmed. Pure functions over loaded events and payments (no queries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..money import format_money
from .models import Case, CaseEvent, EventType


@dataclass(frozen=True)
class PromiseState:
    event: CaseEvent
    #: ``pending`` (due date not passed), ``kept`` or ``broken``.
    state: str
    paid: Decimal

    @property
    def broken_on(self) -> dt.date | None:
        """A promise is broken the day after its due date when it was not paid in full."""
        return self.event.due + dt.timedelta(days=1) if self.state == "broken" else None


@dataclass(frozen=True)
class ReconciliationState:
    sent: CaseEvent
    #: ``awaiting``, ``confirmed``, ``disputed`` or ``deemed_confirmed`` (no reply by the date).
    state: str
    reply: CaseEvent | None = None

    @property
    def deemed_on(self) -> dt.date | None:
        if self.state != "deemed_confirmed":
            return None
        return self.sent.due + dt.timedelta(days=1)


def disputed_invoices(events: Iterable[CaseEvent]) -> set[str]:
    """External ids of invoices under a dispute not (yet) resolved."""
    disputed: set[str] = set()
    for event in sorted(events, key=lambda item: (item.date, item.id)):
        if event.type is EventType.DISPUTE:
            disputed |= set(event.details.get("invoices", []))
        elif event.type is EventType.DISPUTE_RESOLVED:
            disputed -= set(event.details.get("invoices", []))
    return disputed


def promise_states(
    events: Iterable[CaseEvent], payments: Sequence[tuple[dt.date, Decimal]], today: dt.date
) -> list[PromiseState]:
    """Each promise with what was paid between the promise and its due date."""
    states = []
    for event in events:
        if event.type is not EventType.PROMISE:
            continue
        paid = sum(
            (amount for day, amount in payments if event.date <= day <= event.due), Decimal(0)
        )
        if paid >= event.amount:
            state = "kept"
        elif today > event.due:
            state = "broken"
        else:
            state = "pending"
        states.append(PromiseState(event=event, state=state, paid=paid))
    return states


def reconciliation_state(events: Iterable[CaseEvent], today: dt.date) -> ReconciliationState | None:
    """The latest balance confirmation sent and what became of it."""
    ordered = sorted(events, key=lambda item: (item.date, item.id))
    sent = [event for event in ordered if event.type is EventType.RECONCILIATION_SENT]
    if not sent:
        return None
    last = sent[-1]
    replies = [
        event
        for event in ordered
        if event.type is EventType.RECONCILIATION_REPLY and event.date >= last.date
    ]
    if replies:
        reply = replies[-1]
        return ReconciliationState(
            last, "confirmed" if reply.details.get("confirmed") else "disputed", reply
        )
    if today > last.due:
        return ReconciliationState(last, "deemed_confirmed")
    return ReconciliationState(last, "awaiting")


def describe(event: CaseEvent) -> str:
    """One line for the timeline."""
    d = event.details or {}
    money = format_money(event.amount, event.currency or "") if event.amount is not None else ""
    match event.type:
        case EventType.CONTACT:
            return f"{d.get('channel', '').capitalize()}: {d.get('summary', '')}"
        case EventType.PROMISE:
            return f"Promise to pay {event.currency} {money} by {event.due.isoformat()}"
        case EventType.DISPUTE:
            return f"Dispute of {', '.join(d.get('invoices', []))}: {d.get('reason', '')}"
        case EventType.DISPUTE_RESOLVED:
            invoices = ", ".join(d.get("invoices", []))
            return f"Dispute resolved for {invoices}: {d.get('resolution', '')}"
        case EventType.RECONCILIATION_SENT:
            return (
                f"Balance confirmation sent by {d.get('courier')} ({d.get('tracking')}), "
                f"reply by {event.due.isoformat()}"
            )
        case EventType.RECONCILIATION_REPLY:
            verdict = "confirmed" if d.get("confirmed") else "disputed"
            balance = f" balance {event.currency} {money}" if money else ""
            return f"Balance confirmation {verdict}{balance}"
        case EventType.DISPATCH:
            delivered = (
                f", delivered {event.delivered_on.isoformat()}" if event.delivered_on else ""
            )
            return (
                f"{str(d.get('document', '')).replace('_', ' ').capitalize()} sent by "
                f"{d.get('courier')} ({d.get('tracking')}){delivered}"
            )
        case EventType.ACKNOWLEDGMENT:
            form = "Signed" if d.get("signed") else "Oral/unsigned"
            amount = f" of {event.currency} {money}" if money else ""
            return f"{form} acknowledgment{amount}"
        case EventType.ASSET:
            return f"Asset observed: {d.get('description', '')}"
        case EventType.PRESERVATION:
            return f"Property preservation applied for at {d.get('court')}: {d.get('description')}"
        case _:
            return d.get("text", "")


def effective_next_action(case: Case, promises) -> dict[str, str | None]:
    """The next action as the work queue sees it: a broken promise reopens it on the day after
    the promised date, unless legal already planned something earlier."""
    broken = [state.broken_on for state in promises if state.broken_on]
    due, text, reason = case.next_action_due, case.next_action, "planned"
    if broken and (due is None or max(broken) < due):
        due, reason = max(broken), "promise broken"
        text = f"Follow up the broken promise due {(due - dt.timedelta(days=1)).isoformat()}"
    return {
        "text": text,
        "due": due.isoformat() if due else None,
        "reason": reason if due else None,
    }
