"""Checking signed PDFs: on every download of a signed version, and for any file handed in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from ..accounts.models import User
from ..audit.services import Actor, record
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
                    "fingerprint_sha256": s.signer_fingerprint_sha256,
                    "summary": s.summary,
                }
                for s in self.signatures
            ],
        }
        if self.document is not None and (
            user is None or policy.can_view_case(user, self.document.case)
        ):
            body["document"] = self.document.id
            body["case"] = self.document.case.reference
            body["kind"] = self.document.kind.value
            body["version"] = self.document.version
            body["status"] = self.document.status.value
        return body


def _by_hash(sha256: str) -> Document | None:
    return db.session.scalar(
        select(Document)
        .outerjoin(Approval, Approval.document_id == Document.id)
        .where(or_(Approval.signed_sha256 == sha256, Document.pdf_sha256 == sha256))
        .limit(1)
    )


def _signed_revisions(data: bytes) -> list[str]:
    """SHA-256 of each signed revision (the file up to the end of a signature's byte range)."""
    hashes = []
    for match in _BYTE_RANGE.finditer(data):
        end = int(match.group(3)) + int(match.group(4))
        if 0 < end < len(data):
            hashes.append(hashlib.sha256(data[:end]).hexdigest())
    return hashes


def verify_file(data: bytes) -> Verdict:
    """Whether ``data`` is a version the portal made, whether it changed, who signed it.

    :raises ValidationFailed: not a readable PDF.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    signatures = verify_pdf(data, trust_roots())
    document = _by_hash(sha256)
    exact = document is not None
    if document is None:
        # An update appended after signing: the signed revision is a prefix of the file.
        for revision in _signed_revisions(data):
            document = _by_hash(revision)
            if document is not None:
                break
    return Verdict(sha256, document is not None, document, exact, signatures)


def signed_pdf(actor: Actor, document: Document) -> bytes:
    """The signed PDF of ``document``, re-verified: hash, pyHanko bottom line, whole file.

    :raises SignatureBroken: the stored file no longer verifies (it is not handed out).
    :raises StorageError: the file is missing or its bytes do not match their hash.
    """
    approval = document.approval
    assert approval is not None  # noqa: S101 - callers ask only for signed versions
    data = file_store().read(approval.signed_sha256)  # verifies the SHA-256
    reports = verify_pdf(data, trust_roots())
    if reports and all(report.valid for report in reports):
        return data
    reason = reports[0].summary if reports else "The signature is missing."
    record(
        actor,
        "document.verification_failed",
        "document",
        document.id,
        after={"signed_sha256": approval.signed_sha256, "reason": reason},
    )
    # The request fails, yet the failed check must stay on record.
    db.session.commit()
    raise SignatureBroken(f"The signed PDF does not verify: {reason}")
