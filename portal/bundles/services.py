"""Building a case's filing bundle in the job queue and keeping it as a new version.

The case's statement of claim (its newest final version), an evidence list rendered from the
jurisdiction's template with each exhibit's final label and page range, and every exhibit PDF go
through ``builder.build_bundle``; the volumes, a zip (volumes, original files, ``manifest.json``)
and the rows are stored together. Services flush and audit; the job commits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from ..audit.services import Actor, record
from ..business_time import today as business_today
from ..cases import policy
from ..cases.gate import ProsecutionBlocked
from ..cases.models import Case
from ..documents.models import Document, DocumentKind, DocumentStatus
from ..documents.services import convert_all, prepare_document
from ..domain import Conflict, ValidationFailed
from ..evidence.models import Evidence, RenditionStatus
from ..extensions import db
from ..jobs import job_task
from ..jobs import services as jobs
from ..jobs.models import Job
from ..storage import file_store, register_references
from .archive import bundle_zip
from .builder import BundleResult, BundleSpec, ExhibitRange, Part, build_bundle
from .models import Bundle, BundleExhibit, BundleVolume
from .profiles import PROFILES, get_profile
from .report import PreflightReport

log = logging.getLogger(__name__)

#: The court named on the cover when the case names none.
DEFAULT_COURTS = {
    "cn": "人民法院",
    "ew": "In the County Court Money Claims Centre",
    "us": "In the Circuit Court of Cook County, Illinois",
}
ARRANGEMENTS = ("kind", "chronological")
#: Exhibits the evidence-list templates fit on a page with one-line rows (23 measured on the
#: England and Wales list, the first page's heading included), a little under: the pages
#: reserved for the list come from it, so that it is converted once. A shorter list is followed
#: by a blank page or two; a longer one (long descriptions) is converted again.
LIST_ROWS_PER_PAGE = 20


def latest_bundle(case: Case) -> Bundle | None:
    """The newest bundle version of the case."""
    return db.session.scalar(
        select(Bundle).where(Bundle.case_id == case.id).order_by(Bundle.version.desc()).limit(1)
    )


def case_bundles(case: Case) -> list[Bundle]:
    """Every bundle version of the case, newest first."""
    return list(
        db.session.scalars(
            select(Bundle).where(Bundle.case_id == case.id).order_by(Bundle.version.desc())
        )
    )


def _pleading(case: Case) -> Document | None:
    return db.session.scalar(
        select(Document)
        .where(
            Document.case_id == case.id,
            Document.kind == DocumentKind.STATEMENT_OF_CLAIM,
            Document.final.is_(True),
            Document.status != DocumentStatus.SUPERSEDED,
        )
        .order_by(Document.version.desc())
        .limit(1)
    )


def _exhibits(case: Case) -> list[Evidence]:
    """The case's evidence with an exhibit PDF, or a refusal naming what is not ready."""
    items = list(
        db.session.scalars(
            select(Evidence)
            .where(Evidence.case_id == case.id, Evidence.parent_id.is_(None))
            .order_by(Evidence.id)
        )
    )
    waiting = [item for item in items if item.rendition_status is not RenditionStatus.DONE]
    if waiting:
        names = ", ".join(
            f"{item.original_name} ({item.rendition_status.value})" for item in waiting
        )
        raise Conflict(
            f"{len(waiting)} evidence item(s) have no exhibit PDF yet: {names}. Wait for them, "
            "or remove the ones that cannot be converted."
        )
    if not items:
        raise Conflict("The case has no evidence to bind into a bundle.")
    return items


def check_buildable(case: Case, profile: str, arrangement: str) -> None:
    """What a build needs, checked before it is queued.

    :raises ValidationFailed: unknown profile or arrangement.
    :raises Conflict: no evidence, or exhibits still being converted.
    """
    errors: dict[str, list[str]] = {}
    if profile not in PROFILES:
        errors["profile"] = [f"One of: {', '.join(PROFILES)}."]
    if arrangement not in ARRANGEMENTS:
        errors["order"] = [f"One of: {', '.join(ARRANGEMENTS)}."]
    if errors:
        raise ValidationFailed("Some options are not known.", fields=errors)
    _exhibits(case)


def start_build(
    actor: Actor,
    case: Case,
    *,
    profile: str = "default",
    arrangement: str = "kind",
    dividers: bool = False,
    label_prefix: str = "C-",
) -> Job:
    """Queue a build of the case's bundle (in tests the queue runs it at once).

    :raises ValidationFailed: see ``check_buildable``; a label prefix that is too long.
    :raises Conflict: see ``check_buildable``.
    """
    check_buildable(case, profile, arrangement)
    label_prefix = label_prefix.strip()
    if not 1 <= len(label_prefix) <= 6:
        raise ValidationFailed(
            "The exhibit label prefix is 1 to 6 characters.",
            fields={"label_prefix": ["e.g. C- or Exh."]},
        )
    job = jobs.create_job(
        actor,
        "bundles.build",
        f"Filing bundle for {case.reference} ({get_profile(profile).title})",
        {
            "case": case.id,
            "profile": profile,
            "order": arrangement,
            "dividers": dividers,
            "label_prefix": label_prefix,
            "on": business_today(case.jurisdiction).isoformat(),
        },
        total=100,
    )
    db.session.commit()
    # A queue that does not answer leaves the job queued: the sweeper delivers it later.
    jobs.enqueue(job)
    return job


@job_task("bundles.build")
def build_bundle_job(job_id: int) -> str:
    """The job body: gather, build (with progress), store, zip."""
    return jobs.run(job_id, _run, "bundle")


def _run(job: Job) -> str:
    params = job.params
    user = job.created_by
    actor = Actor(user=user, label=f"{user.email} (job {job.id})")
    case = db.session.get(Case, params["case"])
    if case is None or not policy.can_edit_case(user, case):
        raise Conflict("The case is no longer available to you.")
    on = dt.date.fromisoformat(params["on"])
    evidence = _exhibits(case)
    pleading = _pleading(case)
    store = file_store()
    parts = []
    if pleading is not None:
        parts.append(
            Part(
                kind="pleading",
                title=f"{pleading.kind.label} (v{pleading.version})",
                path=store.verified_path(pleading.pdf_sha256),
            )
        )
    for item in evidence:
        parts.append(
            Part(
                kind="exhibit",
                title=item.description or item.original_name,
                path=store.verified_path(item.rendition_sha256),
                sha256=item.rendition_sha256,
                evidence_id=item.id,
                evidence_kind=item.kind.value,
                date=item.document_date,
                original_name=item.original_name,
                sha256_original=item.sha256,
                sanitised=True,
            )
        )
    jobs.progress(job, 5)
    by_id = {item.id: item for item in evidence}
    # The court the claim names (typed in when the statement of claim was generated).
    court = ((pleading.context.get("court") or {}).get("name") if pleading else None) or ""
    missing: list[str] = []
    blocked: list[str] = []
    language = "zh" if case.jurisdiction.value == "cn" else "en"

    def evidence_list(ranges: list[ExhibitRange]) -> bytes:
        """The jurisdiction's evidence list with each exhibit's label and final page range."""
        listed = [by_id[r.evidence_id] for r in ranges if r.evidence_id in by_id]
        positions = {
            r.evidence_id: (r.label, _page_range(r, language))
            for r in ranges
            if r.evidence_id is not None
        }
        # Only the rendering is wanted: nothing it touches (a letter number) is kept.
        savepoint = db.session.begin_nested()
        options: dict[str, Any] = {
            "on": on,
            "evidence": listed,
            "positions": positions,
            "inputs": {"court.name": court} if court else None,
            # The list is part of this bundle: it carries the bundle's reference, and no
            # letter number is drawn for it (the next letter would print the same one).
            "reference": f"{case.reference}/bundle/v{spec.version}",
        }
        try:
            try:
                prepared = prepare_document(
                    case,
                    DocumentKind.EVIDENCE_LIST,
                    final=True,
                    override=pleading.override if pleading else None,
                    **options,
                )
            except ProsecutionBlocked as error:
                # Not ready for prosecution: the list (and so the bundle) is a draft.
                blocked.append(error.message)
                prepared = prepare_document(
                    case, DocumentKind.EVIDENCE_LIST, final=False, **options
                )
            except ValidationFailed:
                # Fields the case does not fill: a draft marks them, and the bundle says so.
                prepared = prepare_document(
                    case, DocumentKind.EVIDENCE_LIST, final=False, **options
                )
        finally:
            savepoint.rollback()
        missing[:] = prepared.missing
        ((pdf, error),) = convert_all([("evidence_list.docx", prepared.docx)])
        if pdf is None:
            raise Conflict(f"The evidence list could not be made: {error}")
        return pdf

    previous = latest_bundle(case)
    spec = BundleSpec(
        court=court or DEFAULT_COURTS.get(case.jurisdiction.value, ""),
        case_reference=case.reference,
        claimant=case.creditor.legal_name,
        defendant=case.debtor.name,
        version=(previous.version + 1) if previous else 1,
        on=on,
        title="起诉材料" if language == "zh" else "Filing bundle",
        language=language,
        label_prefix=params["label_prefix"],
        dividers=bool(params["dividers"]),
        order=params["order"],
    )
    shown = [5]

    def on_progress(done: int, total: int) -> None:
        # The builder reports every page; the job row is written only when the percentage moves.
        percent = 5 + int(85 * done / max(total, 1))
        if percent != shown[0]:
            shown[0] = percent
            jobs.progress(job, percent)

    with build_bundle(
        spec,
        parts,
        get_profile(params["profile"]),
        evidence_list_renderer=evidence_list,
        evidence_list_pages=lambda exhibits: 1 + exhibits // LIST_ROWS_PER_PAGE,
        on_progress=on_progress,
    ) as result:
        bundle = _finish(actor, case, spec, params, result, pleading, evidence, missing, blocked)
    # The bundle and the job's result commit together (while this worker holds the job).
    jobs.finish(
        job,
        {"summary": f"Bundle v{bundle.version}: {bundle.pages} pages in "
                    f"{len(bundle.volumes)} volume(s)",
         "link": {"href": f"/bundles/{bundle.id}", "label": f"Open bundle v{bundle.version}"},
         "bundle": bundle.id, "version": bundle.version, "pages": bundle.pages,
         "volumes": len(bundle.volumes), "warnings": bundle.warnings},
        output=(bundle.zip_sha256, f"{bundle.filename}.zip"),
    )  # fmt: skip
    return "done"


def _finish(
    actor: Actor,
    case: Case,
    spec: BundleSpec,
    params: dict[str, Any],
    result: BundleResult,
    pleading: Document | None,
    evidence: list[Evidence],
    missing: list[str],
    blocked: list[str],
) -> Bundle:
    """The built bundle's warnings completed, and the bundle stored."""
    if missing:
        result.warnings.append(
            f"The evidence list has fields the case does not fill: {', '.join(missing)}."
        )
    result.warnings.extend(blocked)
    if pleading is None:
        result.warnings.append("There is no final statement of claim: the bundle has none.")
    return _store(
        actor, case, spec, params, result, pleading, evidence, final=not missing and not blocked
    )


def _page_range(placed: ExhibitRange, language: str) -> str:
    if placed.first_page == placed.last_page:
        single = f"{placed.first_page}"
        return f"第{single}页" if language == "zh" else single
    pages = f"{placed.first_page}–{placed.last_page}"
    return f"第{pages}页" if language == "zh" else pages


def _store(
    actor: Actor,
    case: Case,
    spec: BundleSpec,
    params: dict[str, Any],
    result: BundleResult,
    pleading: Document | None,
    evidence: list[Evidence],
    *,
    final: bool,
) -> Bundle:
    store = file_store()
    labels = {r.evidence_id: r.label for r in result.exhibits}
    zip_sha = bundle_zip(
        f"{case.reference} bundle v{spec.version}",
        (volume.path for volume in result.volumes),
        (
            (f"originals/{labels.get(item.id, item.id)} {item.original_name}", item.sha256)
            for item in evidence
        ),
        result.manifest,
    )
    bundle = Bundle(
        case_id=case.id,
        version=spec.version,
        status=DocumentStatus.DRAFT,
        profile=params["profile"],
        arrangement=params["order"],
        dividers=bool(params["dividers"]),
        label_prefix=params["label_prefix"],
        pages=result.pages,
        final=final,
        manifest=json.loads(json.dumps(result.manifest, default=str)),
        preflight=[_report(report) for report in result.preflight],
        warnings=list(result.warnings),
        zip_sha256=zip_sha,
        pleading_id=pleading.id if pleading else None,
        created_by_id=actor.user.id if actor.user else None,
    )
    for number, volume in enumerate(result.volumes, 1):
        with volume.path.open("rb") as pdf:
            sha, size = store.put(pdf)
        bundle.volumes.append(
            BundleVolume(
                number=number,
                pdf_sha256=sha,
                pages=volume.pages,
                bytes=size,
                first_page=volume.first_page,
                last_page=volume.last_page,
            )
        )
    for placed in result.exhibits:
        bundle.exhibits.append(
            BundleExhibit(
                label=placed.label,
                evidence_id=placed.evidence_id,
                title=placed.title[:500],
                first_page=placed.first_page,
                last_page=placed.last_page,
                volume=placed.volume,
                sha256_rendition=placed.sha256_rendition,
                sha256_original=placed.sha256_original,
                duplicate_of_label=placed.duplicate_of_label,
                near_duplicate_of_label=placed.near_duplicate_of_label,
            )
        )
    db.session.add(bundle)
    db.session.flush()
    _supersede(actor, bundle)
    record(
        actor,
        "bundle.build",
        "bundle",
        bundle.id,
        after={
            "case": case.id,
            "version": bundle.version,
            "profile": bundle.profile,
            "pages": bundle.pages,
            "final": final,
            "volumes": [v.pdf_sha256 for v in bundle.volumes],
            "zip_sha256": zip_sha,
            "exhibits": len(bundle.exhibits),
        },
    )
    return bundle


def _report(report: PreflightReport) -> dict[str, Any]:
    return {**asdict(report), "passed": report.passed}


def _supersede(actor: Actor, bundle: Bundle) -> None:
    older = db.session.scalars(
        select(Bundle).where(
            Bundle.case_id == bundle.case_id,
            Bundle.id != bundle.id,
            Bundle.status != DocumentStatus.SUPERSEDED,
        )
    )
    for item in older:
        before = item.status.value
        item.status = DocumentStatus.SUPERSEDED
        record(
            actor,
            "bundle.superseded",
            "bundle",
            item.id,
            before={"status": before},
            after={"status": item.status.value, "by": bundle.id},
        )


def bundle_counts(case_ids: list[int]) -> dict[int, int]:
    """How many bundle versions each case has."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(Bundle.case_id, func.count())
        .where(Bundle.case_id.in_(case_ids))
        .group_by(Bundle.case_id)
    )
    return {case_id: count for case_id, count in rows}


def _stored_hashes():
    yield from db.session.scalars(select(Bundle.zip_sha256))
    yield from db.session.scalars(
        select(Bundle.signed_zip_sha256).where(Bundle.signed_zip_sha256.is_not(None))
    )
    yield from db.session.scalars(select(BundleVolume.pdf_sha256))
    yield from db.session.scalars(
        select(BundleVolume.signed_sha256).where(BundleVolume.signed_sha256.is_not(None))
    )


register_references(_stored_hashes)
