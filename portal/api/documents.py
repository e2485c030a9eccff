"""Documents and jobs routes of ``/api/v1``: generate, read, download, upload an edit, bulk."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..business_time import today as business_today
from ..cases import policy
from ..cases.gate import MIN_REASON
from ..documents.bulk import BUCKETS, cases_in_bucket, editable_cases, start_bulk
from ..documents.models import Document, DocumentKind, DocumentStatus
from ..documents.present import document_payload
from ..documents.services import (
    DOCX_MEDIA_TYPE,
    INPUT_FIELDS,
    generate_document,
    upload_version,
)
from ..extensions import db
from ..ids import Id
from ..jobs import services as jobs
from ..jobs.models import JobStatus
from ..review.verification import signed_pdf
from ..security import Permission, has_permission
from ..storage import file_store
from .arguments import ApiBlueprint, FileUpload
from .auth import BEARER, api_actor, api_user, token_required
from .cases import with_case
from .evidence import download
from .schemas import ApiErrorSchema, openapi_extra

blp = ApiBlueprint("documents_api", __name__, url_prefix="/api/v1", description="Documents")

KINDS = [kind.value for kind in DocumentKind]
COURT_KINDS = [kind.value for kind in DocumentKind if kind.for_court]


def _override_rule(component: dict[str, Any]) -> None:
    """Only R14 (the reply period) may be overridden, with a reason of some length
    (``cases.gate.record_override``; whether it blocks the case now is for the server)."""
    component["properties"]["rule"].update(enum=["R14"])
    # At least MIN_REASON characters from the first to the last that is not a space.
    component["properties"]["reason"].update(pattern=rf"^\s*\S[\s\S]{{{MIN_REASON - 2},}}\S\s*$")


@openapi_extra(_override_rule)
class OverrideIn(Schema):
    rule = fields.String(
        required=True, metadata={"description": "the blocker overridden (only R14 may be)"}
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(max=2000),
        metadata={
            "description": f"why the claim cannot wait, e.g. limitation expires on … (at least "
            f"{MIN_REASON} characters)"
        },
    )


def _typed_in_fields(component: dict[str, Any]) -> None:
    """The values a template may ask for are named (``documents.services.INPUT_FIELDS``)."""
    component["properties"]["fields"]["propertyNames"] = {"enum": list(INPUT_FIELDS)}


@openapi_extra(
    _typed_in_fields,
    {
        "allOf": [
            # An override only comes with a final court filing (``generate_document``).
            {
                "if": {"required": ["override"]},
                "then": {
                    "required": ["mode"],
                    "properties": {"mode": {"const": "final"}, "kind": {"enum": COURT_KINDS}},
                },
            }
        ]
    },
)
class GenerateIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    mode = fields.String(load_default="draft", validate=validate.OneOf(["draft", "final"]))
    #: Typed-in values the template asks for, e.g. ``{"court.name": "..."}``.
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.String(), load_default=dict
    )
    as_of = fields.Date(metadata={"description": "document date (default: today)"})
    override = fields.Nested(
        OverrideIn,
        metadata={
            "description": "legal only: proceed with a final statement of claim or evidence "
            "list past an overridable prosecution blocker (audited, shown to counsel)"
        },
    )


class OverrideOut(Schema):
    rule = fields.String(required=True)
    reason = fields.String(required=True)
    by = fields.String(
        required=True, allow_none=True, metadata={"description": "e-mail of who recorded it"}
    )
    at = fields.String(required=True, metadata={"description": "when (UTC, ISO 8601)"})
    findings = fields.List(
        fields.String(), metadata={"description": "what the rule said when it was overridden"}
    )


class FactSource(Schema):
    type = fields.String(
        required=True,
        metadata={"description": "creditor, debtor, invoice, case, event, document or evidence"},
    )
    id = fields.Integer(required=True, allow_none=True)


class FactOut(Schema):
    name = fields.String(required=True)
    value = fields.String(required=True)
    source = fields.Nested(FactSource, required=True)


class GeneratedOut(Schema):
    id = fields.Integer(required=True)
    case = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    version = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in DocumentStatus])
    )
    template = fields.String(required=True)
    missing_fields = fields.List(fields.String(), required=True)


class ApprovalOut(Schema):
    lawyer = fields.String(required=True)
    decided_at = fields.String(required=True)
    reviewed_sha256 = fields.String(required=True)
    signed_sha256 = fields.String(required=True, allow_none=True)
    certificate_sha256 = fields.String(required=True, allow_none=True)
    statement = fields.String(required=True)
    timestamped = fields.Boolean(required=True)


class DocumentOut(GeneratedOut):
    final = fields.Boolean(required=True)
    source = fields.String(required=True)
    reference = fields.String(required=True)
    template_sha256 = fields.String(required=True)
    sha256_docx = fields.String(required=True)
    sha256_pdf = fields.String(required=True)
    pages = fields.Integer(required=True)
    document_date = fields.String(required=True, metadata={"format": "date"})
    deadline = fields.String(
        required=True,
        allow_none=True,
        metadata={"format": "date", "description": "the reply date a letter gives"},
    )
    based_on = fields.Integer(required=True, allow_none=True)
    created_at = fields.String(required=True)
    created_by = fields.String(required=True, allow_none=True)
    approval = fields.Nested(ApprovalOut, required=True, allow_none=True)
    override = fields.Nested(OverrideOut, required=True, allow_none=True)
    facts = fields.List(
        fields.Nested(FactOut),
        required=True,
        metadata={"description": "what the version asserts, each with the record it comes from"},
    )
    context = fields.Dict(metadata={"description": "`GET /documents/<id>` only"})


class DocumentList(Schema):
    items = fields.List(fields.Nested(DocumentOut), required=True)
    next = fields.String(required=True, allow_none=True)


class UploadFile(Schema):
    file = FileUpload(required=True, metadata={"description": "the edited .docx"})


@openapi_extra(
    {
        "anyOf": [
            {"required": ["bucket"]},
            {"required": ["cases"], "properties": {"cases": {"minItems": 1}}},
        ]
    }
)
class BulkIn(Schema):
    """Cases by id, or an aging bucket's (``bucket`` wins)."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    mode = fields.String(load_default="draft", validate=validate.OneOf(["draft", "final"]))
    cases = fields.List(Id(), metadata={"description": "case ids"})
    bucket = fields.String(validate=validate.OneOf(list(BUCKETS)))
    as_of = fields.Date()


class JobRef(Schema):
    job = fields.Integer(required=True)
    status = fields.String(required=True)
    cases = fields.Integer(required=True)


class JobOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in JobStatus])
    )
    progress = fields.Float(required=True, metadata={"minimum": 0, "maximum": 1})
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)
    created_at = fields.String(required=True)
    finished_at = fields.String(required=True, allow_none=True)
    result = fields.Dict(metadata={"description": "when done"})
    error = fields.String(metadata={"description": "when failed"})
    attempts = fields.Integer(required=True, metadata={"description": "runs started so far"})
    stalled = fields.Boolean(
        required=True,
        metadata={"description": "running, but its worker stopped answering; it is run again"},
    )


def _can_generate(user, case) -> bool:
    return policy.can_edit_case(user, case) and has_permission(user, Permission.GENERATE_DOCUMENTS)


def visible_document(document_id: int) -> Document:
    """The document if the token's user may see its case, else 404."""
    document = db.session.get(Document, document_id)
    if document is None or not policy.can_view_case(api_user(), document.case):
        abort(404)
    return document


def with_generate_rights(view):
    """Check the document and the right to add versions before the upload is parsed."""

    @wraps(view)
    def wrapped(*args: Any, document_id: int, **kwargs: Any):
        document = visible_document(document_id)
        if not _can_generate(api_user(), document.case):
            abort(403, description="Your role does not generate documents.")
        g.document = document
        return view(*args, document_id=document_id, **kwargs)

    return wrapped


@blp.route("/cases/<int:case_id>/documents")
class CaseDocuments(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_case()
    @blp.doc(security=BEARER)
    @blp.response(200, DocumentList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id: int):
        """Every document version on the case, newest first per kind."""
        from ..documents.services import case_documents

        return {"items": [document_payload(d) for d in case_documents(g.case)], "next": None}

    @with_case(_can_generate, "Your role does not generate documents.")
    @blp.doc(security=BEARER)
    @blp.arguments(GenerateIn)
    @blp.response(201, GeneratedOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(
        409,
        schema=ApiErrorSchema,
        description="a final court filing while a prosecution blocker stands (rule and date)",
    )
    @blp.alt_response(422, schema=ApiErrorSchema, description="final with missing fields (named)")
    @blp.alt_response(503, schema=ApiErrorSchema, description="the PDF could not be made")
    def post(self, body: dict[str, Any], case_id: int):
        """Generate a new version: ``draft`` marks missing fields, ``final`` refuses them."""
        document = generate_document(
            api_actor(),
            g.case,
            DocumentKind(body["kind"]),
            final=body["mode"] == "final",
            inputs=body["fields_"],
            on=body.get("as_of"),
            override=body.get("override"),
        )
        return document_payload(document), 201


@blp.route("/documents/<int:document_id>")
class DocumentItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.response(200, DocumentOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, document_id: int):
        """One version: status, hashes, context snapshot, approval once decided."""
        return document_payload(visible_document(document_id), with_context=True)


@blp.route("/documents/<int:document_id>/docx")
class DocumentDocx(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER, responses={"200": {"description": "the DOCX"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, document_id: int):
        """The version's DOCX (verified against its hash)."""
        document = visible_document(document_id)
        data = file_store().read(document.docx_sha256)
        return download(data, DOCX_MEDIA_TYPE, f"{document.filename}.docx")

    @with_generate_rights
    @blp.doc(security=BEARER)
    @blp.arguments(UploadFile, location="multipart")
    @blp.response(201, GeneratedOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(
        409, schema=ApiErrorSchema, description="a final court filing while a blocker stands"
    )
    @blp.alt_response(422, schema=ApiErrorSchema, description="not a .docx, too large")
    def post(self, files: dict[str, Any], document_id: int):
        """Upload a DOCX edited in Word: it becomes the next version of this kind."""
        new = upload_version(api_actor(), g.document, files["file"].read())
        return document_payload(new), 201


@blp.route("/documents/<int:document_id>/pdf")
class DocumentPdf(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER, responses={"200": {"description": "the PDF"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the signature no longer verifies")
    def get(self, document_id: int):
        """The version's PDF (verified against its hash); once signed, the signed PDF, whose
        signature is verified again on every download."""
        document = visible_document(document_id)
        if document.approval is not None:
            data = signed_pdf(api_actor(), document)
            return download(data, "application/pdf", f"{document.filename} signed.pdf")
        data = file_store().read(document.pdf_sha256)
        return download(data, "application/pdf", f"{document.filename}.pdf")


@blp.route("/documents/bulk")
class BulkDocuments(MethodView):
    decorators = [token_required(Permission.GENERATE_DOCUMENTS)]

    @blp.doc(security=BEARER)
    @blp.arguments(BulkIn)
    @blp.response(202, JobRef)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, body: dict[str, Any]):
        """Generate one kind for many cases (ids, or an aging bucket) in the job queue."""
        user = api_user()
        on = body.get("as_of") or business_today()
        if body.get("bucket"):
            cases = cases_in_bucket(user, body["bucket"], on)
        else:
            cases = editable_cases(user, body.get("cases") or [])
        if not cases:
            abort(422, description="No open case of yours is in that bucket.")
        job = start_bulk(
            api_actor(), DocumentKind(body["kind"]), cases, final=body["mode"] == "final", on=on
        )
        db.session.refresh(job)
        return {"job": job.id, "status": job.status.value, "cases": len(cases)}, 202


@blp.route("/jobs/<int:job_id>")
class JobItem(MethodView):
    decorators = [token_required(allow_session=True)]

    @blp.doc(security=BEARER)
    @blp.response(200, JobOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, job_id: int):
        """A job's status and progress (0..1), its result when done, its error when failed."""
        return jobs.payload(jobs.get_job_or_404(api_user(), job_id))


@blp.route("/jobs/<int:job_id>/output")
class JobOutput(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER, responses={"200": {"description": "the file the job made"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, job_id: int):
        """What the job produced (bulk generation: a zip of the documents)."""
        job = jobs.get_job_or_404(api_user(), job_id)
        if not job.output_sha256:
            abort(404, description="This job has produced no file (yet).")
        return download(
            file_store().read(job.output_sha256), "application/zip", job.output_name or "job.zip"
        )
