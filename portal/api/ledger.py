"""Ledger routes of ``/api/v1``: idempotent PUTs by external id, debtor balances, aging."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError

from ..business_time import today as business_today
from ..domain import Conflict, DomainError, NotFound
from ..extensions import db
from ..ledger import aging as aging_service
from ..ledger.allocation import debtor_balances
from ..ledger.schemas import CreditNoteIn, DebtorIn, InvoiceIn, PaymentIn
from ..ledger.upserts import (
    debtor_by_external_id,
    upsert_credit_note,
    upsert_debtor,
    upsert_invoice,
    upsert_payment,
)
from ..money import quantize
from ..security import Permission
from .auth import BEARER, api_actor, token_required
from .schemas import ApiErrorSchema

blp = Blueprint("ledger_api", __name__, url_prefix="/api/v1", description="Receivables ledger")


class UpsertOut(Schema):
    external_id = fields.String(required=True)
    id = fields.Integer(required=True)
    created = fields.Boolean(required=True)


class DebtorOut(Schema):
    external_id = fields.String()
    name = fields.String()
    kind = fields.Function(lambda debtor: debtor.kind.value)
    registration_id = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    jurisdiction = fields.Function(lambda debtor: debtor.jurisdiction.value)
    legal_representative = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    surname = fields.String(allow_none=True)
    balance = fields.Method("_balance", metadata={"description": "outstanding per currency"})

    def _balance(self, debtor) -> dict[str, str]:
        balances = debtor_balances(debtor.id).items()
        return {currency: str(quantize(amount, currency)) for currency, amount in balances}


class AgingArgs(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "default: today"})
    by_creditor = fields.Boolean(load_default=False)


class AgingItem(Schema):
    debtor = fields.String()
    debtor_name = fields.String()
    creditor = fields.String()
    currency = fields.String()
    current = fields.String()
    d1_30 = fields.String()
    d31_60 = fields.String()
    d61_90 = fields.String()
    d91_180 = fields.String()
    d181_365 = fields.String()
    over_365 = fields.String()
    total = fields.String()


class AgingOut(Schema):
    as_of = fields.Date()
    items = fields.List(fields.Nested(AgingItem))
    next = fields.String(allow_none=True)


#: Tries of a creating PUT that loses a race to a parallel one creating the same id.
UPSERT_TRIES = 3


def _upsert(function, external_id: str, data: dict[str, Any]) -> Response:
    """Create or update; a parallel PUT that created the same id first turns this one into an
    update (the unique constraint decides, then the upsert runs again)."""
    for attempt in range(1, UPSERT_TRIES + 1):
        try:
            obj, created = function(api_actor(), external_id, data)
            db.session.commit()
            break
        except IntegrityError as error:
            db.session.rollback()
            if attempt == UPSERT_TRIES:
                raise Conflict(
                    f"{external_id} was changed by parallel requests; send it again."
                ) from error
    body = UpsertOut().dump({"external_id": obj.external_id, "id": obj.id, "created": created})
    return body, 201 if created else 200


def _put_route(path: str, schema: type[Schema], function, summary: str) -> None:
    """Register ``PUT path`` that upserts with ``function`` (the same contract for every kind)."""

    class Resource(MethodView):
        decorators = [token_required(Permission.EDIT_LEDGER)]

        @blp.doc(security=BEARER, summary=summary)
        @blp.arguments(schema)
        @blp.response(200, UpsertOut, description="updated (or unchanged)")
        @blp.alt_response(201, schema=UpsertOut, description="created")
        @blp.alt_response(422, schema=ApiErrorSchema)
        def put(self, data: dict[str, Any], external_id: str):
            return _upsert(function, external_id, data)

    Resource.__name__ = f"{schema.__name__.removesuffix('In')}Put"
    blp.route(path)(Resource)


_put_route("/debtors/<external_id>", DebtorIn, upsert_debtor, "Create or update a debtor")
_put_route("/invoices/<external_id>", InvoiceIn, upsert_invoice, "Create or update an invoice")
_put_route("/payments/<external_id>", PaymentIn, upsert_payment, "Create or update a payment")
_put_route(
    "/credit-notes/<external_id>",
    CreditNoteIn,
    upsert_credit_note,
    "Create or update a credit note",
)


@blp.route("/debtors/<external_id>")
class DebtorGet(MethodView):
    decorators = [token_required(Permission.VIEW_LEDGER)]

    @blp.doc(security=BEARER)
    @blp.response(200, DebtorOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, external_id: str):
        """A debtor with its outstanding balance per currency."""
        try:
            return debtor_by_external_id(external_id)
        except DomainError as error:
            raise NotFound(f"No debtor {external_id!r}.") from error


@blp.route("/aging")
class Aging(MethodView):
    decorators = [token_required(Permission.VIEW_LEDGER)]

    @blp.doc(security=BEARER)
    @blp.arguments(AgingArgs, location="query")
    @blp.response(200, AgingOut)
    def get(self, args: dict[str, Any]):
        """Outstanding per debtor and currency in aging buckets as of a date."""
        as_of = args["as_of"] or business_today()
        rows = aging_service.aging(as_of, by_creditor=args["by_creditor"])
        items = [
            {
                "debtor": row.debtor,
                "debtor_name": row.debtor_name,
                "creditor": row.creditor or None,
                "currency": row.currency,
                **{key: str(quantize(value, row.currency)) for key, value in row.buckets.items()},
                "total": str(quantize(row.total, row.currency)),
            }
            for row in rows
        ]
        return {"as_of": as_of, "items": items, "next": None}
