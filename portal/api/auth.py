"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, request
from flask_login import current_user

from ..accounts.models import User
from ..accounts.services import user_for_token
from ..audit.services import Actor
from ..security import Permission, has_permission

F = TypeVar("F", bound=Callable[..., Any])

#: The OpenAPI security requirement of authenticated operations.
BEARER = [{"bearerAuth": []}]


def api_user() -> User:
    """The token's user; only valid inside a ``token_required`` view."""
    return g.api_user


def api_actor() -> Actor:
    """The token's user and the client address, for services."""
    return Actor(user=g.api_user, ip=request.remote_addr)


def token_required(
    permission: Permission | None = None, *, allow_session: bool = False
) -> Callable[[F], F]:
    """No or bad token → 401; token fine but the role lacks ``permission`` → 403.

    Session cookies are ignored — only the ``Authorization`` header counts — except on the
    read-only routes marked ``allow_session`` that the portal's own pages poll (job progress):
    a GET changes nothing, so a cookie carries no CSRF risk there.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if (
                user is None
                and allow_session
                and not scheme
                and request.method == "GET"
                and current_user.is_authenticated
            ):
                user = current_user._get_current_object()
            if user is None:
                abort(401, description="A valid API token is required.")
            g.api_user = user
            if permission is not None and not has_permission(user, permission):
                abort(403, description="Your role does not allow this.")
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
