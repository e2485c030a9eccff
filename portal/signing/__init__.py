"""Signing: counsel certificates, PAdES signatures on demand letters, and their verification.

Free of the database and of Flask, so services, jobs and the CLI can all use it.
"""

from .pdfsign import Stamp, TimestampUnavailable, sign_pdf
from .pki import (
    CertificateRejected,
    CertificateUntrusted,
    SignerIdentity,
    certificate_identity,
    check_signing_certificate,
    check_trusted_chain,
    load_pem_or_der_certificate,
    load_pkcs12,
    open_pkcs12,
)
from .verify import SignatureReport, verify_pdf

__all__ = [
    "CertificateRejected",
    "CertificateUntrusted",
    "SignatureReport",
    "SignerIdentity",
    "Stamp",
    "TimestampUnavailable",
    "certificate_identity",
    "check_signing_certificate",
    "check_trusted_chain",
    "load_pem_or_der_certificate",
    "load_pkcs12",
    "open_pkcs12",
    "sign_pdf",
    "verify_pdf",
]
