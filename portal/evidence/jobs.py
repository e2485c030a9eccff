"""The exhibit rendition job: the original becomes a sanitised PDF in the file store."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import current_app
from sqlalchemy import select

from ..audit.services import Actor, record
from ..extensions import db
from ..jobs import huey, task
from ..jobs.lease import Lease, read
from ..jobs.sweep import REDELIVER_AFTER, SWEEPERS, held_by_queue
from ..storage import file_store
from . import intake
from .models import Evidence, EvidenceKind, RenditionStatus
from .services import add_evidence, limits

log = logging.getLogger(__name__)

#: The lease kind of a rendition in progress (see ``jobs.lease``).
RENDITION = "rendition"


def _converter():
    from ..office import OfficeConverter

    return OfficeConverter(timeout=float(current_app.config.get("OFFICE_TIMEOUT", 120)))


def queue_renditions(evidence_ids: list[int]) -> None:
    """Hand committed evidence items to the queue for their renditions. A queue that does not
    answer leaves them pending: the job sweeper delivers them once it is back."""
    db.session.commit()  # nothing of the caller's session holds the database meanwhile
    for evidence_id in evidence_ids:
        try:
            render_evidence(evidence_id)
        except Exception:  # the queue's store is down; the sweeper re-delivers
            log.warning("Rendition of evidence %s not queued now", evidence_id, exc_info=True)


@task()
def render_evidence(evidence_id: int) -> str:
    """Make the exhibit PDF of one evidence item; e-mail attachments become items of their own.

    Only a pending item is rendered, and only by one worker at a time (a lease in the queue's
    store, as for jobs): a second delivery of the same item is skipped."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        return "gone"
    if evidence.rendition_status is not RenditionStatus.PENDING:
        return "skipped"
    if _being_rendered(evidence_id):
        return "skipped"
    config = current_app.config
    lease = Lease(
        huey.storage,
        evidence_id,
        secrets.token_hex(16),
        0,
        1,
        heartbeat=float(config["JOBS_HEARTBEAT_SECONDS"]),
        kind=RENDITION,
    )
    lease.start(thread=not huey.immediate)
    try:
        return _render(evidence)
    finally:
        lease.stop()


def _being_rendered(evidence_id: int) -> bool:
    """A worker holds a live lease on the item's rendition (it beat within the lease time)."""
    beat = read(huey.storage, evidence_id, RENDITION)
    return beat is not None and beat.age < float(current_app.config["JOBS_LEASE_SECONDS"])


def _render(evidence: Evidence) -> str:
    from .rendition import render

    evidence_id = evidence.id
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
    queue_renditions(children)
    return "done"


def redeliver_renditions(now: dt.datetime) -> str:
    """For the job sweeper: pending renditions the queue does not hold and no worker is
    rendering (committed while the queue was down, or lost with a worker) are queued again."""
    pending = db.session.scalars(
        select(Evidence.id).where(
            Evidence.rendition_status == RenditionStatus.PENDING,
            Evidence.created_at < now - REDELIVER_AFTER,
        )
    ).all()
    if not pending:
        return "no rendition waiting"
    held = held_by_queue([render_evidence])
    if held is None:
        return f"{len(pending)} rendition(s) waiting; the queue does not answer"
    stray = [
        evidence_id
        for evidence_id in pending
        if evidence_id not in held and not _being_rendered(evidence_id)
    ]
    queue_renditions(stray)
    return f"{len(stray)} rendition(s) handed to the queue again"


SWEEPERS.append(redeliver_renditions)
