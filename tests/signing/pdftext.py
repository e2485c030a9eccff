"""Reading back what an appearance stream draws: the glyphs, their fonts and their text.

The text comes from the glyph codes shown with ``Tj``/``TJ`` through each font's ``/ToUnicode``
map, not from ``/ActualText`` spans, and each glyph can be looked up in the embedded font
program, so a test can tell a drawn ``王`` from a ``?`` or an empty box.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pikepdf
from fontTools import cffLib, ttLib

PDFFONTS = "/usr/bin/pdffonts"

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)")


@dataclass(frozen=True)
class Glyph:
    """One glyph drawn by a text-showing operator."""

    font: pikepdf.Object
    code: int
    text: str


def shown_lines(xobject: pikepdf.Object) -> list[str]:
    """The text the form XObject (and the forms it draws) shows, one string per line."""
    return ["".join(glyph.text for glyph in line) for line in shown_glyphs(xobject)]


def shown_glyphs(xobject: pikepdf.Object) -> list[list[Glyph]]:
    """The glyphs the form XObject (and the forms it draws) shows, line by line."""
    lines: list[list[Glyph]] = [[]]
    _walk(xobject, lines)
    return [line for line in lines if line]


def _walk(xobject: pikepdf.Object, lines: list[list[Glyph]]) -> None:
    resources = xobject.get("/Resources", pikepdf.Dictionary())
    font = None
    for operands, operator in pikepdf.parse_content_stream(xobject):
        op = str(operator)
        if op == "Tf":
            font = resources.Font[str(operands[0])]
        elif op == "Tj":
            lines[-1].extend(_decode(font, bytes(operands[0])))
        elif op == "TJ":
            for item in operands[0]:
                if isinstance(item, pikepdf.String):
                    lines[-1].extend(_decode(font, bytes(item)))
        elif op in ("Td", "TD") and float(operands[1]) < 0 or op == "T*":
            lines.append([])
        elif op == "Do":
            inner = resources.XObject[str(operands[0])]
            if inner.get("/Subtype") == "/Form":
                _walk(inner, lines)


def _decode(font: pikepdf.Object, data: bytes) -> list[Glyph]:
    if font.Subtype != "/Type0":  # a simple font such as the standard Courier: one byte a glyph
        return [Glyph(font, byte, bytes([byte]).decode("cp1252")) for byte in data]
    to_unicode = _to_unicode(font)
    codes = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return [Glyph(font, code, to_unicode.get(code, "\ufffd")) for code in codes]


def _to_unicode(font: pikepdf.Object) -> dict[int, str]:
    """The font's ``/ToUnicode`` CMap as code → text (``bfchar`` and ``bfrange`` entries)."""
    cmap = font.ToUnicode.read_bytes()
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        values = _HEX.findall(block)
        for source, target in zip(values[::2], values[1::2], strict=True):
            mapping[int(source, 16)] = _utf16(target)
    for block in _BFRANGE.findall(cmap):
        for low, high, target in _RANGE.findall(block):
            first, last = int(low, 16), int(high, 16)
            if target.startswith(b"["):
                targets = [
                    bytes.fromhex(t.decode()).decode("utf-16-be") for t in _HEX.findall(target)
                ]
            else:
                start = int(target[1:-1], 16)
                targets = [chr(start + n) for n in range(last - first + 1)]
            mapping.update(zip(range(first, last + 1), targets, strict=True))
    return mapping


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(hex_digits.decode("ascii")).decode("utf-16-be")


def has_outline(glyph: Glyph) -> bool:
    """Whether the font program embedded for the glyph's (Type0) font has that glyph."""
    descendant = glyph.font.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    if "/FontFile3" in descriptor:  # CID-keyed CFF: codes are CIDs (Identity-H)
        cff = cffLib.CFFFontSet()
        cff.decompile(BytesIO(descriptor.FontFile3.read_bytes()), otFont=None)
        top = cff[0]
        return glyph.code != 0 and f"cid{glyph.code:05d}" in top.charset
    # TrueType with /CIDToGIDMap /Identity: codes are glyph ids; unused glyphs are left empty
    font = ttLib.TTFont(BytesIO(descriptor.FontFile2.read_bytes()))
    if glyph.code == 0 or glyph.code >= len(font.getGlyphOrder()):
        return False
    return font["glyf"][font.getGlyphOrder()[glyph.code]].numberOfContours != 0


def widths_off(font: pikepdf.Object) -> dict[int, tuple[float, float]]:
    """Glyphs of a Type0 TrueType font whose ``/W`` width (in thousandths of the font size)
    is not the advance in its embedded program: ``{glyph id: (/W width, program advance)}``."""
    descendant = font.DescendantFonts[0]
    program = ttLib.TTFont(BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
    scale = 1000 / program["head"].unitsPerEm
    order, metrics = program.getGlyphOrder(), program["hmtx"].metrics
    widths: dict[int, float] = {}
    entries = list(descendant.W)
    while entries:
        first, second = int(entries[0]), entries[1]
        if isinstance(second, pikepdf.Array):
            widths.update((first + n, float(width)) for n, width in enumerate(second))
            entries = entries[2:]
        else:
            widths.update((code, float(entries[2])) for code in range(first, int(second) + 1))
            entries = entries[3:]
    advances = {gid: metrics[order[gid]][0] * scale for gid in widths}
    return {
        gid: (width, advances[gid])
        for gid, width in widths.items()
        if abs(width - advances[gid]) > 1
    }


def base_font(font: pikepdf.Object) -> str:
    """The font's name without its subset prefix and CMap suffix."""
    name = str(font.BaseFont)[1:]
    name = name.split("+", 1)[-1]
    return name.removesuffix("-Identity-H")


def pdffonts(pdf: bytes, folder: Path) -> dict[tuple[int, int], dict[str, str]]:
    """Poppler's ``pdffonts`` table, one row per font keyed by its ``(object, generation)``."""
    path = folder / "pdffonts-input.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [PDFFONTS, str(path)], capture_output=True, text=True, timeout=30, check=True
    )
    rows = {}
    for line in result.stdout.splitlines()[2:]:
        *name_and_type, encoding, emb, sub, uni, number, generation = line.split()
        rows[int(number), int(generation)] = {
            "name": name_and_type[0],
            "encoding": encoding,
            "emb": emb,
            "sub": sub,
            "uni": uni,
        }
    return rows
