"""The demo's RFC 3161 time-stamping authority, CRL and OCSP responder: one WSGI application.

``make run`` serves it on 127.0.0.1 beside the portal so that the demo signs PAdES B-LTA out of
the box. Its certificate is issued by the demo CA (trusted by the demo portal only); the time
stamps are made by pyHanko's own in-process authority, the revocation answers by
``demo_pki.DemoRevocation``. Never a production authority: there, ``PORTAL_TSA_URL`` names a
qualified or otherwise trusted service.
"""

from __future__ import annotations

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import DummyTimeStamper
from werkzeug.wrappers import Request, Response

from .demo_pki import DemoRevocation

#: What an RFC 3161 client sends and expects (RFC 3161 section 3.4).
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
#: What an OCSP responder answers (RFC 6960 appendix A).
OCSP_REPLY_TYPE = "application/ocsp-response"


def authority(cert_pem: bytes, key_pem: bytes, revocation: DemoRevocation | None = None):
    """The WSGI application answering RFC 3161 time-stamp queries (``POST /tsa``) with the
    certificate and, given the CA's ``revocation`` service, ``GET /crl`` with its current
    revocation list and ``POST /ocsp`` with OCSP answers."""
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
        if revocation is not None and request.path == "/crl" and request.method == "GET":
            return Response(revocation.crl(), content_type="application/pkix-crl")
        if revocation is not None and request.path == "/ocsp" and request.method == "POST":
            answer = revocation.ocsp(request.get_data())
            return Response(answer, content_type=OCSP_REPLY_TYPE)
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
