"""Review, signing, verification and dispatch routes of ``/api/v1``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..domain import ValidationFailed
from ..extensions import db
from ..review import services as review
from ..review.certificates import active_certificate, register_certificate
from ..review.dispatch import record_dispatch
from ..review.subjects import subject
from ..review.verification import mapped, upload_size, verify_file, verify_limit
from ..security import Permission
from .arguments import ApiBlueprint, FileUpload
from .auth import BEARER, api_actor, api_user, token_required
from .documents import DocumentOut, visible_document
from .schemas import ApiErrorSchema, openapi_extra

blp = ApiBlueprint("review_api", __name__, url_prefix="/api/v1", description="Review and signing")


class SubmitIn(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


_NOT_BLANK = r"\S"


@openapi_extra(
    {
        "allOf": [
            # Changes are asked for with a comment; approving re-authenticates and signs
            # (``review.services.request_changes`` and ``approve_and_sign``).
            {
                "if": {"properties": {"decision": {"const": "request_changes"}}},
                "then": {
                    "required": ["comment"],
                    "properties": {"comment": {"pattern": _NOT_BLANK}},
                },
            },
            {
                "if": {"properties": {"decision": {"const": "approve"}}},
                "then": {
                    "required": ["password", "p12_passphrase"],
                    "properties": {
                        "password": {"minLength": 1},
                        "p12_passphrase": {"minLength": 1},
                    },
                },
            },
        ]
    }
)
class ReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "request_changes"]))
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    password = fields.String(load_default="", metadata={"description": "re-authentication"})
    p12_passphrase = fields.String(load_default="", metadata={"description": "to sign"})


class CommentOut(Schema):
    id = fields.Integer(required=True)
    document = fields.Integer(required=True, attribute="document_id", allow_none=True)
    bundle = fields.Integer(required=True, attribute="bundle_id", allow_none=True)
    version = fields.Integer(required=True)
    action = fields.String(required=True)
    body = fields.String(required=True)
    author = fields.Function(
        lambda item: item.author.email if item.author else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    created_at = fields.DateTime(required=True)


class CommentList(Schema):
    items = fields.List(fields.Nested(CommentOut), required=True)
    next = fields.String(required=True, allow_none=True)


class DispatchIn(Schema):
    date = fields.Date(required=True, metadata={"description": "the day it was sent"})
    courier = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tracking = fields.String(required=True, validate=validate.Length(min=1, max=200))
    delivered_on = fields.Date(allow_none=True)


class DispatchOut(Schema):
    id = fields.Integer(required=True)
    type = fields.Function(lambda item: item.type.value, required=True, metadata={"type": "string"})
    date = fields.Date(required=True)
    delivered_on = fields.Date(required=True, allow_none=True)
    details = fields.Dict(required=True)


class CertificateIn(Schema):
    file = FileUpload(required=True, metadata={"description": "a PKCS#12 file (.p12, .pfx)"})
    passphrase = fields.String(load_default="", metadata={"description": "checked, never stored"})


class CertificateOut(Schema):
    id = fields.Integer(required=True)
    subject = fields.String(required=True)
    subject_name = fields.String(required=True)
    issuer = fields.String(required=True)
    serial = fields.String(required=True)
    fingerprint_sha256 = fields.String(required=True)
    not_before = fields.DateTime(required=True)
    not_after = fields.DateTime(required=True)


class VerifyFile(Schema):
    file = FileUpload(required=True, metadata={"description": "a PDF"})


class SignatureOut(Schema):
    signer = fields.String(required=True, allow_none=True)
    signed_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    intact = fields.Boolean(required=True)
    trusted = fields.Boolean(required=True)
    covers_whole_file = fields.Boolean(required=True)
    certifying = fields.Boolean(required=True)
    level = fields.String(required=True, validate=validate.OneOf(["B-B", "B-T", "B-LT", "B-LTA"]))
    timestamped = fields.Boolean(required=True)
    timestamp_at = fields.String(metadata={"format": "date-time"})
    validation_data = fields.Boolean(required=True)
    revocation = fields.String(
        required=True, validate=validate.OneOf(["good", "revoked", "unknown"])
    )
    revocation_source = fields.String(
        required=True, allow_none=True, metadata={"description": "`issuer` or `embedded`"}
    )
    revoked_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    fingerprint_sha256 = fields.String(required=True, allow_none=True)
    summary = fields.String(required=True)


class VerifyOut(Schema):
    """What the portal can say about a PDF; the version's fields only when the caller may see
    its case."""

    known = fields.Boolean(required=True)
    sha256 = fields.String(required=True)
    changed = fields.Boolean(required=True)
    signed = fields.Boolean(required=True)
    valid = fields.Boolean(required=True)
    signatures = fields.List(fields.Nested(SignatureOut), required=True)
    case = fields.String(metadata={"description": "the case's reference"})
    version = fields.Integer()
    status = fields.String()
    kind = fields.String()
    document = fields.Integer()
    bundle = fields.Integer()
    volume = fields.Integer()


class QueueItem(Schema):
    id = fields.Integer(required=True)
    type = fields.Function(
        lambda item: subject(item).entity,
        required=True,
        metadata={"type": "string", "description": "document or bundle"},
    )
    case = fields.Function(
        lambda item: item.case.reference, required=True, metadata={"type": "string"}
    )
    case_id = fields.Integer(required=True)
    kind = fields.Function(
        lambda item: "filing_bundle" if subject(item).is_bundle else item.kind.value,
        required=True,
        metadata={"type": "string"},
    )
    version = fields.Integer(required=True)
    waiting_since = fields.DateTime(required=True, attribute="updated_at")
    link = fields.Function(
        lambda item: subject(item).review_link, required=True, metadata={"type": "string"}
    )


class QueueList(Schema):
    items = fields.List(fields.Nested(QueueItem), required=True)
    next = fields.String(required=True, allow_none=True)


def loads(name: str, visible: Callable[[int], Any]):
    """Decorator: set ``g.<name>`` to ``visible(<name>_id)`` (404 unless its case is visible)
    before the body is parsed, so a lawyer not on the case gets 404 whatever was sent."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            setattr(g, name, visible(kwargs[f"{name}_id"]))
            return view(*args, **kwargs)

        return wrapped

    return decorator


with_document = loads("document", visible_document)


def decision(body: dict[str, Any]) -> review.Decision:
    """The lawyer's decision as ``ReviewIn`` parsed it."""
    return review.Decision(
        approve=body["decision"] == "approve",
        comment=body["comment"],
        password=body["password"],
        passphrase=body["p12_passphrase"],
    )


def _payload(document) -> dict[str, Any]:
    from ..documents.present import document_payload

    return document_payload(document)


@blp.route("/documents/<int:document_id>/submit")
class Submit(MethodView):
    # Visibility first (404 for a lawyer not on the case), then the role (403, in the service).
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_document
    @blp.doc(security=BEARER)
    @blp.arguments(SubmitIn, required=False)
    @blp.response(200, DocumentOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not final, no lawyer, wrong state")
    def post(self, body: dict[str, Any], document_id: int):
        """Send a final version to the case's lawyer (→ ``in_review``)."""
        document = g.document
        review.submit(api_actor(), document, body["comment"])
        return _payload(document)


@blp.route("/documents/<int:document_id>/review")
class Review(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_document
    @blp.doc(security=BEARER)
    @blp.arguments(ReviewIn)
    @blp.response(200, DocumentOut)
    @blp.alt_response(403, schema=ApiErrorSchema, description="not the case's lawyer")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not in review; no certificate")
    @blp.alt_response(422, schema=ApiErrorSchema, description="wrong password or passphrase")
    def post(self, body: dict[str, Any], document_id: int):
        """The assigned lawyer approves (re-authenticated; signs → ``signed``) or asks for
        changes (a comment is required)."""
        document = g.document
        review.review(api_actor(), document, decision(body))
        db.session.commit()
        db.session.refresh(document)
        return _payload(document)


@blp.route("/documents/<int:document_id>/comments")
class Comments(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_document
    @blp.doc(security=BEARER)
    @blp.response(200, CommentList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, document_id: int):
        """Review comments on every version of this document's kind, oldest first."""
        return {"items": review.comments(g.document), "next": None}


@blp.route("/documents/<int:document_id>/dispatch")
class Dispatch(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_document
    @blp.doc(security=BEARER)
    @blp.arguments(DispatchIn)
    @blp.response(201, DispatchOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not signed")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, body: dict[str, Any], document_id: int):
        """Record that the signed version was sent (a ``dispatch`` event on the timeline)."""
        document = g.document
        event = record_dispatch(
            api_actor(),
            document,
            sent_on=body["date"],
            courier=body["courier"],
            tracking=body["tracking"],
            delivered_on=body.get("delivered_on"),
        )
        return event, 201


@blp.route("/review/queue")
class Queue(MethodView):
    decorators = [token_required(Permission.REVIEW_DOCUMENTS)]

    @blp.doc(security=BEARER)
    @blp.response(200, QueueList)
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self):
        """Documents and bundles awaiting the lawyer's review, oldest first."""
        return {"items": review.review_queue(api_user()), "next": None}


@blp.route("/users/me/certificate")
class MyCertificate(MethodView):
    decorators = [token_required(Permission.REVIEW_DOCUMENTS)]

    @blp.doc(security=BEARER)
    @blp.response(200, CertificateOut)
    @blp.alt_response(404, schema=ApiErrorSchema, description="none registered")
    def get(self):
        """The lawyer's active signing certificate."""
        certificate = active_certificate(api_user())
        if certificate is None:
            abort(404, description="No signing certificate is registered.")
        return certificate

    @blp.doc(security=BEARER)
    @blp.arguments(CertificateIn, location="multipart")
    @blp.response(201, CertificateOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="not usable for signing")
    def post(self, form: dict[str, Any]):
        """Register a PKCS#12 file (checked with the passphrase, which is not stored)."""
        certificate = register_certificate(
            api_actor(), api_user(), form["file"].read(), form["passphrase"]
        )
        return certificate, 201


def larger_upload(view):
    """Let the body carry a file of :func:`verify_limit` bytes plus its multipart framing, so
    a file just over the limit is refused with a message rather than a bare 413."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        request.max_content_length = verify_limit() + 1024 * 1024
        return view(*args, **kwargs)

    return wrapped


@blp.route("/verify")
class Verify(MethodView):
    decorators = [token_required()]

    @larger_upload
    @blp.doc(security=BEARER)
    @blp.arguments(VerifyFile, location="multipart")
    @blp.response(200, VerifyOut)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="not a PDF")
    def post(self, files: dict[str, Any]):
        """Is this PDF one of ours, was it changed, who signed it, is the signer trusted?

        The file is read from the spooled upload as needed, never copied into memory whole."""
        upload, limit = files["file"], verify_limit()
        if upload_size(upload.stream) > limit:
            abort(413, description=f"The file is larger than {limit // (1024 * 1024)} MB.")
        with mapped(upload.stream) as data:
            if bytes(data[:1024]).find(b"%PDF-") == -1:
                raise ValidationFailed("The file is not a PDF.", fields={"file": ["Not a PDF."]})
            return verify_file(data).payload(api_user())
