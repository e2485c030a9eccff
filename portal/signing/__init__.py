"""Signing: counsel certificates, PAdES signatures on demand letters, and their verification.

Free of the database and of Flask, so services, jobs and the CLI can all use it.
"""

from .pdfsign import Stamp, TimestampUnavailable, sign_pdf
from .pki import (
    CertificateRejected,
    SignerIdentity,
    certificate_identity,
    load_pem_or_der_certificate,
    load_pkcs12,
)
from .verify import SignatureReport, verify_pdf

__all__ = [
    "CertificateRejected",
    "SignatureReport",
    "SignerIdentity",
    "Stamp",
    "TimestampUnavailable",
    "certificate_identity",
    "load_pem_or_der_certificate",
    "load_pkcs12",
    "sign_pdf",
    "verify_pdf",
]
