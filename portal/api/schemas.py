"""Marshmallow schemas of the API's requests and responses, and what the OpenAPI document says
about them beyond marshmallow's fields (money as patterned strings, rules across fields)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..ids import Id
from ..ledger.schemas import MoneyString, RateString

S = TypeVar("S", bound=type)

#: A positive amount below 10^14 with at most 4 decimals: what ``MoneyString`` takes without a
#: currency (``money.parse_amount``), written the canonical way (``"1234.50"``).
AMOUNT_PATTERN = (
    r"^(?:[1-9][0-9]{0,13}(?:\.[0-9]{1,4})?"
    r"|0\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)
#: The same with a currency: two decimals at most, none for the yen (``money.minor_units``).
CENTS_PATTERN = r"^(?:[1-9][0-9]{0,13}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$"
WHOLE_PATTERN = r"^[1-9][0-9]{0,13}$"
WHOLE_CURRENCIES = ["JPY"]
#: A rate in percent per annum: 0–100, at most 6 decimals (``RateString``).
RATE_PATTERN = r"^(?:100(?:\.0{1,6})?|[0-9]{1,2}(?:\.[0-9]{1,6})?)$"

#: Keywords added to a schema's OpenAPI component, by schema class (see :func:`openapi_extra`).
_EXTRAS: dict[type, list[Callable[[dict[str, Any]], None]]] = {}


def openapi_extra(*changes: Callable[[dict[str, Any]], None] | dict[str, Any]):
    """Class decorator (or call ``openapi_extra(...)(SchemaClass)``): what the OpenAPI component
    of the schema says beyond its fields — a rule across fields (``allOf`` of ``if``/``then``,
    ``minProperties``) as a dict merged in, or a function that edits the component in place.
    Subclasses (and schemas using a mixin so decorated) inherit them, as they inherit the
    validation they describe."""

    def register(schema: S) -> S:
        for change in changes:
            edit = partial(_merge, extra=change) if isinstance(change, dict) else change
            _EXTRAS.setdefault(schema, []).append(edit)
        return schema

    return register


def _merge(component: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if key == "allOf":
            component.setdefault("allOf", []).extend(value)
        else:
            component[key] = value


class SchemaExtrasPlugin(BasePlugin):
    """Applies :func:`openapi_extra` to the components the marshmallow plugin made (it must run
    after that plugin)."""

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        cls = resolve_schema_cls(schema)
        for klass in reversed(getattr(cls, "__mro__", ())):
            for change in _EXTRAS.get(klass, ()):
                change(definition)
        return None


def money_field_properties(self, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: amounts and rates are strings of a documented form."""
    if isinstance(field, MoneyString):
        return {"pattern": AMOUNT_PATTERN}
    if isinstance(field, RateString):
        return {"pattern": RATE_PATTERN}
    return {}


def places_rule(amount: str, currency: str = "currency") -> dict[str, Any]:
    """The ``allOf`` item saying ``amount`` has the decimals of ``currency`` (2, the yen 0)."""
    return {
        "if": {"properties": {currency: {"enum": WHOLE_CURRENCIES}}, "required": [currency]},
        "then": {"properties": {amount: {"pattern": WHOLE_PATTERN}}},
        "else": {"properties": {amount: {"pattern": CENTS_PATTERN}}},
    }


def requires_when_given(name: str, *required: str) -> dict[str, Any]:
    """The ``allOf`` item: when ``name`` is given (not null), so must ``required`` be."""
    return {
        "if": {"properties": {name: {"not": {"type": "null"}}}, "required": [name]},
        "then": {
            "required": list(required),
            "properties": {other: {"not": {"type": "null"}} for other in required},
        },
    }


@openapi_extra({"minProperties": 1})
class NonEmptyMixin:
    """For PATCH bodies: no body, or ``{}``, is 422 — there is nothing to change."""

    @validates_schema(pass_original=True)
    def _not_empty(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not data and not (isinstance(original, dict) and original):
            raise ValidationError("Send at least one field to change.", field_name="_schema")


class HealthSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["ok", "degraded"]), metadata={"example": "ok"}
    )
    database = fields.String(required=True, metadata={"example": "ok"})
    queue = fields.String(required=True, metadata={"example": "ok"})
    worker = fields.String(
        required=True,
        metadata={"example": "ok", "description": "a job worker was alive in the last minutes"},
    )
    store = fields.String(
        required=True,
        metadata={"example": "ok", "description": "the file store is writable, its disk not full"},
    )
    worker_seen_seconds_ago = fields.Integer(required=True, allow_none=True)
    free_bytes = fields.Integer(required=True, allow_none=True)


class MeSchema(Schema):
    email = fields.Email(required=True)
    role = fields.String(required=True, metadata={"enum": ["admin", "legal", "finance", "lawyer"]})
    name = fields.String(required=True)
    firm = fields.String(required=True, allow_none=True)
    licence_number = fields.String(required=True, allow_none=True)


def _string(function: Callable[[Any], Any], **kwargs: Any) -> fields.Function:
    """A computed string field, typed in the OpenAPI document."""
    return fields.Function(
        function,
        required=True,
        allow_none=kwargs.pop("allow_none", False),
        metadata={"type": "string", **kwargs},
    )


class CaseSummarySchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    debtor = _string(lambda case: case.debtor.external_id)
    debtor_name = _string(lambda case: case.debtor.name)
    creditor = _string(lambda case: case.creditor.code)
    jurisdiction = _string(lambda case: case.jurisdiction.value)
    stage = _string(lambda case: case.stage.value)
    status = _string(lambda case: case.status.value)
    owner = _string(lambda case: case.owner.email)
    lawyer = _string(lambda case: case.lawyer.email if case.lawyer else None, allow_none=True)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next = fields.String(allow_none=True, required=True)


class CaseListArgsSchema(Schema):
    cursor = Id(load_default=None, metadata={"description": "`next` of the last page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FindingSchema(Schema):
    """A readiness finding: a rule that blocks a stage (``blocker``) or asks for a look."""

    rule = fields.String(required=True, metadata={"example": "R3"})
    severity = fields.String(required=True, validate=validate.OneOf(["blocker", "warning"]))
    message = fields.String(required=True)
    remedy = fields.String()
    invoice = fields.String(metadata={"description": "external id of the invoice concerned"})
    evidence = fields.Integer(metadata={"description": "id of the evidence concerned"})


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    findings = fields.List(
        fields.Nested(FindingSchema),
        metadata={"description": "a refused stage move or final filing: what blocks it"},
    )
    # Last: the name shadows marshmallow's ``fields`` module in the class body.
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ApiErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
