"""Ledger routes of ``/api/v1``: idempotent PUTs by external id, debtor balances, aging."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError

from ..business_time import today as business_today
from ..domain import Conflict, DomainError, NotFound
from ..extensions import db
from ..ledger import aging as aging_service
from ..ledger.allocation import debtor_balances
from ..ledger.models import DebtorKind, Jurisdiction
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
from .arguments import ApiBlueprint
from .auth import BEARER, api_actor, token_required
from .schemas import ApiErrorSchema, openapi_extra, places_rule

blp = ApiBlueprint("ledger_api", __name__, url_prefix="/api/v1", description="Receivables ledger")


class UpsertOut(Schema):
    external_id = fields.String(required=True)
    id = fields.Integer(required=True)
    created = fields.Boolean(required=True)


class DebtorOut(Schema):
    external_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.Function(
        lambda debtor: debtor.kind.value,
        required=True,
        metadata={"type": "string", "enum": [kind.value for kind in DebtorKind]},
    )
    registration_id = fields.String(required=True, allow_none=True)
    address = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    jurisdiction = fields.Function(
        lambda debtor: debtor.jurisdiction.value,
        required=True,
        metadata={"type": "string", "enum": [item.value for item in Jurisdiction]},
    )
    legal_representative = fields.String(required=True, allow_none=True)
    title = fields.String(required=True, allow_none=True)
    surname = fields.String(required=True, allow_none=True)
    balance = fields.Method(
        "_balance",
        required=True,
        metadata={
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "outstanding per currency",
        },
    )

    def _balance(self, debtor) -> dict[str, str]:
        balances = debtor_balances(debtor.id).items()
        return {currency: str(quantize(amount, currency)) for currency, amount in balances}


class AgingArgs(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "default: today"})
    by_creditor = fields.Boolean(load_default=False)


class AgingItem(Schema):
    debtor = fields.String(required=True)
    debtor_name = fields.String(required=True)
    creditor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the creditor entity's code with `by_creditor`, else null"},
    )
    currency = fields.String(required=True)
    current = fields.String(required=True)
    d1_30 = fields.String(required=True)
    d31_60 = fields.String(required=True)
    d61_90 = fields.String(required=True)
    d91_180 = fields.String(required=True)
    d181_365 = fields.String(required=True)
    over_365 = fields.String(required=True)
    total = fields.String(required=True)


class AgingOut(Schema):
    as_of = fields.Date(required=True)
    items = fields.List(fields.Nested(AgingItem), required=True)
    next = fields.String(required=True, allow_none=True)


# What the upserts check beyond the fields: an amount has its currency's decimals.
for _schema in (InvoiceIn, PaymentIn, CreditNoteIn):
    openapi_extra({"allOf": [places_rule("amount")]})(_schema)

#: The path's external id as the upserts take it: 1–64 characters, no control characters, not
#: only spaces (``ledger.upserts._external_id``).
EXTERNAL_ID = {
    "in": "path",
    "name": "external_id",
    "description": "the record's id in the ERP",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "pattern": r"^[^\x00-\x1f]*[^\x00-\x20\s\x85][^\x00-\x1f]*$",
    },
}


#: Tries of a creating PUT that loses a race to a parallel one creating the same id.
UPSERT_TRIES = 3


def _upsert(function, external_id: str, data: dict[str, Any]) -> Response:
    """Create or update; a parallel PUT that created the same id first turns this one into an
    update (the unique constraint decides, then the upsert runs again)."""
    for attempt in range(1, UPSERT_TRIES + 1):
        try:
            obj, created = function(api_actor(), external_id, data)
            # Read before the commit expires them: no query (and transaction) after it.
            answer = {"external_id": obj.external_id, "id": obj.id, "created": created}
            db.session.commit()
            break
        except IntegrityError as error:
            db.session.rollback()
            if attempt == UPSERT_TRIES:
                raise Conflict(
                    f"{external_id} was changed by parallel requests; send it again."
                ) from error
    body = UpsertOut().dump(answer)
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
    blp.route(path, parameters=[EXTERNAL_ID])(Resource)


_put_route("/debtors/<external_id>", DebtorIn, upsert_debtor, "Create or update a debtor")
_put_route("/invoices/<external_id>", InvoiceIn, upsert_invoice, "Create or update an invoice")
_put_route("/payments/<external_id>", PaymentIn, upsert_payment, "Create or update a payment")
_put_route(
    "/credit-notes/<external_id>",
    CreditNoteIn,
    upsert_credit_note,
    "Create or update a credit note",
)


@blp.route("/debtors/<external_id>", parameters=[EXTERNAL_ID])
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
        # The stored aging when it is as of that day (else computed from the ledger).
        query, _stored = aging_service.report_query(
            as_of, args["by_creditor"], aging_service.AgingFilter()
        )
        rows = [
            aging_service.as_row(row._mapping, args["by_creditor"])
            for row in db.session.execute(query)
        ]
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
