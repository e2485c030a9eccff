"""An RFC 3161 time-stamping authority on 127.0.0.1 for the tests.

pyHanko's ``DummyTimeStamper`` answers the requests (a TSA certificate issued by the test's CA,
extended key usage timeStamping); a werkzeug server in a thread speaks HTTP, so the portal talks
to it exactly as to a real authority (``PORTAL_TSA_URL``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def _stamper(ca_pem: bytes, ca_key_pem: bytes) -> DummyTimeStamper:
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
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
    )


@contextmanager
def local_tsa(ca_pem: bytes, ca_key_pem: bytes) -> Iterator[str]:
    """Serve a time-stamping authority issued by the given CA; yields its URL."""
    stamper = _stamper(ca_pem, ca_key_pem)

    @Request.application
    def application(request: Request) -> Response:
        answer = stamper.request_tsa_response(tsp.TimeStampReq.load(request.get_data()))
        return Response(answer.dump(), content_type="application/timestamp-reply")

    server = make_server("127.0.0.1", 0, application)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        thread.join(timeout=5)
