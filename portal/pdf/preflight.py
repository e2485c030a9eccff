"""Preflight: what in a PDF a filing bundle must not contain."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf

from .base import font_embedded, text_value, walk

#: font metrics (arrays of numbers, thousands in a bundle): nothing there is acted on, and
#: turning each number into a Python object took most of the preflight's time
_METRICS = frozenset({"/Widths", "/W", "/W2"})


def preflight(pdf: bytes | Path | pikepdf.Pdf) -> list[str]:
    """What in ``pdf`` (bytes, a file — read as needed, not held — or an open document, as it
    is: e.g. as just saved) a filing bundle must not contain; an empty list when it is clean.

    Each problem is reported once: ``encrypted``, ``OpenAction``, ``additional actions``,
    ``JavaScript``, ``Launch action``, ``form action``, ``embedded file``, ``XFA``,
    ``multimedia``, ``fonts not embedded``.
    """
    if isinstance(pdf, pikepdf.Pdf):
        return _problems(pdf)
    try:
        if isinstance(pdf, Path):
            document = pikepdf.open(pdf, access_mode=pikepdf.AccessMode.stream)
        else:
            document = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError:
        return ["encrypted"]
    with document:
        return _problems(document)


def _problems(document: pikepdf.Pdf) -> list[str]:
    problems: list[str] = []

    def found(problem: str) -> None:
        if problem not in problems:
            problems.append(problem)

    if document.is_encrypted:
        found("encrypted")
    root = document.Root
    if "/OpenAction" in root:
        found("OpenAction")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            found("JavaScript")
        if "/EmbeddedFiles" in names:
            found("embedded file")
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        found("XFA")
    for obj in walk(document.trailer, _METRICS):
        _preflight_object(obj, found)
    return problems


def _preflight_object(obj: pikepdf.Dictionary, found) -> None:
    kind = obj.get("/S")
    if "/JS" in obj or kind == "/JavaScript":
        found("JavaScript")
    elif kind == "/Launch":
        found("Launch action")
    elif kind in ("/ImportData", "/SubmitForm", "/ResetForm"):
        found("form action")
    elif kind == "/URI" and text_value(obj.get("/URI")).strip().lower().startswith("javascript:"):
        found("JavaScript")
    if "/AA" in obj:
        found("additional actions")
    if "/EF" in obj or obj.get("/Type") == "/EmbeddedFile":
        found("embedded file")
    subtype = obj.get("/Subtype")
    if subtype == "/FileAttachment":
        found("embedded file")
    elif subtype in ("/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"):
        found("multimedia")
    if obj.get("/Type") == "/Font" and not font_embedded(obj):
        found("fonts not embedded")
