"""Record ids as they arrive from outside: in routes, query parameters and API bodies.

Every table's key is a 32-bit integer on PostgreSQL, so an id outside 1 … 2^31−1 names nothing.
Such input must never reach the database (SQLite overflows at 2^63, PostgreSQL at 2^31 — a 500):
routes answer 404 through :class:`IdConverter` (installed as the ``int`` converter, so every
``<int:…>`` route is covered), query parameters 422 through :func:`id_arg`, API fields 422
through :class:`Id`, form fields through :func:`form_id`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

#: The largest key a table holds (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in a route: 1 … :data:`MAX_ID`, anything else is no route (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """``raw`` as an id, or ``None`` when it is not a whole number in 1 … :data:`MAX_ID`."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def form_id(value: object) -> int:
    """``coerce`` for form fields carrying ids (WTForms reports a ``ValueError`` as invalid)."""
    parsed = parse_id(str(value))
    if parsed is None:
        raise ValueError(f"not an id: {str(value)[:20]}")
    return parsed


def id_arg(name: str) -> int | None:
    """An optional id query parameter of a page; present but not an id → 422."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    value = parse_id(raw)
    if value is None:
        abort(422, description=f"“{name}” must be a whole number from 1 to {MAX_ID}.")
    return value


class Id(fields.Integer):
    """An id in an API request or response: an integer in 1 … :data:`MAX_ID`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


def init_app(app: Any) -> None:
    """Make ``<int:…>`` routes ids (before any blueprint registers its rules)."""
    app.url_map.converters["int"] = IdConverter
