"""Import pages: upload → preview with row-level errors → confirm (or cancel)."""

from __future__ import annotations

import hashlib
import hmac

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)

from ..accounts.views import current_actor
from ..domain import DomainError
from ..extensions import db
from ..ledger.services import creditor_entities
from ..security import Permission, permission_required
from . import pending
from .forms import ImportCancelForm, ImportConfirmForm, ImportUploadForm
from .kinds import KINDS, columns_of
from .report import ImportReport
from .services import run_import
from .tables import Limits, read_limited

bp = Blueprint("imports", __name__, url_prefix="/imports")

#: Session key of the file waiting for confirmation: ``{"token", "kind", "sha256", "filename"}``.
SESSION_KEY = "pending_import"
#: Errors listed on the page; the API and the CLI give all of them.
ERRORS_SHOWN = 1000
STALE = (
    "That import is no longer waiting for confirmation (it was imported, cancelled, replaced "
    "by another upload or expired). Upload the file again."
)


def _index_page(form: ImportUploadForm, status: int = 200):
    limits = Limits.from_config()
    return render_template(
        "imports/index.html",
        form=form,
        columns={kind: columns_of(kind) for kind in KINDS},
        creditors=creditor_entities(),
        limits=limits,
    ), status


def _preview_page(report: ImportReport, token: str | None, status: int):
    return render_template(
        "imports/preview.html",
        report=report,
        errors=report.errors[:ERRORS_SHOWN],
        token=token,
        confirm_form=ImportConfirmForm(token=token),
        cancel_form=ImportCancelForm(),
    ), status


def _drop_pending() -> None:
    info = session.pop(SESSION_KEY, None)
    if info:
        pending.discard(info.get("token"))


@bp.get("/")
@permission_required(Permission.EDIT_LEDGER)
def index():
    """The upload form and the columns each kind of file takes."""
    return _index_page(ImportUploadForm())


@bp.post("/preview")
@permission_required(Permission.EDIT_LEDGER)
def preview():
    """Check the uploaded file without writing; keep it for the confirmation when it is valid."""
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    upload = form.file.data
    try:
        data = read_limited(upload.stream, Limits.from_config().max_bytes)
        report = run_import(
            current_actor(), form.kind.data, data, filename=upload.filename, dry_run=True
        )
    except DomainError as error:
        db.session.rollback()
        form.file.errors = [*form.file.errors, error.message]
        return _index_page(form, error.status)
    db.session.rollback()
    _drop_pending()
    token = None
    if report.ok and (report.created or report.updated):
        token = pending.save(data)
        session[SESSION_KEY] = {
            "token": token,
            "kind": report.kind,
            "sha256": report.sha256,
            "filename": report.filename,
        }
    return _preview_page(report, token, 200 if report.ok else 422)


@bp.post("/confirm")
@permission_required(Permission.EDIT_LEDGER)
def confirm():
    """Import the previewed file: checked again, then written all at once, then deleted."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(STALE, "warning")
        return redirect(url_for("imports.index"), 303)
    info = session.get(SESSION_KEY) or {}
    token = info.get("token") or ""
    data = pending.load(token) if hmac.compare_digest(token, form.token.data) else None
    if data is None or hashlib.sha256(data).hexdigest() != info.get("sha256"):
        flash(STALE, "warning")
        return redirect(url_for("imports.index"), 303)
    try:
        report = run_import(
            current_actor(), info["kind"], data, filename=info.get("filename", ""), dry_run=False
        )
    except DomainError as error:
        db.session.rollback()
        _drop_pending()
        flash(f"{error.message} Nothing was imported.", "danger")
        return redirect(url_for("imports.index"), 303)
    if not report.ok:
        # The ledger changed since the preview (another import, an edit): show what is wrong now.
        db.session.rollback()
        _drop_pending()
        return _preview_page(report, None, 422)
    db.session.commit()
    _drop_pending()
    if report.written:
        flash(
            f"Imported {report.rows:,} {report.kind}: {report.created:,} created, "
            f"{report.updated:,} updated.",
            "success",
        )
    else:
        flash(f"Nothing to import: the {report.rows:,} rows already match the ledger.", "info")
    return redirect(url_for("imports.index"), 303)


@bp.post("/cancel")
@permission_required(Permission.EDIT_LEDGER)
def cancel():
    """Forget the previewed file."""
    if not ImportCancelForm().validate_on_submit():
        abort(400)
    _drop_pending()
    flash("Import cancelled; nothing was imported.", "info")
    return redirect(url_for("imports.index"), 303)
