"""What the PDF modules share: the failure they raise, units, the wording of notes, and pikepdf
helpers (walking a document's objects once each, saving it the same way every time)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

import pikepdf

from ..domain import DomainError

MM = 72 / 25.4


class RenditionFailed(DomainError):
    """No PDF could be made of this file; the message says why, for the page that shows it."""

    code = "rendition_failed"


_PLURALS = {"embedded file": "embedded files"}


def plural(noun: str, count: int) -> str:
    """``1 image``, ``2 images``: a count and its noun, for notes."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {_PLURALS.get(noun, noun + 's')}"


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, as pikepdf counts them."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def save(document: pikepdf.Pdf) -> bytes:
    """The document unencrypted, streams compressed, with an id that depends on its content."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        # pikepdf warns about form widgets that /AcroForm does not list; they are kept as the
        # original has them.
        warnings.simplefilter("ignore")
        document.save(
            out,
            encryption=False,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
            deterministic_id=True,
        )
    return out.getvalue()


def already_seen(obj: pikepdf.Object, seen: set[tuple[int, int]]) -> bool:
    """Whether an indirect ``obj`` is in ``seen`` (adding it if not); direct objects never are."""
    if not obj.is_indirect:
        return False
    if obj.objgen in seen:
        return True
    seen.add(obj.objgen)
    return False


def text_value(value: pikepdf.Object | None) -> str:
    """A PDF string (or any object) as ``str``; ``""`` for ``None``."""
    if isinstance(value, pikepdf.String):
        return bytes(value).decode("latin-1")
    return str(value) if value is not None else ""


def walk(start: pikepdf.Object, skip: frozenset[str] = frozenset()) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary (and stream dictionary) reachable from ``start``, each once; the
    values of keys in ``skip`` are not followed."""
    seen: set[tuple[int, int]] = set()
    stack = [start]

    def values(obj: pikepdf.Dictionary):
        if not skip:
            return obj.values()
        return (value for key, value in obj.items() if key not in skip)

    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            if already_seen(obj, seen):
                continue
            yield obj.stream_dict
            stack.extend(values(obj.stream_dict))
        elif isinstance(obj, pikepdf.Dictionary):
            if already_seen(obj, seen):
                continue
            yield obj
            stack.extend(values(obj))
        elif isinstance(obj, pikepdf.Array):
            if already_seen(obj, seen):
                continue
            stack.extend(obj)


def font_embedded(font: pikepdf.Dictionary) -> bool:
    """Whether a font dictionary carries its glyphs (a ``FontFile``, or a Type 3 font)."""
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True  # glyphs are drawn by the font's own content streams
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or not len(descendants):
            return False
        font = descendants[0]
    descriptor = font.get("/FontDescriptor")
    return isinstance(descriptor, pikepdf.Dictionary) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )
