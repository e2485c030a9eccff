"""Evidence: a typed, hashed file on a case, linked to the invoices it proves something about."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import Money, TimestampMixin, str_enum
from ..extensions import db
from ..ledger.models import Invoice

if TYPE_CHECKING:  # the cases package imports evidence for its readiness checks
    from ..cases.models import Case


class EvidenceKind(enum.StrEnum):
    """What a document is; the completeness rules read it."""

    CONTRACT = "contract"
    PURCHASE_ORDER = "purchase_order"
    DELIVERY_NOTE = "delivery_note"
    INVOICE = "invoice"
    INVOICE_DELIVERY_PROOF = "invoice_delivery_proof"
    RECONCILIATION_CONFIRMATION = "reconciliation_confirmation"
    CORRESPONDENCE = "correspondence"
    DEMAND_NOTICE = "demand_notice"
    DISPATCH_PROOF = "dispatch_proof"
    PAYMENT_RECORD = "payment_record"
    ACKNOWLEDGMENT = "acknowledgment"
    ASSET_PHOTO = "asset_photo"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RenditionStatus(enum.StrEnum):
    """The exhibit PDF made from the original in the job queue."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


evidence_invoice = Table(
    "evidence_invoice",
    db.metadata,
    Column("evidence_id", ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", ForeignKey("invoice.id"), primary_key=True, index=True),
)


class Evidence(TimestampMixin, db.Model):
    """One uploaded document (or an attachment taken out of an uploaded e-mail)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case_sha256", "case_id", "sha256"),)

    #: Not stored: the uploader's file name when intake renamed it to match the content (set on
    #: the object ``add_evidence`` returns, so the upload's answer can say so; audited).
    renamed_from = None

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    #: SHA-256 of the original bytes; also its name in the file store.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    #: Detected from the content, never taken from the client.
    media_type: Mapped[str] = mapped_column(String(100))
    #: The uploader's file name, checked (no path parts or control characters); display only.
    original_name: Mapped[str] = mapped_column(String(255))
    document_date: Mapped[dt.date | None]
    signed_by_debtor: Mapped[bool | None]
    #: Bears the debtor's company seal (chop).
    sealed: Mapped[bool | None]
    #: The creditor holds the original (not only a copy).
    original_held: Mapped[bool | None]
    description: Mapped[str | None] = mapped_column(Text)
    #: Where it comes from (e.g. "debtor", "courier", "ERP").
    source: Mapped[str | None] = mapped_column(String(200))
    #: What it proves, in a sentence for the evidence list.
    proves: Mapped[str | None] = mapped_column(Text)
    signer: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    #: For an attachment: the e-mail it came in.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    #: The earlier item of the same case with the same bytes (rule R20).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    pages: Mapped[int | None]
    rendition_status: Mapped[RenditionStatus] = mapped_column(
        str_enum(RenditionStatus, "rendition_status"), default=RenditionStatus.PENDING
    )
    rendition_sha256: Mapped[str | None] = mapped_column(String(64))
    rendition_error: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship("Case")
    invoices: Mapped[list[Invoice]] = relationship(secondary=evidence_invoice)
    uploaded_by: Mapped[User | None] = relationship()
    parent: Mapped[Evidence | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
