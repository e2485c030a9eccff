"""A time-stamping authority and a CRL and OCSP server on 127.0.0.1 for the tests.

The authority is the demo's (``portal.signing.tsa``) with a certificate from the test's CA; both
run behind werkzeug servers in threads, so the portal talks to them exactly as to real ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.signing.demo_pki import DemoRevocation, make_tsa_certificate
from portal.signing.tsa import authority

from ..signing.pdfsig import parse_pdfsig, run_pdfsig


@contextmanager
def local_tsa(
    ca_pem: bytes, ca_key_pem: bytes, revocation: LocalRevocation | None = None
) -> Iterator[str]:
    """Serve a time-stamping authority issued by the given CA; yields its URL. With
    ``revocation`` its certificate names that CRL and OCSP responder."""
    pointers = revocation.pointers() if revocation is not None else {}
    certificate = make_tsa_certificate(ca_pem, ca_key_pem, **pointers)
    server = make_server("127.0.0.1", 0, authority(*certificate))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class LocalRevocation:
    """The test CA's revocation service on 127.0.0.1 (the demo's, ``DemoRevocation``): its CRL
    at ``crl_url`` and its OCSP responder at ``ocsp_url``, for the certificates to name.
    ``revoke()`` works while it runs; ``fetched`` counts the CRL downloads and OCSP queries."""

    def __init__(self, ca_pem: bytes, ca_key_pem: bytes) -> None:
        self.service = DemoRevocation(ca_pem, ca_key_pem)
        self.fetched = 0
        self.asked: list[str] = []  # "crl" or "ocsp", in order
        revocation = self.service

        @Request.application
        def application(request: Request) -> Response:
            self.fetched += 1
            if request.path == "/ocsp":
                self.asked.append("ocsp")
                answer = revocation.ocsp(request.get_data())
                return Response(answer, content_type="application/ocsp-response")
            self.asked.append("crl")
            return Response(revocation.crl(), content_type="application/pkix-crl")

        self._server = make_server("127.0.0.1", 0, application)
        base = f"http://127.0.0.1:{self._server.server_port}"
        self.crl_url, self.ocsp_url = f"{base}/ca.crl", f"{base}/ocsp"

    def pointers(self, *only: str) -> dict[str, str]:
        """``crl_url`` and ``ocsp_url`` for a certificate (``only`` some of them)."""
        pointers = {"crl_url": self.crl_url, "ocsp_url": self.ocsp_url}
        return {key: value for key, value in pointers.items() if not only or key in only}

    def revoke(self, serial: int, when: datetime | None = None) -> None:
        self.service.revoke(serial, when)

    def __enter__(self) -> LocalRevocation:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def assert_pdfsig_b_lta(pdf: bytes, root_pem: bytes, folder: Path, signer: str) -> None:
    """Poppler's ``pdfsig``, trusting only ``root_pem``, on a PAdES B-LTA file: the signer's
    signature is valid and trusted, and the last signature is the authority's document time
    stamp, which signs the whole file (the validation data sits before it)."""
    signature, stamp = parse_pdfsig(run_pdfsig(pdf, folder, trust=root_pem))
    assert signature["Signer Certificate Common Name"] == signer
    assert signature["Signature Validation"] == "Signature is Valid."
    assert signature["Certificate Validation"] == "Certificate is Trusted."
    # Only validation data and the time stamp follow the signature, which therefore cannot
    # cover the whole file; the time stamp does.
    assert signature.get("Not total document signed") is True
    assert stamp["Signer Certificate Common Name"] == "Arrears Portal DEMO TSA"
    assert stamp.get("Total document signed") is True
    assert stamp["Signed Ranges"].endswith(f"- {len(pdf)}]")
