"""Dispatch of a signed document: how it went out becomes a ``dispatch`` event on the case's
timeline (the limitation and reply-period rules read it)."""

from __future__ import annotations

import datetime as dt

from ..audit.services import Actor
from ..business_time import today as business_today
from ..cases.events import add_event
from ..cases.models import CaseEvent
from ..documents.models import Document
from ..domain import Conflict, ValidationFailed
from .services import Forbidden, can_submit


def record_dispatch(
    actor: Actor,
    document: Document,
    *,
    sent_on: dt.date,
    courier: str,
    tracking: str,
    delivered_on: dt.date | None,
) -> CaseEvent:
    """A signed document went out: a ``dispatch`` event on the case's timeline.

    :raises Forbidden: the actor does not manage the case.
    :raises Conflict: the version is not signed.
    :raises ValidationFailed: sent before the letter's date or signature, sent or delivered in
        the future, or delivered before it was sent.
    """
    if actor.user is None or not can_submit(actor.user, document):
        raise Forbidden("Only legal staff on the case record dispatches.")
    if document.approval is None:
        raise Conflict("Only a signed version is dispatched; have counsel sign it first.")
    # A signed letter goes out on or after its date and its signature, never before: a
    # back-dated dispatch would start the reply period (R14) early.
    earliest = max(document.document_date, document.approval.decided_at.date())
    if sent_on < earliest:
        raise ValidationFailed(
            f"The {document.kind.label.lower()} is dated {document.document_date.isoformat()} and "
            f"was signed on {document.approval.decided_at.date().isoformat()}; it cannot have been "
            "sent before that.",
            fields={"date": [f"On or after {earliest.isoformat()}."]},
        )
    today = business_today(document.case.jurisdiction)
    if sent_on > today:
        raise ValidationFailed(
            "The dispatch date lies in the future.", fields={"date": ["Not later than today."]}
        )
    if delivered_on and delivered_on < sent_on:
        raise ValidationFailed(
            "Delivery cannot come before dispatch.",
            fields={"delivered_on": ["On or after the date sent."]},
        )
    if delivered_on and delivered_on > today:
        raise ValidationFailed(
            "Delivery lies in the future.", fields={"delivered_on": ["Not later than today."]}
        )
    return add_event(
        actor,
        document.case,
        {
            "type": "dispatch",
            "date": sent_on,
            "document": document.kind.value,
            "document_id": document.id,
            "version": document.version,
            "reference": document.reference,
            "courier": courier.strip(),
            "tracking": tracking.strip(),
            "delivered_on": delivered_on,
            # The deadline the letter itself gave: no claim before it has passed (R14).
            "due": document.deadline,
        },
    )
