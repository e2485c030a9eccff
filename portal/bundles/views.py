"""Bundle pages: the case page's bundle card and build form, one bundle version with its
volumes, exhibits, preflight report and counsel review (submit, decide, signatures), and its
files (the signed ones once counsel signed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.views import current_actor
from ..api.evidence import download, inline_pdf
from ..cases import policy
from ..cases.models import Case, Stage
from ..cases.views import render_case
from ..documents.models import DocumentStatus
from ..documents.views import STATUS_COLOURS
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors
from ..review import services as review_services
from ..review.certificates import active_certificate
from ..review.forms import ApproveForm, RequestChangesForm, SubmitForm
from ..review.verification import SignatureBroken, signed_pdf
from ..review.views import (
    ACTIONS,
    _refuse_without_token,
    _show_error,
    decide,
    readiness_card,
    signature_check,
    submit_blocker,
)
from ..security import Permission, has_permission, permission_required
from ..storage import file_store
from .forms import ARRANGEMENT_LABELS, BuildBundleForm, describe_limits
from .models import Bundle, BundleVolume
from .profiles import PROFILES
from .services import case_bundles, check_buildable, start_build

bp = Blueprint("bundles", __name__)


def can_build(case: Case) -> bool:
    """Legal and admins on cases they may edit (the API's rule)."""
    return policy.can_edit_case(current_user, case) and has_permission(
        current_user, Permission.GENERATE_DOCUMENTS
    )


def _visible(bundle_id: int) -> Bundle:
    bundle = db.session.get(Bundle, bundle_id)
    if bundle is None or not policy.can_view_case(current_user, bundle.case):
        abort(404)
    return bundle


def _volume(bundle: Bundle, number: int) -> BundleVolume:
    volume = next((item for item in bundle.volumes if item.number == number), None)
    if volume is None:
        abort(404)
    return volume


@bp.app_context_processor
def _bundle_card() -> dict[str, Any]:
    """``bundle_card(case, form)`` for the case page's include: versions, form and refusal."""

    def bundle_card(case: Case, form: BuildBundleForm | None = None) -> dict[str, Any]:
        card: dict[str, Any] = {
            "bundles": case_bundles(case),
            "form": None,
            "refusal": None,
            "profiles": PROFILES,
            "limits": {name: describe_limits(profile) for name, profile in PROFILES.items()},
            "colours": STATUS_COLOURS,
        }
        if can_build(case):
            card["form"] = form if form is not None else BuildBundleForm(formdata=None)
            try:
                check_buildable(case, "default", "kind")
            except DomainError as error:
                card["refusal"] = error.message
                # A refused build comes back with the same message: shown once, as the reason.
                card["form"].form_errors = [
                    message for message in card["form"].form_errors if message != error.message
                ]
        return card

    return {"bundle_card": bundle_card}


@bp.post("/cases/<int:case_id>/bundles")
@permission_required(Permission.GENERATE_DOCUMENTS)
def build(case_id: int):
    """Queue a build from the case page and follow it on the job page."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = BuildBundleForm()
    status = 422
    if form.validate_on_submit():
        try:
            job = start_build(
                current_actor(),
                case,
                profile=form.profile.data,
                arrangement=form.order.data,
                dividers=form.dividers.data,
                label_prefix=form.label_prefix.data,
            )
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
            status = error.status
        else:
            return redirect(url_for("documents.job", job_id=job.id), 303)
    return render_case(case, status, bundle_form=form)


@bp.get("/bundles/<int:bundle_id>")
@permission_required(Permission.VIEW_CASES)
def show(bundle_id: int):
    """One version: volumes, exhibits with their final page ranges, preflight, warnings, and
    counsel review."""
    return _render(_visible(bundle_id))


def _render(bundle: Bundle, status: int = 200, **forms: Any):
    """The bundle page, with a submitted review form carried back with its errors."""
    return render_template(
        "bundles/show.html",
        bundle=bundle,
        case=bundle.case,
        profile=PROFILES.get(bundle.profile),
        arrangements=ARRANGEMENT_LABELS,
        versions=case_bundles(bundle.case),
        colours=STATUS_COLOURS,
        **_review_card(bundle, **forms),
    ), status


def _review_card(
    bundle: Bundle,
    *,
    submit_form: SubmitForm | None = None,
    changes_form: RequestChangesForm | None = None,
    approve_form: ApproveForm | None = None,
) -> dict[str, Any]:
    """Template variables of the review card (``bundles/_review.html``).

    Each signed volume is verified once per page view with the same check as its download.
    """
    user = current_user._get_current_object()
    waiting = bundle.status in (DocumentStatus.DRAFT, DocumentStatus.CHANGES_REQUESTED)
    # What the case still lacks for prosecution, as the document review page shows it.
    readiness = readiness_card(bundle.case, Stage.PROSECUTION)
    card: dict[str, Any] = {
        **readiness,
        "serves": "filing bundle",
        "override": bundle.override,
        "review_comments": review_services.comments(bundle),
        "review_actions": ACTIONS,
        "is_reviewer": review_services.is_reviewer(user, bundle),
        "submit_form": None,
        "submit_blocker": None,
        "decide": False,
        "approval": bundle.approval,
        "signature_checks": {},
    }
    if waiting and review_services.can_submit(user, bundle):
        card["submit_form"] = submit_form or SubmitForm(formdata=None)
        card["submit_blocker"] = submit_blocker(bundle, readiness["blockers"])
    if card["is_reviewer"] and bundle.status is DocumentStatus.IN_REVIEW:
        certificate = active_certificate(user)
        card.update(
            decide=True,
            certificate=certificate,
            certificate_usable=certificate is not None and not certificate.expired(),
            statement=review_services.approval_statement(bundle, user),
            changes_form=changes_form or RequestChangesForm(formdata=None, prefix="changes"),
            approve_form=approve_form or ApproveForm(formdata=None, prefix="approve"),
        )
    if bundle.approval is not None:
        card["signature_checks"] = {
            volume.number: signature_check(volume) for volume in bundle.volumes
        }
    return card


@bp.post("/bundles/<int:bundle_id>/submit")
@permission_required(Permission.VIEW_CASES)
def submit(bundle_id: int):
    """Legal sends the bundle version to the case's lawyer (→ in review)."""
    bundle = _visible(bundle_id)
    if not review_services.can_submit(current_user, bundle):
        abort(403)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            review_services.submit(current_actor(), bundle, form.comment.data or "")
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            return _render(bundle, error.status, submit_form=form)
        flash(
            f"Filing bundle v{bundle.version} sent to {bundle.case.lawyer.name} for review.",
            "success",
        )
        return redirect(url_for("bundles.show", bundle_id=bundle.id), 303)
    _refuse_without_token(form)
    return _render(bundle, 422, submit_form=form)


@bp.post("/bundles/<int:bundle_id>/review")
@permission_required(Permission.VIEW_CASES)
def review(bundle_id: int):
    """The case's lawyer approves and signs every volume, or sends the version back."""
    bundle = _visible(bundle_id)
    if not review_services.is_reviewer(current_user, bundle):
        abort(403)
    page = url_for("bundles.show", bundle_id=bundle.id)
    return decide(
        bundle,
        _render,
        approved=(f"Filing bundle v{bundle.version} approved and every volume signed.", page),
        changes_url=page,
    )


@bp.get("/bundles/<int:bundle_id>/volumes/<int:number>/view")
@permission_required(Permission.VIEW_CASES)
def volume_view(bundle_id: int, number: int):
    """One volume in the portal's PDF viewer (the PDF itself is served sandboxed)."""
    bundle = _visible(bundle_id)
    return render_template(
        "bundles/volume_view.html",
        bundle=bundle,
        case=bundle.case,
        volume=_volume(bundle, number),
        colours=STATUS_COLOURS,
    )


@bp.get("/bundles/<int:bundle_id>/volumes/<int:number>")
@permission_required(Permission.VIEW_CASES)
def volume(bundle_id: int, number: int) -> Response:
    """One volume's PDF, inline for the portal's viewer (``volume_view``); ``?download=1``
    saves it."""
    bundle = _visible(bundle_id)
    item = _volume(bundle, number)
    attachment = bool(request.args.get("download"))
    if item.signed_sha256:
        try:
            data = signed_pdf(current_actor(), item)
        except SignatureBroken as error:
            abort(409, description=error.message)
        return inline_pdf(
            data, f"{bundle.filename} vol {item.number} signed.pdf", attachment=attachment
        )
    data = file_store().read(item.pdf_sha256)
    return inline_pdf(data, f"{bundle.filename} vol {item.number}.pdf", attachment=attachment)


@bp.get("/bundles/<int:bundle_id>/zip")
@permission_required(Permission.VIEW_CASES)
def archive(bundle_id: int) -> Response:
    """The volumes, the original files and ``manifest.json`` in one zip."""
    bundle = _visible(bundle_id)
    if bundle.signed_zip_sha256:
        data = file_store().read(bundle.signed_zip_sha256)
        return download(data, "application/zip", f"{bundle.filename} signed.zip")
    return download(
        file_store().read(bundle.zip_sha256), "application/zip", f"{bundle.filename}.zip"
    )
