"""An RFC 3161 time-stamping authority on 127.0.0.1 for the tests: the demo's authority
(``portal.signing.tsa``) with a certificate from the test's CA, behind a werkzeug server in a
thread, so the portal talks to it exactly as to a real one (``PORTAL_TSA_URL``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from portal.signing.tsa import authority, make_tsa_certificate


@contextmanager
def local_tsa(ca_pem: bytes, ca_key_pem: bytes) -> Iterator[str]:
    """Serve a time-stamping authority issued by the given CA; yields its URL."""
    server = make_server("127.0.0.1", 0, authority(*make_tsa_certificate(ca_pem, ca_key_pem)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        thread.join(timeout=5)
