"""The fields each timeline event type takes (API bodies and the case-page forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..business_time import today as business_today
from ..ledger.schemas import MoneyString, _check_places
from ..money import CURRENCIES
from .models import EventType

CHANNELS = ("phone", "email", "letter", "visit", "meeting", "messaging", "other")


class EventBase(Schema):
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in EventType]))
    date = fields.Date(required=True, metadata={"description": "the day it happened"})

    @validates_schema
    def _not_in_future(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("date") and data["date"] > business_today() + dt.timedelta(days=1):
            # One day of slack: a user east of UTC may already be in tomorrow.
            raise ValidationError("The date is in the future.", field_name="date")


def _text(max_length: int = 2000) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length))


def _currency(required: bool = True) -> fields.String:
    choice = validate.OneOf(sorted(CURRENCIES))
    if required:
        return fields.String(required=True, validate=choice)
    return fields.String(load_default=None, validate=choice)


class ContactEvent(EventBase):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    summary = _text()


class PromiseEvent(EventBase):
    amount = MoneyString(required=True)
    currency = _currency()
    due = fields.Date(required=True, metadata={"description": "the day the debtor will pay by"})

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_places(data, "amount")
        if data.get("due") and data.get("date") and data["due"] < data["date"]:
            raise ValidationError("The promised day is before the promise.", field_name="due")


class DisputeEvent(EventBase):
    invoices = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    reason = _text()


class DisputeResolvedEvent(EventBase):
    invoices = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    resolution = _text()


class ReconciliationSentEvent(EventBase):
    courier = _text(100)
    tracking = _text(100)
    reply_by = fields.Date(required=True)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("reply_by") and data.get("date") and data["reply_by"] <= data["date"]:
            raise ValidationError("The reply deadline must follow the sending.", "reply_by")


class ReconciliationReplyEvent(EventBase):
    confirmed = fields.Boolean(required=True)
    balance = MoneyString(load_default=None)
    currency = _currency(required=False)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("balance") is not None and not data.get("currency"):
            raise ValidationError("Give the currency of the balance.", field_name="currency")
        _check_places(data, "balance")


ENCLOSURES = ("information_sheet", "reply_form", "financial_statement", "statement_of_account")


class DispatchEvent(EventBase):
    document = _text(100)
    courier = _text(100)
    tracking = _text(100)
    delivered_on = fields.Date(load_default=None)
    enclosures = fields.List(
        fields.String(validate=validate.OneOf(ENCLOSURES)),
        load_default=list,
        metadata={"description": "PAP-Debt enclosures sent with the letter"},
    )

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("delivered_on") and data.get("date") and data["delivered_on"] < data["date"]:
            raise ValidationError("Delivered before it was sent?", field_name="delivered_on")


class AcknowledgmentEvent(EventBase):
    signed = fields.Boolean(required=True)
    amount = MoneyString(load_default=None)
    currency = _currency(required=False)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("amount") is not None and not data.get("currency"):
            raise ValidationError("Give the currency of the amount.", field_name="currency")
        _check_places(data, "amount")


class AssetEvent(EventBase):
    description = _text()


class PreservationEvent(EventBase):
    """An application to preserve the debtor's property (asset freezing)."""

    court = _text(200)
    description = _text()


class NoteEvent(EventBase):
    text = _text(5000)


SCHEMAS: dict[EventType, type[EventBase]] = {
    EventType.CONTACT: ContactEvent,
    EventType.PROMISE: PromiseEvent,
    EventType.DISPUTE: DisputeEvent,
    EventType.DISPUTE_RESOLVED: DisputeResolvedEvent,
    EventType.RECONCILIATION_SENT: ReconciliationSentEvent,
    EventType.RECONCILIATION_REPLY: ReconciliationReplyEvent,
    EventType.DISPATCH: DispatchEvent,
    EventType.ACKNOWLEDGMENT: AcknowledgmentEvent,
    EventType.ASSET: AssetEvent,
    EventType.PRESERVATION: PreservationEvent,
    EventType.NOTE: NoteEvent,
}


def load_event(payload: dict[str, Any]) -> dict[str, Any]:
    """Validate an event payload against its type's schema.

    :raises ValidationError: with per-field messages (unknown fields included).
    """
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in {t.value for t in EventType}:
        raise ValidationError({"type": [f"One of: {', '.join(t.value for t in EventType)}."]})
    return SCHEMAS[EventType(kind)]().load(payload)
