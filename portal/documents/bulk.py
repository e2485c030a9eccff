"""Bulk generation: one kind of document for many cases, in the job queue, with progress.

All DOCX files are rendered first, then converted by one LibreOffice process per batch
(``DOCUMENT_BATCH_SIZE``, default 100) — starting LibreOffice is most of the cost of a letter.
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

from sqlalchemy import func, select

from ..accounts.models import User
from ..audit.services import Actor
from ..cases import policy
from ..cases.claims import build_claims
from ..cases.models import Case, CaseStatus, case_invoice
from ..domain import DomainError, ValidationFailed
from ..extensions import db
from ..jobs import services as jobs
from ..jobs import task
from ..jobs.models import Job
from ..ledger.models import Invoice
from ..storage import file_store
from .facts import exhibits
from .models import DocumentKind
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
    on = on or dt.date.today()
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
    """Create the job, commit, and queue it (in tests the queue runs it at once)."""
    job = create_bulk_job(actor, kind, cases, final=final, on=on)
    bulk_generate(job.id)
    return job


@task()
def bulk_generate(job_id: int) -> str:
    """The job body: render all, convert in batches, store, zip; progress as it goes."""
    return jobs.run(job_id, _run, "bulk generation")


def _run(job: Job) -> str:
    jobs.start(job)
    params = job.params
    user = job.created_by
    actor = Actor(user=user, label=f"{user.email} (job {job.id})")
    kind = DocumentKind(params["kind"])
    on = dt.date.fromisoformat(params["on"])
    final = bool(params["final"])
    ids = list(params["cases"])
    cases = {
        case.id: case
        for case in db.session.scalars(policy.visible_cases(user).where(Case.id.in_(ids)))
        if policy.can_edit_case(user, case)
    }
    claims = build_claims(list(cases.values()), on)
    evidence = exhibits(list(cases))
    errors: list[dict[str, Any]] = []
    prepared = []
    for number, case_id in enumerate(ids, 1):
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
        if number % 10 == 0:
            jobs.progress(job, number)
    jobs.progress(job, len(ids))
    names = [f"{item.case.reference}.docx" for item in prepared]
    results = convert_all(
        list(zip(names, (item.docx for item in prepared), strict=True)),
        on_progress=lambda done, _total: jobs.progress(job, len(ids) + done),
    )
    documents = []
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
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
            stem = f"{item.case.reference} {kind.value} v{document.version}"
            bundle.writestr(f"{stem}.pdf", pdf)
            bundle.writestr(f"docx/{stem}.docx", item.docx)
        bundle.writestr("errors.csv", _errors_csv(errors))
    db.session.commit()
    sha256, _size = file_store().put(archive.getvalue())
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
