"""Evidence routes of ``/api/v1``: upload, list, original bytes, exhibit PDF."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..cases import policy
from ..domain import Conflict
from ..evidence.jobs import queue_renditions
from ..evidence.models import Evidence, EvidenceKind, RenditionStatus
from ..evidence.services import (
    add_evidence,
    case_evidence,
    delete_evidence,
    parse_fields,
    update_evidence,
)
from ..extensions import db
from ..security import Permission, has_permission
from ..storage import file_store
from .auth import BEARER, api_actor, api_user, token_required
from .cases import with_case
from .schemas import ApiErrorSchema

blp = Blueprint("evidence_api", __name__, url_prefix="/api/v1", description="Evidence")


class EvidenceUpload(Schema):
    kind = fields.String(required=True, metadata={"enum": [kind.value for kind in EvidenceKind]})
    invoices = fields.String(metadata={"description": "comma-separated invoice external ids"})
    document_date = fields.Date()
    signed_by_debtor = fields.Boolean()
    sealed = fields.Boolean()
    original_held = fields.Boolean()
    description = fields.String()
    source = fields.String()
    proves = fields.String()
    signer = fields.String()
    amount = fields.String()
    currency = fields.String()


class EvidenceEdit(Schema):
    kind = fields.String(validate=validate.OneOf([kind.value for kind in EvidenceKind]))
    document_date = fields.Date(allow_none=True)
    signed_by_debtor = fields.Boolean(allow_none=True)
    sealed = fields.Boolean(allow_none=True)
    original_held = fields.Boolean(allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    source = fields.String(allow_none=True, validate=validate.Length(max=200))
    proves = fields.String(allow_none=True, validate=validate.Length(max=2000))
    signer = fields.String(allow_none=True, validate=validate.Length(max=200))


class EvidenceFile(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class EvidenceOut(Schema):
    id = fields.Integer()
    case = fields.Integer(attribute="case_id")
    kind = fields.Function(lambda item: item.kind.value)
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    name = fields.String(attribute="original_name")
    renamed_from = fields.String(
        allow_none=True,
        metadata={
            "description": "upload answers only: the name as sent, when its extension claimed "
            "another type than the content (``name`` then ends in the content's extension)"
        },
    )
    pages = fields.Integer(allow_none=True)
    invoices = fields.Function(lambda item: [invoice.external_id for invoice in item.invoices])
    document_date = fields.Date(allow_none=True)
    signed_by_debtor = fields.Boolean(allow_none=True)
    sealed = fields.Boolean(allow_none=True)
    original_held = fields.Boolean(allow_none=True)
    description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    proves = fields.String(allow_none=True)
    signer = fields.String(allow_none=True)
    duplicate_of = fields.Integer(attribute="duplicate_of_id", allow_none=True)
    parent = fields.Integer(attribute="parent_id", allow_none=True)
    rendition_status = fields.Function(lambda item: item.rendition_status.value)
    rendition_error = fields.String(allow_none=True)


class EvidenceList(Schema):
    items = fields.List(fields.Nested(EvidenceOut))
    next = fields.String(allow_none=True)


def _can_upload(user, case) -> bool:
    return policy.can_view_case(user, case) and has_permission(user, Permission.UPLOAD_EVIDENCE)


@blp.route("/cases/<int:case_id>/evidence")
class CaseEvidence(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_case()
    @blp.doc(security=BEARER)
    @blp.response(200, EvidenceList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id: int):
        """The case's evidence, oldest first."""
        return {"items": case_evidence(g.case), "next": None}

    @with_case(_can_upload, "Your role does not upload evidence.")
    @blp.doc(security=BEARER)
    @blp.arguments(EvidenceUpload, location="form")
    @blp.arguments(EvidenceFile, location="files")
    @blp.response(201, EvidenceOut)
    @blp.alt_response(400, schema=ApiErrorSchema, description="bad file name, empty file")
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(415, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, _form: dict[str, Any], files: dict[str, Any], case_id: int):
        """Upload one file as evidence (checked by content; stored by SHA-256)."""
        upload = files["file"]
        values, keys = parse_fields(request.form)
        data = upload.read()
        evidence = add_evidence(
            api_actor(), g.case, data, upload.filename or "", values, invoice_keys=keys
        )
        evidence_id = evidence.id
        db.session.commit()
        queue_renditions([evidence_id])
        db.session.refresh(evidence)
        return evidence, 201


def _visible_evidence(evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not policy.can_view_case(api_user(), evidence.case):
        abort(404)
    return evidence


def download(data: bytes, media_type: str, filename: str) -> Response:
    """Bytes as an attachment that no browser will render or sniff."""
    response = Response(data, mimetype=media_type)
    fallback = "".join(char if char.isascii() and char.isprintable() else "_" for char in filename)
    fallback = fallback.replace('"', "_").replace("\\", "_") or "download"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


def inline_pdf(data: bytes, filename: str, *, attachment: bool = False) -> Response:
    """A PDF for the portal's own viewer (PDF.js, ``_pdf_viewer.html``), which fetches it;
    ``attachment`` saves it instead. Inline or not, it is sandboxed and never framed, so
    nothing in it runs as script in our origin, even when opened directly."""
    response = download(data, "application/pdf", filename)
    if not attachment:
        disposition = response.headers["Content-Disposition"]
        response.headers["Content-Disposition"] = "inline" + disposition.removeprefix("attachment")
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["X-Frame-Options"] = "DENY"
    return response


@blp.route("/evidence/<int:evidence_id>/file")
class EvidenceOriginal(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER, responses={"200": {"description": "the original bytes"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, evidence_id: int):
        """The original file as uploaded (verified against its hash)."""
        evidence = _visible_evidence(evidence_id)
        return download(
            file_store().read(evidence.sha256), evidence.media_type, evidence.original_name
        )


@blp.route("/evidence/<int:evidence_id>/pdf")
class EvidencePdf(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER, responses={"200": {"description": "the exhibit PDF"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="rendition pending or failed")
    def get(self, evidence_id: int):
        """The exhibit rendition (sanitised PDF)."""
        evidence = _visible_evidence(evidence_id)
        if evidence.rendition_status is not RenditionStatus.DONE or not evidence.rendition_sha256:
            detail = evidence.rendition_error or "it is still being made"
            raise Conflict(f"The exhibit PDF is not available: {detail}.")
        name = evidence.original_name.rsplit(".", 1)[0] + ".pdf"
        return download(file_store().read(evidence.rendition_sha256), "application/pdf", name)


def _editable_evidence(evidence_id: int) -> Evidence:
    evidence = _visible_evidence(evidence_id)
    if not _can_upload(api_user(), evidence.case):
        abort(403, description="Your role does not change evidence.")
    return evidence


@blp.route("/evidence/<int:evidence_id>")
class EvidenceItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.response(200, EvidenceOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, evidence_id: int):
        """One evidence item."""
        return _visible_evidence(evidence_id)

    @blp.doc(security=BEARER)
    @blp.arguments(EvidenceEdit)
    @blp.response(200, EvidenceOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="it feeds a signed document")
    def patch(self, body: dict[str, Any], evidence_id: int):
        """Change its description (kind, date, flags, texts); the file never changes."""
        evidence = _editable_evidence(evidence_id)
        if "kind" in body:
            body["kind"] = EvidenceKind(body["kind"])
        update_evidence(api_actor(), evidence, body)
        return evidence

    @blp.doc(security=BEARER)
    @blp.response(204)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="it feeds a signed document")
    def delete(self, evidence_id: int):
        """Remove it from the case."""
        delete_evidence(api_actor(), _editable_evidence(evidence_id))
        return None
