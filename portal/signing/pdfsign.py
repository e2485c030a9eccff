"""Counsel signatures: a certifying PAdES signature with a visible stamp, made with pyHanko.

The signature is a PAdES baseline signature (SubFilter ``ETSI.CAdES.detached``) that
*certifies* the document with DocMDP level 2 (``MDPPerm.FILL_FORMS``): any change to the
content breaks it, while filling in form fields, signing an *existing* empty signature field,
an invisible signature or a document timestamp stay allowed. Level 1 (``NO_CHANGES``) would
rule all of those out. Note that pyHanko's validator does not accept a *new visible* signature
field after a certification signature (``allow_new_visible_after_certify`` is off by default),
so a visible counter-signature by a second lawyer invalidates the certification; use
``certify=False`` on the first signature when a second visible one is planned.

The stamp's text and the embedded fonts that show it in any script are in ``stamp``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from io import BytesIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from asn1crypto.crl import CertificateList
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization.pkcs12 import PKCS12PrivateKeyTypes
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import (
    DSSContentSettings,
    PdfSigningSession,
    TimestampDSSContentSettings,
)
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portal.domain import DomainError, ValidationFailed

from .pki import asn1_certificate, check_signing_certificate, open_pkcs12, run_async
from .stamp import Stamp, stamp_appearance

logger = logging.getLogger(__name__)

#: Size of the visible stamp, in points, and its distance from the page edges (LibreOffice's
#: default 2 cm margin), so that it sits in the bottom-right corner of the text area.
STAMP_WIDTH = 200
STAMP_HEIGHT = 70
PAGE_MARGIN = 57


class TimestampUnavailable(DomainError):
    """The configured time-stamping authority did not answer with a time stamp."""

    status = 503
    code = "timestamp_unavailable"


class _SignerAt(signers.PdfSigner):
    """A ``PdfSigner`` whose signing time is given instead of read from the local clock.

    pyHanko's signing session takes the time in the server's local zone; fixing it here keeps
    the stamp, the ``/M`` entry and the CMS signing-time attribute the same UTC instant.
    """

    def __init__(self, *args: object, signing_time: datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.signing_time = signing_time

    def init_signing_session(  # type: ignore[override]
        self, pdf_out: IncrementalPdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self.signing_time
        return session


def sign_pdf(
    pdf: bytes,
    p12: bytes,
    passphrase: str,
    stamp: Stamp,
    *,
    field_name: str = "CounselSignature",
    certify: bool = True,
    tsa_url: str | None = None,
    timeout: int = 10,
    now: datetime | None = None,
    timestamper: TimeStamper | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
) -> bytes:
    """Sign a PDF with the lawyer's PKCS#12 and return the signed file (an incremental update).

    ``timestamper`` overrides ``tsa_url`` (tests use pyHanko's in-process ``DummyTimeStamper``).
    With a time-stamping authority the signature is PAdES B-LTA: the signature time stamp
    (B-T), the signer's and the authority's chains up to ``trust_roots`` in a DSS (B-LT), and a
    document time stamp over it all. Without one it is B-B.
    ``now`` is for tests and demo data: the signer-claimed time proves nothing, only a time
    stamp from the authority does. The revocation data the certificates name is fetched then.

    :raises CertificateRejected: if the PKCS#12 cannot be opened with the passphrase or its
        certificate may not sign at ``now``.
    :raises ValidationFailed: if the PDF cannot be read, is encrypted, or cannot take the
        signature (for example it is already certified).
    :raises TimestampUnavailable: if the time-stamping authority fails.
    """
    signing_time = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    key, cert, chain = open_pkcs12(p12, passphrase)
    check_signing_certificate(cert, signing_time)
    signer = _signer(key, cert, chain)
    writer = _open_writer(pdf)
    box = _stamp_box(writer)
    stamp_style, stamp_params = stamp_appearance(stamp)
    if timestamper is None and tsa_url:
        timestamper = HTTPTimeStamper(tsa_url, timeout=timeout)

    output = BytesIO()

    async def sign(context: ValidationContext | None) -> None:
        pdf_signer = _SignerAt(
            signers.PdfSignatureMetadata(
                field_name=field_name,
                name=stamp.signer_name,
                reason=stamp.reason,
                location=stamp.location,
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                certify=certify,
                docmdp_permissions=fields.MDPPerm.FILL_FORMS,
                **_long_term(context),
            ),
            signer=signer,
            timestamper=timestamper,
            stamp_style=stamp_style,
            new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, on_page=-1, box=box),
            signing_time=signing_time,
        )
        await pdf_signer.async_sign_pdf(writer, output=output, appearance_text_params=stamp_params)

    async def sign_long_term() -> None:
        if timestamper is None:
            await sign(None)
            return
        # The revocation data the certificates name is fetched into the DSS (B-LT); the
        # backend is ours and closed when done.
        backend = AIOHttpFetcherBackend(per_request_timeout=timeout)
        fetchers = backend.get_fetchers()
        try:
            certificates = [asn1_certificate(item) for item in (cert, *chain)]
            certificates += await _authority_certificates(timestamper)
            await sign(
                ValidationContext(
                    trust_roots=[asn1_certificate(root) for root in trust_roots],
                    allow_fetching=True,
                    fetchers=fetchers,
                    crls=await _crls(fetchers, certificates),
                    revocation_mode="soft-fail",
                )
            )
        finally:
            await backend.close()

    try:
        run_async(sign_long_term)
    except TimestampRequestError as exc:
        raise TimestampUnavailable("The time-stamping service did not answer.") from exc
    except (SigningError, PdfError) as exc:
        raise ValidationFailed(f"The PDF cannot be signed: {exc}") from exc
    return output.getvalue()


async def _authority_certificates(timestamper: TimeStamper) -> list[asn1_x509.Certificate]:
    """The time-stamping authority's certificates, from a time stamp it makes for the
    purpose (pyHanko keeps it for the signature's own)."""
    token = await timestamper.async_dummy_response("sha256")
    certificates = token["content"]["certificates"] or []
    return [choice.chosen for choice in certificates if choice.name == "certificate"]


async def _crls(
    fetchers: Fetchers, certificates: list[asn1_x509.Certificate]
) -> list[CertificateList]:
    """The CRLs the certificates name, fetched now (one that does not answer is skipped).

    Validation at signing stops at the first good answer, an OCSP one where a certificate
    names a responder; the CRLs are embedded as well so that the file still validates from its
    own data once the responder has gone (validators ask a named responder first and, when it
    does not answer, fall back on CRLs, not on embedded OCSP answers).
    """
    found: list[CertificateList] = []
    for certificate in certificates:
        if certificate.self_signed != "no" or not certificate.crl_distribution_points:
            continue
        try:
            found.extend(await fetchers.crl_fetcher.fetch(certificate))
        except Exception:  # soft-fail, as for the validation itself
            logger.info("No CRL for %s", certificate.subject.human_friendly, exc_info=True)
    return found


def _long_term(context: ValidationContext | None) -> dict[str, object]:
    """PAdES B-LT and B-LTA settings when a time stamp can be had (a context), else none.

    All validation data (the signer's and the authority's) goes into the DSS *before* the
    document time stamp, so the time stamp protects it and is the file's last revision: the
    file as a whole is signed, which is what readers such as Poppler's ``pdfsig`` report.
    """
    if context is None:
        return {}
    before_the_time_stamp = DSSContentSettings(
        include_vri=False,
        next_ts_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True),
    )
    return {
        "embed_validation_info": True,
        "use_pades_lta": True,
        "validation_context": context,
        "dss_settings": before_the_time_stamp,
    }


def _signer(
    key: PKCS12PrivateKeyTypes, cert: x509.Certificate, chain: list[x509.Certificate]
) -> signers.SimpleSigner:
    """pyHanko's in-memory signer; the CA certificates from the PKCS#12 go into the CMS."""
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return signers.SimpleSigner(
        signing_cert=asn1_certificate(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([asn1_certificate(c) for c in chain]),
    )


def _open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    """Open the PDF for an incremental update.

    :raises ValidationFailed: if it is not a readable PDF or it is encrypted.
    """
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise ValidationFailed("The file is not a PDF.")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationFailed("The PDF is damaged and cannot be read.") from exc
    if writer.prev.encrypted:
        raise ValidationFailed("The PDF is encrypted; sign an unprotected version instead.")
    return writer


def _stamp_box(writer: IncrementalPdfFileWriter) -> tuple[int, int, int, int]:
    """The stamp's rectangle in the bottom-right corner of the last page, inside the margins.

    :raises ValidationFailed: if the document has no pages or the page has no usable size.
    """
    try:
        page_ref, _resources = writer.prev.find_page_for_modification(-1)
        left, bottom, right, top = _page_box(page_ref.get_object())
    except (PdfError, KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("The PDF has no page to put the signature on.") from exc
    margin = min(PAGE_MARGIN, max(0, (right - left - STAMP_WIDTH) / 2))
    x2 = right - margin
    y1 = bottom + min(PAGE_MARGIN, max(0, (top - bottom - STAMP_HEIGHT) / 2))
    return int(x2 - STAMP_WIDTH), int(y1), int(x2), int(y1 + STAMP_HEIGHT)


def _page_box(page: generic.DictionaryObject) -> tuple[float, float, float, float]:
    """The visible area of a page: its ``/CropBox``, else ``/MediaBox``, either inherited."""
    for key in ("/CropBox", "/MediaBox"):
        node = page
        for _depth in range(32):  # a page tree deeper than this is malformed or cyclic
            if key in node:
                x1, y1, x2, y2 = (float(value) for value in node[key])
                return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
            if "/Parent" not in node:
                break
            node = node["/Parent"]
    raise ValueError("page has no /MediaBox")
