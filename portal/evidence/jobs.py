"""The exhibit rendition job: the original becomes a sanitised PDF in the file store."""

from __future__ import annotations

import logging

from flask import current_app

from ..audit.services import Actor, record
from ..extensions import db
from ..jobs import task
from ..storage import file_store
from . import intake
from .models import Evidence, EvidenceKind, RenditionStatus
from .services import add_evidence, limits

log = logging.getLogger(__name__)


def _converter():
    from ..office import OfficeConverter

    return OfficeConverter(timeout=float(current_app.config.get("OFFICE_TIMEOUT", 120)))


@task()
def render_evidence(evidence_id: int) -> str:
    """Make the exhibit PDF of one evidence item; e-mail attachments become items of their own."""
    from .rendition import render

    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        return "gone"
    actor = Actor.system()
    children: list[int] = []
    try:
        data = file_store().read(evidence.sha256)
        inspection = intake.inspect(data, evidence.original_name, limits())
        result = render(data, inspection, converter=_converter())
    except Exception as error:  # any failure is recorded on the item, not lost in a log
        log.exception("rendition of evidence %s failed", evidence_id)
        evidence.rendition_status = RenditionStatus.FAILED
        evidence.rendition_error = f"{type(error).__name__}: {error}"[:2000]
        record(
            actor,
            "evidence.rendition_failed",
            "evidence",
            evidence.id,
            after={"error": evidence.rendition_error},
        )
        db.session.commit()
        return "failed"
    sha256, _size = file_store().put(result.pdf)
    evidence.rendition_sha256 = sha256
    evidence.pages = result.pages
    evidence.rendition_status = RenditionStatus.DONE
    evidence.rendition_error = None
    record(
        actor,
        "evidence.rendition",
        "evidence",
        evidence.id,
        after={"sha256": sha256, "pages": result.pages, "notes": list(result.notes)},
    )
    for name, blob in result.attachments:
        try:
            child = add_evidence(
                actor,
                evidence.case,
                blob,
                name,
                {
                    "kind": EvidenceKind.OTHER,
                    "description": f"Attachment of the e-mail {evidence.original_name}",
                    "document_date": evidence.document_date,
                    "source": evidence.source,
                },
                invoice_keys=[invoice.external_id for invoice in evidence.invoices],
                parent=evidence,
            )
            children.append(child.id)
        except intake.UploadRejected as error:
            record(
                actor,
                "evidence.attachment_rejected",
                "evidence",
                evidence.id,
                after={"name": name, "reason": error.message},
            )
    db.session.commit()
    for child_id in children:
        render_evidence(child_id)
    return "done"
