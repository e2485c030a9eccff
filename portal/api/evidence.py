"""Evidence routes of ``/api/v1``: upload, list, original bytes, exhibit PDF."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import quote

from flask import Response, abort, g, request
from flask.views import MethodView
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
from ..money import CURRENCIES
from ..security import Permission, has_permission
from ..storage import file_store
from .arguments import ApiBlueprint, FileUpload
from .auth import BEARER, api_actor, api_user, token_required
from .cases import with_case
from .schemas import CENTS_PATTERN, ApiErrorSchema, NonEmptyMixin

blp = ApiBlueprint("evidence_api", __name__, url_prefix="/api/v1", description="Evidence")

KINDS = [kind.value for kind in EvidenceKind]
#: A flag in a form field, as ``evidence.services.parse_flag`` reads it (empty: not known).
FLAG_WORDS = ["true", "false", "yes", "no", "1", "0", "on", "off", "unknown", ""]


def _flag() -> fields.String:
    return fields.String(
        validate=validate.OneOf(FLAG_WORDS),
        metadata={"description": "true or false (yes/no, 1/0, on/off); empty: not known"},
    )


class EvidenceUpload(Schema):
    """One evidence file and what it is (``evidence.services.parse_fields`` reads the fields).

    An amount needs its currency and has its decimals (none for the yen): that rule is not in
    the OpenAPI document, as ``if``/``then`` beside a binary part defeats schemathesis."""

    file = FileUpload(required=True, metadata={"description": "the document (PDF, image, …)"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    invoices = fields.String(
        metadata={"description": "comma-separated external ids of the case's invoices"}
    )
    document_date = fields.Date()
    signed_by_debtor = _flag()
    sealed = _flag()
    original_held = _flag()
    description = fields.String(validate=validate.Length(max=5000))
    source = fields.String(validate=validate.Length(max=200))
    proves = fields.String(validate=validate.Length(max=2000))
    signer = fields.String(validate=validate.Length(max=200))
    amount = fields.String(
        metadata={
            "description": "a decimal string, e.g. 1234.50, with `currency`; may be empty",
            "pattern": f"^$|{CENTS_PATTERN}",
        }
    )
    currency = fields.String(validate=validate.OneOf(sorted(CURRENCIES)))


class EvidenceEdit(NonEmptyMixin, Schema):
    kind = fields.String(validate=validate.OneOf([kind.value for kind in EvidenceKind]))
    document_date = fields.Date(allow_none=True)
    signed_by_debtor = fields.Boolean(allow_none=True)
    sealed = fields.Boolean(allow_none=True)
    original_held = fields.Boolean(allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    source = fields.String(allow_none=True, validate=validate.Length(max=200))
    proves = fields.String(allow_none=True, validate=validate.Length(max=2000))
    signer = fields.String(allow_none=True, validate=validate.Length(max=200))


class EvidenceOut(Schema):
    id = fields.Integer(required=True)
    case = fields.Integer(required=True, attribute="case_id")
    kind = fields.Function(
        lambda item: item.kind.value, required=True, metadata={"type": "string", "enum": KINDS}
    )
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    media_type = fields.String(required=True)
    name = fields.String(required=True, attribute="original_name")
    renamed_from = fields.String(
        allow_none=True,
        metadata={
            "description": "upload answers only: the name as sent, when its extension claimed "
            "another type than the content (``name`` then ends in the content's extension)"
        },
    )
    pages = fields.Integer(required=True, allow_none=True)
    invoices = fields.Function(
        lambda item: [invoice.external_id for invoice in item.invoices],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    document_date = fields.Date(required=True, allow_none=True)
    signed_by_debtor = fields.Boolean(required=True, allow_none=True)
    sealed = fields.Boolean(required=True, allow_none=True)
    original_held = fields.Boolean(required=True, allow_none=True)
    description = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, allow_none=True)
    proves = fields.String(required=True, allow_none=True)
    signer = fields.String(required=True, allow_none=True)
    duplicate_of = fields.Integer(required=True, attribute="duplicate_of_id", allow_none=True)
    parent = fields.Integer(required=True, attribute="parent_id", allow_none=True)
    rendition_status = fields.Function(
        lambda item: item.rendition_status.value,
        required=True,
        metadata={"type": "string", "enum": [status.value for status in RenditionStatus]},
    )
    rendition_error = fields.String(required=True, allow_none=True)


class EvidenceList(Schema):
    items = fields.List(fields.Nested(EvidenceOut), required=True)
    next = fields.String(required=True, allow_none=True)


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
    @blp.arguments(EvidenceUpload, location="multipart")
    @blp.response(201, EvidenceOut)
    @blp.alt_response(400, schema=ApiErrorSchema, description="bad file name, empty file")
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(415, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, form: dict[str, Any], case_id: int):
        """Upload one file as evidence (checked by content; stored by SHA-256)."""
        upload = form["file"]
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


def with_editable_evidence(view):
    """Load the URL's evidence and check the right to change it before the body is parsed: 404
    for evidence the user may not see, 403 for a role that may not change it, whatever the body
    says."""

    @wraps(view)
    def wrapped(*args: Any, evidence_id: int, **kwargs: Any):
        g.evidence = _editable_evidence(evidence_id)
        return view(*args, evidence_id=evidence_id, **kwargs)

    return wrapped


@blp.route("/evidence/<int:evidence_id>")
class EvidenceItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.response(200, EvidenceOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, evidence_id: int):
        """One evidence item."""
        return _visible_evidence(evidence_id)

    @with_editable_evidence
    @blp.doc(security=BEARER)
    @blp.arguments(EvidenceEdit)
    @blp.response(200, EvidenceOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="it feeds a signed document")
    @blp.alt_response(422, schema=ApiErrorSchema, description="no field to change, bad values")
    def patch(self, body: dict[str, Any], evidence_id: int):
        """Change its description (kind, date, flags, texts); the file never changes."""
        evidence = g.evidence
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
