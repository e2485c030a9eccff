"""A throw-away PKI for the demo data and the tests: a CA, counsel certificates, the
time-stamping authority's certificate, and the CA's revocation service (CRL and OCSP).

Nothing here is for real documents: the portal trusts the demo CA only on a demo instance
(``seed-demo``), and the tests make a CA of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from .pki import DOCUMENT_SIGNING

#: How long a CRL or an OCSP answer is fresh.
FRESH_FOR = timedelta(days=1)


def make_ca(
    common_name: str, *, now: datetime | None = None, days: int = 3650
) -> tuple[bytes, bytes]:
    """Create a self-signed CA; returns ``(cert_pem, key_pem)`` with an unencrypted key."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def make_signer_p12(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    *,
    common_name: str,
    email: str,
    organization: str | None = None,
    passphrase: str,
    now: datetime | None = None,
    days: int = 825,
    key_usage: Literal["sign", "encrypt"] = "sign",
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> bytes:
    """Issue a signer certificate from the CA and pack it with its key and the CA as PKCS#12.

    ``key_usage="encrypt"`` issues a key-encipherment-only certificate, which must not sign.
    ``crl_url`` is where the CA publishes its revocation list (the CRL distribution point),
    ``ocsp_url`` where its OCSP responder answers (authority information access).
    """
    ca_cert, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("make_signer_p12 expects a CA key made by make_ca")
    start = (now or datetime.now(UTC)) - timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=key_usage == "sign"), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if key_usage == "sign":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
    builder = _with_revocation_pointers(builder, crl_url, ocsp_url)
    cert = builder.sign(ca_key, hashes.SHA256())
    return pkcs12.serialize_key_and_certificates(
        name=common_name.encode("utf-8"),
        key=key,
        cert=cert,
        cas=[ca_cert],
        encryption_algorithm=(
            serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
            if passphrase
            else serialization.NoEncryption()
        ),
    )


def make_tsa_certificate(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    *,
    days: int = 3650,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> tuple[bytes, bytes]:
    """A time-stamping certificate (RSA, extended key usage timeStamping, critical) issued by
    the CA, naming the CA's CRL and OCSP responder (long-term validation needs its revocation
    status too); ``(cert_pem, key_pem)``."""
    ca_cert, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Arrears Portal DEMO TSA")])
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(start + timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    )
    builder = _with_revocation_pointers(builder, crl_url, ocsp_url)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


class DemoRevocation:
    """The CA's revocation service: which serial numbers it has revoked (and when), served as
    a CRL and as OCSP answers signed with the CA's own key (RFC 5280, RFC 6960)."""

    def __init__(
        self,
        ca_cert_pem: bytes,
        ca_key_pem: bytes,
        revoked: Mapping[int, datetime] | Iterable[int] = (),
    ) -> None:
        self.ca_cert, self.ca_key = _load_ca(ca_cert_pem, ca_key_pem)
        self.ca_cert_pem, self.ca_key_pem = ca_cert_pem, ca_key_pem
        #: serial number → revocation time (UTC); may change while the service runs.
        self.revoked: dict[int, datetime] = _revocations(revoked)

    def revoke(self, serial: int, when: datetime | None = None) -> None:
        self.revoked[serial] = (when or datetime.now(UTC)).astimezone(UTC)

    def crl(self, *, now: datetime | None = None) -> bytes:
        """The current revocation list (DER)."""
        return make_crl(self.ca_cert_pem, self.ca_key_pem, self.revoked, now=now)

    def ocsp(self, request_der: bytes, *, now: datetime | None = None) -> bytes:
        """The DER OCSP answer to a DER request (``malformedRequest`` for anything else;
        ``unauthorized`` for a certificate another CA issued)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            serial = request.serial_number
        except ValueError:
            return _ocsp_error(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        name_hash, key_hash = _issuer_hashes(self.ca_cert, request.hash_algorithm)
        if (request.issuer_name_hash, request.issuer_key_hash) != (name_hash, key_hash):
            return _ocsp_error(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        moment = (now or datetime.now(UTC)) - timedelta(minutes=1)
        revoked_at = self.revoked.get(serial)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=request.hash_algorithm,
            cert_status=(ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD),
            this_update=moment,
            next_update=moment + FRESH_FOR,
            revocation_time=revoked_at,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
        )
        # The CA answers for itself, and carries its certificate: a validator reading the
        # answer years later from a DSS needs nothing else to check who signed it.
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca_cert)
        builder = builder.certificates([self.ca_cert])
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):  # echoed, as the client checks
                builder = builder.add_extension(extension.value, critical=False)
        response = builder.sign(self.ca_key, hashes.SHA256())  # type: ignore[arg-type]
        return response.public_bytes(serialization.Encoding.DER)


def make_crl(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    revoked: Mapping[int, datetime] | Iterable[int],
    *,
    now: datetime | None = None,
) -> bytes:
    """The CA's certificate revocation list (DER) naming the ``revoked`` serial numbers (with
    their revocation times; a bare serial is revoked a minute ago); it is fresh for a day."""
    ca_cert, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    moment = (now or datetime.now(UTC)) - timedelta(minutes=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(moment)
        .next_update(moment + FRESH_FOR)
        .add_extension(x509.CRLNumber(int(moment.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for serial, when in _revocations(revoked, default=moment).items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
    """The extension naming where the issuing CA publishes its revocation list."""
    point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    return x509.CRLDistributionPoints([point])


def _with_revocation_pointers(
    builder: x509.CertificateBuilder, crl_url: str | None, ocsp_url: str | None
) -> x509.CertificateBuilder:
    if crl_url:
        builder = builder.add_extension(crl_distribution_point(crl_url), critical=False)
    if ocsp_url:
        responder = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(
            x509.AuthorityInformationAccess([responder]), critical=False
        )
    return builder


def _revocations(
    revoked: Mapping[int, datetime] | Iterable[int], default: datetime | None = None
) -> dict[int, datetime]:
    if isinstance(revoked, Mapping):
        return {int(serial): when.astimezone(UTC) for serial, when in revoked.items()}
    moment = default or datetime.now(UTC) - timedelta(minutes=1)
    return dict.fromkeys((int(serial) for serial in revoked), moment)


def _issuer_hashes(
    ca_cert: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """The issuer name and key hashes an OCSP request names the CA by (RFC 6960 4.1.1)."""
    name = hashes.Hash(algorithm)
    name.update(ca_cert.subject.public_bytes())
    key = hashes.Hash(algorithm)
    key.update(_public_key_bits(ca_cert))
    return name.finalize(), key.finalize()


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's value without tag, length and the unused-bits count
    (what RFC 6960 hashes for the issuer's key)."""
    info = asn1_keys.PublicKeyInfo.load(
        cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return bytes(info["public_key"].contents[1:])


def _ocsp_error(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def _load_ca(ca_cert_pem: bytes, ca_key_pem: bytes) -> tuple[x509.Certificate, PrivateKeyTypes]:
    return (
        x509.load_pem_x509_certificate(ca_cert_pem),
        serialization.load_pem_private_key(ca_key_pem, password=None),
    )


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _key_usage(*, sign: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=not (sign or cert_sign),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
