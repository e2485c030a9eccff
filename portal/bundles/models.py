"""Filing bundles: each build of a case's bundle is a new, immutable version of its volumes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import TimestampMixin, str_enum
from ..documents.models import Document, DocumentStatus
from ..extensions import db

if TYPE_CHECKING:
    from ..cases.models import Case
    from ..review.models import Approval


class Bundle(TimestampMixin, db.Model):
    """One version of a case's filing bundle; its volumes and zip live in the file store."""

    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    #: The same review states as documents (a bundle is reviewed and signed like a letter).
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus, "bundle_status"), default=DocumentStatus.DRAFT
    )
    #: Court profile name (``default``, ``ew_court``, ``cn_court``, ``us_ecf``).
    profile: Mapped[str] = mapped_column(String(32))
    #: Exhibits ``kind`` (by kind, then date) or ``chronological``.
    arrangement: Mapped[str] = mapped_column(String(16))
    dividers: Mapped[bool] = mapped_column(default=False)
    label_prefix: Mapped[str] = mapped_column(String(8))
    pages: Mapped[int]
    #: The bound evidence list is final (the case filled every field); a draft list is marked
    #: and the bundle cannot go to counsel.
    final: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: What ``manifest.json`` in the zip says (exhibits, volumes, sources, hashes).
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Per volume: what a court's upload check would object to.
    preflight: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The zip of volumes, originals and manifest.json.
    zip_sha256: Mapped[str] = mapped_column(String(64))
    #: The same zip with the signed volumes, once counsel signed them.
    signed_zip_sha256: Mapped[str | None] = mapped_column(String(64))
    #: The statement of claim version bound in, if there was one.
    pleading_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship("Case")
    created_by: Mapped[User | None] = relationship()
    volumes: Mapped[list[BundleVolume]] = relationship(
        back_populates="bundle", order_by="BundleVolume.number", cascade="all, delete-orphan"
    )
    exhibits: Mapped[list[BundleExhibit]] = relationship(
        back_populates="bundle", order_by="BundleExhibit.id", cascade="all, delete-orphan"
    )
    approval: Mapped[Approval | None] = relationship(
        "Approval", primaryjoin="Approval.bundle_id == Bundle.id", uselist=False, viewonly=True
    )
    #: The statement of claim bound in (its override of a prosecution blocker covers the bundle).
    pleading: Mapped[Document | None] = relationship("Document", viewonly=True)

    @property
    def filename(self) -> str:
        return f"{self.case.reference} bundle v{self.version}"

    @property
    def override(self) -> dict[str, Any] | None:
        """The override recorded with the bound statement of claim, if any."""
        return self.pleading.override if self.pleading is not None else None


class BundleVolume(db.Model):
    """One PDF of a bundle; page numbers are the bundle's, continuous across volumes."""

    __table_args__ = (UniqueConstraint("bundle_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    #: The volume as counsel signed it (PAdES), once the bundle is signed.
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int]
    bytes: Mapped[int]
    first_page: Mapped[int]
    last_page: Mapped[int]

    bundle: Mapped[Bundle] = relationship(back_populates="volumes")


class BundleExhibit(db.Model):
    """Where one piece of evidence is in a bundle."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    #: The evidence it was made from (kept when the evidence is later removed: the bundle stays).
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    first_page: Mapped[int]
    last_page: Mapped[int]
    volume: Mapped[int]
    sha256_rendition: Mapped[str] = mapped_column(String(64))
    sha256_original: Mapped[str | None] = mapped_column(String(64))
    #: Byte-identical to this exhibit: shown once, with a note.
    duplicate_of_label: Mapped[str | None] = mapped_column(String(32))
    #: Same text on every page as this exhibit: kept, flagged for review.
    near_duplicate_of_label: Mapped[str | None] = mapped_column(String(32))

    bundle: Mapped[Bundle] = relationship(back_populates="exhibits")
