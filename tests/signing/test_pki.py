"""Checking counsel PKCS#12 files and trusted-root certificates."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.signing.demo_pki import make_ca, make_signer_p12
from portal.signing.pki import (
    CertificateRejected,
    certificate_identity,
    check_signing_certificate,
    load_pem_or_der_certificate,
    load_pkcs12,
)

from .conftest import PASSPHRASE, SIGNER_NAME


def test_load_pkcs12_describes_the_signer(signer_p12: bytes) -> None:
    identity = load_pkcs12(signer_p12, PASSPHRASE)

    _key, cert, chain = pkcs12.load_key_and_certificates(signer_p12, PASSPHRASE.encode())
    assert cert is not None
    der = cert.public_bytes(serialization.Encoding.DER)
    assert identity.subject_name == SIGNER_NAME
    assert identity.subject.startswith("1.2.840.113549.1.9.1=alice@counsel.example")
    assert "CN=Alice Counsel" in identity.subject
    assert identity.issuer == "CN=Arrears Test Root CA"
    assert identity.email == "alice@counsel.example"
    assert identity.serial == format(cert.serial_number, "x")
    assert identity.fingerprint_sha256 == hashlib.sha256(der).hexdigest()
    assert identity.not_before.tzinfo is not None and identity.not_after.utcoffset() == timedelta()
    assert identity.not_before < datetime.now(UTC) < identity.not_after
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=Arrears Test Root CA"]


def test_wrong_passphrase_points_at_the_passphrase(signer_p12: bytes) -> None:
    with pytest.raises(CertificateRejected) as caught:
        load_pkcs12(signer_p12, "not the passphrase")

    assert caught.value.code == "certificate_rejected"
    assert caught.value.status == 422
    assert list(caught.value.fields) == ["passphrase"]
    assert "passphrase" in caught.value.message


def test_expired_certificate_is_rejected(ca: tuple[bytes, bytes]) -> None:
    issued = datetime.now(UTC) - timedelta(days=400)
    p12 = make_signer_p12(
        *ca, common_name="Old", email="old@example.com", passphrase="pw", now=issued, days=365
    )

    with pytest.raises(CertificateRejected, match="expired") as caught:
        load_pkcs12(p12, "pw")
    assert list(caught.value.fields) == ["file"]
    # At a time inside its validity the same file is fine.
    assert load_pkcs12(p12, "pw", now=issued + timedelta(days=1)).subject_name == "Old"


def test_not_yet_valid_certificate_is_rejected(ca: tuple[bytes, bytes]) -> None:
    p12 = make_signer_p12(
        *ca,
        common_name="Future",
        email="future@example.com",
        passphrase="pw",
        now=datetime.now(UTC) + timedelta(days=2),
    )

    with pytest.raises(CertificateRejected, match="not valid before"):
        load_pkcs12(p12, "pw")


def test_encryption_only_key_usage_is_rejected(ca: tuple[bytes, bytes]) -> None:
    p12 = make_signer_p12(
        *ca, common_name="Crypt", email="crypt@example.com", passphrase="pw", key_usage="encrypt"
    )

    with pytest.raises(CertificateRejected, match="key usage does not allow signatures"):
        load_pkcs12(p12, "pw")


def _leaf(ca: tuple[bytes, bytes], purposes: list[x509.ObjectIdentifier]) -> x509.Certificate:
    ca_cert = x509.load_pem_x509_certificate(ca[0])
    ca_key = serialization.load_pem_private_key(ca[1], password=None)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Web server")]))
        .issuer_name(ca_cert.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )


def test_extended_key_usage_must_allow_document_signing(ca: tuple[bytes, bytes]) -> None:
    now = datetime.now(UTC)
    with pytest.raises(CertificateRejected, match="extended key usage"):
        check_signing_certificate(_leaf(ca, [ExtendedKeyUsageOID.SERVER_AUTH]), now)

    for purpose in (
        x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        x509.ObjectIdentifier("1.2.840.113583.1.1.5"),
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    ):
        check_signing_certificate(_leaf(ca, [ExtendedKeyUsageOID.SERVER_AUTH, purpose]), now)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%%EOF\n",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        b"\x30\x82\x01\x00" + b"\x00" * 256,
        b"",
    ],
    ids=["pdf", "pem", "der-junk", "empty"],
)
def test_files_that_are_not_pkcs12_are_rejected(data: bytes) -> None:
    with pytest.raises(CertificateRejected) as caught:
        load_pkcs12(data, "pw")
    assert set(caught.value.fields) <= {"file", "passphrase"}


def test_oversized_file_is_refused_before_parsing(signer_p12: bytes) -> None:
    with pytest.raises(CertificateRejected, match="too large") as caught:
        load_pkcs12(signer_p12 + b"\x00" * (64 * 1024), PASSPHRASE)
    assert list(caught.value.fields) == ["file"]


def test_p12_without_passphrase_opens_with_an_empty_one(ca: tuple[bytes, bytes]) -> None:
    p12 = make_signer_p12(*ca, common_name="Open", email="open@example.com", passphrase="")

    assert load_pkcs12(p12, "").subject_name == "Open"


def test_trusted_root_loads_from_pem_and_der(ca: tuple[bytes, bytes]) -> None:
    from_pem = load_pem_or_der_certificate(ca[0])
    from_der = load_pem_or_der_certificate(from_pem.public_bytes(serialization.Encoding.DER))

    assert from_pem == from_der
    identity = certificate_identity(from_der)
    assert identity.subject_name == "Arrears Test Root CA"
    assert identity.subject == identity.issuer == "CN=Arrears Test Root CA"
    assert identity.email is None


@pytest.mark.parametrize("data", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nxx\n"])
def test_junk_is_not_a_trusted_root(data: bytes) -> None:
    with pytest.raises(CertificateRejected) as caught:
        load_pem_or_der_certificate(data)
    assert list(caught.value.fields) == ["file"]


def test_make_ca_is_a_certificate_authority() -> None:
    cert_pem, key_pem = make_ca("Demo CA", days=30)

    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=30)
    assert b"PRIVATE KEY" in key_pem
