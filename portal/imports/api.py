"""``POST /api/v1/imports``: a CSV or XLSX file of debtors, invoices or payments, all or nothing."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.datastructures import FileStorage

from ..api.arguments import ApiBlueprint, FileUpload
from ..api.auth import BEARER, api_actor, token_required
from ..api.schemas import ApiErrorSchema
from ..extensions import db
from ..security import Permission
from .services import KINDS, run_import
from .tables import Limits, read_limited


class ImportRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    file = FileUpload(required=True, metadata={"description": "CSV (UTF-8) or XLSX"})
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "check and count only; write nothing"}
    )


class ImportRowErrorSchema(Schema):
    row = fields.Integer(
        required=True, allow_none=True, metadata={"description": "spreadsheet row; header = 1"}
    )
    field = fields.String(required=True, allow_none=True, metadata={"description": "column"})
    message = fields.String(required=True)


class ImportReportSchema(Schema):
    rows = fields.Integer(required=True, metadata={"description": "data rows read"})
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    errors = fields.List(fields.Nested(ImportRowErrorSchema), required=True)


blp = ApiBlueprint(
    "imports_api",
    __name__,
    url_prefix="/api/v1",
    description="Imports of debtors, invoices and payments from CSV or XLSX files",
)


@blp.route("/imports")
class Imports(MethodView):
    decorators = [token_required(Permission.EDIT_LEDGER)]

    @blp.doc(security=BEARER)
    @blp.arguments(ImportRequestSchema, location="multipart")
    @blp.response(200, ImportReportSchema, description="Imported (or, with dry_run, checked)")
    @blp.alt_response(
        422,
        schema={"oneOf": [ImportReportSchema, ApiErrorSchema]},
        description="Rows with errors, in the report; nothing was imported. A request that "
        "fails the schema (no file, an unknown kind) gets the error shape instead.",
    )
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="Larger than IMPORT_MAX_BYTES")
    @blp.alt_response(415, schema=ApiErrorSchema, description="Not a CSV or XLSX file")
    def post(self, args: dict[str, Any]) -> Any:
        """Import a CSV or XLSX file of debtors, invoices or payments: every row or none.

        Rows are matched by `external_id`: new ones are created, changed ones updated, identical
        ones left alone, so importing the same file twice changes nothing the second time. With
        any bad row nothing is imported and the answer is 422 with every error.
        """
        upload: FileStorage = args["file"]
        data = read_limited(upload.stream, Limits.from_config().max_bytes)
        report = run_import(
            api_actor(),
            args["kind"],
            data,
            filename=upload.filename or "",
            dry_run=args["dry_run"],
        )
        if not report.ok:
            db.session.rollback()
            return report.as_dict(), 422
        if report.written:
            db.session.commit()
        else:
            db.session.rollback()
        return report.as_dict()
