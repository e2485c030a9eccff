"""Page text of exhibits, for finding near-duplicates: the same pages rendered twice (a letter
uploaded as DOCX and as its PDF print) have different bytes but the same text.

The text is read from each page's content stream (the text-showing operators, decoded through
each font's ``/ToUnicode`` map), with all whitespace removed: spacing is where renderings of the
same text differ. Text inside Form XObjects is not read (scans have none; office renditions
draw text on the page itself). It is a comparison key, not an extraction for people to read.
"""

from __future__ import annotations

import re

import pikepdf

_TEXT_OPERATORS = "Tf Tj TJ ' \""
_WHITESPACE = re.compile(r"\s+")
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_RANGE_LINE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])")


def _unicode(hex_text: bytes) -> str:
    if len(hex_text) == 4:  # one UTF-16 unit, the usual case: no bytes object needed
        return chr(int(hex_text, 16))
    return bytes.fromhex(hex_text.decode("ascii")).decode("utf-16-be", "replace")


def _parse_cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        codes = _HEX.findall(block)
        for source, target in zip(codes[::2], codes[1::2], strict=False):
            mapping[int(source, 16)] = _unicode(target)
    for block in _BFRANGE.findall(data):
        for start, end, target in _RANGE_LINE.findall(block):
            first, last = int(start, 16), int(end, 16)
            if last - first > 0xFFFF:
                continue
            if target.startswith(b"["):
                for offset, item in enumerate(_HEX.findall(target)):
                    mapping[first + offset] = _unicode(item)
            else:
                base = _unicode(target[1:-1])
                for offset in range(last - first + 1):
                    mapping[first + offset] = base[:-1] + chr(ord(base[-1]) + offset)
    return mapping


class _Decoder:
    """Bytes of a text-showing operator → text, for one font."""

    def __init__(self, font: pikepdf.Object | None) -> None:
        self.two_byte = isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == "/Type0"
        table: dict[int, str] = {}
        if isinstance(font, pikepdf.Dictionary):
            to_unicode = font.get("/ToUnicode")
            if isinstance(to_unicode, pikepdf.Stream):
                try:
                    table = _parse_cmap(to_unicode.read_bytes())
                except pikepdf.PdfError:
                    table = {}
        self.table = table

    def __call__(self, data: bytes) -> str:
        if self.two_byte:
            text = data[: len(data) // 2 * 2].decode("utf-16-be", "surrogatepass")
        else:
            text = data.decode("latin-1")
        return text.translate(self.table) if self.table else text


def page_texts(
    document: pikepdf.Pdf, pages: int | None = None, *, limit: int | None = None
) -> tuple[str, ...] | None:
    """The text of each page (of the first ``pages``), whitespace removed; ``None`` when no
    page has any. With ``limit``, each page's text stops after about that many characters (a
    cheap first comparison)."""
    decoders: dict[tuple[int, int], _Decoder] = {}
    texts = []
    for page in document.pages[:pages] if pages else document.pages:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
        decode = _Decoder(None)
        parts: list[str] = []
        length = 0
        try:
            instructions = pikepdf.parse_content_stream(page, _TEXT_OPERATORS)
        except pikepdf.PdfError:
            return None
        for operands, operator in instructions:
            name = str(operator)
            if name == "Tf":
                font = fonts.get(operands[0]) if isinstance(fonts, pikepdf.Dictionary) else None
                key = font.objgen if isinstance(font, pikepdf.Object) else (0, 0)
                if key == (0, 0):
                    decode = _Decoder(font)
                else:
                    decode = decoders.get(key) or decoders.setdefault(key, _Decoder(font))
                continue
            if name == "TJ":
                shown = "".join(
                    decode(bytes(item)) for item in operands[0] if isinstance(item, pikepdf.String)
                )
            elif operands and isinstance(operands[-1], pikepdf.String):
                shown = decode(bytes(operands[-1]))
            else:
                continue
            parts.append(shown)
            if limit is not None:
                length += len(shown)
                if length > limit * 2 and len(_WHITESPACE.sub("", "".join(parts))) >= limit:
                    break
        text = _WHITESPACE.sub("", "".join(parts))
        texts.append(text[:limit] if limit is not None else text)
    return tuple(texts) if any(texts) else None
