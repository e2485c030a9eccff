"""How the API reads requests: one blueprint class for every ``/api/v1`` blueprint.

- JSON bodies are typed as the OpenAPI document says: ``true`` is a boolean, ``3`` an integer,
  ``"1234.50"`` an amount — marshmallow alone would take ``0`` for false, ``"3"`` for 3 and
  ``1234`` for ``"1234"``, so a body the schema calls invalid would be accepted.
- A ``multipart`` location: the file part and the form fields of one ``multipart/form-data``
  body, parsed with one schema and documented as one request body (the ``form`` and ``files``
  locations would each document a body of their own, and the second would hide the first).
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from ..ledger.schemas import MoneyString, RateString

#: Fields whose JSON value is a string although marshmallow would convert other types too.
_STRINGS = (MoneyString, RateString, fields.Decimal)


def _type_error(field: fields.Field, value: Any) -> list[str] | dict[Any, Any] | None:
    """Why ``value`` (from JSON) is not of ``field``'s OpenAPI type, or ``None``."""
    if value is None:
        return None  # allow_none is marshmallow's to check
    if isinstance(field, fields.Boolean) and not isinstance(value, bool):
        return ["Not a valid boolean."]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(field, fields.Integer) and not (number and isinstance(value, int)):
        return ["Not a valid integer."]
    if isinstance(field, fields.Float) and not number:
        return ["Not a valid number."]
    if isinstance(field, _STRINGS) and not isinstance(value, str):
        return ["Not a valid string."]
    if isinstance(field, fields.Nested) and isinstance(value, dict):
        return json_type_errors(field.schema, value) or None
    if isinstance(field, fields.List) and isinstance(value, list):
        errors = {i: e for i, item in enumerate(value) if (e := _type_error(field.inner, item))}
        return errors or None
    if isinstance(field, fields.Dict) and field.value_field and isinstance(value, dict):
        errors = {
            key: {"value": error}
            for key, item in value.items()
            if (error := _type_error(field.value_field, item))
        }
        return errors or None
    return None


def json_type_errors(schema: Schema, data: Any) -> dict[str, Any]:
    """Per field, the values in a JSON object that are not of the type the schema documents."""
    if not isinstance(data, dict):
        return {}  # marshmallow refuses what is not an object
    errors: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if key in data and (error := _type_error(field, data[key])):
            errors[key] = error
    return errors


class _ApiParser(FlaskParser):
    """webargs' Flask parser with strict JSON types and the ``multipart`` location."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Request, schema: Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def pre_load(self, location_data: Any, *, schema: Schema, req: Request, location: str) -> Any:
        if location == "json" and (errors := json_type_errors(schema, location_data)):
            raise ValidationError(errors)
        return location_data


class ApiBlueprint(Blueprint):
    """A blueprint of ``/api/v1``: see the module's docstring."""

    ARGUMENTS_PARSER = _ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


class FileUpload(Upload):
    """A file part (a plain form field of the same name is refused); empty files are refused
    by every upload, so the document says at least one byte."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"minLength": 1, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError("Send the file as a multipart file part.")
        return value
