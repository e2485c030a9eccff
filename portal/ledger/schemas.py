"""Input schemas of the ledger, shared by the API and the CSV/XLSX imports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..money import CURRENCIES, parse_amount
from .models import DebtorKind, Jurisdiction


class MoneyString(fields.Field):
    """A decimal amount given as a string (``"1234.50"``); floats are refused (they are inexact)."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValidationError('Give amounts as decimal strings, e.g. "1234.50".')
        try:
            return parse_amount(value)
        except ValueError as error:
            raise ValidationError(_sentence(error)) from error

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs) -> str | None:
        return None if value is None else str(value)


class RateString(fields.Decimal):
    """A rate in percent per annum, 0–100, at most 6 decimal places."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(places=None, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        if isinstance(value, float):
            raise ValidationError('Give rates as decimal strings, e.g. "8.5".')
        number = super()._deserialize(value, attr, data, **kwargs)
        if not Decimal(0) <= number <= Decimal(100) or number.as_tuple().exponent < -6:
            raise ValidationError("A rate is a percentage between 0 and 100 (6 decimals at most).")
        return number


def _currency() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(sorted(CURRENCIES), error="Not an accepted currency."),
        metadata={"description": "ISO 4217", "example": "GBP"},
    )


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def place_errors(data: dict[str, Any], *names: str) -> dict[str, list[str]]:
    """Amounts with more decimals than the currency's minor unit."""
    currency, errors = data.get("currency"), {}
    for name in names:
        if currency and data.get(name) is not None:
            try:
                parse_amount(data[name], currency)
            except ValueError as error:
                errors[name] = [_sentence(error)]
    return errors


def _check_places(data: dict[str, Any], *names: str) -> None:
    errors = place_errors(data, *names)
    if errors:
        raise ValidationError(errors)


class DebtorIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DebtorKind]))
    registration_id = fields.String(load_default=None, validate=validate.Length(max=64))
    address = fields.String(load_default=None, validate=validate.Length(max=2000))
    email = fields.Email(load_default=None)
    phone = fields.String(load_default=None, validate=validate.Length(max=64))
    jurisdiction = fields.String(
        required=True, validate=validate.OneOf([j.value for j in Jurisdiction])
    )
    legal_representative = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "a company's legal representative (PRC 法定代表人)"},
    )
    title = fields.String(
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "an individual's title for the salutation: Mr, Ms, Dr"},
    )
    surname = fields.String(
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "an individual's surname for the salutation"},
    )


class InvoiceIn(Schema):
    debtor = fields.String(required=True, metadata={"description": "the debtor's external_id"})
    creditor = fields.String(
        load_default=None,
        metadata={"description": "creditor entity code; optional when there is only one"},
    )
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    issue_date = fields.Date(required=True)
    delivery_date = fields.Date(load_default=None)
    due_date = fields.Date(required=True)
    currency = _currency()
    amount = MoneyString(required=True, metadata={"example": "1234.50"})
    contract_ref = fields.String(load_default=None, validate=validate.Length(max=128))
    interest_rate = RateString(
        load_default=None, metadata={"description": "agreed rate, percent per annum"}
    )

    @validates_schema
    def _dates_and_places(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = place_errors(data, "amount")
        issued, due = data.get("issue_date"), data.get("due_date")
        if issued and due and due < issued:
            errors["due_date"] = ["The due date is before the issue date."]
        if errors:
            raise ValidationError(errors)


class PaymentIn(Schema):
    debtor = fields.String(required=True)
    date = fields.Date(required=True)
    currency = _currency()
    amount = MoneyString(required=True)
    invoice = fields.String(
        load_default=None, metadata={"description": "external_id of the invoice it pays"}
    )

    @validates_schema
    def _places(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_places(data, "amount")


class CreditNoteIn(Schema):
    debtor = fields.String(required=True)
    invoice = fields.String(required=True)
    date = fields.Date(required=True)
    currency = _currency()
    amount = MoneyString(required=True)

    @validates_schema
    def _places(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_places(data, "amount")
