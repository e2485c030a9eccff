"""The review machine: submit → in review → changes requested → in review → approved → signed.

Document versions and bundle versions go through it alike (``subjects.Subject`` says what
differs: a bundle signs each of its volumes). Every transition goes through ``_transition`` (state
guard, audit entry with the status change); who may act is checked here, not in the views: legal
and admins on cases they may edit submit, only the case's assigned lawyer decides. Services
flush; the request commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from ..accounts.models import Role, User
from ..accounts.services import verify_password
from ..audit.checkpoint import checkpoint_after_commit
from ..audit.models import AuditEntry
from ..audit.services import Actor, record
from ..bundles.models import Bundle
from ..cases import policy
from ..cases.gate import check_gate
from ..cases.models import Case
from ..db import utcnow
from ..documents.models import Document, DocumentStatus
from ..domain import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..security import Permission, has_permission
from ..signing import (
    CertificateRejected,
    CertificateUntrusted,
    Stamp,
    check_trusted_chain,
    open_pkcs12,
    sign_pdf,
    verify_pdf,
)
from ..storage import file_store, register_references
from .certificates import active_certificate, trust_roots
from .inbox import notify
from .models import Approval, ReviewComment
from .subjects import Reviewable, Subject, subject

#: Shown to the lawyer above the approval form and stored with the approval, word for word.
APPROVAL_STATEMENT = (
    "I, {name}{licence}, have reviewed {title} version {version} of case {case} "
    "({hashes}) and approve it. I sign it with my registered certificate "
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


class TooManyAttempts(DomainError):
    """Too many wrong passwords or passphrases on approval in the window: wait."""

    status = 429
    code = "too_many_attempts"


#: Wrong passwords or passphrases on approval: at most this many per lawyer in the window.
APPROVAL_ATTEMPTS = 5
APPROVAL_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Decision:
    """What the lawyer sends: approve or request changes."""

    approve: bool
    comment: str = ""
    password: str = ""
    passphrase: str = ""


def approval_statement(item: Reviewable, lawyer: User) -> str:
    """The approval text for ``lawyer`` on ``item`` (shown, then stored)."""
    what = subject(item)
    if what.is_bundle:
        bundle = what.item
        count = len(bundle.volumes)
        hashes = (
            f"{count} volume{'' if count == 1 else 's'}, {bundle.pages} pages; "
            + "; ".join(f"volume {v.number} PDF SHA-256 {v.pdf_sha256}" for v in bundle.volumes)
            + f"; zip SHA-256 {bundle.zip_sha256}"
        )
    else:
        hashes = f"PDF SHA-256 {what.item.pdf_sha256}"
    statement = APPROVAL_STATEMENT.format(
        name=lawyer.name,
        licence=f" (licence {lawyer.licence_number})" if lawyer.licence_number else "",
        title=what.name,
        version=what.version,
        case=what.case.reference,
        hashes=hashes,
        firm=f" of {lawyer.firm}" if lawyer.firm else "",
    )
    if what.is_bundle:
        statement = statement.replace("I sign it ", "I sign each volume ")
    return statement


def can_submit(user: User, item: Reviewable) -> bool:
    """Legal and admins who may edit the case."""
    return has_permission(user, Permission.GENERATE_DOCUMENTS) and policy.can_edit_case(
        user, item.case
    )


def is_reviewer(user: User, item: Reviewable) -> bool:
    """Only the lawyer assigned to the case reviews its documents and bundles."""
    return (
        user.role is Role.LAWYER
        and has_permission(user, Permission.REVIEW_DOCUMENTS)
        and item.case.lawyer_id == user.id
    )


#: How a refusal names each step ("it cannot be submitted now").
_DONE = {
    "submit": "submitted",
    "request_changes": "sent back for changes",
    "approve": "approved",
    "sign": "signed",
}


def _transition(
    actor: Actor,
    what: Subject,
    allowed: set[DocumentStatus],
    target: DocumentStatus,
    action: str,
    **details: Any,
) -> None:
    """Move the version to ``target`` if its status is in ``allowed``.

    :raises Conflict: the version is superseded or in another state.
    """
    if what.status is DocumentStatus.SUPERSEDED:
        raise Conflict(
            f"Version {what.version} has been superseded by a newer version; "
            "work on the newest one."
        )

    def refused() -> Conflict:
        return Conflict(
            f"The {what.name} is {what.status.value.replace('_', ' ')}; "
            f"it cannot be {_DONE[action]} now."
        )

    if what.status not in allowed:
        raise refused()
    before = what.status
    # A conditional update, not a read-then-write: of two requests moving the same version at
    # once, the second waits for the first's row lock (PostgreSQL) or write lock (SQLite) and
    # then finds the status moved on: 409, before anything is signed or stored.
    model = type(what.item)
    db.session.flush()
    moved = db.session.execute(
        update(model)
        .where(model.id == what.id, model.status.in_(list(allowed)))
        .values(status=target)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(what.item)
    if moved.rowcount != 1:
        raise refused()  # moved on by a parallel request (the status is re-read)
    record(
        actor,
        f"{what.entity}.{action}",
        what.entity,
        what.id,
        before={"status": before.value},
        after={"status": target.value, **details},
    )


def _comment(actor: Actor, what: Subject, action: str, body: str) -> ReviewComment:
    comment = ReviewComment(
        **what.comment_of(),
        author_id=actor.user.id if actor.user else None,
        action=action,
        body=body.strip(),
    )
    db.session.add(comment)
    return comment


def _submitters(what: Subject) -> list[User]:
    """Who submitted this version (and who made it), to hear the lawyer's decision."""
    ids = set(
        db.session.scalars(
            select(ReviewComment.author_id).where(
                what.own_comments(),
                ReviewComment.action == "submitted",
                ReviewComment.author_id.is_not(None),
            )
        )
    )
    if what.created_by_id:
        ids.add(what.created_by_id)
    return [user for user in (db.session.get(User, i) for i in sorted(ids)) if user]


def submit(actor: Actor, item: Reviewable, comment: str = "") -> None:
    """Send a final version (a document, or a bundle binding a statement of claim) to the
    case's lawyer.

    :raises Forbidden: the actor does not prepare documents on this case.
    :raises Conflict: not ready (see ``Subject.not_ready``), or not a draft.
    :raises ProsecutionBlocked: a court filing while an uncovered prosecution blocker stands.
    """
    what = subject(item)
    if actor.user is None or not can_submit(actor.user, item):
        raise Forbidden(f"Only legal staff on the case submit the {what.name} for review.")
    problem = what.not_ready()
    if problem:
        raise Conflict(problem)
    if what.for_court:
        check_gate(what.case, what.name, "submitted", what.override)
    lawyer = what.case.lawyer
    _transition(
        actor,
        what,
        {DocumentStatus.DRAFT, DocumentStatus.CHANGES_REQUESTED},
        DocumentStatus.IN_REVIEW,
        "submit",
        lawyer=lawyer.email,
    )
    _comment(actor, what, "submitted", comment)
    notify(
        lawyer,
        f"{what.case.reference}: {what.title} v{what.version} awaits your review.",
        what.review_link,
    )


def _check_reviewer(actor: Actor, what: Subject) -> User:
    user = actor.user
    if user is None or not policy.can_view_case(user, what.case):
        raise NotFound(f"No such {what.entity}.")
    if not is_reviewer(user, what.item):
        raise Forbidden(f"Only the lawyer assigned to the case reviews its {what.entity}s.")
    return user


def _reauthenticate(user: User, password: str) -> dt.datetime:
    if not password or not verify_password(user, password):
        raise WrongPassword(
            "Your password is needed to confirm this decision, and the one given is not right.",
            fields={"password": ["Enter your portal password."]},
        )
    return utcnow()


def request_changes(actor: Actor, item: Reviewable, comment: str) -> None:
    """The lawyer sends the version back with a comment.

    :raises ValidationFailed: no comment.
    """
    what = subject(item)
    _check_reviewer(actor, what)
    if not comment.strip():
        raise ValidationFailed(
            "Say what needs to change.", fields={"comment": ["A comment is required."]}
        )
    _transition(
        actor,
        what,
        {DocumentStatus.IN_REVIEW},
        DocumentStatus.CHANGES_REQUESTED,
        "request_changes",
        comment=comment.strip(),
    )
    _comment(actor, what, "changes_requested", comment)
    for user in _submitters(what):
        notify(
            user,
            f"{what.case.reference}: counsel asked for changes to {what.name} v{what.version}.",
            what.page_link,
        )


def approve_and_sign(actor: Actor, item: Reviewable, decision: Decision) -> Approval:
    """Approve with a fresh password, then sign the PDF (each volume of a bundle) with the
    lawyer's certificate.

    Both steps happen in one transaction: a failed signature leaves the version in review.

    :raises WrongPassword: the re-entered password is wrong.
    :raises ProsecutionBlocked: a court filing while a prosecution blocker stands that its
        override does not cover (checked again: time passes and the record changes).
    :raises Conflict: not in review, or the lawyer has no usable certificate (none, expired,
        or no longer chaining to a trusted root).
    :raises CertificateRejected: the passphrase does not open the certificate.
    """
    what = subject(item)
    lawyer = _check_reviewer(actor, what)
    if what.for_court:
        check_gate(what.case, what.name, "signed", what.override)
    _check_attempts(lawyer)
    try:
        authenticated_at = _reauthenticate(lawyer, decision.password)
    except WrongPassword:
        _failed_attempt(actor, lawyer, what, "password")
        raise
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
    try:
        _check_still_trusted(certificate.p12, decision.passphrase)
    except CertificateRejected:
        _failed_attempt(actor, lawyer, what, "passphrase")
        raise
    statement = approval_statement(item, lawyer)
    reviewed_sha = what.reviewed_sha256
    _transition(
        actor,
        what,
        {DocumentStatus.IN_REVIEW},
        DocumentStatus.APPROVED,
        "approve",
        reviewed_sha256=reviewed_sha,
    )
    _comment(actor, what, "approved", decision.comment)
    stamp = Stamp(
        signer_name=lawyer.name,
        firm=lawyer.firm,
        licence=lawyer.licence_number,
        reason=f"Approved as counsel: {what.title} {what.reference}",
        location=None,
    )
    if what.is_bundle:
        signed_sha = _sign_volumes(
            what.item, certificate.p12, decision.passphrase, stamp, certificate.fingerprint_sha256
        )
        signed_details: dict[str, Any] = {
            "signed_volumes": [volume.signed_sha256 for volume in what.item.volumes]
        }
    else:
        signed_sha = _sign_stored(what.item.pdf_sha256, certificate.p12, decision.passphrase, stamp)
        signed_details = {}
    approval = Approval(
        **what.comment_of(),
        lawyer_id=lawyer.id,
        decided_at=utcnow(),
        reviewed_sha256=reviewed_sha,
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
        what,
        {DocumentStatus.APPROVED},
        DocumentStatus.SIGNED,
        "sign",
        reviewed_sha256=approval.reviewed_sha256,
        signed_sha256=signed_sha,
        certificate_sha256=approval.certificate_sha256,
        certificate_subject=certificate.subject,
        statement=statement,
        **signed_details,
    )
    db.session.refresh(what.item, ["approval"])
    # The chain's head, with the signature in it, goes outside the database once committed.
    checkpoint_after_commit(f"signature of {what.name} v{what.version}")
    next_step = "it can be filed" if what.is_bundle else "record its dispatch once sent"
    for user in _submitters(what):
        notify(
            user,
            f"{what.case.reference}: {lawyer.name} signed {what.name} v{what.version}; "
            f"{next_step}.",
            what.page_link,
        )
    return approval


def _check_attempts(lawyer: User) -> None:
    """:raises TooManyAttempts: ``APPROVAL_ATTEMPTS`` failures within ``APPROVAL_WINDOW``."""
    since = utcnow() - APPROVAL_WINDOW
    failures = db.session.scalars(
        select(AuditEntry.occurred_at)
        .where(
            AuditEntry.action == "approval.failed",
            AuditEntry.object_type == "user",
            AuditEntry.object_id == str(lawyer.id),
            AuditEntry.occurred_at >= since,
        )
        .order_by(AuditEntry.occurred_at)
    ).all()
    if len(failures) >= APPROVAL_ATTEMPTS:
        again = failures[-APPROVAL_ATTEMPTS] + APPROVAL_WINDOW
        raise TooManyAttempts(
            f"{len(failures)} wrong passwords or passphrases in the last 15 minutes: approval is "
            f"paused for your account until {again:%H:%M} UTC."
        )


def _failed_attempt(actor: Actor, lawyer: User, what: Subject, which: str) -> None:
    """Record a wrong password or passphrase on approval, kept although the request fails."""
    db.session.rollback()  # nothing of the approval was written before the check
    record(
        actor,
        "approval.failed",
        "user",
        lawyer.id,
        after={"wrong": which, "subject": f"{what.name} v{what.version}"},
    )
    db.session.commit()


def _on_passphrase_field(error: CertificateRejected) -> CertificateRejected:
    """The request names the passphrase ``p12_passphrase``: say so on that field."""
    fields = dict(error.fields)
    if "passphrase" in fields:
        fields[PASSPHRASE_FIELD] = fields.pop("passphrase")
    return CertificateRejected(error.message, fields=fields)


def _check_still_trusted(p12: bytes, passphrase: str) -> None:
    """Trust can change after registration (a root removed, the certificate expired): check
    the chain again before anything is approved or written.

    :raises CertificateRejected: the passphrase does not open the file (422).
    :raises Conflict: the certificate no longer leads to a trusted root, or is not valid (409).
    """
    try:
        _key, cert, chain = open_pkcs12(p12, passphrase)
    except CertificateRejected as error:
        raise _on_passphrase_field(error) from error
    try:
        check_trusted_chain(cert, chain, trust_roots(), utcnow(), fetch_revocation=True)
    except CertificateUntrusted as error:
        raise Conflict(f"Nothing was signed: {error.message}") from error


def _sign(reviewed: bytes, p12: bytes, passphrase: str, stamp: Stamp) -> bytes:
    """``reviewed`` signed and checked (intact, whole file covered) before anything is kept."""
    try:
        signed = sign_pdf(
            reviewed,
            p12,
            passphrase,
            stamp,
            tsa_url=current_app.config.get("TSA_URL") or None,
            trust_roots=trust_roots(),
        )
    except CertificateRejected as error:
        raise _on_passphrase_field(error) from error
    reports = verify_pdf(signed, trust_roots())
    if not reports or not all(report.intact and report.covers_whole_file for report in reports):
        raise Conflict("The signed PDF did not verify; nothing was signed.")
    return signed


def _sign_stored(sha256: str, p12: bytes, passphrase: str, stamp: Stamp) -> str:
    """Sign the stored PDF ``sha256``; the signed file's SHA-256 (now in the store)."""
    signed = _sign(file_store().read(sha256), p12, passphrase, stamp)
    return file_store().put(signed)[0]


def _sign_volumes(
    bundle: Bundle, p12: bytes, passphrase: str, stamp: Stamp, certificate_sha256: str
) -> str:
    """Sign every volume, then remake the zip with the signed volumes; its SHA-256."""
    # Imported here: the bundles package's views import this package.
    from ..bundles.archive import signed_zip

    for volume in bundle.volumes:
        volume.signed_sha256 = _sign_stored(volume.pdf_sha256, p12, passphrase, stamp)
    bundle.signed_zip_sha256 = signed_zip(
        bundle,
        {
            "signer": stamp.signer_name,
            "firm": stamp.firm,
            "licence": stamp.licence,
            "signed_at": utcnow().isoformat(timespec="seconds"),
            "certificate_sha256": certificate_sha256,
        },
    )
    return bundle.signed_zip_sha256


def review(actor: Actor, item: Reviewable, decision: Decision) -> None:
    """Apply the lawyer's decision (see ``request_changes`` and ``approve_and_sign``)."""
    if decision.approve:
        approve_and_sign(actor, item, decision)
    else:
        request_changes(actor, item, decision.comment)


def comments(item: Reviewable) -> list[ReviewComment]:
    """Every comment on every version of the document's kind (of the case's bundle), oldest
    first."""
    if isinstance(item, Bundle):
        query = select(ReviewComment).join(Bundle, Bundle.id == ReviewComment.bundle_id)
        query = query.where(Bundle.case_id == item.case_id)
    else:
        query = select(ReviewComment).join(Document, Document.id == ReviewComment.document_id)
        query = query.where(Document.case_id == item.case_id, Document.kind == item.kind)
    return list(db.session.scalars(query.order_by(ReviewComment.id)))


def _awaiting(user: User, model: type[Document] | type[Bundle]):
    return (
        select(model)
        .join(Case, Case.id == model.case_id)
        .where(model.status == DocumentStatus.IN_REVIEW, Case.lawyer_id == user.id)
    )


def review_queue(user: User) -> list[Reviewable]:
    """Documents and bundles awaiting ``user``'s review (cases assigned to them), oldest
    first."""
    waiting: list[Reviewable] = [
        *db.session.scalars(_awaiting(user, Document)),
        *db.session.scalars(_awaiting(user, Bundle)),
    ]
    return sorted(waiting, key=lambda item: (item.updated_at, isinstance(item, Bundle), item.id))


def review_waiting(user: User) -> int:
    """How many versions await ``user``'s review (the navigation's badge)."""
    return sum(
        db.session.scalar(select(func.count()).select_from(_awaiting(user, model).subquery())) or 0
        for model in (Document, Bundle)
    )


def _stored_hashes():
    yield from db.session.scalars(select(Approval.signed_sha256))


register_references(_stored_hashes)
