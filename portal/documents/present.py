"""A document version as JSON-ready data (API body and pages read the same shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Document

if TYPE_CHECKING:
    from ..review.models import Approval


def document_payload(document: Document, *, with_context: bool = False) -> dict[str, Any]:
    """What ``GET /api/v1/documents/<id>`` answers."""
    body: dict[str, Any] = {
        "id": document.id,
        "case": document.case_id,
        "kind": document.kind.value,
        "version": document.version,
        "status": document.status.value,
        "final": document.final,
        "source": document.source.value,
        "reference": document.reference,
        "template": document.template,
        "template_sha256": document.template_sha256,
        "missing_fields": list(document.missing_fields or []),
        "sha256_docx": document.docx_sha256,
        "sha256_pdf": document.pdf_sha256,
        "pages": document.pages,
        "document_date": document.document_date.isoformat(),
        "deadline": document.deadline.isoformat() if document.deadline else None,
        "based_on": document.based_on_id,
        "created_at": document.created_at.isoformat(),
        "created_by": document.created_by.email if document.created_by else None,
        "approval": approval_payload(document.approval),
        "override": override_payload(document.override),
        "facts": list(document.facts or []),
    }
    if with_context:
        body["context"] = document.context
    return body


def override_payload(override: dict[str, Any] | None) -> dict[str, Any] | None:
    """Legal's override of a prosecution blocker as the API shows it."""
    if not override:
        return None
    keys = ("rule", "reason", "by", "at", "findings")
    return {key: override.get(key) for key in keys if key in override}


def approval_payload(approval: Approval | None) -> dict[str, Any] | None:
    """Counsel's approval as the API shows it (documents and bundles alike)."""
    if approval is None:
        return None
    return {
        "lawyer": approval.lawyer.email,
        "decided_at": approval.decided_at.isoformat(),
        "reviewed_sha256": approval.reviewed_sha256,
        "signed_sha256": approval.signed_sha256,
        "certificate_sha256": approval.certificate_sha256,
        "statement": approval.statement,
        "timestamped": approval.timestamped,
    }
