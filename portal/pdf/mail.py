"""An e-mail on A4 pages: a header table, the text body (an HTML-only body is cleaned with nh3
and shown as text: no images, no remote content) and a list of the attachments."""

from __future__ import annotations

import html
import html.parser
import re
from collections.abc import Sequence

import nh3

from .base import plural
from .fonts.faces import FontSet
from .text import CELL_PADDING, LABEL_WIDTH, TEXT_LEFT, TEXT_RIGHT, Line, clean_text, typeset, wrap


def email_pdf(
    headers: Sequence[tuple[str, str]],
    text_body: str,
    html_body: str | None,
    attachments: Sequence[tuple[str, bytes]],
    *,
    title: str,
) -> tuple[bytes, list[str]]:
    """An e-mail as a header table, its text and a list of its attachments.

    :param headers: the table's rows, ``(name, value)`` in order; an empty value shows as "—".
    :param html_body: shown (as text, see ``html_to_text``) only when ``text_body`` is blank.
    :param attachments: ``(file name, bytes)``, listed with their sizes.
    """
    notes: list[str] = []
    remark = None
    if text_body.strip():
        body = text_body
    elif html_body:
        body = html_to_text(html_body)
        remark = (
            "This message has only an HTML part. It is shown as text; pictures and links to "
            "content on the internet were left out."
        )
        notes.append("shown the HTML body as text, without pictures or remote content")
    else:
        body = "(This message has no text.)"
    if attachments:
        notes.append(
            f"{plural('attachment', len(attachments))} listed; each becomes its own evidence item"
        )
    size, leading = 10.0, 14.0
    width = TEXT_RIGHT - TEXT_LEFT

    def layout(fonts: FontSet) -> list[Line]:
        lines = [Line("E-mail", size=14, leading=20, bold=True)]
        for name, raw_value in headers:
            value = clean_text(raw_value).replace("\n", " ").strip() or "—"
            parts = wrap(value, fonts, size, width - LABEL_WIDTH - 2 * CELL_PADDING)
            lines += [
                Line(
                    part,
                    size=size,
                    leading=leading,
                    label=name if number == 0 else None,
                    row=True,
                    row_start=number == 0,
                    row_end=number == len(parts) - 1,
                )
                for number, part in enumerate(parts)
            ]
        lines.append(Line(leading=leading))
        if remark:
            lines += [
                Line(part, size=8.5, leading=12, grey=True)
                for part in wrap(remark, fonts, 8.5, width)
            ]
        for raw in clean_text(body).split("\n"):
            lines += [
                Line(part, size=size, leading=leading)
                for part in wrap(raw.expandtabs(4), fonts, size, width)
            ]
        lines.append(Line(leading=leading))
        if not attachments:
            lines.append(Line("Attachments: none", size=size, leading=leading, grey=True))
            return lines
        lines.append(Line(f"Attachments ({len(attachments)})", size=11, leading=16, bold=True))
        for number, (name, payload) in enumerate(attachments, 1):
            entry = clean_text(f"{number}. {name} — {_size_text(len(payload))}")
            lines += [
                Line(part, size=size, leading=leading) for part in wrap(entry, fonts, size, width)
            ]
        return lines

    pdf, font_notes = typeset(layout, monospace=False, title=title)
    return pdf, notes + font_notes


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB ({size:,} bytes)"
    if size >= 1024:
        return f"{size / 1024:.1f} KB ({size:,} bytes)"
    return f"{size:,} bytes"


#: Where an HTML element starts or ends a line of text.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2 h3 "
    "h4 h5 h6 header hr li ol p pre section table tbody td tfoot th thead tr ul".split()
)
_HTML_TAGS = (nh3.ALLOWED_TAGS - {"img", "map", "area"}) | {"section", "tfoot"}


def html_to_text(markup: str) -> str:
    """An HTML body as plain text: cleaned by nh3 (no images, no URL scheme but ``mailto``)."""
    cleaned = nh3.clean(
        markup,
        tags=_HTML_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes={"a": {"href"}},
        url_schemes={"mailto"},
        link_rel=None,
    )
    extractor = _TextExtractor()
    extractor.feed(cleaned)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _TextExtractor(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", " "))
