"""Marshmallow schemas of the API's requests and responses."""

from marshmallow import Schema, fields, validate

from ..ids import Id


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "ok"})
    queue = fields.String(required=True, metadata={"example": "ok"})
    worker = fields.String(
        metadata={"example": "ok", "description": "a job worker was alive in the last minutes"}
    )
    store = fields.String(
        metadata={"example": "ok", "description": "the file store is writable, its disk not full"}
    )
    worker_seen_seconds_ago = fields.Integer(allow_none=True)
    free_bytes = fields.Integer(allow_none=True)


class MeSchema(Schema):
    email = fields.Email(required=True)
    role = fields.String(required=True, metadata={"enum": ["admin", "legal", "finance", "lawyer"]})
    name = fields.String(required=True)
    firm = fields.String(allow_none=True)
    licence_number = fields.String(allow_none=True)


class CaseSummarySchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    debtor = fields.Function(lambda case: case.debtor.external_id)
    debtor_name = fields.Function(lambda case: case.debtor.name)
    creditor = fields.Function(lambda case: case.creditor.code)
    jurisdiction = fields.Function(lambda case: case.jurisdiction.value)
    stage = fields.Function(lambda case: case.stage.value)
    status = fields.Function(lambda case: case.status.value)
    owner = fields.Function(lambda case: case.owner.email)
    lawyer = fields.Function(lambda case: case.lawyer.email if case.lawyer else None)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next = fields.String(allow_none=True, required=True)


class CaseListArgsSchema(Schema):
    cursor = Id(load_default=None, metadata={"description": "`next` of the last page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ApiErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
