"""Text on A4 pages (reportlab): a layout of ``Line``s, wrapped, drawn with "page N of M" footers
in the embedded fonts of ``fonts.faces``; ``text_pdf`` for a plain text, monospaced."""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from .base import MM
from .fonts.cff import Unsupported
from .fonts.faces import FontSet

log = logging.getLogger(__name__)

_PAGE_WIDTH, _PAGE_HEIGHT = A4
TEXT_LEFT = 20 * MM
TEXT_RIGHT = _PAGE_WIDTH - 20 * MM
_TEXT_TOP = _PAGE_HEIGHT - 20 * MM
_TEXT_BOTTOM = 20 * MM
_FOOTER_BASELINE = 10 * MM
LABEL_WIDTH = 28 * MM
CELL_PADDING = 2 * MM
_GREY = (0.35, 0.35, 0.35)
_RULE = (0.6, 0.6, 0.6)


@dataclass
class Line:
    """One line of the laid-out document (everything is laid out before drawing, for "of M")."""

    text: str = ""
    size: float = 10
    leading: float = 14
    bold: bool = False
    grey: bool = False
    #: header table rows: the label (first line of a row only) and the row's top/bottom rules.
    label: str | None = None
    row: bool = False
    row_start: bool = False
    row_end: bool = False


def text_pdf(text: str, *, title: str = "") -> tuple[bytes, list[str]]:
    """A plain text on A4 pages, monospaced, wrapped, with "page N of M" footers."""
    size = 9.5
    paragraphs = [raw.expandtabs(8) for raw in clean_text(text).split("\n")]

    def layout(fonts: FontSet) -> list[Line]:
        return [
            Line(part, size=size, leading=size * 1.35)
            for raw in paragraphs
            for part in wrap(raw, fonts, size, TEXT_RIGHT - TEXT_LEFT)
        ]

    return typeset(layout, monospace=True, title=title)


def typeset(
    layout: Callable[[FontSet], list[Line]], *, monospace: bool, title: str
) -> tuple[bytes, list[str]]:
    """Lays out and draws with Noto Sans CJK first; should its CFF program hold something the
    subsetter does not follow, again with DejaVu alone (CJK then shows as '?', with a note)."""
    try:
        fonts = FontSet(monospace=monospace)
        return _draw(layout(fonts), fonts, title=title)
    except Unsupported as error:
        log.warning("rendition: cannot subset the CJK font (%s); using DejaVu alone", error)
    fonts = FontSet(monospace=monospace, cjk=False)
    return _draw(layout(fonts), fonts, title=title)


def decode_text(data: bytes) -> str:
    """A text file's bytes: UTF-16 after its BOM, else UTF-8; bad bytes become U+FFFD."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


def clean_text(text: str) -> str:
    """Line ends unified; control and format characters (bar tab and line end) dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def wrap(text: str, fonts: FontSet, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width``: after spaces, around CJK characters,
    or anywhere in a word too long for a line."""
    lines: list[str] = []
    current = ""
    current_width = 0.0
    break_at = 0  # where ``current`` may be broken (0: nowhere)
    for char in text:
        advance = fonts.width(char, size)
        if _is_wide(char):
            break_at = len(current)
        if current and current_width + advance > width and not char.isspace():
            cut = break_at or len(current)
            lines.append(current[:cut].rstrip())
            current = current[cut:].lstrip(" ")
            current_width = fonts.width(current, size)
            break_at = 0
        current += char
        current_width += advance
        if char == " " or _is_wide(char):
            break_at = len(current)
    lines.append(current.rstrip())
    return lines


def _draw(lines: list[Line], fonts: FontSet, *, title: str) -> tuple[bytes, list[str]]:
    pages: list[list[Line]] = [[]]
    y = _TEXT_TOP
    for line in lines:
        if y - line.leading < _TEXT_BOTTOM and pages[-1]:
            pages.append([])
            y = _TEXT_TOP
        if not pages[-1] and not line.text and line.label is None:
            continue  # no blank line at the top of a page
        pages[-1].append(line)
        y -= line.leading
    buffer = io.BytesIO()
    # reportlab starts every page by selecting its initial font; one that is embedded keeps
    # the standard Helvetica (never embedded) out of the file.
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=True,
        pageCompression=1,
        initialFontName=fonts.initial_font,
    )
    canvas.setTitle(clean_text(title)[:200])
    canvas.setCreator("Arrears Portal")
    canvas.setProducer("Arrears Portal")
    total = len(pages)
    table_left, table_right = TEXT_LEFT, TEXT_RIGHT
    divider = table_left + LABEL_WIDTH
    for number, page in enumerate(pages, 1):
        y = _TEXT_TOP
        for index, line in enumerate(page):
            top = y
            baseline = top - line.leading + (line.leading - line.size) / 2 + line.size * 0.2
            bottom = top - line.leading
            if line.row:
                canvas.setStrokeColorRGB(*_RULE)
                canvas.setLineWidth(0.5)
                canvas.line(table_left, top, table_left, bottom)
                canvas.line(divider, top, divider, bottom)
                canvas.line(table_right, top, table_right, bottom)
                if line.row_start or index == 0:
                    canvas.line(table_left, top, table_right, top)
                following = page[index + 1] if index + 1 < len(page) else None
                if line.row_end or following is None or not following.row:
                    canvas.line(table_left, bottom, table_right, bottom)
                if line.label:
                    canvas.setFillColorRGB(*_GREY)
                    fonts.draw(
                        canvas,
                        table_left + CELL_PADDING,
                        baseline,
                        line.size,
                        line.label,
                        bold=True,
                    )
                canvas.setFillColorRGB(0, 0, 0)
                fonts.draw(canvas, divider + CELL_PADDING, baseline, line.size, line.text)
            elif line.text:
                if line.grey:
                    canvas.setFillColorRGB(*_GREY)
                else:
                    canvas.setFillColorRGB(0, 0, 0)
                fonts.draw(canvas, TEXT_LEFT, baseline, line.size, line.text, bold=line.bold)
            y = bottom
        footer = f"page {number} of {total}"
        canvas.setFillColorRGB(*_GREY)
        fonts.draw(
            canvas,
            (_PAGE_WIDTH - fonts.width(footer, 8)) / 2,
            _FOOTER_BASELINE,
            8,
            footer,
        )
        canvas.showPage()
    canvas.save()
    return fonts.finish(buffer.getvalue()), fonts.notes()
