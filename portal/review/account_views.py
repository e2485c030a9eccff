"""Pages around signing that are not about one document: the lawyer's certificate, verifying
any PDF, the inbox and the trusted roots. Registered on the review blueprint."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.views import current_actor
from ..db import utcnow
from ..domain import DomainError
from ..extensions import csrf, db
from ..security import Permission, login_required, permission_required
from . import inbox as notifications
from .certificates import (
    active_certificate,
    add_trusted_root,
    register_certificate,
    remove_trusted_root,
    trusted_roots,
)
from .forms import CertificateForm, InboxForm, RemoveRootForm, TrustedRootForm, VerifyForm
from .models import TrustedRoot
from .verification import mapped, upload_size, verify_file, verify_limit
from .views import EXPIRY_WARNING_DAYS, INBOX_SIZE, _refuse_without_token, _show_error, bp

# --- the lawyer's certificate ------------------------------------------------------------------


@bp.route("/account/certificate", methods=["GET", "POST"])
@permission_required(Permission.REVIEW_DOCUMENTS)
def certificate():
    """The lawyer's signing certificate, and the upload of a new one."""
    form = CertificateForm()
    status = 200
    if form.validate_on_submit():
        try:
            registered = register_certificate(
                current_actor(), current_user, form.file.data.read(), form.passphrase.data
            )
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            status = error.status
        else:
            flash(f"Certificate of {registered.subject_name} registered for signing.", "success")
            return redirect(url_for("review.certificate"), 303)
    elif request.method == "POST":
        _refuse_without_token(form)
        status = 422
    active = active_certificate(current_user)
    days_left = (active.not_after - utcnow()).days if active else None
    return render_template(
        "review/certificate.html",
        form=form,
        certificate=active,
        days_left=days_left,
        expiry_warning=EXPIRY_WARNING_DAYS,
    ), status


# --- verification ------------------------------------------------------------------------------


@bp.route("/verify", methods=["GET", "POST"])
@csrf.exempt  # checked by the form below, once the body's limit allows for the framing
@login_required
def verify():
    """Any PDF: is it a version the portal made, did it change, who signed it, trusted?

    Capped like every upload; the file is read from its spooled copy on disk as needed."""
    limit = verify_limit()
    # The body may carry the multipart framing on top, so a file just over the limit gets the
    # form's message rather than a bare 413 page.
    request.max_content_length = limit + 1024 * 1024
    form = VerifyForm()
    result, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data.stream
        size = upload_size(upload)
        if size > limit:
            form.file.errors.append(f"The file is larger than {limit // (1024 * 1024)} MB.")
            status = 413
        else:
            try:
                with mapped(upload) as data:
                    result = verify_file(data).payload(current_user)
            except DomainError as error:
                form.file.errors.append(error.message)
                status = error.status
            else:
                result["filename"] = form.file.data.filename
                result["size"] = size
                for signature in result["signatures"]:
                    signature["signed_at_utc"] = _utc_text(signature["signed_at"])
    elif request.method == "POST":
        _refuse_without_token(form)
        status = 422
    return render_template("review/verify.html", form=form, result=result, limit=limit), status


def _utc_text(moment: str | None) -> str | None:
    """An ISO time as ``2026-11-24 10:15:02 UTC``."""
    if not moment:
        return None
    return dt.datetime.fromisoformat(moment).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- the inbox ---------------------------------------------------------------------------------


@bp.get("/inbox")
@login_required
def inbox():
    """The user's notifications, newest first; unread ones stand out."""
    return render_template(
        "review/inbox.html",
        notifications=notifications.recent(current_user, INBOX_SIZE),
        form=InboxForm(),
        limit=INBOX_SIZE,
    )


@bp.post("/inbox/read")
@login_required
def inbox_read_all():
    """Mark every notification of the user read."""
    if not InboxForm().validate_on_submit():
        abort(400)
    notifications.mark_all_read(current_user)
    flash("All notifications marked read.", "success")
    return redirect(url_for("review.inbox"), 303)


@bp.post("/inbox/<int:notification_id>")
@login_required
def inbox_open(notification_id: int):
    """Mark one notification read and follow its link (only to a path inside the portal)."""
    if not InboxForm().validate_on_submit():
        abort(400)
    notification = notifications.open_notification(current_user, notification_id)
    return redirect(notifications.internal_link(notification.link) or url_for("review.inbox"), 303)


# --- trusted roots -----------------------------------------------------------------------------


@bp.route("/admin/trusted-roots", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def trusted_roots_page():
    """The certificate authorities whose signatures count as trusted; add one."""
    form = TrustedRootForm()
    status = 200
    if form.validate_on_submit():
        try:
            root = add_trusted_root(current_actor(), form.file.data.read())
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            status = error.status
        else:
            flash(f"{root.subject} is now trusted.", "success")
            return redirect(url_for("review.trusted_roots_page"), 303)
    elif request.method == "POST":
        _refuse_without_token(form)
        status = 422
    return render_template(
        "review/trusted_roots.html",
        form=form,
        roots=trusted_roots(),
        now=utcnow(),
        tsa_url=current_app.config.get("TSA_URL"),
    ), status


@bp.route("/admin/trusted-roots/<int:root_id>/remove", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def remove_root(root_id: int):
    """Confirm, then stop trusting a root (signatures under it then show as untrusted)."""
    root = db.session.get(TrustedRoot, root_id)
    if root is None:
        abort(404)
    form = RemoveRootForm()
    status = 200
    if form.validate_on_submit():
        subject = root.subject
        remove_trusted_root(current_actor(), root)
        flash(f"{subject} is no longer trusted.", "success")
        return redirect(url_for("review.trusted_roots_page"), 303)
    if request.method == "POST":
        _refuse_without_token(form)
        status = 422
    return render_template("review/remove_root.html", form=form, root=root), status
