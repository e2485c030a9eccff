"""Taking in evidence: checked by content, stored by hash, recorded and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import func, or_, select

from ..audit.services import Actor, diff, record
from ..cases.models import Case
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..money import parse_amount, parse_currency
from ..storage import file_store, register_references
from . import intake
from .models import Evidence, EvidenceKind, RenditionStatus

if TYPE_CHECKING:
    from ..documents.models import Document

#: Fields a person gives with an upload (all optional but the kind).
DESCRIPTIVE_FIELDS = (
    "kind",
    "document_date",
    "signed_by_debtor",
    "sealed",
    "original_held",
    "description",
    "source",
    "proves",
    "signer",
    "amount",
    "currency",
)


def limits() -> intake.Limits:
    """Upload limits from the configuration (``EVIDENCE_MAX_BYTES``, default 50 MB)."""
    return intake.Limits(
        max_bytes=int(current_app.config.get("EVIDENCE_MAX_BYTES", intake.DEFAULT_LIMITS.max_bytes))
    )


def add_evidence(
    actor: Actor,
    case: Case,
    data: bytes,
    filename: str,
    fields: Mapping[str, Any],
    *,
    invoice_keys: Sequence[str] = (),
    parent: Evidence | None = None,
) -> Evidence:
    """Check, store and record one file as evidence on ``case``.

    The file is in the store (fsynced) before the row exists; the caller commits the row.

    :raises UploadRejected: the content is not allowed (4xx with a reason).
    :raises ValidationFailed: invoices that the case does not claim.
    """
    inspection = intake.inspect(data, filename, limits())
    claimed = {invoice.external_id: invoice for invoice in case.invoices}
    unknown = [key for key in invoice_keys if key not in claimed]
    if unknown:
        raise ValidationFailed(
            f"Not invoices of case {case.reference}: {', '.join(unknown)}.",
            fields={"invoices": [f"Not claimed in this case: {', '.join(unknown)}."]},
        )
    sha256, size = file_store().put(data)
    duplicate = db.session.scalar(
        select(Evidence.id)
        .where(Evidence.case_id == case.id, Evidence.sha256 == sha256)
        .order_by(Evidence.id)
        .limit(1)
    )
    evidence = Evidence(
        case=case,
        sha256=sha256,
        size=size,
        media_type=inspection.media_type,
        original_name=inspection.filename,
        pages=inspection.pages,
        parent=parent,
        duplicate_of_id=duplicate,
        uploaded_by_id=actor.user.id if actor.user else None,
        invoices=[claimed[key] for key in dict.fromkeys(invoice_keys)],
        rendition_status=RenditionStatus.PENDING,
        **{name: fields.get(name) for name in DESCRIPTIVE_FIELDS},
    )
    evidence.renamed_from = inspection.renamed_from
    db.session.add(evidence)
    db.session.flush()
    record(
        actor,
        "evidence.add",
        "evidence",
        evidence.id,
        after={
            "case": case.reference,
            "kind": evidence.kind,
            "sha256": sha256,
            "size": size,
            "media_type": inspection.media_type,
            "name": inspection.filename,
            "uploaded_as": inspection.renamed_from,
            "invoices": list(invoice_keys),
            "duplicate_of": duplicate,
            "parent": parent.id if parent else None,
        },
    )
    return evidence


def signed_versions_using(evidence: Evidence) -> list[Document]:
    """Signed, current document versions generated from ``evidence``."""
    # Imported here: the documents package (its views) imports the evidence package.
    from ..documents.models import Document, DocumentEvidence, DocumentStatus

    return list(
        db.session.scalars(
            select(Document)
            .join(DocumentEvidence, DocumentEvidence.document_id == Document.id)
            .where(
                DocumentEvidence.evidence_id == evidence.id,
                Document.status == DocumentStatus.SIGNED,
            )
            .order_by(Document.id)
        )
    )


def signed_bundles_using(evidence: Evidence) -> list[Any]:
    """Signed, current bundle versions with ``evidence`` as an exhibit."""
    # Imported here: the bundles package imports the evidence package.
    from ..bundles.models import Bundle, BundleExhibit
    from ..documents.models import DocumentStatus

    return list(
        db.session.scalars(
            select(Bundle)
            .where(
                Bundle.status == DocumentStatus.SIGNED,
                Bundle.id.in_(
                    select(BundleExhibit.bundle_id).where(BundleExhibit.evidence_id == evidence.id)
                ),
            )
            .order_by(Bundle.id)
        )
    )


def check_editable(evidence: Evidence) -> None:
    """:raises Conflict: the evidence feeds a signed document or is an exhibit of a signed
    bundle (make a new version of it first)."""
    names = [
        f"{item.kind.label.lower()} v{item.version}" for item in signed_versions_using(evidence)
    ]
    names += [f"filing bundle v{item.version}" for item in signed_bundles_using(evidence)]
    if names:
        raise Conflict(
            f"This evidence is part of the signed {', '.join(names)}; generate (or build) a new "
            "version of it before changing or removing the evidence."
        )


def update_evidence(actor: Actor, evidence: Evidence, changes: Mapping[str, Any]) -> None:
    """Change the evidence's description fields (only those given).

    :raises Conflict: it feeds a signed document.
    """
    check_editable(evidence)
    before = {name: getattr(evidence, name) for name in DESCRIPTIVE_FIELDS if name in changes}
    for name in before:
        setattr(evidence, name, changes[name])
    db.session.flush()
    record(
        actor,
        "evidence.update",
        "evidence",
        evidence.id,
        **diff(before, {name: changes[name] for name in before}),
    )


def delete_evidence(actor: Actor, evidence: Evidence) -> None:
    """Remove the evidence from its case (the file stays in the store until it is orphaned).

    :raises Conflict: it feeds a signed document, or other evidence hangs on it (attachments
        or duplicates: remove those first).
    """
    check_editable(evidence)
    dependants = db.session.scalar(
        select(func.count())
        .select_from(Evidence)
        .where(or_(Evidence.parent_id == evidence.id, Evidence.duplicate_of_id == evidence.id))
    )
    if dependants:
        raise Conflict(
            f"{dependants} other evidence item(s) are attachments or duplicates of this one; "
            "remove them first."
        )
    record(
        actor,
        "evidence.delete",
        "evidence",
        evidence.id,
        before={
            "case": evidence.case_id,
            "kind": evidence.kind,
            "name": evidence.original_name,
            "sha256": evidence.sha256,
        },
    )
    db.session.delete(evidence)
    db.session.flush()


def case_evidence(case: Case) -> list[Evidence]:
    """The case's evidence, oldest first."""
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)
        )
    )


def _stored_hashes() -> set[str]:
    hashes: set[str] = set()
    for original, rendition in db.session.execute(
        select(Evidence.sha256, Evidence.rendition_sha256)
    ):
        hashes.add(original)
        if rendition:
            hashes.add(rendition)
    return hashes


register_references(_stored_hashes)


def parse_flag(raw: str | None, name: str) -> bool | None:
    """``true``/``false``/``yes``/``no``/``1``/``0``/empty (unknown) from a form field.

    :raises ValidationFailed: anything else.
    """
    value = (raw or "").strip().lower()
    if value in ("", "unknown"):
        return None
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise ValidationFailed(f"{name}: say true or false.", fields={name: ["true or false."]})


def parse_fields(form: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Upload form fields → ``(fields, invoice keys)``.

    :raises ValidationFailed: with every bad field named.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    kind = (form.get("kind") or "").strip()
    if kind not in {item.value for item in EvidenceKind}:
        errors["kind"] = [f"One of: {', '.join(item.value for item in EvidenceKind)}."]
    else:
        values["kind"] = EvidenceKind(kind)
    raw_date = (form.get("document_date") or "").strip()
    try:
        values["document_date"] = dt.date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        errors["document_date"] = ["A date as YYYY-MM-DD."]
    for name in ("signed_by_debtor", "sealed", "original_held"):
        try:
            values[name] = parse_flag(form.get(name), name)
        except ValidationFailed as error:
            errors.update(error.fields)
    for name, limit in (("description", 5000), ("source", 200), ("proves", 2000), ("signer", 200)):
        text = (form.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [f"At most {limit} characters."]
        values[name] = text or None
    values["amount"], values["currency"] = None, None
    if (form.get("amount") or "").strip():
        try:
            values["currency"] = parse_currency(form.get("currency"))
            values["amount"] = parse_amount(form.get("amount"), values["currency"])
        except ValueError as error:
            errors["amount"] = [str(error)]
    keys = [key.strip() for key in (form.get("invoices") or "").split(",") if key.strip()]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    return values, keys
