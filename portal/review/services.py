"""The review machine: submit → in review → changes requested → in review → approved → signed.

Every transition goes through ``_transition`` (state guard, audit entry with the status change);
who may act is checked here, not in the views: legal and admins on cases they may edit submit,
only the case's assigned lawyer decides. Services flush; the request commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..accounts.models import Role, User
from ..accounts.services import verify_password
from ..audit.services import Actor, record
from ..cases import policy
from ..cases.events import add_event
from ..cases.models import Case, CaseEvent
from ..db import utcnow
from ..documents.models import Document, DocumentStatus
from ..domain import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..security import Permission, has_permission
from ..signing import CertificateRejected, Stamp, sign_pdf, verify_pdf
from ..storage import file_store, register_references
from .certificates import active_certificate, trust_roots
from .inbox import notify
from .models import Approval, ReviewComment

#: Shown to the lawyer above the approval form and stored with the approval, word for word.
APPROVAL_STATEMENT = (
    "I, {name}{licence}, have reviewed {title} version {version} of case {case} "
    "(PDF SHA-256 {sha256}) and approve it. I sign it with my registered certificate "
    "as counsel{firm}."
)


#: The request field that carries the certificate's passphrase.
PASSPHRASE_FIELD = "p12_passphrase"  # noqa: S105 - a field name, not a secret


class Forbidden(DomainError):
    """The actor's role may not take this step on this object."""

    status = 403
    code = "forbidden"


class WrongPassword(ValidationFailed):
    """The re-entered password is not the user's."""

    code = "reauthentication_failed"


@dataclass(frozen=True)
class Decision:
    """What the lawyer sends: approve or request changes."""

    approve: bool
    comment: str = ""
    password: str = ""
    passphrase: str = ""


def approval_statement(document: Document, lawyer: User) -> str:
    """The approval text for ``lawyer`` on ``document`` (shown, then stored)."""
    return APPROVAL_STATEMENT.format(
        name=lawyer.name,
        licence=f" (licence {lawyer.licence_number})" if lawyer.licence_number else "",
        title=document.kind.label.lower(),
        version=document.version,
        case=document.case.reference,
        sha256=document.pdf_sha256,
        firm=f" of {lawyer.firm}" if lawyer.firm else "",
    )


def can_submit(user: User, document: Document) -> bool:
    """Legal and admins who may edit the case."""
    return has_permission(user, Permission.GENERATE_DOCUMENTS) and policy.can_edit_case(
        user, document.case
    )


def is_reviewer(user: User, document: Document) -> bool:
    """Only the lawyer assigned to the document's case reviews it."""
    return (
        user.role is Role.LAWYER
        and has_permission(user, Permission.REVIEW_DOCUMENTS)
        and document.case.lawyer_id == user.id
    )


def _transition(
    actor: Actor,
    document: Document,
    allowed: set[DocumentStatus],
    target: DocumentStatus,
    action: str,
    **details: Any,
) -> None:
    """Move ``document`` to ``target`` if its status is in ``allowed``.

    :raises Conflict: the version is superseded or in another state.
    """
    if document.status is DocumentStatus.SUPERSEDED:
        raise Conflict(
            f"Version {document.version} has been superseded by a newer version; "
            "work on the newest one."
        )
    if document.status not in allowed:
        raise Conflict(
            f"The {document.kind.label.lower()} is {document.status.value.replace('_', ' ')}; "
            f"it cannot be {action.replace('_', ' ')} now."
        )
    before = document.status
    document.status = target
    db.session.flush()
    record(
        actor,
        f"document.{action}",
        "document",
        document.id,
        before={"status": before.value},
        after={"status": target.value, **details},
    )


def _comment(actor: Actor, document: Document, action: str, body: str) -> ReviewComment:
    comment = ReviewComment(
        document_id=document.id,
        author_id=actor.user.id if actor.user else None,
        action=action,
        body=body.strip(),
    )
    db.session.add(comment)
    return comment


def _review_link(document: Document) -> str:
    return f"/documents/{document.id}/review"


def _document_link(document: Document) -> str:
    return f"/documents/{document.id}"


def _submitters(document: Document) -> list[User]:
    """Who submitted this version (and who made it), to hear the lawyer's decision."""
    ids = set(
        db.session.scalars(
            select(ReviewComment.author_id).where(
                ReviewComment.document_id == document.id,
                ReviewComment.action == "submitted",
                ReviewComment.author_id.is_not(None),
            )
        )
    )
    if document.created_by_id:
        ids.add(document.created_by_id)
    return [user for user in (db.session.get(User, i) for i in sorted(ids)) if user]


def submit(actor: Actor, document: Document, comment: str = "") -> None:
    """Send a final version to the case's lawyer.

    :raises Forbidden: the actor does not prepare documents on this case.
    :raises Conflict: not the newest version, not final, no lawyer assigned, or not a draft.
    """
    if actor.user is None or not can_submit(actor.user, document):
        raise Forbidden("Only legal staff on the case submit documents for review.")
    if not document.final or document.missing_fields:
        raise Conflict(
            "Only a final version goes to counsel: generate it as final (no missing fields)."
        )
    lawyer = document.case.lawyer
    if lawyer is None:
        raise Conflict("Assign a lawyer to the case before submitting documents for review.")
    _transition(
        actor,
        document,
        {DocumentStatus.DRAFT, DocumentStatus.CHANGES_REQUESTED},
        DocumentStatus.IN_REVIEW,
        "submit",
        lawyer=lawyer.email,
    )
    _comment(actor, document, "submitted", comment)
    notify(
        lawyer,
        f"{document.case.reference}: {document.kind.label} v{document.version} awaits your review.",
        _review_link(document),
    )


def _check_reviewer(actor: Actor, document: Document) -> User:
    user = actor.user
    if user is None or not policy.can_view_case(user, document.case):
        raise NotFound("No such document.")
    if not is_reviewer(user, document):
        raise Forbidden("Only the lawyer assigned to the case reviews its documents.")
    return user


def _reauthenticate(user: User, password: str) -> dt.datetime:
    if not password or not verify_password(user, password):
        raise WrongPassword(
            "Your password is needed to confirm this decision, and the one given is not right.",
            fields={"password": ["Enter your portal password."]},
        )
    return utcnow()


def request_changes(actor: Actor, document: Document, comment: str) -> None:
    """The lawyer sends the version back with a comment.

    :raises ValidationFailed: no comment.
    """
    _check_reviewer(actor, document)
    if not comment.strip():
        raise ValidationFailed(
            "Say what needs to change.", fields={"comment": ["A comment is required."]}
        )
    _transition(
        actor,
        document,
        {DocumentStatus.IN_REVIEW},
        DocumentStatus.CHANGES_REQUESTED,
        "request_changes",
        comment=comment.strip(),
    )
    _comment(actor, document, "changes_requested", comment)
    for user in _submitters(document):
        notify(
            user,
            f"{document.case.reference}: counsel asked for changes to "
            f"{document.kind.label.lower()} v{document.version}.",
            _document_link(document),
        )


def approve_and_sign(actor: Actor, document: Document, decision: Decision) -> Approval:
    """Approve with a fresh password, then sign the PDF with the lawyer's certificate.

    Both steps happen in one transaction: a failed signature leaves the version in review.

    :raises WrongPassword: the re-entered password is wrong.
    :raises Conflict: not in review, or the lawyer has no usable certificate.
    :raises CertificateRejected: the passphrase does not open the certificate.
    """
    lawyer = _check_reviewer(actor, document)
    authenticated_at = _reauthenticate(lawyer, decision.password)
    certificate = active_certificate(lawyer)
    if certificate is None:
        raise Conflict("Register your signing certificate (PKCS#12) before approving.")
    if certificate.expired():
        raise Conflict("Your signing certificate has expired; register a current one.")
    if not decision.passphrase:
        raise ValidationFailed(
            "The certificate's passphrase is needed to sign.",
            fields={PASSPHRASE_FIELD: ["Enter the passphrase of your certificate."]},
        )
    statement = approval_statement(document, lawyer)
    _transition(
        actor,
        document,
        {DocumentStatus.IN_REVIEW},
        DocumentStatus.APPROVED,
        "approve",
        reviewed_sha256=document.pdf_sha256,
    )
    _comment(actor, document, "approved", decision.comment)
    reviewed = file_store().read(document.pdf_sha256)
    try:
        signed = sign_pdf(
            reviewed,
            certificate.p12,
            decision.passphrase,
            Stamp(
                signer_name=lawyer.name,
                firm=lawyer.firm,
                licence=lawyer.licence_number,
                reason=f"Approved as counsel: {document.kind.label} {document.reference}",
                location=None,
            ),
            tsa_url=current_app.config.get("TSA_URL") or None,
        )
    except CertificateRejected as error:
        # The request names the passphrase ``p12_passphrase``; say so on that field.
        fields = (
            {PASSPHRASE_FIELD: error.fields.pop("passphrase")}
            if "passphrase" in error.fields
            else {}
        )
        raise CertificateRejected(error.message, fields={**error.fields, **fields}) from error
    reports = verify_pdf(signed, trust_roots())
    if not reports or not all(report.intact and report.covers_whole_file for report in reports):
        raise Conflict("The signed PDF did not verify; nothing was signed.")
    signed_sha, _ = file_store().put(signed)
    approval = Approval(
        document_id=document.id,
        lawyer_id=lawyer.id,
        decided_at=utcnow(),
        reviewed_sha256=document.pdf_sha256,
        signed_sha256=signed_sha,
        certificate_sha256=certificate.fingerprint_sha256,
        certificate_id=certificate.id,
        statement=statement,
        ip=actor.ip,
        authenticated_at=authenticated_at,
        timestamped=bool(current_app.config.get("TSA_URL")),
    )
    db.session.add(approval)
    _transition(
        actor,
        document,
        {DocumentStatus.APPROVED},
        DocumentStatus.SIGNED,
        "sign",
        reviewed_sha256=approval.reviewed_sha256,
        signed_sha256=signed_sha,
        certificate_sha256=approval.certificate_sha256,
        statement=statement,
    )
    db.session.refresh(document, ["approval"])
    for user in _submitters(document):
        notify(
            user,
            f"{document.case.reference}: {lawyer.name} signed "
            f"{document.kind.label.lower()} v{document.version}; record its dispatch once sent.",
            _document_link(document),
        )
    return approval


def review(actor: Actor, document: Document, decision: Decision) -> None:
    """Apply the lawyer's decision (see ``request_changes`` and ``approve_and_sign``)."""
    if decision.approve:
        approve_and_sign(actor, document, decision)
    else:
        request_changes(actor, document, decision.comment)


def comments(document: Document) -> list[ReviewComment]:
    """Every comment on every version of the document's kind, oldest first."""
    return list(
        db.session.scalars(
            select(ReviewComment)
            .join(Document, Document.id == ReviewComment.document_id)
            .where(Document.case_id == document.case_id, Document.kind == document.kind)
            .order_by(ReviewComment.id)
        )
    )


def _awaiting(user: User):
    return (
        select(Document)
        .join(Case, Case.id == Document.case_id)
        .where(Document.status == DocumentStatus.IN_REVIEW, Case.lawyer_id == user.id)
    )


def review_queue(user: User) -> list[Document]:
    """Documents awaiting ``user``'s review (cases assigned to them), oldest first."""
    return list(db.session.scalars(_awaiting(user).order_by(Document.updated_at, Document.id)))


def review_waiting(user: User) -> int:
    """How many documents await ``user``'s review (the navigation's badge)."""
    return db.session.scalar(select(func.count()).select_from(_awaiting(user).subquery())) or 0


def record_dispatch(
    actor: Actor,
    document: Document,
    *,
    sent_on: dt.date,
    courier: str,
    tracking: str,
    delivered_on: dt.date | None,
) -> CaseEvent:
    """A signed document went out: a ``dispatch`` event on the case's timeline.

    :raises Forbidden: the actor does not manage the case.
    :raises Conflict: the version is not signed.
    :raises ValidationFailed: sent or delivered in the future, or delivered before it was sent.
    """
    if actor.user is None or not can_submit(actor.user, document):
        raise Forbidden("Only legal staff on the case record dispatches.")
    if document.approval is None:
        raise Conflict("Only a signed version is dispatched; have counsel sign it first.")
    if sent_on > dt.date.today():
        raise ValidationFailed(
            "The dispatch date lies in the future.", fields={"date": ["Not later than today."]}
        )
    if delivered_on and delivered_on < sent_on:
        raise ValidationFailed(
            "Delivery cannot come before dispatch.",
            fields={"delivered_on": ["On or after the date sent."]},
        )
    if delivered_on and delivered_on > dt.date.today():
        raise ValidationFailed(
            "Delivery lies in the future.", fields={"delivered_on": ["Not later than today."]}
        )
    return add_event(
        actor,
        document.case,
        {
            "type": "dispatch",
            "date": sent_on,
            "document": document.kind.value,
            "document_id": document.id,
            "version": document.version,
            "reference": document.reference,
            "courier": courier.strip(),
            "tracking": tracking.strip(),
            "delivered_on": delivered_on,
        },
    )


def _stored_hashes():
    yield from db.session.scalars(select(Approval.signed_sha256))


register_references(_stored_hashes)


@dataclass(frozen=True)
class ContextChange:
    """One value of the context snapshot that differs from the previous version."""

    field: str
    before: Any
    after: Any


def previous_version(document: Document) -> Document | None:
    """The version before this one of the same kind on the same case."""
    return db.session.scalar(
        select(Document)
        .where(
            Document.case_id == document.case_id,
            Document.kind == document.kind,
            Document.version < document.version,
        )
        .order_by(Document.version.desc())
        .limit(1)
    )


def context_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ContextChange]:
    """What differs between two context snapshots, by dotted field name (lists compared whole,
    so a changed invoice row shows as the table before and after)."""
    changes: list[ContextChange] = []

    def walk(prefix: str, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new), key=str):
                walk(f"{prefix}.{key}" if prefix else str(key), old.get(key), new.get(key))
        elif old != new:
            changes.append(ContextChange(prefix, old, new))

    walk("", before or {}, after or {})
    return changes
