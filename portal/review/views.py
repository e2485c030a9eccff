"""Review pages: the review panel of the document page, submission and dispatch, the review
page and the lawyer's queue (the account pages are in ``account_views``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.views import current_actor
from ..bundles.models import BundleVolume
from ..business_time import today as business_today
from ..cases import policy
from ..cases import services as case_services
from ..cases.gate import gate_refusal, prosecution_blockers
from ..cases.models import Case, Stage
from ..db import utcnow
from ..documents import views as document_views
from ..documents.models import Document, DocumentKind, DocumentStatus
from ..domain import DomainError
from ..evidence.services import case_evidence
from ..extensions import db
from ..forms import populate_errors
from ..security import Permission, has_permission, permission_required
from ..storage import StorageError
from . import inbox, services
from .certificates import (
    active_certificate,
)
from .changes import context_changes, previous_version
from .dispatch import record_dispatch
from .forms import (
    ApproveForm,
    DispatchForm,
    RequestChangesForm,
    SubmitForm,
)
from .models import ReviewComment
from .subjects import Reviewable, subject
from .verification import SignatureBroken, signed_pdf

bp = Blueprint("review", __name__)

#: The stage of the ladder each kind of document serves (its readiness is shown to counsel).
KIND_STAGES = {
    DocumentKind.RECONCILIATION_LETTER: Stage.RECONCILIATION,
    DocumentKind.ADVANCE_NOTICE: Stage.NOTICE,
    DocumentKind.WARNING_LETTER: Stage.WARNING,
    DocumentKind.DEMAND_LETTER: Stage.DEMAND_LETTER,
    DocumentKind.STATEMENT_OF_CLAIM: Stage.PROSECUTION,
    DocumentKind.EVIDENCE_LIST: Stage.PROSECUTION,
}
#: How a comment's action reads, and its badge colour.
ACTIONS = {
    "submitted": ("submitted", "info"),
    "changes_requested": ("changes requested", "warning"),
    "approved": ("approved", "success"),
    "comment": ("comment", "secondary"),
}
#: A context value longer than this is cut on the review page (the PDF is the full record).
MAX_SHOWN = 4000
#: Notifications listed in the inbox (newest first).
INBOX_SIZE = 200
#: Days in the queue after which the age badge turns amber, then red.
AGE_WARNING, AGE_DANGER = 3, 7
#: A certificate expiring within this many days is flagged.
EXPIRY_WARNING_DAYS = 30
#: Form fields named differently by the services.
APPROVE_FIELDS = {"p12_passphrase": "passphrase"}


# --- navigation --------------------------------------------------------------------------------


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """Counts for the navigation bar, queried only when a page renders them."""

    def unread_notifications() -> int | None:
        if not current_user.is_authenticated:
            return None
        # The navigation also renders on error pages, where the session may be unusable: a
        # badge is not worth a second error.
        try:
            return inbox.unread_count(current_user)
        except SQLAlchemyError:
            return None

    def review_waiting() -> int | None:
        if not has_permission(current_user, Permission.REVIEW_DOCUMENTS):
            return None
        try:
            return services.review_waiting(current_user)
        except SQLAlchemyError:
            return None

    return {"unread_notifications": unread_notifications, "review_waiting": review_waiting}


# --- the document page's review panel ----------------------------------------------------------


def review_panel(
    document: Document,
    *,
    submit_form: SubmitForm | None = None,
    dispatch_form: DispatchForm | None = None,
) -> dict[str, Any]:
    """Template variables of the document page's review card (``documents.show``).

    The signed PDF is verified here once per page view with the same check as its download
    (hash, pyHanko's bottom line, whole-file coverage, trusted root): the badge then says what
    the file proves now, not what it proved when it was signed.
    """
    user = current_user._get_current_object()
    submitter = services.can_submit(user, document)
    panel: dict[str, Any] = {
        "review_comments": services.comments(document),
        "review_actions": ACTIONS,
        "is_reviewer": services.is_reviewer(user, document),
        "can_submit": submitter,
        "submit_blocker": None,
        "submit_form": None,
        "dispatch_form": None,
        "approval": document.approval,
        "signature_check": None,
    }
    if submitter and document.status in (DocumentStatus.DRAFT, DocumentStatus.CHANGES_REQUESTED):
        panel["submit_form"] = submit_form or SubmitForm(formdata=None)
        panel["submit_blocker"] = submit_blocker(document)
    if document.approval is not None:
        panel["signature_check"] = signature_check(document)
        # Only the newest signed version goes out; a superseded one keeps its record.
        if submitter and document.status is DocumentStatus.SIGNED:
            panel["dispatch_form"] = dispatch_form or DispatchForm(
                formdata=None, data={"sent_on": business_today()}
            )
    return panel


def readiness_card(case: Case, stage: Stage) -> dict[str, Any]:
    """Template variables of ``review/_readiness.html``: the case's findings for ``stage``,
    blockers and warnings apart, and invoice numbers by external id (findings name invoices as
    people know them)."""
    findings = case_services.readiness(case, stage)
    return {
        "stage": stage,
        "blockers": [item for item in findings if item.severity == "blocker"],
        "warnings": [item for item in findings if item.severity != "blocker"],
        "numbers": {invoice.external_id: invoice.number for invoice in case.invoices},
    }


def submit_blocker(item: Reviewable, blockers: list | None = None) -> str | None:
    """Why this version cannot go to counsel yet (the service says the same on submit);
    ``blockers`` are the case's prosecution blockers when the caller has them already."""
    what = subject(item)
    problem = what.not_ready()
    if problem is None and what.for_court:
        if blockers is None:
            blockers = prosecution_blockers(what.case)
        problem = gate_refusal(what.name, "submitted", blockers, what.override)
    return problem


def signature_check(item: Document | BundleVolume) -> dict[str, Any]:
    """Whether the stored signed PDF still verifies (a failure is audited by ``signed_pdf``)."""
    try:
        signed_pdf(current_actor(), item)
    except SignatureBroken as error:
        return {"valid": False, "message": error.message}
    except StorageError:
        return {"valid": False, "message": "The signed PDF is missing from the file store."}
    return {"valid": True, "message": "Intact, covers the whole file, signer trusted."}


def _document_page(document: Document, status: int, **forms: Any):
    """The document page again, with a submitted form and its errors."""
    return document_views.show(document_id=document.id, **forms), status


def _visible_document(document_id: int) -> Document:
    """A document of a case the user may see, else 404."""
    document = db.session.get(Document, document_id)
    if document is None or not policy.can_view_case(current_user, document.case):
        abort(404)
    return document


def _show_error(form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """The service's field errors on their fields, and its message above the form (a wrong
    password reads better as "the one given is not right" than as the field's hint alone)."""
    populate_errors(form, error, field_map)
    if error.message not in form.form_errors:
        form.form_errors.append(error.message)


def _refuse_without_token(form) -> None:
    """A form whose CSRF token is missing or stale is a bad request, not a validation error."""
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        abort(400)


@bp.post("/documents/<int:document_id>/submit")
@permission_required(Permission.VIEW_CASES)
def submit(document_id: int):
    """Legal sends a final version to the case's lawyer (→ in review)."""
    document = _visible_document(document_id)
    if not services.can_submit(current_user, document):
        abort(403)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            services.submit(current_actor(), document, form.comment.data or "")
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            return _document_page(document, error.status, submit_form=form)
        db.session.commit()
        lawyer = document.case.lawyer
        flash(
            f"{document.kind.label} v{document.version} sent to {lawyer.name} for review.",
            "success",
        )
        return redirect(url_for("documents.show", document_id=document.id), 303)
    _refuse_without_token(form)
    return _document_page(document, 422, submit_form=form)


@bp.post("/documents/<int:document_id>/dispatch")
@permission_required(Permission.VIEW_CASES)
def dispatch(document_id: int):
    """Record that the signed version was sent: an event on the case's timeline."""
    document = _visible_document(document_id)
    if not services.can_submit(current_user, document):
        abort(403)
    form = DispatchForm()
    if form.validate_on_submit():
        try:
            record_dispatch(
                current_actor(),
                document,
                sent_on=form.sent_on.data,
                courier=form.courier.data,
                tracking=form.tracking.data,
                delivered_on=form.delivered_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            return _document_page(document, error.status, dispatch_form=form)
        flash(
            f"Dispatch of {document.kind.label.lower()} v{document.version} recorded "
            f"({form.courier.data.strip()}, {form.tracking.data.strip()}).",
            "success",
        )
        return redirect(url_for("cases.show", case_id=document.case_id, _anchor="timeline"), 303)
    _refuse_without_token(form)
    return _document_page(document, 422, dispatch_form=form)


# --- the review page ---------------------------------------------------------------------------


def _reviewed_document(document_id: int) -> Document:
    """The document for its assigned lawyer: 404 if the case is not visible, else 403."""
    document = _visible_document(document_id)
    if not services.is_reviewer(current_user, document):
        abort(403)
    return document


def _shown(value: Any) -> dict[str, Any]:
    """A context value as the review page shows it: text inline, lists and tables as JSON."""
    if value is None or value == "":
        return {"block": False, "text": None}
    if isinstance(value, dict | list):
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        block = True
    else:
        text, block = str(value), "\n" in str(value)
    if len(text) > MAX_SHOWN:
        text = f"{text[:MAX_SHOWN]}\n… ({len(text) - MAX_SHOWN:,} more characters)"
        block = True
    return {"block": block, "text": text}


def _render_review(
    document: Document,
    status: int = 200,
    *,
    changes_form: RequestChangesForm | None = None,
    approve_form: ApproveForm | None = None,
):
    """The review page, with a submitted decision form carried back with its errors."""
    case = document.case
    previous = previous_version(document)
    changes = (
        [
            {"field": change.field, "before": _shown(change.before), "after": _shown(change.after)}
            for change in context_changes(previous.context, document.context)
        ]
        if previous is not None
        else []
    )
    certificate = active_certificate(current_user)
    return render_template(
        "review/review.html",
        document=document,
        case=case,
        **readiness_card(case, KIND_STAGES.get(document.kind, case.stage)),
        override=document.override,
        evidence=case_evidence(case),
        comments=services.comments(document),
        actions=ACTIONS,
        previous=previous,
        changes=changes,
        certificate=certificate,
        certificate_usable=certificate is not None and not certificate.expired(),
        statement=services.approval_statement(document, current_user),
        in_review=document.status is DocumentStatus.IN_REVIEW,
        colours=document_views.STATUS_COLOURS,
        changes_form=changes_form or RequestChangesForm(formdata=None, prefix="changes"),
        approve_form=approve_form or ApproveForm(formdata=None, prefix="approve"),
    ), status


@bp.route("/documents/<int:document_id>/review", methods=["GET", "POST"])
@permission_required(Permission.VIEW_CASES)
def review(document_id: int):
    """The assigned lawyer reads the version beside its facts and asks for changes or signs."""
    document = _reviewed_document(document_id)
    if request.method == "GET":
        return _render_review(document)
    return decide(
        document,
        _render_review,
        approved=(
            f"{document.kind.label} v{document.version} approved and signed. "
            "Legal has been told to dispatch it.",
            url_for("documents.show", document_id=document.id),
        ),
        changes_url=url_for("review.queue"),
    )


def decide(
    item: Reviewable,
    render: Callable[..., Any],
    *,
    approved: tuple[str, str],
    changes_url: str,
):
    """The lawyer's decision posted from a review form (``decision=approve`` with the approve
    form, else the request-changes form), for a document on its review page and a bundle on its
    page: ``render(item, status, approve_form=… | changes_form=…)`` shows a refused form again,
    ``approved`` is the (message, URL) after signing, ``changes_url`` where a request for
    changes leads."""
    what = subject(item)
    approve = request.form.get("decision") == "approve"
    form = ApproveForm(prefix="approve") if approve else RequestChangesForm(prefix="changes")
    carried = {"approve_form" if approve else "changes_form": form}
    if form.validate_on_submit():
        decision = services.Decision(
            approve=approve,
            comment=form.comment.data or "",
            password=form.password.data if approve else "",
            passphrase=form.passphrase.data if approve else "",
        )
        try:
            services.review(current_actor(), item, decision)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error, APPROVE_FIELDS if approve else None)
            return render(item, error.status, **carried)
        db.session.commit()
        if approve:
            message, url = approved
        else:
            message = f"Changes requested on {what.name} v{what.version}; legal has been told."
            url = changes_url
        flash(message, "success")
        return redirect(url, 303)
    _refuse_without_token(form)
    return render(item, 422, **carried)


# --- the lawyer's queue ------------------------------------------------------------------------


@bp.get("/review")
@permission_required(Permission.REVIEW_DOCUMENTS)
def queue():
    """Versions awaiting the signed-in lawyer's decision, oldest first, with their age."""
    items = services.review_queue(current_user)
    submissions = _latest_submissions(items)
    now = utcnow()
    rows = []
    for item in items:
        what = subject(item)
        submission = submissions.get((what.entity, item.id))
        since = submission.created_at if submission else item.updated_at
        days = (now - since).days
        rows.append(
            {
                "item": item,
                "subject": what,
                "submission": submission,
                "since": since,
                "days": days,
                "colour": "danger"
                if days > AGE_DANGER
                else ("warning" if days > AGE_WARNING else "success"),
            }
        )
    return render_template(
        "review/queue.html", rows=rows, age_warning=AGE_WARNING, age_danger=AGE_DANGER
    )


def _latest_submissions(items: list[Reviewable]) -> dict[tuple[str, int], ReviewComment]:
    """The newest ``submitted`` comment of each version (who sent it, and when), by
    (``document`` or ``bundle``, id)."""
    latest: dict[tuple[str, int], ReviewComment] = {}
    documents = [item.id for item in items if not subject(item).is_bundle]
    bundles = [item.id for item in items if subject(item).is_bundle]
    if not items:
        return latest
    for comment in db.session.scalars(
        select(ReviewComment)
        .where(
            or_(ReviewComment.document_id.in_(documents), ReviewComment.bundle_id.in_(bundles)),
            ReviewComment.action == "submitted",
        )
        .order_by(ReviewComment.id)
    ):
        key = (
            ("bundle", comment.bundle_id)
            if comment.bundle_id
            else ("document", comment.document_id)
        )
        latest[key] = comment
    return latest
