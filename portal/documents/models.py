"""Generated documents: every generation (or uploaded edit) is a new, immutable version."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import TimestampMixin, str_enum
from ..extensions import db

if TYPE_CHECKING:
    from ..cases.models import Case
    from ..review.models import Approval


class DocumentKind(enum.StrEnum):
    RECONCILIATION_LETTER = "reconciliation_letter"
    ADVANCE_NOTICE = "advance_notice"
    WARNING_LETTER = "warning_letter"
    DEMAND_LETTER = "demand_letter"
    STATEMENT_OF_CLAIM = "statement_of_claim"
    EVIDENCE_LIST = "evidence_list"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def for_court(self) -> bool:
        """Filed with the court: final only while the case could enter prosecution."""
        return self in (DocumentKind.STATEMENT_OF_CLAIM, DocumentKind.EVIDENCE_LIST)


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


class DocumentSource(enum.StrEnum):
    #: Rendered from a template and the case.
    GENERATED = "generated"
    #: A DOCX edited outside the portal and uploaded back.
    UPLOADED = "uploaded"


class Document(TimestampMixin, db.Model):
    """One version of one kind of document on a case; its bytes live in the file store."""

    __table_args__ = (UniqueConstraint("case_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    #: 1, 2, … per case and kind.
    version: Mapped[int]
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus, "document_status"), default=DocumentStatus.DRAFT
    )
    source: Mapped[DocumentSource] = mapped_column(str_enum(DocumentSource, "document_source"))
    #: Rendered as final (no missing fields) rather than as a draft with markers.
    final: Mapped[bool] = mapped_column(default=False)
    #: Letter reference from the creditor's sequence; kept across versions of one kind.
    reference: Mapped[str] = mapped_column(String(64))
    #: Template path under doc_templates/, e.g. ``ew/demand_letter.docx``.
    template: Mapped[str] = mapped_column(String(200))
    template_sha256: Mapped[str] = mapped_column(String(64))
    #: The context the template was rendered with (JSON, as rendered: strings, lists, flags).
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Required fields the case could not fill (drafts show ``[missing: name]``).
    missing_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    docx_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    #: The date the document bears (its claim figures are as of this day).
    document_date: Mapped[dt.date]
    #: The payment deadline it states, if any (a claim repeats its demand letter's).
    deadline: Mapped[dt.date | None]
    #: The version this one was made from (an uploaded edit names the version downloaded).
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: Legal's recorded override of a prosecution blocker (``{rule, reason, by, by_name, at,
    #: findings}``, see ``cases/gate.py``); shown to counsel, never printed in the document.
    override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: What the version asserts, each with the record it comes from: ``[{name, value, source:
    #: {type, id}}]`` (``documents/facts.asserted_facts``); an uploaded edit keeps its origin's.
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship("Case")
    created_by: Mapped[User | None] = relationship()
    based_on: Mapped[Document | None] = relationship(remote_side=[id])
    #: Counsel's approval and signature, once given.
    approval: Mapped[Approval | None] = relationship("Approval", uselist=False, viewonly=True)

    @property
    def signed(self) -> bool:
        """Counsel signed this version (it may since have been superseded)."""
        return self.approval is not None

    @property
    def filename(self) -> str:
        """A download name without the extension: ``C-2026-0001 demand_letter v2``."""
        return f"{self.case.reference} {self.kind.value} v{self.version}"


class DocumentEvidence(db.Model):
    """The evidence a version was generated from (its exhibits and enclosures).

    Evidence feeding a signed version cannot be edited or deleted until a new version exists.
    """

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ReferenceSequence(db.Model):
    """The last letter number used per creditor and year (``NWC-2026-0007``)."""

    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor_entity.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class LawFirm(TimestampMixin, db.Model):
    """A law firm whose lawyers sign letters, with its own letter register (PRC 律师函 numbers).

    Matched to lawyers by the firm name on their profile. ``letter_format`` is a Python format
    string with ``year`` and ``seq``, e.g. ``（{year}）京律函字第{seq}号``.
    """

    __tablename__ = "law_firm"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    letter_format: Mapped[str] = mapped_column(String(100))


class LawFirmSequence(db.Model):
    """The last number a firm's letter register issued in a year."""

    __tablename__ = "law_firm_sequence"

    firm_id: Mapped[int] = mapped_column(ForeignKey("law_firm.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class StatutoryForm(TimestampMixin, db.Model):
    """One version of an official form a letter must be issued with (PAP-Debt Annex 1).

    Uploaded by an admin as the PDF the rule-maker publishes; the newest version of each kind is
    annexed to every letter whose template names it, and the letter's context records which.
    """

    __tablename__ = "statutory_form"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A key of ``manifest.STATUTORY_FORMS``: ``pap_debt_reply_form`` …
    kind: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    #: Which publication: "Annex 1 to the PAP-Debt, GOV.UK version of 1 October 2017".
    edition: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
