"""Rendering: a context dict and a DOCX template become DOCX bytes (no Flask, no database).

Drafts show ``[missing: field]`` where a required field has no value; ``missing_fields`` lists them
so a final rendering can be refused before anything is made. Values are XML-escaped (autoescape):
a debtor called "Smith & Sons <Ltd>" comes out as written.
"""

from __future__ import annotations

import copy
import io
import threading
from typing import Any

import jinja2
from docxtpl import DocxTemplate

from .manifest import Field, Manifest


def marker(name: str) -> str:
    """What a draft shows in place of a missing value."""
    return f"[missing: {name}]"


class MissingMarker(jinja2.ChainableUndefined):
    """A variable the context does not have at all renders as a marker, never as an error."""

    def __str__(self) -> str:
        return marker(self._undefined_name or "?")


class _CachingEnvironment(jinja2.Environment):
    """Compiles each distinct template source once: docxtpl hands the same document XML to
    ``from_string`` on every render, and compiling it is half the cost of a letter."""

    _limit = 128

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[str, jinja2.Template] = {}
        self._lock = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        with self._lock:
            template = self._compiled.get(source)
        if template is None:
            template = super().from_string(source)
            with self._lock:
                if len(self._compiled) >= self._limit:
                    self._compiled.clear()
                self._compiled[source] = template
        return template


def _finalize(value: Any) -> Any:
    # ``None`` left in the context (an optional field the case lacks) prints as nothing.
    return "" if value is None else value


#: One environment for all renders (templates compiled once); docxtpl only ever sets
#: ``autoescape = True`` on it, the value it already has.
_ENVIRONMENT = _CachingEnvironment(undefined=MissingMarker, autoescape=True, finalize=_finalize)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)


def _split(name: str) -> tuple[list[str], list[str] | None]:
    """``invoices[].number`` → (["invoices"], ["number"]); ``a.b`` → (["a", "b"], None)."""
    if "[]." in name:
        head, _, tail = name.partition("[].")
        return head.split("."), tail.split(".")
    return name.split("."), None


def _get(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _set(data: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def missing_fields(manifest: Manifest, context: dict[str, Any]) -> list[str]:
    """Required manifest fields the context has no value for (list items named by position)."""
    missing: list[str] = []
    for item in manifest.fields:
        if _required(item, context):
            missing.extend(_missing(item, context))
    return missing


def _required(item: Field, context: dict[str, Any]) -> bool:
    """Required, and not excused by its ``unless`` condition."""
    return item.required and not (item.unless and _get(context, _split(item.unless)[0]))


def _missing(item: Field, context: dict[str, Any]) -> list[str]:
    head, tail = _split(item.name)
    value = _get(context, head)
    if tail is None:
        return [item.name] if _is_missing(value) else []
    rows = value if isinstance(value, list) else []
    head_name = ".".join(head)
    return [
        f"{head_name}[{index}].{'.'.join(tail)}"
        for index, row in enumerate(rows, 1)
        if _is_missing(_get(row, tail))
    ]


def prepare(manifest: Manifest, context: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``context`` with a marker wherever a required field is missing."""
    prepared = copy.deepcopy(context)
    for item in manifest.fields:
        if not _required(item, context):
            continue
        head, tail = _split(item.name)
        if tail is None:
            if _is_missing(_get(prepared, head)):
                # A missing list (address lines) shows one line with the marker.
                value = [marker(item.name)] if item.type == "list" else marker(item.name)
                _set(prepared, head, value)
            continue
        rows = _get(prepared, head)
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and _is_missing(_get(row, tail)):
                _set(row, tail, marker(item.name))
    return prepared


def render_docx(template: bytes, context: dict[str, Any]) -> bytes:
    """The template rendered with ``context`` (already ``prepare``-d), as DOCX bytes.

    :raises jinja2.TemplateError: the template itself is broken (``templates check`` finds it).
    """
    document = DocxTemplate(io.BytesIO(template))
    document.render(context, jinja_env=_ENVIRONMENT, autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
