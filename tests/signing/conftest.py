"""Throw-away PKI and sample PDFs for the signing tests; nothing touches the network.

The key material and PDFs are immutable bytes, so they are built once per session to keep
the folder fast; every test that changes a document works on its own copy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from portal.signing.demo_pki import make_ca, make_signer_p12
from portal.signing.pdfsign import Stamp, sign_pdf

RESOURCES = Path(__file__).parent / "resources"

PASSPHRASE = "correct horse battery staple"
SIGNER_NAME = "Alice Counsel"
LICENCE = "SRA 654321"
#: A fixed signing time, well inside the test certificates' validity.
SIGNED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="session")
def ca() -> tuple[bytes, bytes]:
    """The portal-trusted test CA as ``(cert_pem, key_pem)``."""
    return make_ca("Arrears Test Root CA", now=SIGNED_AT - timedelta(days=30))


@pytest.fixture(scope="session")
def ca_cert(ca: tuple[bytes, bytes]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca[0])


@pytest.fixture(scope="session")
def other_ca_cert() -> x509.Certificate:
    """A CA the portal does not trust for the signer."""
    return x509.load_pem_x509_certificate(make_ca("Somebody Else's CA")[0])


@pytest.fixture(scope="session")
def signer_p12(ca: tuple[bytes, bytes]) -> bytes:
    return make_signer_p12(
        *ca,
        common_name=SIGNER_NAME,
        email="alice@counsel.example",
        organization="Counsel & Co LLP",
        passphrase=PASSPHRASE,
        now=SIGNED_AT - timedelta(days=1),
    )


@pytest.fixture
def stamp() -> Stamp:
    return Stamp(
        signer_name=SIGNER_NAME,
        firm="Counsel & Co LLP",
        licence=LICENCE,
        reason="Letter before claim approved",
        location="London",
    )


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    """A two-page A4 letter made with reportlab (PDF 1.3, classic cross-reference table)."""
    buffer = BytesIO()
    document = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    document.setTitle("Letter before claim")
    for number, text in enumerate(["Dear Sirs, invoice 2024-117 is overdue.", "Yours."], 1):
        document.drawString(72, 760, text)
        document.drawString(72, 60, f"Page {number} of 2")
        document.showPage()
    document.save()
    return buffer.getvalue()


@pytest.fixture(scope="session")
def libreoffice_pdf() -> bytes:
    """A one-page letter exported by LibreOffice 7.4 Writer from a DOCX (PDF 1.6)."""
    return (RESOURCES / "letter-libreoffice.pdf").read_bytes()


@pytest.fixture(scope="session")
def xref_stream_pdf(sample_pdf: bytes) -> bytes:
    """The sample rewritten as PDF 1.7 with object streams and a cross-reference stream."""
    output = BytesIO()
    with pikepdf.open(BytesIO(sample_pdf)) as pdf:
        pdf.save(
            output,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            min_version="1.7",
        )
    return output.getvalue()


@pytest.fixture(scope="session")
def signed_pdf(sample_pdf: bytes, signer_p12: bytes) -> bytes:
    """The sample, signed and certified by the test signer at ``SIGNED_AT``."""
    return sign_pdf(
        sample_pdf,
        signer_p12,
        PASSPHRASE,
        Stamp(SIGNER_NAME, "Counsel & Co LLP", LICENCE, "Letter before claim approved", None),
        now=SIGNED_AT,
    )


@pytest.fixture(scope="session")
def timestamper(ca: tuple[bytes, bytes]) -> DummyTimeStamper:
    """An in-process RFC 3161 authority (pyHanko's test TSA, RSA-only) issued by the test CA."""
    ca_cert = x509.load_pem_x509_certificate(ca[0])
    ca_key = serialization.load_pem_private_key(ca[1], password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(SIGNED_AT - timedelta(days=10))
        .not_valid_after(SIGNED_AT + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
        fixed_dt=SIGNED_AT + timedelta(seconds=5),
    )
