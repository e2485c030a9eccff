"""Bundles routes of ``/api/v1``: build a case's filing bundle, read it, download its volumes
and its zip (signed once counsel signed), submit it for review, review it."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..bundles.models import Bundle
from ..bundles.profiles import PROFILES
from ..bundles.services import ARRANGEMENTS, case_bundles, start_build
from ..cases import policy
from ..documents.present import approval_payload, override_payload
from ..extensions import db
from ..review import services as review
from ..review.verification import signed_pdf
from ..security import Permission, has_permission
from ..storage import file_store
from .arguments import ApiBlueprint
from .auth import BEARER, api_actor, api_user, token_required
from .cases import with_case
from .evidence import download
from .review import CommentList, ReviewIn, SubmitIn, decision, loads
from .schemas import ApiErrorSchema

blp = ApiBlueprint("bundles_api", __name__, url_prefix="/api/v1", description="Filing bundles")


class BuildIn(Schema):
    profile = fields.String(load_default="default", validate=validate.OneOf(list(PROFILES)))
    order = fields.String(load_default="kind", validate=validate.OneOf(list(ARRANGEMENTS)))
    dividers = fields.Boolean(load_default=False)
    label_prefix = fields.String(load_default="C-", validate=validate.Length(min=1, max=6))


class BuildOut(Schema):
    job = fields.Integer(required=True, metadata={"description": "follow it at /jobs/<id>"})
    status = fields.String(required=True)


class VolumeOut(Schema):
    number = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True, attribute="pdf_sha256")
    sha256_signed = fields.String(required=True, attribute="signed_sha256", allow_none=True)
    first_page = fields.Integer(required=True)
    last_page = fields.Integer(required=True)


class ExhibitOut(Schema):
    label = fields.String(required=True)
    evidence = fields.Integer(required=True, attribute="evidence_id", allow_none=True)
    title = fields.String(required=True)
    first_page = fields.Integer(required=True)
    last_page = fields.Integer(required=True)
    volume = fields.Integer(required=True)
    sha256 = fields.String(required=True, attribute="sha256_rendition")
    sha256_original = fields.String(required=True, allow_none=True)
    duplicate_of = fields.String(required=True, attribute="duplicate_of_label", allow_none=True)
    near_duplicate_of = fields.String(
        required=True, attribute="near_duplicate_of_label", allow_none=True
    )


class BundleOut(Schema):
    id = fields.Integer(required=True)
    case = fields.Integer(required=True, attribute="case_id")
    version = fields.Integer(required=True)
    status = fields.Function(
        lambda bundle: bundle.status.value, required=True, metadata={"type": "string"}
    )
    profile = fields.String(required=True)
    order = fields.String(required=True, attribute="arrangement")
    pages = fields.Integer(required=True)
    final = fields.Boolean(
        required=True, metadata={"description": "the evidence list in it is final"}
    )
    volumes = fields.List(fields.Nested(VolumeOut), required=True)
    exhibits = fields.List(fields.Nested(ExhibitOut), required=True)
    preflight = fields.List(fields.Dict(), required=True)
    warnings = fields.List(fields.String(), required=True)
    sha256_zip = fields.String(required=True, attribute="zip_sha256")
    sha256_signed_zip = fields.String(required=True, attribute="signed_zip_sha256", allow_none=True)
    approval = fields.Function(
        lambda bundle: approval_payload(bundle.approval),
        required=True,
        allow_none=True,
        metadata={
            "type": "object",
            "description": "counsel's decision once signed (hashes of the zips)",
        },
    )
    override = fields.Function(
        lambda bundle: override_payload(bundle.override),
        required=True,
        allow_none=True,
        metadata={
            "type": "object",
            "description": "the override of a prosecution blocker recorded with the bound "
            "statement of claim, if any",
        },
    )
    created_at = fields.DateTime(required=True)


class BundleList(Schema):
    items = fields.List(fields.Nested(BundleOut), required=True)
    next = fields.String(required=True, allow_none=True)


def _can_build(user, case) -> bool:
    return policy.can_edit_case(user, case) and has_permission(user, Permission.GENERATE_DOCUMENTS)


def visible_bundle(bundle_id: int) -> Bundle:
    """The bundle if the token's user may see its case, else 404."""
    bundle = db.session.get(Bundle, bundle_id)
    if bundle is None or not policy.can_view_case(api_user(), bundle.case):
        abort(404)
    return bundle


@blp.route("/cases/<int:case_id>/bundles")
class CaseBundles(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_case()
    @blp.doc(security=BEARER)
    @blp.response(200, BundleList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id: int):
        """Every bundle version of the case, newest first."""
        return {"items": case_bundles(g.case), "next": None}

    @with_case(_can_build, "Your role does not build bundles.")
    @blp.doc(security=BEARER)
    @blp.arguments(BuildIn, required=False)
    @blp.response(202, BuildOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="no evidence, or exhibits not ready")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, body: dict[str, Any], case_id: int):
        """Build a new bundle version in the job queue; follow it at ``/api/v1/jobs/<id>``."""
        job = start_build(
            api_actor(),
            g.case,
            profile=body["profile"],
            arrangement=body["order"],
            dividers=body["dividers"],
            label_prefix=body["label_prefix"],
        )
        db.session.refresh(job)
        return {"job": job.id, "status": job.status.value}, 202


@blp.route("/bundles/<int:bundle_id>")
class BundleItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.response(200, BundleOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, bundle_id: int):
        """One bundle version: volumes, exhibits with their final page ranges, preflight."""
        return visible_bundle(bundle_id)


@blp.route("/bundles/<int:bundle_id>/pdf")
class BundlePdf(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(
        security=BEARER,
        params=[{"name": "volume", "in": "query", "schema": {"type": "integer", "default": 1}}],
        responses={"200": {"description": "one volume's PDF"}},
    )
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the signed volume fails its check")
    def get(self, bundle_id: int):
        """One volume of the bundle (``?volume=N``, default 1), verified against its hash; once
        signed, the signed volume, whose signature is checked again first."""
        bundle = visible_bundle(bundle_id)
        number = request.args.get("volume", "1")
        volume = next((v for v in bundle.volumes if str(v.number) == number), None)
        if volume is None:
            abort(404, description=f"The bundle has volumes 1 to {len(bundle.volumes)}.")
        name = f"{bundle.filename} vol {volume.number}"
        if volume.signed_sha256:
            return download(
                signed_pdf(api_actor(), volume), "application/pdf", f"{name} signed.pdf"
            )
        return download(file_store().read(volume.pdf_sha256), "application/pdf", f"{name}.pdf")


@blp.route("/bundles/<int:bundle_id>/zip")
class BundleZip(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER, responses={"200": {"description": "volumes, originals, manifest"}})
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, bundle_id: int):
        """The volumes (signed, once counsel signed), the original files and ``manifest.json``
        in one zip."""
        bundle = visible_bundle(bundle_id)
        if bundle.signed_zip_sha256:
            data = file_store().read(bundle.signed_zip_sha256)
            return download(data, "application/zip", f"{bundle.filename} signed.zip")
        data = file_store().read(bundle.zip_sha256)
        return download(data, "application/zip", f"{bundle.filename}.zip")


with_bundle = loads("bundle", visible_bundle)


@blp.route("/bundles/<int:bundle_id>/submit")
class BundleSubmit(MethodView):
    # Visibility first (404 for a lawyer not on the case), then the role (403, in the service).
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_bundle
    @blp.doc(security=BEARER)
    @blp.arguments(SubmitIn, required=False)
    @blp.response(200, BundleOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(
        409,
        schema=ApiErrorSchema,
        description="no statement of claim, failed preflight, no lawyer, wrong state",
    )
    def post(self, body: dict[str, Any], bundle_id: int):
        """Send the bundle version to the case's lawyer (→ ``in_review``)."""
        review.submit(api_actor(), g.bundle, body["comment"])
        return g.bundle


@blp.route("/bundles/<int:bundle_id>/review")
class BundleReview(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_bundle
    @blp.doc(security=BEARER)
    @blp.arguments(ReviewIn)
    @blp.response(200, BundleOut)
    @blp.alt_response(403, schema=ApiErrorSchema, description="not the case's lawyer")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not in review; no certificate")
    @blp.alt_response(422, schema=ApiErrorSchema, description="wrong password or passphrase")
    def post(self, body: dict[str, Any], bundle_id: int):
        """The assigned lawyer approves (re-authenticated; every volume is signed →
        ``signed``) or asks for changes (a comment is required)."""
        bundle = g.bundle
        review.review(api_actor(), bundle, decision(body))
        db.session.commit()
        db.session.refresh(bundle)
        return bundle


@blp.route("/bundles/<int:bundle_id>/comments")
class BundleComments(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_bundle
    @blp.doc(security=BEARER)
    @blp.response(200, CommentList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, bundle_id: int):
        """Review comments on every bundle version of the case, oldest first."""
        return {"items": review.comments(g.bundle), "next": None}
