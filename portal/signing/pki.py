"""Counsel certificates: checking an uploaded PKCS#12 before it signs, and throw-away PKI.

A lawyer's PKCS#12 arrives with its passphrase at signing time and is never stored; this module
only decides whether it may sign and describes who it belongs to. ``make_ca`` and
``make_signer_p12`` build a disposable CA and signer for demo data and tests.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from portal.domain import ValidationFailed

#: Largest PKCS#12 accepted; a real one (key, certificate, a few CA certificates) is a few KiB.
MAX_PKCS12_BYTES = 64 * 1024

#: Extended key purposes that allow signing documents (RFC 9336 documentSigning, Adobe's
#: Authentic Documents Trust, S/MIME signing, and "any purpose").
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ADOBE_AUTHENTIC_DOCUMENTS = x509.ObjectIdentifier("1.2.840.113583.1.1.5")
SIGNING_PURPOSES = frozenset(
    {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        DOCUMENT_SIGNING,
        ADOBE_AUTHENTIC_DOCUMENTS,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    }
)


class CertificateRejected(ValidationFailed):
    """A certificate or PKCS#12 file that cannot be used to sign or trust."""

    code = "certificate_rejected"


@dataclass(frozen=True)
class SignerIdentity:
    """Who a certificate names, and the facts the approval record keeps about it."""

    subject_name: str  #: the common name, or the whole subject when there is none
    subject: str  #: RFC 4514
    issuer: str  #: RFC 4514
    serial: str  #: lower-case hex
    fingerprint_sha256: str  #: lower-case hex of the SHA-256 of the DER certificate
    not_before: datetime
    not_after: datetime
    email: str | None


def certificate_identity(cert: x509.Certificate) -> SignerIdentity:
    """Describe a certificate: names, serial, fingerprint, validity and e-mail address."""
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = cert.subject.rfc4514_string()
    return SignerIdentity(
        subject_name=str(common_names[0].value) if common_names else subject,
        subject=subject,
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        fingerprint_sha256=hashlib.sha256(
            cert.public_bytes(serialization.Encoding.DER)
        ).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        email=_email_of(cert),
    )


def load_pem_or_der_certificate(data: bytes) -> x509.Certificate:
    """Parse one X.509 certificate given as PEM or DER (a trusted root uploaded by an admin).

    :raises CertificateRejected: if the bytes are not a certificate.
    """
    if len(data) > MAX_PKCS12_BYTES:
        raise _rejected("The certificate file is too large.", "The file is larger than 64 KiB.")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise _rejected(
            "The file is not an X.509 certificate (PEM or DER).", "Not a certificate."
        ) from exc


def load_pkcs12(data: bytes, passphrase: str, *, now: datetime | None = None) -> SignerIdentity:
    """Check that a PKCS#12 file can sign documents now, and describe its signer.

    :raises CertificateRejected: if the file is not PKCS#12, the passphrase is wrong, the key
        or certificate is missing or mismatched, the certificate is not valid at ``now``, or its
        key usage does not allow signing.
    """
    _key, cert, _chain = open_pkcs12(data, passphrase)
    check_signing_certificate(cert, now or datetime.now(UTC))
    return certificate_identity(cert)


def open_pkcs12(
    data: bytes, passphrase: str
) -> tuple[pkcs12.PKCS12PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """Decrypt a PKCS#12 file into its key, certificate and other certificates.

    :raises CertificateRejected: if the file is too large, not PKCS#12, or the passphrase is
        wrong, or the key or certificate is missing or they do not belong together.
    """
    if len(data) > MAX_PKCS12_BYTES:
        raise _rejected(
            "The certificate file is too large to be a PKCS#12 signing certificate.",
            "The file is larger than 64 KiB.",
        )
    if not _looks_like_der_sequence(data):
        raise _rejected("The file is not a PKCS#12 (.p12/.pfx) certificate.", "Not a PKCS#12 file.")
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(
            data, passphrase.encode("utf-8") if passphrase else None
        )
    except ValueError as exc:
        # cryptography reports a wrong passphrase and a corrupt file alike; the DER check
        # above already turned away most files that are not PKCS#12 at all.
        raise _rejected(
            "The passphrase is wrong, or the file is not a valid PKCS#12 certificate.",
            "The passphrase does not open this certificate.",
            field="passphrase",
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise _rejected(
            "The certificate uses an algorithm the portal cannot sign with.",
            "Unsupported key or encryption algorithm.",
        ) from exc
    if key is None:
        raise _rejected("The PKCS#12 file holds no private key.", "No private key.")
    if cert is None:
        raise _rejected("The PKCS#12 file holds no certificate.", "No certificate.")
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise _rejected(
            "The private key does not belong to the certificate.",
            "Key and certificate do not match.",
        )
    return key, cert, list(chain)


def check_signing_certificate(cert: x509.Certificate, now: datetime) -> None:
    """Check that a certificate is valid at ``now`` and meant for signing documents.

    :raises CertificateRejected: if it is expired or not yet valid, or its key usage or
        extended key usage rules out document signatures.
    """
    if now < cert.not_valid_before_utc:
        raise _rejected(
            f"The certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC.",
            "The certificate is not valid yet.",
        )
    if now > cert.not_valid_after_utc:
        raise _rejected(
            f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC.",
            "The certificate has expired.",
        )
    try:
        extensions = cert.extensions
    except ValueError as exc:  # cryptography parses extensions lazily and strictly
        raise _rejected(
            "The certificate's extensions are malformed.", "Malformed certificate."
        ) from exc
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise _rejected(
            "The certificate's key usage does not allow signatures.",
            "The certificate is not a signing certificate.",
        )
    try:
        purposes = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        purposes = None
    if purposes is not None and not SIGNING_PURPOSES.intersection(purposes):
        raise _rejected(
            "The certificate's extended key usage does not allow signing documents.",
            "The certificate is not meant for signing documents.",
        )


class CertificateUntrusted(CertificateRejected):
    """The certificate does not chain to a trusted root, or its chain is not valid now."""

    code = "certificate_untrusted"


def check_trusted_chain(
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    roots: list[x509.Certificate],
    now: datetime,
    *,
    fetch_revocation: bool = False,
) -> None:
    """Check that ``cert`` has a valid path to one of ``roots`` at ``now`` (PKIX, RFC 5280).

    The other certificates of the PKCS#12 file may serve as intermediates. With
    ``fetch_revocation`` the CRLs (and OCSP) the certificates name are fetched and a revoked one
    is refused; a distribution point that does not answer is tolerated (soft-fail).

    :raises CertificateUntrusted: no trusted roots, no path to one, or a certificate on the
        path that is expired, not yet valid or revoked (as far as the context knows).
    """
    issuer = cert.issuer.rfc4514_string()
    if not roots:
        raise _untrusted(
            "No certificate authority is trusted yet: an admin must add the CA's root "
            "certificate (flask --app portal trust add CA.pem) before certificates can be used.",
            "No trusted root.",
        )

    async def validate() -> None:
        # A backend of our own, closed when done: nothing is left open between requests.
        backend = AIOHttpFetcherBackend(per_request_timeout=5) if fetch_revocation else None
        context = ValidationContext(
            trust_roots=[asn1_certificate(root) for root in roots],
            other_certs=[asn1_certificate(item) for item in chain],
            moment=now,
            allow_fetching=fetch_revocation,
            fetchers=backend.get_fetchers() if backend else None,
            revocation_mode="soft-fail",
        )
        try:
            await CertificateValidator(
                asn1_certificate(cert), validation_context=context
            ).async_validate_path()
        finally:
            if backend is not None:
                await backend.close()

    try:
        run_async(validate)
    except RevokedError as exc:
        raise _untrusted(f"The certificate has been revoked: {exc}", "Revoked.") from exc
    except (ExpiredError, NotYetValidError) as exc:
        raise _untrusted(f"The certificate chain is not valid now: {exc}", "Expired.") from exc
    except PathBuildingError as exc:
        raise _untrusted(
            f"The certificate was issued by {issuer}, which does not lead to a certificate "
            "authority the portal trusts.",
            "Not issued by a trusted authority.",
        ) from exc
    except (PathValidationError, ValidationError) as exc:
        raise _untrusted(f"The certificate chain does not validate: {exc}", "Untrusted.") from exc


def run_async(coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run certvalidator's coroutine to the end, also from a thread whose loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """pyHanko's (asn1crypto's) certificate type for a ``cryptography`` certificate."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _untrusted(message: str, note: str) -> CertificateUntrusted:
    return CertificateUntrusted(message, fields={"file": [note]})


def _email_of(cert: x509.Certificate) -> str | None:
    """The first e-mail address in the subject alternative names, else in the subject."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        addresses = san.get_values_for_type(x509.RFC822Name)
    except (x509.ExtensionNotFound, ValueError):
        addresses = []
    if addresses:
        return addresses[0]
    in_subject = cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    return str(in_subject[0].value) if in_subject else None


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _looks_like_der_sequence(data: bytes) -> bool:
    """A PKCS#12 file is a DER SEQUENCE; PEM, PDFs and text files are turned away early."""
    return len(data) > 4 and data[0] == 0x30


def _rejected(message: str, note: str, *, field: str = "file") -> CertificateRejected:
    """The error for a certificate problem, with ``note`` shown next to the form field."""
    return CertificateRejected(message, fields={field: [note]})
