"""Helpers shared by the forms of every domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_wtf import FlaskForm

from .domain import DomainError
from .extensions import db


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


def submit(form: FlaskForm, change: Callable[[], Any]) -> bool:
    """Run a page's ``change`` for a valid posted ``form`` and commit it; ``True`` when saved.

    A service's refusal (``DomainError``) is rolled back and put on the form's fields, so the
    page re-renders with it (422) and nothing half-done is kept.
    """
    if not form.validate_on_submit():
        return False
    try:
        change()
    except DomainError as error:
        db.session.rollback()
        populate_errors(form, error)
        return False
    db.session.commit()
    return True
