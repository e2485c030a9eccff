"""The demo's RFC 3161 time-stamping authority and CRL: a WSGI application, its certificate.

``make run`` serves it on 127.0.0.1 beside the portal so that the demo signs PAdES B-LTA out of
the box. Its certificate is issued by the demo CA (trusted by the demo portal only); the
responses are made by pyHanko's own in-process authority. Never a production authority: there,
``PORTAL_TSA_URL`` names a qualified or otherwise trusted service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from werkzeug.wrappers import Request, Response

from .pki import crl_distribution_point

#: What an RFC 3161 client sends and expects (RFC 3161 section 3.4).
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


def make_tsa_certificate(
    ca_cert_pem: bytes, ca_key_pem: bytes, *, days: int = 3650, crl_url: str | None = None
) -> tuple[bytes, bytes]:
    """A time-stamping certificate (RSA, extended key usage timeStamping, critical) issued by
    the CA, naming the CA's CRL at ``crl_url`` (long-term validation needs its revocation
    status too); ``(cert_pem, key_pem)``."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
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
    if crl_url:
        cert = cert.add_extension(crl_distribution_point(crl_url), critical=False)
    cert = cert.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def authority(cert_pem: bytes, key_pem: bytes, crl: Callable[[], bytes] | None = None):
    """The WSGI application answering RFC 3161 time-stamp queries (POST) with the certificate,
    and ``GET /crl`` with the CA's current revocation list when ``crl`` makes one."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    @Request.application
    def application(request: Request) -> Response:
        if request.method == "GET" and request.path == "/crl" and crl is not None:
            return Response(crl(), content_type="application/pkix-crl")
        if request.method != "POST":
            return Response(
                "POST an RFC 3161 time-stamp query.\n", status=405, headers={"Allow": "POST"}
            )
        try:
            query = tsp.TimeStampReq.load(request.get_data())
            _ = query.native  # parse it all now: a bad query is the client's error
        except (ValueError, TypeError):
            return Response("Not an RFC 3161 time-stamp query.\n", status=400)
        answer = stamper.request_tsa_response(query)
        return Response(answer.dump(), content_type=REPLY_TYPE)

    return application
