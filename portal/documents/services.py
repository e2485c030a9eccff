"""Generating documents: case → context → DOCX → PDF (batched) → a new version in the store.

Every generation and every uploaded edit is a new ``Document`` row (version n+1 of its case and
kind) holding the template's hash, the context snapshot and the SHA-256 of its DOCX and PDF; the
earlier versions become ``superseded``. Services flush and audit; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from flask import current_app
from sqlalchemy import func, select

from ..audit.services import Actor, record
from ..business_time import today as business_today
from ..cases.claims import CaseClaim, build_claims
from ..cases.gate import check_gate, record_override
from ..cases.models import Case
from ..domain import DomainError, ValidationFailed
from ..extensions import db
from ..office import OfficeConverter, office_extension
from ..storage import file_store, register_references
from . import statutory
from .context import build_context
from .facts import asserted_facts, demand_of, exhibits, gather
from .manifest import STATUTORY_FORMS
from .models import (
    Document,
    DocumentEvidence,
    DocumentKind,
    DocumentSource,
    DocumentStatus,
)
from .register import UNNUMBERED, firm_numbered, next_firm_number, next_reference
from .registry import TemplateSpec, find_template
from .rendering import missing_fields, prepare, render_docx

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class RenditionFailed(DomainError):
    """LibreOffice made no PDF of the document (after one retry)."""

    status = 503
    code = "rendition_failed"


@dataclass
class Prepared:
    """One document rendered to DOCX, not yet converted or stored."""

    case: Case
    kind: DocumentKind
    spec: TemplateSpec
    final: bool
    version: int
    reference: str
    context: dict[str, Any]
    missing: list[str]
    docx: bytes
    based_on: Document | None
    document_date: dt.date
    deadline: dt.date | None
    #: The evidence the context lists (exhibits, enclosures).
    evidence_ids: tuple[int, ...] = ()
    #: Legal's override of a prosecution blocker that let a final court filing through.
    override: dict[str, Any] | None = None
    #: What the document asserts, each with its record (``facts.asserted_facts``).
    facts: list[dict[str, Any]] = field(default_factory=list)


def converter() -> OfficeConverter:
    """The LibreOffice converter with the configured timeout; one process per batch."""
    config = current_app.config
    batch = int(config.get("DOCUMENT_BATCH_SIZE", 100))
    # A run's timeout grows with the batch: a hundred letters take longer than one.
    return OfficeConverter(
        timeout=max(float(config.get("OFFICE_TIMEOUT", 120)), 3.0 * batch),
        batch_size=batch,
        processes=int(config.get("OFFICE_PROCESSES") or min(4, os.cpu_count() or 1)),
    )


def latest_version(case: Case, kind: DocumentKind) -> Document | None:
    """The newest version of ``kind`` on ``case``."""
    return db.session.scalar(
        select(Document)
        .where(Document.case_id == case.id, Document.kind == kind)
        .order_by(Document.version.desc())
        .limit(1)
    )


def case_documents(case: Case) -> list[Document]:
    """Every version on the case, newest first within each kind."""
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.case_id == case.id)
            .order_by(Document.kind, Document.version.desc())
        )
    )


#: Fields a user may type in at generation; a template reads those it needs, the rest are ignored.
INPUT_FIELDS = ("court.name", "court.address", "claim.facts")


def _inputs(spec: TemplateSpec, given: dict[str, str] | None, previous: Document | None):
    """The typed-in values: those given, else the previous version's (nothing is lost).

    :raises ValidationFailed: a name that is no input field of any template.
    """
    allowed = {item.name for item in spec.inputs}
    given = {key: value for key, value in (given or {}).items() if value is not None}
    unknown = sorted(set(given) - set(INPUT_FIELDS) - allowed)
    if unknown:
        raise ValidationFailed(
            f"Unknown input field(s): {', '.join(unknown)}.",
            fields={"fields": [f"allowed: {', '.join(INPUT_FIELDS)}"]},
        )
    values: dict[str, str] = {}
    for name in allowed:
        if name in given:
            values[name] = str(given[name])[:5000]
        elif previous is not None:
            head, _, leaf = name.partition(".")
            old = (previous.context.get(head) or {}).get(leaf)
            if old and not str(old).startswith("[missing:"):
                values[name] = old
    return values


def prepare_document(
    case: Case,
    kind: DocumentKind,
    *,
    final: bool,
    inputs: dict[str, str] | None = None,
    on: dt.date | None = None,
    claim: CaseClaim | None = None,
    evidence: list | None = None,
    positions: dict[int, tuple[str, str]] | None = None,
    override: dict[str, Any] | None = None,
    reference: str | None = None,
) -> Prepared:
    """Render one document of ``kind`` for ``case`` to DOCX.

    :raises ValidationFailed: no template, an unknown input field, or ``final`` with required
        fields missing (``fields["missing_fields"]`` names them).
    :raises ProsecutionBlocked: a final court filing while a prosecution blocker that
        ``override`` does not cover stands.

    ``reference`` is printed instead of a letter number, which is then not drawn (a document
    made inside a filing bundle carries the bundle's reference, never a number that the next
    letter would also get).
    """
    if final and kind.for_court:
        check_gate(case, kind.label.lower(), "made final", override)
    on = on or business_today(case.jurisdiction)
    spec = find_template(case.jurisdiction.value, kind.value, case.debtor.kind.value)
    previous = latest_version(case, kind)
    values = _inputs(spec, inputs, previous)
    claim = claim or build_claims([case], on)[case.id]
    if evidence is None:
        evidence = exhibits([case.id])[case.id]
    fixed = reference is not None
    by_firm = firm_numbered(case, kind) and not fixed
    # A 律师函 keeps the number its firm gave an earlier final version; a draft has none yet.
    numbered = previous is not None and (previous.context.get("document") or {}).get("register")
    if by_firm:
        reference = previous.reference if numbered == "firm" else UNNUMBERED
    reference = reference or (previous.reference if previous else "pending")
    # What the record shows of the demand letter (dispatch, delivery), never a mere draft.
    demand = demand_of(case, on) if kind is not DocumentKind.DEMAND_LETTER else None
    # The official forms the letter is issued with (PAP-Debt Annex 1), newest versions.
    listed = statutory.enclosures(spec.manifest.enclosures) if spec.manifest.enclosures else []
    deadline: dt.date | None = None

    def context_for(ref: str) -> dict[str, Any]:
        nonlocal deadline
        facts = gather(
            case,
            claim,
            kind=kind.value,
            title=spec.manifest.title,
            language=spec.manifest.language,
            reference=ref,
            version=(previous.version + 1) if previous else 1,
            draft=not final,
            on=on,
            evidence=evidence,
            inputs=values,
            demand=demand,
            positions=positions,
        )
        deadline = facts.deadline
        built = build_context(facts)
        if listed:
            built["enclosures"] = [
                {key: value for key, value in item.items() if key != "missing"} for item in listed
            ]
        if by_firm:
            built["document"]["register"] = "firm" if ref != UNNUMBERED else None
        return built

    context = context_for(reference)
    missing = missing_fields(spec.manifest, context)
    absent = [item for item in listed if item["missing"]]
    if absent:
        names = [f"enclosures.{item['kind']}" for item in absent]
        if final:
            titles = ", ".join(STATUTORY_FORMS[item["kind"]] for item in absent)
            raise ValidationFailed(
                f"The {kind.label.lower()} cannot be final: it is issued with the prescribed "
                f"forms, and no admin has uploaded the official {titles} yet "
                "(Admin → Statutory forms).",
                fields={"missing_fields": [*missing, *names]},
            )
        missing.extend(names)
    if claim.interest_error and spec.states_interest:
        if final:
            raise ValidationFailed(
                f"The {kind.label.lower()} can only be a draft: {claim.interest_error}",
                fields={"missing_fields": [*missing, "interest.rate"]},
            )
        missing.append("interest.rate")
    if final and missing:
        raise ValidationFailed(
            f"The {kind.label.lower()} cannot be final: {len(missing)} required field(s) "
            f"missing: {', '.join(missing)}.",
            fields={"missing_fields": missing},
        )
    if by_firm and final and reference == UNNUMBERED:
        if case.lawyer is None or not case.lawyer.firm:
            raise ValidationFailed(
                "A lawyer's letter is numbered in the firm's register: assign a lawyer with "
                "a firm first.",
                fields={"missing_fields": ["firm.name"]},
            )
        reference = next_firm_number(case.lawyer.firm, on)
        context = context_for(reference)
    elif previous is None and not fixed and not by_firm:
        reference = next_reference(case, on)
        context = context_for(reference)
    docx = render_docx(spec.data, prepare(spec.manifest, context))
    return Prepared(
        case=case,
        kind=kind,
        spec=spec,
        final=final,
        version=(previous.version + 1) if previous else 1,
        reference=reference,
        context=context,
        missing=missing,
        docx=docx,
        based_on=previous,
        document_date=on,
        deadline=deadline,
        evidence_ids=tuple(item.id for item in evidence),
        override=override if final and kind.for_court else None,
        facts=asserted_facts(case, claim, kind=kind.value, demand=demand, evidence=evidence),
    )


def page_count(pdf: bytes) -> int:
    """Pages of a PDF."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def convert_all(
    items: Sequence[tuple[str, bytes]],
    *,
    office: OfficeConverter | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[tuple[bytes | None, str | None]]:
    """PDFs of many DOCX files with as few LibreOffice processes as the batch size allows."""
    office = office or converter()
    results = office.convert_many(list(items), on_progress=on_progress)
    return [(result.pdf, result.error) for result in results]


def store(actor: Actor, prepared: Prepared, pdf: bytes, *, note: str | None = None) -> Document:
    """Save one converted document as the newest version and supersede the older ones."""
    # A letter is issued with its statutory forms: their pages follow the letter's own.
    pdf = statutory.annexed(pdf, prepared.context.get("enclosures") or [])
    store_ = file_store()
    docx_sha, _ = store_.put(prepared.docx)
    pdf_sha, _ = store_.put(pdf)
    source = DocumentSource.UPLOADED if note == "uploaded" else DocumentSource.GENERATED
    document = Document(
        case_id=prepared.case.id,
        kind=prepared.kind,
        version=prepared.version,
        status=DocumentStatus.DRAFT,
        source=source,
        final=prepared.final,
        reference=prepared.reference,
        template=prepared.spec.relative,
        template_sha256=prepared.spec.sha256,
        context=prepared.context,
        missing_fields=prepared.missing,
        docx_sha256=docx_sha,
        pdf_sha256=pdf_sha,
        pages=page_count(pdf),
        document_date=prepared.document_date,
        deadline=prepared.deadline,
        based_on_id=prepared.based_on.id if prepared.based_on else None,
        override=prepared.override,
        facts=prepared.facts,
        created_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(document)
    db.session.flush()
    db.session.add_all(
        DocumentEvidence(document_id=document.id, evidence_id=evidence_id)
        for evidence_id in prepared.evidence_ids
    )
    _supersede(actor, document)
    record(
        actor,
        "document.upload" if source is DocumentSource.UPLOADED else "document.generate",
        "document",
        document.id,
        after={
            "case": prepared.case.id,
            "kind": prepared.kind.value,
            "version": document.version,
            "final": document.final,
            "template": document.template,
            "template_sha256": document.template_sha256,
            "docx_sha256": docx_sha,
            "pdf_sha256": pdf_sha,
            "missing_fields": prepared.missing,
            **({"override": prepared.override} if prepared.override else {}),
        },
    )
    return document


def _supersede(actor: Actor, document: Document) -> None:
    older = db.session.scalars(
        select(Document).where(
            Document.case_id == document.case_id,
            Document.kind == document.kind,
            Document.id != document.id,
            Document.status != DocumentStatus.SUPERSEDED,
        )
    )
    for item in older:
        before = item.status.value
        item.status = DocumentStatus.SUPERSEDED
        record(
            actor,
            "document.superseded",
            "document",
            item.id,
            before={"status": before},
            after={"status": item.status.value, "by": document.id},
        )


def generate_document(
    actor: Actor,
    case: Case,
    kind: DocumentKind,
    *,
    final: bool,
    inputs: dict[str, str] | None = None,
    on: dt.date | None = None,
    override: dict[str, str] | None = None,
) -> Document:
    """Render, convert and store one new version; ``override`` (``{rule, reason}``) lets a final
    court filing past an overridable prosecution blocker, recorded and audited.

    :raises ValidationFailed: see ``prepare_document``; an override that is not for a final
        court filing, or not acceptable (see ``cases.gate.record_override``).
    :raises ProsecutionBlocked: see ``prepare_document``.
    :raises RenditionFailed: LibreOffice made no PDF.
    """
    recorded = None
    if override:
        if not (final and kind.for_court):
            raise ValidationFailed(
                "An override is only for a final statement of claim or evidence list.",
                fields={"override": ["Only with mode final and a court filing."]},
            )
        recorded = record_override(
            actor, case, kind.label.lower(), override.get("rule", ""), override.get("reason", "")
        )
    prepared = prepare_document(case, kind, final=final, inputs=inputs, on=on, override=recorded)
    ((pdf, error),) = convert_all([(f"{kind.value}.docx", prepared.docx)])
    if pdf is None:
        raise RenditionFailed(f"The PDF of the {kind.label.lower()} could not be made: {error}")
    return store(actor, prepared, pdf)


def upload_version(
    actor: Actor, document: Document, data: bytes, *, max_bytes: int | None = None
) -> Document:
    """A DOCX edited outside the portal becomes the next version of ``document``'s kind.

    :raises ValidationFailed: not a DOCX (checked by content), too large, or unreadable.
    :raises ProsecutionBlocked: a final court filing while a prosecution blocker stands that the
        edited version's override does not cover.
    :raises RenditionFailed: LibreOffice made no PDF of it.
    """
    if document.final and document.kind.for_court:
        check_gate(document.case, document.kind.label.lower(), "made final", document.override)
    limit = max_bytes or int(current_app.config.get("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024))
    if not data:
        raise ValidationFailed("The file is empty.", fields={"file": ["empty file"]})
    if len(data) > limit:
        raise ValidationFailed(
            f"The file is larger than {limit // (1024 * 1024)} MB.", fields={"file": ["too large"]}
        )
    if office_extension(data) != ".docx":
        raise ValidationFailed(
            "Only a Word document (.docx, without macros) can be uploaded as a new version.",
            fields={"file": ["not a .docx file"]},
        )
    latest = latest_version(document.case, document.kind)
    spec = find_template(
        document.case.jurisdiction.value, document.kind.value, document.case.debtor.kind.value
    )
    ((pdf, error),) = convert_all([("upload.docx", data)])
    if pdf is None:
        raise ValidationFailed(
            f"The document could not be converted to PDF: {error}", fields={"file": [str(error)]}
        )
    # The template recorded is the one the edited version was rendered from.
    spec = TemplateSpec(
        relative=document.template,
        data=b"",
        sha256=document.template_sha256,
        manifest=spec.manifest,
    )
    prepared = Prepared(
        case=document.case,
        kind=document.kind,
        spec=spec,
        final=document.final,
        version=(latest.version if latest else 0) + 1,
        reference=document.reference,
        context=document.context,
        missing=[],
        docx=data,
        based_on=document,
        document_date=document.document_date,
        deadline=document.deadline,
        override=document.override,
        facts=list(document.facts or []),
        evidence_ids=tuple(
            db.session.scalars(
                select(DocumentEvidence.evidence_id).where(
                    DocumentEvidence.document_id == document.id
                )
            )
        ),
    )
    return store(actor, prepared, pdf, note="uploaded")


def _stored_hashes():
    for docx_sha, pdf_sha in db.session.execute(select(Document.docx_sha256, Document.pdf_sha256)):
        yield docx_sha
        yield pdf_sha


def version_counts(case_ids: Sequence[int]) -> dict[int, int]:
    """How many current (not superseded) documents each case has."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(Document.case_id, func.count())
        .where(Document.case_id.in_(case_ids), Document.status != DocumentStatus.SUPERSEDED)
        .group_by(Document.case_id)
    )
    return {case_id: count for case_id, count in rows}


register_references(_stored_hashes)
