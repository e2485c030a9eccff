"""Checking the signatures in a PDF against the portal's trusted roots.

"Valid" is strict (see the design's Signing section): pyHanko's ``bottom_line`` *and* a
signature that covers the entire file *and* a chain to a trusted root *and* an intact hash.
A file with anything appended after the signature is therefore not valid, even when pyHanko
considers the addition harmless.

The file alone decides everything but the certificate's revocation status now: with
``ask_issuers`` the issuer of a trusted signer's certificate is asked (``revocation``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    read_certification_data,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from portal.domain import ValidationFailed

from .pki import asn1_certificate, load_pem_or_der_certificate
from .revocation import RevocationStatus, current_status

logger = logging.getLogger(__name__)

#: Later revisions that only add signatures, form data or validation data.
_ADDITIONS_ONLY = frozenset({ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING})

DAMAGED_FIELDS = "The PDF's signature fields are damaged and cannot be checked."

#: A counsel certificate may sign with either of these key usages (see ``pki``).
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


@dataclass(frozen=True)
class SignatureReport:
    """What one signature in a PDF proves."""

    field_name: str
    signer: str | None  #: the signer certificate's common name
    signer_fingerprint_sha256: str | None
    signed_at: datetime | None  #: the time-stamp token's time, else the signer's claim
    intact: bool  #: the signed bytes hash to the signed digest and the signature checks out
    trusted: bool  #: the certificate chains to one of the given roots
    covers_whole_file: bool  #: nothing was appended after the signature
    bottom_line: bool  #: pyHanko's overall judgement
    modified_after_signing: bool  #: there are revisions after the signed one
    certifying: bool  #: a certification (DocMDP) signature
    summary: str
    #: PAdES level: B-B (no trusted time), B-T (a signature time stamp), B-LT (and the
    #: validation data in a DSS), B-LTA (and a document time stamp over it).
    level: str = "B-B"
    timestamped: bool = False  #: the signing time comes from a valid time-stamp token
    validation_data: bool = False  #: certificates (and revocation data) embedded in a DSS
    #: "good", "revoked" or "unknown": from the issuer now when it was asked and answered,
    #: else from the CRLs and OCSP answers embedded in the file.
    revocation: Literal["good", "revoked", "unknown"] = "unknown"
    #: "issuer" (asked now), "embedded" (the file's DSS), or None (no source).
    revocation_source: str | None = None
    revoked_at: datetime | None = None  #: when the certificate was revoked (UTC), if known
    #: The certificate was revoked before the signature's trusted time (or, without a time
    #: stamp, at all): the signature cannot be relied on.
    revoked_before_signing: bool = False

    @property
    def valid(self) -> bool:
        """Intact, trusted, covering the entire file, pyHanko's bottom line holds, and the
        certificate was not revoked when it signed."""
        return (
            self.bottom_line
            and self.covers_whole_file
            and self.trusted
            and self.intact
            and not self.revoked_before_signing
        )


def verify_pdf(
    pdf: bytes | mmap.mmap,
    trust_roots: Sequence[x509.Certificate | bytes],
    *,
    now: datetime | None = None,
    ask_issuers: bool = False,
) -> list[SignatureReport]:
    """Report on every signature in a PDF, in signing order; empty for an unsigned PDF.

    ``trust_roots`` are certificates (objects, or PEM/DER bytes); the time-stamping
    authority's root must be among them for a time-stamped signature to be trusted.
    Revocation is judged on the CRLs and OCSP responses embedded in the file's DSS (PAdES
    B-LT); with ``ask_issuers`` the CRL and OCSP responder a *trusted* signer's certificate
    names are also asked now (the file's own addresses are never followed for an untrusted
    one). A certificate revoked after a time-stamped signature leaves it valid: the time
    stamp proves it was made before. Trust is judged at ``now``, so once
    the signer's certificate expires an old signature without a time stamp is no longer
    trusted; the approval record is the lasting evidence.

    :raises ValidationFailed: if the bytes are not a readable PDF or its signature fields are
        damaged.
    :raises CertificateRejected: if a trust root given as bytes is not a certificate.
    """
    reader = _open_reader(pdf)
    try:
        signatures = list(reader.embedded_regular_signatures)
    except Exception as exc:  # pyHanko raises assorted types on malformed structures
        raise ValidationFailed(DAMAGED_FIELDS) from exc
    if not signatures:
        if pdf.find(b"/ByteRange") != -1:
            # A signature dictionary is there but no field leads to it: the form was
            # damaged or edited, which must not pass for "unsigned".
            raise ValidationFailed(DAMAGED_FIELDS)
        return []
    roots = [_asn1_certificate(root) for root in trust_roots]
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    certification = _certification_signature(reader)
    archive = _archive_timestamp(reader, roots, moment)
    dss = _read_dss(reader)
    reports = [
        _report(signature, roots, moment, certification, archive=archive, dss=dss)
        for signature in signatures
    ]
    if ask_issuers:
        reports = [
            _with_issuers_word(report, signature, roots, moment)
            for report, signature in zip(reports, signatures, strict=True)
        ]
    return reports


def _with_issuers_word(
    report: SignatureReport,
    signature: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    moment: datetime,
) -> SignatureReport:
    """The report with the issuer's answer on the certificate's revocation, for a trusted,
    intact signature (an unknown answer leaves the embedded verdict)."""
    if not (report.trusted and report.intact):
        return report
    try:
        status = current_status(
            signature.signer_cert, signature.other_embedded_certs, roots, moment
        )
    except Exception:  # a damaged certificate: nothing to ask about
        logger.info("Revocation of %r could not be asked", report.field_name, exc_info=True)
        return report
    if status.state == "unknown":
        return report
    return (
        _revoked(report, status)
        if status.state == "revoked"
        else replace(report, revocation="good", revocation_source="issuer")
    )


def _revoked(report: SignatureReport, status: RevocationStatus) -> SignatureReport:
    """A revoked certificate: harmless to a signature time-stamped before the revocation."""
    when = status.revoked_at
    before = not (report.timestamped and report.signed_at and when and report.signed_at < when)
    on = f" on {when:%Y-%m-%d %H:%M} UTC" if when else ""
    summary = (
        f"The certificate {report.signer or 'the signer'} signed with was revoked{on}, "
        "before the signature's trusted time."
        if before
        else f"{report.summary} Its certificate was revoked{on}, after the time-stamped "
        "signing time, which the revocation does not undo."
    )
    return replace(
        report,
        revocation="revoked",
        revocation_source="issuer",
        revoked_at=when,
        revoked_before_signing=before,
        summary=summary,
    )


def _read_dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    """The document security store (validation data added for long-term validation), if any."""
    if "/DSS" not in reader.root:
        return None
    try:
        return DocumentSecurityStore.read_dss(reader)
    except Exception:  # a damaged DSS is as good as none
        logger.info("The DSS could not be read", exc_info=True)
        return None


def _archive_timestamp(
    reader: PdfFileReader, roots: list[asn1_x509.Certificate], moment: datetime
) -> bool:
    """A valid, trusted document time stamp covers the file, but for validation data added
    after it (PAdES B-LTA)."""
    try:
        stamps = list(reader.embedded_timestamp_signatures)
    except Exception:  # damaged fields: no archive time stamp can be shown
        return False
    for stamp in stamps:
        context = ValidationContext(
            trust_roots=roots, moment=moment, allow_fetching=False, revocation_mode="soft-fail"
        )
        try:
            status = validate_pdf_timestamp(stamp, validation_context=context)
        except Exception:
            logger.info("Document time stamp could not be validated", exc_info=True)
            continue
        # Only validation data (the time stamp's own chain in the DSS) may follow it.
        covers = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.modification_level == ModificationLevel.LTA_UPDATES
        )
        if status.intact and status.valid and status.trusted and covers:
            return True
    return False


class _MappedFile(io.RawIOBase):
    """A read-only, seekable file over a mapped file's pages (nothing is copied up front)."""

    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._data)}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # Slicing a map copies just this chunk (no buffer stays exported, so it can close).
        chunk = self._data[self._position : self._position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)


def _mapped_stream(data: mmap.mmap) -> io.BufferedReader:
    return io.BufferedReader(_MappedFile(data))


def _open_reader(pdf: bytes | mmap.mmap) -> PdfFileReader:
    """Parse the PDF (bytes, or a file mapped into memory that is read as it is needed);
    :raises ValidationFailed: if it is not one."""
    if not bytes(pdf[:1024]).lstrip()[:5] == b"%PDF-":
        raise ValidationFailed("The file is not a PDF.")
    try:
        # Strict: pyHanko then refuses to validate hybrid-reference files, whose two
        # cross-reference sections can show different documents to different readers.
        stream = BytesIO(pdf) if isinstance(pdf, bytes | bytearray) else _mapped_stream(pdf)
        return PdfFileReader(stream, strict=True)
    except Exception as exc:  # pyHanko raises assorted types on malformed files
        raise ValidationFailed("The file is not a readable PDF.") from exc


def _report(
    signature: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    moment: datetime,
    certification: object | None,
    *,
    archive: bool = False,
    dss: DocumentSecurityStore | None = None,
) -> SignatureReport:
    """Validate one signature and turn pyHanko's status into a report.

    Revocation is judged only on the data embedded in the file (nothing is fetched for a file
    someone uploads): the CRLs and OCSP responses in its DSS.
    """
    field_name, signer, fingerprint, certifying = _describe(signature, certification)
    settings = {
        "trust_roots": roots,
        "moment": moment,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
    }
    context = dss.as_validation_context(settings) if dss else ValidationContext(**settings)
    has_dss = dss is not None
    revocation_data = bool(dss and (dss.crls or dss.ocsps))
    try:
        status = validate_pdf_signature(
            signature,
            signer_validation_context=context,
            key_usage_settings=KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGES)),
        )
    except Exception:
        # On a damaged signature pyHanko raises its own errors but also AttributeError,
        # decimal.InvalidOperation and others; any of them means "cannot be shown intact".
        logger.info("Signature %r could not be validated", field_name, exc_info=True)
        return SignatureReport(
            field_name=field_name,
            signer=signer,
            signer_fingerprint_sha256=fingerprint,
            signed_at=None,
            intact=False,
            trusted=False,
            covers_whole_file=False,
            bottom_line=False,
            modified_after_signing=False,
            certifying=certifying,
            summary="The signature is damaged and cannot be checked.",
        )
    intact = bool(status.intact and status.valid)
    trusted = bool(status.trusted)
    # Only validation data and a document time stamp that covers the whole file were added
    # after the signature (PAdES B-LTA): the file is still what was signed.
    long_term = archive and status.modification_level == ModificationLevel.LTA_UPDATES
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or long_term
    timestamped = status.timestamp_validity is not None and bool(
        status.timestamp_validity.intact and status.timestamp_validity.valid
    )
    level = "B-B"
    if timestamped:
        level = "B-LTA" if long_term and has_dss else "B-LT" if has_dss else "B-T"
    return SignatureReport(
        field_name=field_name,
        signer=signer,
        signer_fingerprint_sha256=fingerprint,
        signed_at=_signed_at(status),
        intact=intact,
        trusted=trusted,
        covers_whole_file=whole_file,
        bottom_line=bool(status.bottom_line),
        modified_after_signing=not whole_file,
        certifying=certifying,
        summary=_summary(status, signer, intact=intact, trusted=trusted, whole_file=whole_file),
        level=level,
        timestamped=timestamped,
        validation_data=has_dss,
        revocation="revoked" if status.revoked else "good" if revocation_data else "unknown",
        revocation_source="embedded" if status.revoked or revocation_data else None,
        revoked_before_signing=bool(status.revoked),
    )


def _describe(
    signature: EmbeddedPdfSignature, certification: object | None
) -> tuple[str, str | None, str | None, bool]:
    """Field name, signer's common name, certificate fingerprint, and whether it certifies."""
    try:
        field_name = str(signature.field_name)
        certifying = certification is not None and certification == signature.sig_object.get(
            "/Contents"
        )
    except Exception:  # pyHanko raises assorted types on malformed structures
        field_name, certifying = "", False
    try:
        cert = signature.signer_cert
        return field_name, _common_name(cert), hashlib.sha256(cert.dump()).hexdigest(), certifying
    except Exception:  # a damaged CMS blob; validation then reports it as not intact
        return field_name, None, None, certifying


def _summary(
    status: PdfSignatureStatus,
    signer: str | None,
    *,
    intact: bool,
    trusted: bool,
    whole_file: bool,
) -> str:
    """The one sentence a lawyer or clerk reads."""
    who = signer or "an unknown signer"
    if not intact:
        return "The signature does not match the file: it was damaged or tampered with."
    if not whole_file:
        if status.docmdp_ok and status.modification_level in _ADDITIONS_ONLY:
            return (
                f"The file was extended after {who} signed it; the signed version is intact, "
                "but the file as a whole is not what was signed."
            )
        return f"The file was changed after {who} signed it."
    if status.revoked:
        return f"The certificate {who} signed with has been revoked."
    if not trusted:
        return f"Signed by {who} with a certificate the portal does not trust."
    if not status.bottom_line:
        return f"The signature by {who} failed validation."
    return f"Valid signature by {who} covering the entire file."


def _signed_at(status: PdfSignatureStatus) -> datetime | None:
    """The time-stamp token's time if there is one, else the signer-reported time, in UTC."""
    if status.timestamp_validity is not None:
        when = status.timestamp_validity.timestamp
    else:
        when = status.signer_reported_dt
    return when.astimezone(UTC) if when is not None else None


def _certification_signature(reader: PdfFileReader) -> object | None:
    """The ``/Contents`` of the document's certification signature, if it has one."""
    try:
        info = read_certification_data(reader)
    except Exception:  # a damaged /Perms entry; no signature is then reported as certifying
        return None
    return info.author_sig.get("/Contents") if info is not None else None


def _common_name(cert: asn1_x509.Certificate) -> str:
    for attribute in cert.subject.chosen:
        for pair in attribute:
            if pair["type"].native == "common_name":
                return str(pair["value"].native)
    return cert.subject.human_friendly


def _asn1_certificate(root: x509.Certificate | bytes) -> asn1_x509.Certificate:
    """pyHanko's certificate type from a ``cryptography`` certificate or PEM/DER bytes.

    :raises CertificateRejected: if bytes given as a root are not a certificate.
    """
    cert = root if isinstance(root, x509.Certificate) else load_pem_or_der_certificate(root)
    return asn1_certificate(cert)
