"""Document pages: generate from the case page, a version with its PDF, edits uploaded back,
bulk generation and the job page that follows it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.views import current_actor
from ..api.evidence import download, inline_pdf
from ..business_time import today as business_today
from ..cases import policy
from ..cases.models import Case, CaseStatus
from ..cases.views import render_case
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors
from ..jobs import services as jobs
from ..security import Permission, has_permission, permission_required
from ..storage import file_store
from .bulk import cases_in_bucket, editable_cases, start_bulk
from .forms import BUCKET_LABELS, BulkForm, GenerateForm, UploadVersionForm
from .models import Document, DocumentKind, DocumentStatus
from .services import DOCX_MEDIA_TYPE, generate_document, latest_version, upload_version

bp = Blueprint("documents", __name__)

STATUS_COLOURS = {
    DocumentStatus.DRAFT: "secondary",
    DocumentStatus.IN_REVIEW: "info",
    DocumentStatus.CHANGES_REQUESTED: "warning",
    DocumentStatus.APPROVED: "primary",
    DocumentStatus.SIGNED: "success",
    DocumentStatus.SUPERSEDED: "light",
}


#: Where the override's errors go on the generate form.
OVERRIDE_FIELDS = {
    "rule": "override_rule",
    "reason": "override_reason",
    "override": "override_rule",
}


def can_generate(case: Case) -> bool:
    """Legal and admins on cases they may edit."""
    return policy.can_edit_case(current_user, case) and has_permission(
        current_user, Permission.GENERATE_DOCUMENTS
    )


def _visible(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or not policy.can_view_case(current_user, document.case):
        abort(404)
    return document


@bp.post("/cases/<int:case_id>/documents")
@permission_required(Permission.GENERATE_DOCUMENTS)
def generate(case_id: int):
    """Generate a new version of one kind from the case page."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = GenerateForm()
    status = 422
    if form.validate_on_submit():
        try:
            document = generate_document(
                current_actor(),
                case,
                DocumentKind(form.kind.data),
                final=form.mode.data == "final",
                inputs=form.inputs(),
                override=form.override(),
            )
        except DomainError as error:
            db.session.rollback()
            status = error.status
            populate_errors(form, error, OVERRIDE_FIELDS)
            missing = error.fields.get("missing_fields")
            if missing:
                form.form_errors.append(f"Missing for a final document: {', '.join(missing)}.")
        else:
            flash(f"{document.kind.label} v{document.version} generated.", "success")
            return redirect(url_for("documents.show", document_id=document.id), 303)
    return render_case(case, status, generate_form=form)


@bp.get("/documents/<int:document_id>")
@permission_required(Permission.VIEW_CASES)
def show(document_id: int, **review_forms: Any):
    """One version: its PDF, facts, missing fields, the other versions of its kind and counsel's
    review; ``review_forms`` carries a submitted review form back with its errors."""
    from ..review.views import review_panel

    document = _visible(document_id)
    versions = db.session.scalars(
        db.select(Document)
        .where(Document.case_id == document.case_id, Document.kind == document.kind)
        .order_by(Document.version.desc())
    ).all()
    return render_template(
        "documents/show.html",
        document=document,
        case=document.case,
        versions=versions,
        latest=latest_version(document.case, document.kind),
        colours=STATUS_COLOURS,
        upload_form=UploadVersionForm() if can_generate(document.case) else None,
        **review_panel(document, **review_forms),
    )


@bp.get("/documents/<int:document_id>/pdf")
@permission_required(Permission.VIEW_CASES)
def pdf(document_id: int) -> Response:
    """The version's PDF, inline and sandboxed for the portal's viewer on the document and review
    pages; ``?download=1`` saves it.

    A signed version is served signed, and only after its signature verifies again.

    :raises SignatureBroken: the stored signed PDF no longer verifies (409; audited).
    """
    from ..review.verification import signed_pdf

    document = _visible(document_id)
    if document.approval is not None:
        data, name = signed_pdf(current_actor(), document), f"{document.filename} signed.pdf"
    else:
        data, name = file_store().read(document.pdf_sha256), f"{document.filename}.pdf"
    return inline_pdf(data, name, attachment=bool(request.args.get("download")))


@bp.get("/documents/<int:document_id>/docx")
@permission_required(Permission.VIEW_CASES)
def docx(document_id: int) -> Response:
    """The version's DOCX, to edit in Word and upload back."""
    document = _visible(document_id)
    return download(
        file_store().read(document.docx_sha256), DOCX_MEDIA_TYPE, f"{document.filename}.docx"
    )


@bp.post("/documents/<int:document_id>/upload")
@permission_required(Permission.GENERATE_DOCUMENTS)
def upload(document_id: int):
    """An edited DOCX becomes the next version of the kind."""
    document = _visible(document_id)
    if not can_generate(document.case):
        abort(403)
    form = UploadVersionForm()
    if form.validate_on_submit():
        try:
            new = upload_version(current_actor(), document, form.file.data.read())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(f"Uploaded as version {new.version}.", "success")
            return redirect(url_for("documents.show", document_id=new.id), 303)
    else:
        flash("Choose the edited .docx file to upload.", "danger")
    return redirect(url_for("documents.show", document_id=document.id), 303)


@bp.route("/documents/bulk", methods=["GET", "POST"])
@permission_required(Permission.GENERATE_DOCUMENTS)
def bulk():
    """Tick cases (or pick an aging bucket) and generate one kind for all in the queue."""
    form = BulkForm()
    if request.method == "GET" and request.args.get("bucket") in BUCKET_LABELS:
        form.bucket.data = request.args["bucket"]
    if form.validate_on_submit():
        try:
            on = business_today()
            if form.bucket.data:
                cases = cases_in_bucket(current_user, form.bucket.data, on)
                if not cases:
                    raise DomainError("No open case of yours is in that bucket.")
            else:
                cases = editable_cases(current_user, form.cases.data or [])
            job = start_bulk(
                current_actor(),
                DocumentKind(form.kind.data),
                cases,
                final=form.mode.data == "final",
                on=on,
            )
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
            form.form_errors.append(error.message)
        else:
            return redirect(url_for("documents.job", job_id=job.id), 303)
    cases = [
        case
        for case in db.session.scalars(
            policy.visible_cases(current_user)
            .where(Case.status == CaseStatus.OPEN)
            .order_by(Case.id)
        )
        if policy.can_edit_case(current_user, case)
    ]
    status = 422 if request.method == "POST" else 200
    return render_template("documents/bulk.html", form=form, cases=cases), status


@bp.get("/jobs")
@permission_required(Permission.VIEW_CASES)
def job_list():
    """The newest jobs (one's own; all for admins), stalled ones flagged."""
    rows = [(record, jobs.payload(record)) for record in jobs.recent_jobs(current_user, 100)]
    return render_template("documents/jobs.html", rows=rows)


@bp.get("/jobs/<int:job_id>")
@permission_required(Permission.VIEW_CASES)
def job(job_id: int):
    """A job's progress bar (the page polls ``/api/v1/jobs/<id>``), errors and download."""
    record = jobs.get_job_or_404(current_user, job_id)
    return render_template("documents/job.html", job=record, payload=jobs.payload(record))


@bp.get("/jobs/<int:job_id>/download")
@permission_required(Permission.VIEW_CASES)
def job_download(job_id: int) -> Response:
    """The file the job made (bulk generation: a zip)."""
    record = jobs.get_job_or_404(current_user, job_id)
    if not record.output_sha256:
        abort(404)
    return download(
        file_store().read(record.output_sha256), "application/zip", record.output_name or "job.zip"
    )
