"""Checking signed PDFs: on every download of a signed version, and for any file handed in."""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import or_, select

from ..accounts.models import User
from ..audit.services import Actor, record
from ..bundles.models import BundleVolume
from ..cases import policy
from ..documents.models import Document
from ..domain import Conflict
from ..extensions import db
from ..signing import SignatureReport, verify_pdf
from ..storage import file_store
from .certificates import trust_roots
from .models import Approval

#: ``/ByteRange [a b c d]``: the signed revision ends at ``c + d``.
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


class SignatureBroken(Conflict):
    """A stored signed PDF no longer verifies; it is not handed out."""

    code = "signature_invalid"


@dataclass(frozen=True)
class Verdict:
    """What the portal can say about a PDF."""

    sha256: str
    known: bool
    #: The portal's version the file is, or was made from (an appended update).
    document: Document | None
    #: Or the bundle volume it is (or was made from).
    volume: BundleVolume | None
    #: The file is byte-identical to a version the portal holds (signed or unsigned).
    exact: bool
    signatures: list[SignatureReport]

    @property
    def changed(self) -> bool:
        """The file differs from what was signed."""
        if self.signatures:
            return not all(s.intact and s.covers_whole_file for s in self.signatures)
        return self.known and not self.exact

    def payload(self, user: User | None) -> dict[str, Any]:
        """The ``POST /api/v1/verify`` answer; versions of cases ``user`` cannot see stay
        anonymous (``None``: the command line, which sees everything)."""
        body: dict[str, Any] = {
            "known": self.known,
            "sha256": self.sha256,
            "changed": self.changed,
            "signed": bool(self.signatures),
            "valid": bool(self.signatures) and all(s.valid for s in self.signatures),
            "signatures": [
                {
                    "signer": s.signer,
                    "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                    "intact": s.intact,
                    "trusted": s.trusted,
                    "covers_whole_file": s.covers_whole_file,
                    "certifying": s.certifying,
                    "level": s.level,
                    "timestamped": s.timestamped,
                    **(
                        {"timestamp_at": s.signed_at.isoformat()}
                        if s.timestamped and s.signed_at
                        else {}
                    ),
                    "validation_data": s.validation_data,
                    "revocation": s.revocation,
                    "revocation_source": s.revocation_source,
                    "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
                    "fingerprint_sha256": s.signer_fingerprint_sha256,
                    "summary": s.summary,
                }
                for s in self.signatures
            ],
        }
        shown = self.document if self.document is not None else self.bundle
        if shown is not None and (user is None or policy.can_view_case(user, shown.case)):
            body["case"] = shown.case.reference
            body["version"] = shown.version
            body["status"] = shown.status.value
            if self.document is not None:
                body["document"] = self.document.id
                body["kind"] = self.document.kind.value
            else:
                body["bundle"] = self.bundle.id
                body["kind"] = "filing_bundle"
                body["volume"] = self.volume.number
        return body

    @property
    def bundle(self):
        return self.volume.bundle if self.volume is not None else None


def _by_hash(sha256: str) -> tuple[Document | None, BundleVolume | None]:
    document = db.session.scalar(
        select(Document)
        .outerjoin(Approval, Approval.document_id == Document.id)
        .where(or_(Approval.signed_sha256 == sha256, Document.pdf_sha256 == sha256))
        .limit(1)
    )
    if document is not None:
        return document, None
    volume = db.session.scalar(
        select(BundleVolume)
        .where(or_(BundleVolume.signed_sha256 == sha256, BundleVolume.pdf_sha256 == sha256))
        .limit(1)
    )
    return None, volume


def _signed_revisions(data: bytes | mmap.mmap) -> list[str]:
    """SHA-256 of each signed revision (the file up to the end of a signature's byte range)."""
    hashes = []
    view = memoryview(data)
    for match in _BYTE_RANGE.finditer(data):
        end = int(match.group(3)) + int(match.group(4))
        if 0 < end < len(data):
            hashes.append(hashlib.sha256(view[:end]).hexdigest())
    view.release()
    return hashes


def verify_limit() -> int:
    """The largest PDF ``/verify`` takes: the upload limit (``MAX_CONTENT_LENGTH``)."""
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def upload_size(upload: BinaryIO) -> int:
    """An uploaded file's size, from its spooled copy (nothing is read into memory)."""
    upload.seek(0, os.SEEK_END)
    size = upload.tell()
    upload.seek(0)
    return size


@contextmanager
def mapped(upload: BinaryIO) -> Iterator[bytes | mmap.mmap]:
    """An uploaded file's bytes without copying them into memory: a file on disk (Werkzeug
    spools larger uploads to a temporary file) is mapped and read by the page as needed."""
    upload.seek(0)
    try:
        descriptor = upload.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        yield upload.read()
        return
    if os.fstat(descriptor).st_size == 0:
        yield b""
        return
    with mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ) as data:
        yield data


def verify_file(data: bytes | mmap.mmap) -> Verdict:
    """Whether ``data`` is a version the portal made, whether it changed, who signed it.

    :raises ValidationFailed: not a readable PDF.
    """
    view = memoryview(data)
    sha256 = hashlib.sha256(view).hexdigest()
    view.release()
    # A trusted signer's issuer is asked whether the certificate has been revoked since.
    signatures = verify_pdf(data, trust_roots(), ask_issuers=True)
    document, volume = _by_hash(sha256)
    exact = document is not None or volume is not None
    if not exact:
        # An update appended after signing: the signed revision is a prefix of the file.
        for revision in _signed_revisions(data):
            document, volume = _by_hash(revision)
            if document is not None or volume is not None:
                break
    known = document is not None or volume is not None
    return Verdict(sha256, known, document, volume, exact, signatures)


def signed_pdf(actor: Actor, item: Document | BundleVolume) -> bytes:
    """The signed PDF of a document version or of a bundle volume, re-verified: hash, pyHanko
    bottom line, whole file.

    :raises SignatureBroken: the stored file no longer verifies (it is not handed out).
    :raises StorageError: the file is missing or its bytes do not match their hash.
    """
    if isinstance(item, BundleVolume):
        signed_sha = item.signed_sha256
        entity, entity_id, extra = "bundle", item.bundle_id, {"volume": item.number}
    else:
        signed_sha = item.approval.signed_sha256 if item.approval else None
        entity, entity_id, extra = "document", item.id, {}
    assert signed_sha is not None  # noqa: S101 - callers ask only for signed versions
    data = file_store().read(signed_sha)  # verifies the SHA-256
    reports = verify_pdf(data, trust_roots())
    if reports and all(report.valid for report in reports):
        return data
    reason = reports[0].summary if reports else "The signature is missing."
    record(
        actor,
        f"{entity}.verification_failed",
        entity,
        entity_id,
        after={"signed_sha256": signed_sha, "reason": reason, **extra},
    )
    # The request fails, yet the failed check must stay on record.
    db.session.commit()
    raise SignatureBroken(f"The signed PDF does not verify: {reason}")
