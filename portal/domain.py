"""Errors that services raise and views turn into messages or status codes."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out; ``status`` is the HTTP code it maps to."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Values that are well-formed but not acceptable."""


class Conflict(DomainError):
    """The object's state does not allow the change (duplicate, wrong stage, signed)."""

    status = 409
    code = "conflict"


class NotFound(DomainError):
    """The object does not exist or the actor may not see it."""

    status = 404
    code = "not_found"
