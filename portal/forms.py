"""Helpers shared by the forms of every domain."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm

from .domain import DomainError


def populate_errors(
    form: FlaskForm, error: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Put a service's field errors onto the form's fields; the rest become form errors."""
    field_map = field_map or {}
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, field_map.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.message)
