"""Error pages for people and the JSON error format for ``/api/``."""

from __future__ import annotations

import datetime as dt
import errno
import time
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .domain import DomainError
from .security import secure_cookie_dropped
from .storage import StorageError

#: Slugs of the API's ``error.code`` per status.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

#: What a person reads on the error page.
MESSAGES = {
    400: "The request could not be understood. If you submitted a form, reload the page and try "
    "again: the form may have expired.",
    401: "Please sign in.",
    403: "Your role does not allow this. Ask an administrator if you need access.",
    404: "There is nothing here, or you do not have access to it.",
    405: "This address does not accept that kind of request.",
    409: "This cannot be changed in its current state.",
    413: "The upload is larger than the portal accepts.",
    415: "This file type is not accepted.",
    422: "Some values are not acceptable.",
    429: "Too many attempts. Wait a little and try again.",
    500: "Something went wrong on our side. The error has been logged; nothing was changed.",
    503: "The service is temporarily unavailable.",
}


def wants_json() -> bool:
    """API requests get JSON errors; pages get HTML."""
    return request.path.startswith("/api/")


def api_error(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A JSON error in the ``{"error": {"code", "message", "fields"}}`` shape."""
    body: dict[str, Any] = {
        "code": code or CODES.get(status, "error"),
        "message": message or MESSAGES.get(status, "Error."),
    }
    if fields:
        body["fields"] = fields
    body.update(extra or {})
    response = jsonify({"error": body})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _webargs_fields(data: dict[str, Any]) -> dict[str, list[str]]:
    """Flatten webargs' ``{"json": {"field": [...]}}`` to ``{"field": [...]}``."""
    fields: dict[str, list[str]] = {}
    for location in (data.get("messages") or data.get("errors") or {}).values():
        if isinstance(location, dict):
            for name, messages in location.items():
                if isinstance(messages, dict):  # nested schema: flatten with dots
                    for sub, sub_messages in messages.items():
                        fields[f"{name}.{sub}"] = [str(item) for item in sub_messages]
                else:
                    fields[str(name)] = [str(item) for item in messages]
    return fields


def _secure_cookie_dropped(error: HTTPException) -> bool:
    """A form refused because the browser dropped the Secure session cookie over plain http.

    On a host name other than localhost (a VM, a LAN name) no form can pass then, so the page
    names the cause and the setting instead of a bare 400.
    """
    if not isinstance(error, CSRFError) or wants_json():
        return False
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return False
    return secure_cookie_dropped()


def _allow_header(error: HTTPException) -> dict[str, str]:
    """A 405's ``Allow`` (RFC 9110 §15.5.6: the methods the address does accept)."""
    methods = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(sorted(methods))} if methods else {}


def _too_many(error: HTTPException) -> tuple[str, dict[str, str]]:
    """What a 429 says: which limit (the account's, the address's) and when to try again."""
    from .extensions import limiter

    current = limiter.current_limit
    wait = max(1, current.reset_at - int(time.time())) if current is not None else 60
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)).strftime("%H:%M:%S")
    what = "Too many attempts."
    if isinstance(error, RateLimitExceeded) and error.limit.error_message:
        what = error.description
    message = f"{what} Try again in {wait} seconds (after {at} UTC)."
    return message, {"Retry-After": str(wait)}


def handle_http_exception(error: HTTPException):
    """Every HTTP error: JSON under ``/api/``, an error page elsewhere."""
    status = error.code or 500
    if _secure_cookie_dropped(error):
        current_app.logger.warning(
            "Form refused: no session cookie came back over plain http to %s while "
            "SESSION_COOKIE_SECURE is on. Serve the portal over HTTPS (PORTAL_PROXY_FIX behind "
            "a proxy) or set PORTAL_SESSION_COOKIE_SECURE=false for a plain-http trial.",
            request.host,
        )
        return render_template("errors/secure_cookie.html", status=status), status
    if wants_json():
        data = getattr(error, "data", None) or {}
        fields = _webargs_fields(data)
        message = data.get("message") or ("Some fields are missing or invalid." if fields else None)
        if message is None and status != 500:
            message = error.description
        headers = {**_allow_header(error), **dict(data.get("headers") or {})}
        if status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        if status == 429:
            message, retry = _too_many(error)
            headers.update(retry)
        return api_error(status, message, fields=fields, headers=headers)
    message = MESSAGES.get(status, error.description)
    headers = _allow_header(error)
    if status == 429:
        message, headers = _too_many(error)
    page = render_template("errors/error.html", status=status, title=error.name, message=message)
    return page, status, headers


def handle_domain_error(error: DomainError):
    """A service refused: its status and message, as JSON or a page."""
    findings = getattr(error, "findings", None)
    if wants_json():
        extra = {"findings": [finding.as_dict() for finding in findings]} if findings else None
        return api_error(
            error.status, error.message, code=error.code, fields=error.fields, extra=extra
        )
    return render_template(
        "errors/error.html", status=error.status, title="Not possible", message=error.message
    ), error.status


#: Seconds a client is asked to wait before trying again when a dependency is down.
RETRY_AFTER = "30"


def _unavailable(message: str):
    """503 with ``Retry-After``; the request's transaction is rolled back (nothing kept)."""
    from .extensions import db

    db.session.rollback()
    if wants_json():
        return api_error(503, message, headers={"Retry-After": RETRY_AFTER})
    page = render_template(
        "errors/error.html", status=503, title="Temporarily unavailable", message=message
    )
    return page, 503, {"Retry-After": RETRY_AFTER}


def handle_database_down(error: Exception):
    """The database does not answer (down, partitioned, a statement timed out)."""
    current_app.logger.error("Database unavailable: %s", error)
    return _unavailable(
        "The database is not answering right now, so nothing was changed. Try again in a "
        "moment; if it goes on, tell an administrator."
    )


def handle_storage_error(error: OSError):
    """The file store cannot be written (disk full, read-only) or read."""
    if error.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EIO):
        raise error
    current_app.logger.error("File store unavailable: %s", error)
    return _unavailable(
        "The file store cannot be written right now (the disk is full or read-only), so "
        "nothing was changed. Try again later; an administrator has been told in the log."
    )


#: What people read when a stored file fails its hash check or is gone.
DAMAGED_FILE = (
    "A stored file this needs is damaged (its bytes no longer match the fingerprint recorded "
    "when it was stored), so the portal will not serve or use it. An administrator must "
    "restore it from the backup (docs/operations.md, “Restore”); the administrators have been "
    "told."
)
MISSING_FILE = (
    "A stored file this needs is missing from the file store, so the portal cannot serve or "
    "use it. An administrator must restore it from the backup (docs/operations.md, "
    "“Restore”); the administrators have been told."
)


def handle_storage_damage(error: StorageError):
    """A stored file that fails its hash check (or is gone): 409, audited, never served.

    The request's own changes are rolled back; the audit entry is written in a transaction of
    its own, and the admins' System page lists every such file until it verifies again.
    """
    from flask import g
    from flask_login import current_user

    from .audit.services import Actor, record
    from .extensions import db

    current_app.logger.error("Stored file refused: %s (%s %s)", error, request.method, request.path)
    db.session.rollback()
    user = g.get("api_user")
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    try:
        record(
            Actor(user=user, ip=request.remote_addr),
            f"file.{error.problem}",
            "file",
            error.sha256,
            after={"path": request.path[:300], "method": request.method},
        )
        db.session.commit()
    except Exception:  # the refusal stands even if the trail cannot be written now
        db.session.rollback()
        current_app.logger.exception("Could not audit the damaged file %s", error.sha256)
    message = DAMAGED_FILE if error.problem == "damaged" else MISSING_FILE
    if wants_json():
        return api_error(409, message, code=f"file_{error.problem}")
    title = "File damaged" if error.problem == "damaged" else "File missing"
    return render_template("errors/error.html", status=409, title=title, message=message), 409


def init_app(app: Flask) -> None:
    """Register the handlers (after flask-smorest, replacing its JSON-only handler)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
    app.register_error_handler(OSError, handle_storage_error)
    app.register_error_handler(StorageError, handle_storage_damage)
