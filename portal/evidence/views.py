"""Evidence pages: upload from the case page, the original file and the exhibit PDF.

The upload answers JSON to the page's script (one file per request, ``Accept: application/json``)
and flashes the results of a plain form post (one or several files) without it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..accounts.views import current_actor
from ..api.evidence import download, inline_pdf
from ..cases import policy
from ..cases.models import Case
from ..cases.views import render_case
from ..domain import Conflict, ValidationFailed
from ..errors import MESSAGES, api_error, handle_http_exception
from ..extensions import db
from ..forms import populate_errors
from ..security import Permission, permission_required
from ..storage import file_store
from . import intake
from .forms import upload_fields, upload_form
from .intake import UploadRejected
from .jobs import queue_renditions
from .models import Evidence, RenditionStatus
from .services import add_evidence, parse_fields

bp = Blueprint("evidence", __name__)


def wants_json() -> bool:
    """The page's script asks for JSON; a browser's form post prefers HTML."""
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """JSON for the script (403, 404, a refused CSRF token, 413), the usual page otherwise."""
    status = error.code or 500
    too_large = isinstance(error, RequestEntityTooLarge)
    if too_large:
        message = (
            "The upload is larger than the portal accepts in one request. "
            "Upload fewer or smaller files at once."
        )
    if wants_json():
        return api_error(status, message if too_large else MESSAGES.get(status))
    case_id = (request.view_args or {}).get("case_id")
    if too_large and case_id is not None:
        # The body was not read, so the page of the case is the most useful answer.
        flash(message, "danger")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="evidence"), 303)
    return handle_http_exception(error)


def _files() -> list[FileStorage]:
    """The uploaded files; a form posted without a chosen file sends one nameless, empty part."""
    return [item for item in request.files.getlist("file") if item.filename]


def _refused_form(case: Case, error: ValidationFailed):
    """The case page again with the upload form and its errors (nothing was stored)."""
    form = upload_form(case, submitted=True)
    populate_errors(form, error)
    return render_case(case, 422, upload_form=form)


@bp.post("/cases/<int:case_id>/evidence")
@permission_required(Permission.UPLOAD_EVIDENCE)
def upload(case_id: int):
    """Store uploaded files as evidence of the case, each checked by content.

    With ``Accept: application/json`` one file per request and a JSON answer (201, or the API's
    error shape with the 4xx of the refusal); else the results are flashed on the case page.
    """
    case = policy.get_case_or_404(current_user, case_id)
    as_json = wants_json()
    files = _files()
    try:
        values, keys = parse_fields(upload_fields(request.form))
        if not files:
            raise ValidationFailed("Choose a file to upload.", fields={"file": ["Choose a file."]})
    except ValidationFailed as error:
        if as_json:
            return api_error(422, error.message, code=error.code, fields=error.fields)
        return _refused_form(case, error)
    if as_json and len(files) > 1:
        return api_error(400, "Send one file per request.", code="bad_request")
    results: list[tuple[str, Evidence | None, UploadRejected | None]] = []
    for item in files:
        try:
            evidence = add_evidence(
                current_actor(), case, item.read(), item.filename or "", values, invoice_keys=keys
            )
        except UploadRejected as error:
            results.append((item.filename or "", None, error))
        except ValidationFailed as error:  # an invoice the case does not claim: nothing is kept
            db.session.rollback()
            if as_json:
                return api_error(422, error.message, code=error.code, fields=error.fields)
            return _refused_form(case, error)
        else:
            results.append((item.filename or "", evidence, None))
    stored = [evidence.id for _name, evidence, _error in results if evidence is not None]
    db.session.commit()
    queue_renditions(stored)
    if as_json:
        return _json_result(*results[0])
    flash(*_summary(results))
    return redirect(url_for("cases.show", case_id=case.id, _anchor="evidence"), 303)


def _stored_message(evidence: Evidence) -> str:
    text = f"Stored as #{evidence.id}"
    if evidence.renamed_from:
        text += (
            f" under the name “{evidence.original_name}”: its content is "
            f"{intake.TYPE_NAMES.get(evidence.media_type, evidence.media_type)}, not what the name "
            f"“{evidence.renamed_from}” says"
        )
    if evidence.duplicate_of_id:
        text += f", a duplicate of #{evidence.duplicate_of_id} (the same file is already there)"
    if evidence.rendition_status is RenditionStatus.FAILED:
        text += "; the exhibit PDF could not be made"
    return text + "."


def _json_result(name: str, evidence: Evidence | None, error: UploadRejected | None) -> Any:
    if error is not None or evidence is None:
        refusal = error or UploadRejected(400, "bad_request", "The file was not stored.")
        return api_error(refusal.status, refusal.message, code=refusal.code, extra={"name": name})
    db.session.refresh(evidence)  # the rendition job committed in its own session
    return {
        "ok": True,
        "id": evidence.id,
        "name": evidence.original_name,
        "renamed_from": evidence.renamed_from,
        "message": _stored_message(evidence),
        "duplicate_of": evidence.duplicate_of_id,
        "status": evidence.rendition_status.value,
        "pages": evidence.pages,
        "rendition_error": evidence.rendition_error,
    }, 201


def _summary(
    results: list[tuple[str, Evidence | None, UploadRejected | None]],
) -> tuple[Markup, str]:
    """One flashed message listing every file's result, and its colour."""
    items = []
    for name, evidence, error in results:
        if evidence is not None:
            db.session.refresh(evidence)
            items.append(Markup("<li><strong>{}</strong>: {}</li>").format(
                name, _stored_message(evidence)))  # fmt: skip
        else:
            items.append(Markup('<li class="text-danger"><strong>{}</strong>: not stored. {}</li>')
                         .format(name, error.message if error else ""))  # fmt: skip
    stored = sum(1 for _name, evidence, _error in results if evidence is not None)
    refused = len(results) - stored
    duplicates = any(evidence and evidence.duplicate_of_id for _n, evidence, _e in results)
    head = f"{stored} of {len(results)} file{'s' if len(results) != 1 else ''} stored."
    category = "danger" if refused else ("warning" if duplicates else "success")
    return Markup('{}<ul class="mb-0">{}</ul>').format(head, Markup("").join(items)), category


def _visible(evidence_id: int) -> Evidence:
    """The evidence item if the user may see its case (else 404, as for the case)."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not policy.can_view_case(current_user, evidence.case):
        abort(404)
    return evidence


@bp.get("/evidence/<int:evidence_id>/file")
@permission_required(Permission.VIEW_CASES)
def original(evidence_id: int) -> Response:
    """The original file as uploaded: always a download, never rendered by the browser."""
    evidence = _visible(evidence_id)
    return download(file_store().read(evidence.sha256), evidence.media_type, evidence.original_name)


@bp.get("/evidence/<int:evidence_id>/pdf")
@permission_required(Permission.VIEW_CASES)
def exhibit(evidence_id: int) -> Response:
    """The exhibit PDF (sanitised rendition), inline and sandboxed for the portal's viewer
    (``evidence.exhibit_view``); ``?download=1`` saves it.

    :raises Conflict: the rendition is still pending or failed (409).
    """
    evidence = _rendered(evidence_id)
    name = evidence.original_name.rsplit(".", 1)[0] + ".pdf"
    data = file_store().read(evidence.rendition_sha256)
    return inline_pdf(data, name, attachment=bool(request.args.get("download")))


@bp.get("/evidence/<int:evidence_id>/view")
@permission_required(Permission.VIEW_CASES)
def exhibit_view(evidence_id: int) -> str:
    """The exhibit PDF in the portal's own viewer (PDFs are served sandboxed)."""
    evidence = _rendered(evidence_id)
    return render_template("evidence/view.html", evidence=evidence, case=evidence.case)


def _rendered(evidence_id: int) -> Evidence:
    """A visible evidence item whose exhibit PDF exists. :raises Conflict: not (yet) made."""
    evidence = _visible(evidence_id)
    if evidence.rendition_status is not RenditionStatus.DONE or not evidence.rendition_sha256:
        detail = evidence.rendition_error or "it is still being made; reload the case page soon"
        raise Conflict(f"The exhibit PDF of #{evidence.id} is not available: {detail}.")
    return evidence
