"""Roles and what each may do; object-level rules live in ``cases/policy.py``.

Permissions are data: one table that says which roles hold which permission, so the access
matrix test and the navigation read the same source as the checks.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_login import current_user

if TYPE_CHECKING:
    from .accounts.models import User

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    """A user's role; one per user."""

    ADMIN = "admin"
    LEGAL = "legal"
    FINANCE = "finance"
    LAWYER = "lawyer"


class Permission(enum.StrEnum):
    """Something a role may do, whatever object it is done to."""

    MANAGE_USERS = "manage_users"
    MANAGE_CREDITORS = "manage_creditors"
    ASSIGN_LAWYERS = "assign_lawyers"
    VIEW_LEDGER = "view_ledger"
    EDIT_LEDGER = "edit_ledger"
    VIEW_CASES = "view_cases"
    MANAGE_CASES = "manage_cases"
    UPLOAD_EVIDENCE = "upload_evidence"
    GENERATE_DOCUMENTS = "generate_documents"
    REVIEW_DOCUMENTS = "review_documents"
    VIEW_AUDIT = "view_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission) - {Permission.REVIEW_DOCUMENTS},
    Role.LEGAL: frozenset(
        {
            Permission.ASSIGN_LAWYERS,
            Permission.VIEW_LEDGER,
            Permission.EDIT_LEDGER,
            Permission.VIEW_CASES,
            Permission.MANAGE_CASES,
            Permission.UPLOAD_EVIDENCE,
            Permission.GENERATE_DOCUMENTS,
        }
    ),
    Role.FINANCE: frozenset(
        {
            Permission.VIEW_LEDGER,
            Permission.EDIT_LEDGER,
            Permission.VIEW_CASES,
            Permission.UPLOAD_EVIDENCE,
        }
    ),
    # A lawyer's VIEW_CASES is narrowed to assigned cases by cases/policy.py.
    Role.LAWYER: frozenset({Permission.VIEW_CASES, Permission.REVIEW_DOCUMENTS}),
}


def has_permission(user: User | None, permission: Permission) -> bool:
    """Whether an active user's role grants ``permission``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS[user.role]


def _here() -> str:
    """The current path and query, to come back to after sign-in."""
    return request.full_path.rstrip("?")


def permission_required(permission: Permission) -> Callable[[F], F]:
    """Guard a page: anonymous → login page, signed in without the permission → 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.login", next=_here()))
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def login_required(view: F) -> F:
    """Guard a page that any signed-in user may open."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=_here()))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _is_loopback(hostname: str) -> bool:
    """Hosts whose plain-http pages browsers treat as secure contexts (they keep Secure cookies)."""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def secure_cookie_dropped() -> bool:
    """Whether the browser will drop the session cookie on this request's address.

    The cookie carries the Secure flag (``SESSION_COOKIE_SECURE``) and the page came over plain
    http from a host other than localhost, so the browser keeps no session and every form fails
    its CSRF check. A TLS-terminating proxy announcing https (``X-Forwarded-Proto``) counts as
    secure even without ``PROXY_FIX``: this only decides whether to explain, never whom to trust.
    """
    if not current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
        return False
    if request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https":
        return False
    hostname = urlsplit(f"//{request.host}").hostname or ""
    return not _is_loopback(hostname)


def _security_headers(response):
    """Headers every response carries."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Cookies only travel over HTTPS, so the site is HTTPS-only: browsers remember it for a
        # year (sent over plain http too, where browsers ignore it: RFC 6797 §8.1).
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Signed-in pages and API answers are private; static files may be cached.
    if request.path.startswith("/api/") or "_user_id" in session:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install the response headers and the template helper ``can(permission)``."""
    app.after_request(_security_headers)

    @app.context_processor
    def _permissions() -> dict[str, Any]:
        return {
            "Permission": Permission,
            "can": lambda permission: has_permission(current_user, permission),
            "secure_cookie_dropped": secure_cookie_dropped,
        }
