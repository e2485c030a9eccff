"""Bulk generation: one kind of document for many cases, in the job queue, with progress.

Cases go in batches (``BULK_COMMIT_BATCH``, default 20): a batch's DOCX files are rendered, then
converted by one LibreOffice process (starting it is most of the cost of a letter), stored, and
committed with the job's checkpoint — one transaction per batch, so a retry resumes after it.
A case that cannot be generated (missing fields for a final, no template) is listed with its
reason and the others go on. The result is a zip of the PDFs and DOCX files plus ``errors.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..accounts.models import User
from ..audit.services import Actor
from ..business_time import today_for
from ..cases import policy
from ..cases.claims import build_claims
from ..cases.models import Case, CaseStatus, case_invoice
from ..domain import DomainError, ValidationFailed
from ..extensions import db
from ..jobs import job_task
from ..jobs import services as jobs
from ..jobs.models import Job
from ..ledger.models import Invoice
from ..storage import file_store
from .facts import exhibits
from .models import Document, DocumentKind
from .services import convert_all, prepare_document, store

log = logging.getLogger(__name__)

#: Aging buckets by days past the oldest due date: (low, high) inclusive, None = open.
BUCKETS: dict[str, tuple[int, int | None]] = {
    "d1_30": (1, 30),
    "d31_60": (31, 60),
    "d61_90": (61, 90),
    "d91_180": (91, 180),
    "d181_365": (181, 365),
    "over_365": (366, None),
}
MAX_CASES = 2000


def cases_in_bucket(user: User, bucket: str, as_of: dt.date) -> list[Case]:
    """Open cases the user may edit whose oldest invoice is ``bucket`` days overdue.

    :raises ValidationFailed: unknown bucket.
    """
    if bucket not in BUCKETS:
        raise ValidationFailed(
            f"Unknown aging bucket {bucket!r}.", fields={"bucket": [", ".join(BUCKETS)]}
        )
    low, high = BUCKETS[bucket]
    oldest = (
        select(case_invoice.c.case_id, func.min(Invoice.due_date).label("due"))
        .join(Invoice, Invoice.id == case_invoice.c.invoice_id)
        .group_by(case_invoice.c.case_id)
        .subquery()
    )
    latest_due = as_of - dt.timedelta(days=low)
    query = (
        policy.visible_cases(user)
        .join(oldest, oldest.c.case_id == Case.id)
        .where(Case.status == CaseStatus.OPEN, oldest.c.due <= latest_due)
        .order_by(Case.id)
    )
    if high is not None:
        query = query.where(oldest.c.due >= as_of - dt.timedelta(days=high))
    return [case for case in db.session.scalars(query) if policy.can_edit_case(user, case)]


def editable_cases(user: User, case_ids: list[int]) -> list[Case]:
    """The cases of ``case_ids`` the user may generate documents for.

    :raises ValidationFailed: none given, too many, or one the user may not edit (named).
    """
    ids = sorted(set(case_ids))
    if not ids:
        raise ValidationFailed("Choose at least one case.", fields={"cases": ["none chosen"]})
    if len(ids) > MAX_CASES:
        raise ValidationFailed(
            f"At most {MAX_CASES} cases per job.", fields={"cases": ["too many"]}
        )
    found = {
        case.id: case
        for case in db.session.scalars(policy.visible_cases(user).where(Case.id.in_(ids)))
    }
    refused = [
        case_id
        for case_id in ids
        if case_id not in found or not policy.can_edit_case(user, found[case_id])
    ]
    if refused:
        raise ValidationFailed(
            f"You cannot generate documents for case(s) {', '.join(map(str, refused))}.",
            fields={"cases": [f"not available: {', '.join(map(str, refused))}"]},
        )
    return [found[case_id] for case_id in ids]


def create_bulk_job(
    actor: Actor, kind: DocumentKind, cases: list[Case], *, final: bool, on: dt.date | None = None
) -> Job:
    """The job record for generating ``kind`` for ``cases``, committed (not yet queued)."""
    on = on or today_for(case.jurisdiction for case in cases)
    job = jobs.create_job(
        actor,
        "documents.bulk",
        f"{kind.label} ({'final' if final else 'draft'}) for {len(cases)} case(s)",
        {
            "kind": kind.value,
            "final": final,
            "cases": [case.id for case in cases],
            "on": on.isoformat(),
        },
        total=2 * len(cases),
    )
    db.session.commit()
    return job


def start_bulk(
    actor: Actor, kind: DocumentKind, cases: list[Case], *, final: bool, on: dt.date | None = None
) -> Job:
    """Create the job, commit, and queue it (in tests the queue runs it at once). A queue that
    does not answer leaves it queued; the sweeper delivers it once the queue is back."""
    job = create_bulk_job(actor, kind, cases, final=final, on=on)
    jobs.enqueue(job)
    return job


@job_task("documents.bulk")
def bulk_generate(job_id: int) -> str:
    """The job body: render, convert, store and commit batch by batch; zip; progress."""
    return jobs.run(job_id, _run, "bulk generation")


def _run(job: Job) -> str:
    """Each batch of cases is one transaction: the letter numbers it takes, its documents and
    the job's checkpoint commit together, so a worker that dies loses no number and a retry
    goes on after the last committed batch."""
    params = job.params
    user = job.created_by
    actor = Actor(user=user, label=f"{user.email} (job {job.id})")
    kind = DocumentKind(params["kind"])
    on = dt.date.fromisoformat(params["on"])
    final = bool(params["final"])
    ids = list(params["cases"])
    state: dict[str, list[Any]] = {"cases": [], "documents": [], "errors": []}
    state.update(job.checkpoint or {})
    finished = set(state["cases"])
    remaining = [case_id for case_id in ids if case_id not in finished]
    cases = {
        case.id: case
        for case in db.session.scalars(policy.visible_cases(user).where(Case.id.in_(remaining)))
        if policy.can_edit_case(user, case)
    }
    claims = build_claims(list(cases.values()), on)
    evidence = exhibits(list(cases))
    size = max(1, int(current_app.config.get("BULK_COMMIT_BATCH", 20)))
    for first in range(0, len(remaining), size):
        batch = remaining[first : first + size]
        base = 2 * len(state["cases"])
        documents, errors = _batch(
            job, actor, kind, batch, cases, claims, evidence, final=final, on=on, base=base
        )
        state = {
            "cases": state["cases"] + batch,
            "documents": state["documents"] + documents,
            "errors": state["errors"] + errors,
        }
        jobs.progress(job, 2 * len(state["cases"]))
        jobs.checkpoint(job, state)
    archive = _zip(kind, state["documents"], state["errors"])
    sha256, _size = file_store().put(archive)
    documents, errors = state["documents"], state["errors"]
    result = {
        "summary": f"{len(documents)} generated, {len(errors)} failed",
        "kind": kind.value,
        "generated": len(documents),
        "failed": len(errors),
        "documents": documents,
        "errors": errors,
    }
    jobs.finish(job, result, output=(sha256, f"{kind.value}-{on.isoformat()}-job{job.id}.zip"))
    return "done"


def _batch(
    job: Job,
    actor: Actor,
    kind: DocumentKind,
    batch: list[int],
    cases: dict[int, Case],
    claims: dict[int, Any],
    evidence: dict[int, Any],
    *,
    final: bool,
    on: dt.date,
    base: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Render, convert and store one batch (uncommitted); its documents and errors."""
    errors: list[dict[str, Any]] = []
    prepared = []
    for number, case_id in enumerate(batch, 1):
        case = cases.get(case_id)
        if case is None:
            errors.append({"case": case_id, "reference": None, "message": "not available to you"})
            continue
        try:
            with db.session.begin_nested():
                prepared.append(
                    prepare_document(
                        case,
                        kind,
                        final=final,
                        on=on,
                        claim=claims[case.id],
                        evidence=evidence[case.id],
                    )
                )
        except DomainError as error:
            errors.append(
                {
                    "case": case.id,
                    "reference": case.reference,
                    "message": error.message,
                    "missing_fields": error.fields.get("missing_fields", []),
                }
            )
        jobs.progress(job, base + number)
    names = [f"{item.case.reference}.docx" for item in prepared]
    results = convert_all(
        list(zip(names, (item.docx for item in prepared), strict=True)),
        on_progress=lambda done, _total: jobs.progress(job, base + len(batch) + done),
    )
    documents = []
    for item, (pdf, error) in zip(prepared, results, strict=True):
        if pdf is None:
            errors.append(
                {
                    "case": item.case.id,
                    "reference": item.case.reference,
                    "message": f"the PDF could not be made: {error}",
                }
            )
            continue
        document = store(actor, item, pdf)
        documents.append({"id": document.id, "case": item.case.id, "version": document.version})
    return documents, errors


def _zip(
    kind: DocumentKind, documents: list[dict[str, Any]], errors: list[dict[str, Any]]
) -> bytes:
    """The PDFs and DOCX files of the job's documents, and ``errors.csv``."""
    store_ = file_store()
    archive = io.BytesIO()
    rows = db.session.scalars(
        select(Document).where(Document.id.in_([item["id"] for item in documents]))
    )
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for document in sorted(rows, key=lambda row: row.id):
            stem = f"{document.case.reference} {kind.value} v{document.version}"
            bundle.writestr(f"{stem}.pdf", store_.read(document.pdf_sha256))
            bundle.writestr(f"docx/{stem}.docx", store_.read(document.docx_sha256))
        bundle.writestr("errors.csv", _errors_csv(errors))
    return archive.getvalue()


def _errors_csv(errors: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case", "reference", "message", "missing_fields"])
    for error in errors:
        writer.writerow(
            [
                error["case"],
                error.get("reference") or "",
                error["message"],
                " ".join(error.get("missing_fields", [])),
            ]
        )
    return out.getvalue()
