"""Counsel review: comments per version, approvals bound to bytes, signing certificates, trusted
roots and the in-app inbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db

if TYPE_CHECKING:
    from ..bundles.models import Bundle
    from ..documents.models import Document


class SigningCertificate(TimestampMixin, db.Model):
    """A lawyer's PKCS#12 file as uploaded (it is encrypted by its passphrase, never stored).

    A lawyer has at most one active certificate; registering another retires the earlier one,
    which stays because approvals name it by fingerprint.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The PKCS#12 bytes exactly as uploaded (protected by the lawyer's passphrase).
    p12: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(500))
    subject_name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(80))
    #: SHA-256 of the certificate (DER), lower-case hex.
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), index=True)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship()

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or utcnow()) > self.not_after


class TrustedRoot(TimestampMixin, db.Model):
    """A certificate authority whose signatures the portal calls trusted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: The certificate, DER.
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The throw-away authority ``seed-demo`` makes; never for real documents.
    demo: Mapped[bool] = mapped_column(default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    added_by: Mapped[User | None] = relationship()


class ReviewComment(TimestampMixin, db.Model):
    """A remark on one version of a document or a bundle: a submission note, a request for
    changes, an approval."""

    __table_args__ = (
        CheckConstraint("(document_id IS NULL) <> (bundle_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    bundle_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundle.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: submitted, changes_requested, approved, comment
    action: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User | None] = relationship()
    document: Mapped[Document | None] = relationship("Document")
    bundle: Mapped[Bundle | None] = relationship("Bundle")

    @property
    def version(self) -> int:
        """The version of the document or bundle the comment is on."""
        subject = self.document if self.document is not None else self.bundle
        return subject.version


class Approval(TimestampMixin, db.Model):
    """Counsel's decision bound to exact bytes: what was reviewed and what was signed.

    For a bundle the bytes are its zip (every volume, the originals and the manifest): the
    reviewed zip as built, and the zip remade with the signed volumes; each volume's signed PDF
    is on its ``BundleVolume`` row.
    """

    __table_args__ = (
        CheckConstraint("(document_id IS NULL) <> (bundle_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), unique=True
    )
    bundle_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundle.id", ondelete="CASCADE"), unique=True
    )
    lawyer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: SHA-256 of the unsigned PDF (a bundle: its zip) the lawyer reviewed.
    reviewed_sha256: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the signed PDF (a bundle: the zip of signed volumes), in the file store.
    signed_sha256: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the signing certificate (DER).
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("signing_certificate.id"))
    #: The approval statement exactly as shown to the lawyer.
    statement: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    #: When the lawyer last entered the password (the fresh authentication).
    authenticated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    timestamped: Mapped[bool] = mapped_column(default=False)

    lawyer: Mapped[User] = relationship()
    certificate: Mapped[SigningCertificate | None] = relationship()


class Notification(db.Model):
    """One line in a user's inbox."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(String(500))
    #: A path inside the portal (``/documents/12/review``).
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
