"""A time-stamping authority and a CRL server on 127.0.0.1 for the tests.

The authority is the demo's (``portal.signing.tsa``) with a certificate from the test's CA; both
run behind werkzeug servers in threads, so the portal talks to them exactly as to real ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.signing.pki import make_crl
from portal.signing.tsa import authority, make_tsa_certificate

from ..signing.pdfsig import parse_pdfsig, run_pdfsig


@contextmanager
def local_tsa(ca_pem: bytes, ca_key_pem: bytes, crl_url: str | None = None) -> Iterator[str]:
    """Serve a time-stamping authority issued by the given CA; yields its URL."""
    certificate = make_tsa_certificate(ca_pem, ca_key_pem, crl_url=crl_url)
    server = make_server("127.0.0.1", 0, authority(*certificate))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class LocalCrl:
    """The test CA's revocation list on 127.0.0.1: ``url`` for the certificates' CRL
    distribution point; ``revoked`` (serial numbers) can change while it runs."""

    def __init__(self, ca_pem: bytes, ca_key_pem: bytes) -> None:
        self.ca_pem, self.ca_key_pem = ca_pem, ca_key_pem
        self.revoked: list[int] = []
        self.fetched = 0

        @Request.application
        def application(request: Request) -> Response:
            self.fetched += 1
            crl = make_crl(self.ca_pem, self.ca_key_pem, list(self.revoked))
            return Response(crl, content_type="application/pkix-crl")

        self._server = make_server("127.0.0.1", 0, application)
        self.url = f"http://127.0.0.1:{self._server.server_port}/ca.crl"

    def __enter__(self) -> LocalCrl:
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
