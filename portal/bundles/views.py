"""Bundle pages: the case page's bundle card and build form, one bundle version with its
volumes, exhibits and preflight report, and its files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.views import current_actor
from ..api.evidence import download, inline_pdf
from ..cases import policy
from ..cases.models import Case
from ..cases.views import render_case
from ..documents.views import STATUS_COLOURS
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors
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
    """One version: volumes, exhibits with their final page ranges, preflight, warnings."""
    bundle = _visible(bundle_id)
    return render_template(
        "bundles/show.html",
        bundle=bundle,
        case=bundle.case,
        profile=PROFILES.get(bundle.profile),
        arrangements=ARRANGEMENT_LABELS,
        versions=case_bundles(bundle.case),
        colours=STATUS_COLOURS,
    )


@bp.get("/bundles/<int:bundle_id>/volumes/<int:number>")
@permission_required(Permission.VIEW_CASES)
def volume(bundle_id: int, number: int) -> Response:
    """One volume's PDF, inline (opened in the browser's viewer); ``?download=1`` saves it."""
    bundle = _visible(bundle_id)
    item = _volume(bundle, number)
    name = f"{bundle.filename} vol {item.number}.pdf"
    data = file_store().read(item.pdf_sha256)
    return inline_pdf(data, name, attachment=bool(request.args.get("download")))


@bp.get("/bundles/<int:bundle_id>/zip")
@permission_required(Permission.VIEW_CASES)
def archive(bundle_id: int) -> Response:
    """The volumes, the original files and ``manifest.json`` in one zip."""
    bundle = _visible(bundle_id)
    return download(
        file_store().read(bundle.zip_sha256), "application/zip", f"{bundle.filename}.zip"
    )
