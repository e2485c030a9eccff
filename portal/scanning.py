"""Malware scanning of every uploaded file with ClamAV's daemon (clamd), before any view runs.

With ``CLAMD_SOCKET`` or ``CLAMD_ADDRESS`` set, each file part of each request — pages and
``/api/v1``, whatever the view does with it — is streamed to clamd (INSTREAM) from the temporary
file it was received into:

- clamd finds a signature → 422 ``infected`` naming it; nothing is stored (the view never runs)
  and the attempt is audited as ``upload.infected``;
- clamd does not answer, times out or answers something else → 503 ``scanner_unavailable``
  with ``Retry-After``: the portal fails closed, it never lets a file through unscanned.

The parts are scanned by a ``before_request`` hook, after the CSRF check and before any view or
database work. A view may raise the upload limit for itself (``/verify`` lets the multipart
framing come on top of the largest file); a body above the site-wide limit is parsed only
inside such a view, and the request class scans it there, the moment it is parsed, before the
view can read a byte of it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from flask import Flask, Request, current_app, render_template, request
from werkzeug.datastructures import FileStorage

from .domain import DomainError
from .errors import RETRY_AFTER, api_error, wants_json
from .extensions import db

if TYPE_CHECKING:
    from .accounts.models import User

logger = logging.getLogger(__name__)

#: Where ``init_app`` keeps the configured daemon (absent: scanning is off).
EXTENSION = "portal.clamd"
#: Bytes handed to clamd per INSTREAM chunk (the client's own 1 KB chunks make a 60 MB upload
#: take four times as long; clamd takes chunks of any size up to StreamMaxLength).
CHUNK = 64 * 1024
#: Seconds the System page waits for clamd's VERSION at most.
STATUS_TIMEOUT = 5.0


class UploadInfected(DomainError):
    """clamd found a signature in an uploaded file."""

    status = 422
    code = "infected"
    title = "Malware found"

    def __init__(self, filename: str, signature: str) -> None:
        shown = filename[:120] or "The uploaded file"
        super().__init__(
            f"“{shown}” contains malware (ClamAV found {signature}), so it was refused and "
            "nothing from this upload was stored. Scan the computer it came from, and ask the "
            "sender for a clean copy."
        )
        self.filename = filename
        self.signature = signature


class ScannerUnavailable(DomainError):
    """clamd did not give a verdict; ``reason`` is for the log, not for the person."""

    status = 503
    code = "scanner_unavailable"
    title = "Temporarily unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            "Uploads are checked for malware before anything is stored, and the malware "
            "scanner is not answering right now, so nothing was stored. Try again in a "
            "minute; if it goes on, tell an administrator."
        )
        self.reason = reason


class _Chunks:
    """An upload's stream read in CHUNK-sized pieces whatever size the client asks for."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def read(self, _size: int = -1) -> bytes:
        return self.stream.read(CHUNK)


def _closed(client: ClamdNetworkSocket) -> None:
    # The client leaves its socket open when connecting fails (ping/version); close it always.
    sock = getattr(client, "clamd_socket", None)
    if sock is not None:
        sock.close()


@dataclass(frozen=True)
class Clamd:
    """Where clamd listens and how long it may stay silent; a new connection per command."""

    socket: str | None
    address: tuple[str, int] | None
    timeout: float

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Clamd | None:
        """The configured daemon, or ``None`` when scanning is off.

        :raises ValueError: both settings given, an address that is not ``host:port``, or a
            timeout that is not a positive number of seconds.
        """
        socket, address = config.get("CLAMD_SOCKET") or None, config.get("CLAMD_ADDRESS") or None
        if not socket and not address:
            return None
        if socket and address:
            raise ValueError("Set CLAMD_SOCKET or CLAMD_ADDRESS, not both.")
        timeout = config.get("CLAMD_TIMEOUT")
        try:
            seconds = float(timeout)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = 0.0
        if not seconds > 0:
            raise ValueError(f"CLAMD_TIMEOUT must be a number of seconds, not {timeout!r}.")
        if socket:
            return cls(socket=str(socket), address=None, timeout=seconds)
        host, _, port = str(address).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"CLAMD_ADDRESS must be host:port, not {address!r}.")
        return cls(socket=None, address=(host.strip("[]"), int(port)), timeout=seconds)

    @property
    def where(self) -> str:
        if self.socket:
            return self.socket
        host, port = self.address or ("", 0)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def client(self, timeout: float | None = None) -> ClamdNetworkSocket:
        seconds = timeout or self.timeout
        if self.socket:
            return ClamdUnixSocket(self.socket, timeout=seconds)  # type: ignore[arg-type]
        host, port = self.address or ("", 0)
        return ClamdNetworkSocket(host, port, timeout=seconds)

    def scan(self, stream: IO[bytes]) -> str | None:
        """The signature clamd finds in the stream (read from where it is), or ``None``.

        :raises ScannerUnavailable: no verdict (down, silent, an error or an unknown answer).
        """
        client = self.client()
        try:
            result = client.instream(_Chunks(stream))
        except (ClamdError, OSError, ValueError) as error:
            # OSError: a write to a clamd that went away (or that hung up on a stream longer
            # than its StreamMaxLength); ValueError: an answer that is not even text.
            raise ScannerUnavailable(f"{type(error).__name__}: {error}") from error
        finally:
            _closed(client)
        status, detail = next(iter(result.values()), (None, None))
        if status == "OK":
            return None
        if status == "FOUND" and detail:
            return detail
        raise ScannerUnavailable(f"clamd answered {status} {detail or ''}".strip())

    def version(self) -> str:
        """clamd's VERSION answer (engine, and signature version and date when it has them).

        :raises ScannerUnavailable: it does not answer.
        """
        client = self.client(min(self.timeout, STATUS_TIMEOUT))
        try:
            return client.version()
        except (ClamdError, OSError, ValueError) as error:
            raise ScannerUnavailable(f"{type(error).__name__}: {error}") from error
        finally:
            _closed(client)


@dataclass(frozen=True)
class ScannerHealth:
    """What the System page shows: ``off``, ``ok`` (with clamd's version) or ``unavailable``."""

    state: str
    where: str | None = None
    version: str | None = None
    problem: str | None = None


def scanner_health() -> ScannerHealth:
    """Whether uploads are scanned and whether clamd answers now."""
    clamd: Clamd | None = current_app.extensions.get(EXTENSION)
    if clamd is None:
        return ScannerHealth("off")
    try:
        return ScannerHealth("ok", clamd.where, version=clamd.version())
    except ScannerUnavailable as error:
        return ScannerHealth("unavailable", clamd.where, problem=error.reason)


# --- requests ----------------------------------------------------------------------------------


def _sha256_and_size(stream: IO[bytes]) -> tuple[str, int]:
    """Fingerprint of a refused upload for the audit trail, read from its temporary file."""
    stream.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _uploader() -> User | None:
    """The user who sent the request, as the view would authenticate them (token or session)."""
    from flask_login import current_user

    from .accounts.services import user_for_token

    if wants_json():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    return current_user._get_current_object() if current_user.is_authenticated else None


def _record_infected(upload: FileStorage, signature: str) -> None:
    """Audit the refused upload in a transaction of its own (the request's is discarded).

    Only when the sender is known: an anonymous request is refused and logged, but may not
    write to the audit trail (anyone could fill it).
    """
    from .audit.services import Actor, record

    sha256, size = _sha256_and_size(upload.stream)
    logger.warning(
        "Upload refused: clamd found %s in %r (%d bytes, sha256 %s) at %s %s from %s",
        signature, upload.filename, size, sha256, request.method, request.path,
        request.remote_addr,
    )  # fmt: skip
    db.session.rollback()
    try:
        user = _uploader()
        if user is None:
            return
        record(
            Actor(user=user, ip=request.remote_addr),
            "upload.infected",
            "upload",
            None,
            after={
                "signature": signature,
                "filename": (upload.filename or "")[:255],
                "path": request.path[:300],
                "sha256": sha256,
                "size": size,
            },
        )
        db.session.commit()
    except Exception:  # the refusal stands even if the trail cannot be written now
        db.session.rollback()
        logger.exception("Could not audit the infected upload %s", sha256)


def _drop_files(req: Request) -> None:
    """Take the files off the request, so nothing can read them even if the error is caught."""
    for _name, upload in req.files.items(multi=True):
        upload.close()
    req.__dict__["files"] = req.parameter_storage_class()


def scan_request_files(req: Request) -> None:
    """Scan every file part of the request; each stream is left where it was.

    :raises UploadInfected: a part carries a signature (audited; the files are dropped).
    :raises ScannerUnavailable: clamd gave no verdict (logged; the files are dropped).
    """
    clamd: Clamd = current_app.extensions[EXTENSION]
    for _name, upload in req.files.items(multi=True):
        stream = upload.stream
        start = stream.tell()
        if stream.seek(0, 2) == start:  # the empty part of a form sent without a file
            continue
        stream.seek(start)
        try:
            signature = clamd.scan(stream)
        except ScannerUnavailable as error:
            logger.error(
                "Upload refused (503): clamd at %s gave no verdict on %r at %s %s: %s",
                clamd.where, upload.filename, req.method, req.path, error.reason,
            )  # fmt: skip
            _drop_files(req)
            raise
        if signature is not None:
            _record_infected(upload, signature)
            _drop_files(req)
            raise UploadInfected(upload.filename or "", signature)
        stream.seek(start)


class ScannedRequest(Request):
    """A request whose files, once the ``before_request`` scan has passed, are scanned the
    moment they are parsed: views that raise their own upload limit parse only then."""

    scan_when_parsed = False

    def _load_form_data(self) -> None:
        fresh = "form" not in self.__dict__
        super()._load_form_data()
        if fresh and self.scan_when_parsed:
            scan_request_files(self)


def _scan_uploads() -> None:
    """Scan the request's files before the view runs (when the body fits the site-wide limit)."""
    try:
        length, limit = request.content_length, request.max_content_length
        if (
            request.routing_exception is None
            and request.mimetype == "multipart/form-data"
            and length is not None
            and (limit is None or length <= limit)
        ):
            scan_request_files(request)
    finally:
        request.scan_when_parsed = True  # type: ignore[attr-defined]


def _wants_json() -> bool:
    """The API, and the evidence page's upload script, which asks for JSON."""
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return wants_json() or best == "application/json"


def handle_refusal(error: UploadInfected | ScannerUnavailable):
    """422 naming the signature, or 503 with ``Retry-After``: JSON or the error page."""
    db.session.rollback()
    headers = {"Retry-After": RETRY_AFTER} if error.status == 503 else {}
    if _wants_json():
        return api_error(error.status, error.message, code=error.code, headers=headers)
    page = render_template(
        "errors/error.html", status=error.status, title=error.title, message=error.message
    )
    return page, error.status, headers


def init_app(app: Flask) -> None:
    """Scan uploads when clamd is configured (after the CSRF check; before every view).

    :raises ValueError: the CLAMD_* settings contradict each other or do not parse.
    """
    clamd = Clamd.from_config(app.config)
    if clamd is None:
        return
    app.extensions[EXTENSION] = clamd
    app.request_class = ScannedRequest
    app.before_request(_scan_uploads)
    app.register_error_handler(UploadInfected, handle_refusal)
    app.register_error_handler(ScannerUnavailable, handle_refusal)
