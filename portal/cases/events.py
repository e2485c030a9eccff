"""Recording timeline events."""

from __future__ import annotations

from typing import Any

from ..audit.services import Actor, jsonable, record
from ..domain import ValidationFailed
from ..extensions import db
from .models import Case, CaseEvent, EventType

#: Fields stored in their own columns; the rest go to ``details``.
_COLUMN_FIELDS = {
    "type",
    "date",
    "due",
    "reply_by",
    "delivered_on",
    "amount",
    "balance",
    "currency",
}


def add_event(actor: Actor, case: Case, data: dict[str, Any]) -> CaseEvent:
    """Append a validated event (see ``event_schemas.load_event``) to the case's timeline.

    :raises ValidationFailed: a dispute naming invoices the case does not claim, or an amount in
        another currency than the case's.
    """
    kind = EventType(data["type"])
    if kind in (EventType.DISPUTE, EventType.DISPUTE_RESOLVED):
        claimed = {invoice.external_id for invoice in case.invoices}
        unknown = [key for key in data["invoices"] if key not in claimed]
        if unknown:
            raise ValidationFailed(
                f"Not invoices of this case: {', '.join(unknown)}.",
                fields={"invoices": [f"Not claimed in {case.reference}: {', '.join(unknown)}."]},
            )
    currency = data.get("currency")
    if currency and case.currency and currency != case.currency:
        raise ValidationFailed(
            f"The case is in {case.currency}.", fields={"currency": [f"Use {case.currency}."]}
        )
    amount = data.get("amount", data.get("balance"))
    event = CaseEvent(
        case=case,
        type=kind,
        date=data["date"],
        due=data.get("due") or data.get("reply_by"),
        delivered_on=data.get("delivered_on"),
        amount=amount,
        currency=currency,
        details=jsonable({key: value for key, value in data.items() if key not in _COLUMN_FIELDS}),
        created_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(event)
    db.session.flush()
    record(actor, f"case.event.{kind.value}", "case", case.id, after={"event": event.id, **data})
    return event
