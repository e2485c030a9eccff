"""PDFs with fonts that are not embedded: a metric-compatible Liberation subset for each simple
font the PDF only names, keeping the PDF's own widths."""

from __future__ import annotations

import hashlib
import os
import re

import pikepdf
from reportlab.pdfbase._fontdata import encodings
from reportlab.pdfbase._glyphlist import _glyphname2unicode

from ..base import font_embedded, walk
from .truetype import TrueTypeFile, true_type

LIBERATION = "/usr/share/fonts/truetype/liberation2"
#: Name fragments (lower case, no spaces) that say a font is not a text font: left alone.
_SYMBOLIC_NAMES = ("symbol", "zapf", "dingbat", "wingding", "webdings", "marlett")
_SERIF_NAMES = ("times", "roman", "serif", "georgia", "garamond", "cambria", "bookantiqua")
_MONO_NAMES = ("courier", "mono", "consolas", "typewriter")
_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")
_ITALIC_NAMES = ("italic", "oblique")


def embed_missing_fonts(document: pikepdf.Pdf) -> list[str]:
    """Embeds a metric-compatible Liberation font (subset) for every simple font the PDF only
    names — typically the standard Helvetica, Times and Courier, or Arial — so that the exhibit
    looks the same everywhere and the bundle has every font embedded. The font's own widths are
    kept, so the text does not move. Returns notes on what was substituted or left."""
    substituted: dict[str, str] = {}
    left: set[str] = set()
    plans = []
    for font in list(walk(document.Root)):
        if font.get("/Type") != "/Font" or font_embedded(font):
            continue
        name = str(font.get("/BaseFont", "/unnamed"))[1:]
        face_path = _substitute_face(font, name)
        face = true_type(face_path) if face_path else None
        if face is None:
            left.add(name)
            continue
        codes = _simple_font_glyphs(font, face)
        plans.append((font, face, codes))
        substituted[name] = face.full_name
    glyphs_by_face: dict[str, set[int]] = {}
    for _font, face, codes in plans:
        glyphs_by_face.setdefault(face.path, set()).update(glyph for _, glyph in codes.values())
    programs = {}
    for font, face, codes in plans:
        if face.path not in programs:
            subset = face.subset(glyphs_by_face[face.path])
            tag = "".join(chr(65 + byte % 26) for byte in hashlib.sha256(subset).digest()[:6])
            programs[face.path] = (
                pikepdf.Name(f"/{tag}+{face.postscript_name}"),
                document.make_stream(subset, Length1=len(subset)),
            )
        base_font, program = programs[face.path]
        _rewrite_simple_font(document, font, face, codes, base_font, program)
    notes = []
    if substituted:
        pairs = ", ".join(f"{old} as {new}" for old, new in sorted(substituted.items()))
        notes.append(f"embedded fonts the original only named (same widths): {pairs}")
    if left:
        notes.append(
            f"fonts not embedded in the original, left as they are: {', '.join(sorted(left))}"
        )
    return notes


def _substitute_face(font: pikepdf.Dictionary, name: str) -> str | None:
    """The Liberation file to stand in for a simple font, ``None`` for CID and symbol fonts."""
    if font.get("/Subtype") not in ("/Type1", "/MMType1", "/TrueType"):
        return None
    key = re.sub(r"^[A-Z]{6}\+", "", name).lower().replace(" ", "").replace("_", "")
    descriptor = font.get("/FontDescriptor")
    flags = int(descriptor.get("/Flags", 0)) if isinstance(descriptor, pikepdf.Dictionary) else 0
    if any(part in key for part in _SYMBOLIC_NAMES) or (flags & 4 and not flags & 32):
        return None
    family = (
        "Mono"
        if any(part in key for part in _MONO_NAMES) or flags & 1
        else "Serif"
        if any(part in key for part in _SERIF_NAMES) or flags & 2
        else "Sans"
    )
    bold = any(part in key for part in _BOLD_NAMES) or bool(flags & (1 << 18))
    italic = any(part in key for part in _ITALIC_NAMES) or bool(flags & 64)
    style = ("Bold" if bold else "") + ("Italic" if italic else "") or "Regular"
    return os.path.join(LIBERATION, f"Liberation{family}-{style}.ttf")


def _encoding_names(font: pikepdf.Dictionary) -> list[str | None]:
    """Glyph name of each code 0–255 under the font's encoding (with ``/Differences``)."""
    encoding = font.get("/Encoding")
    base = "StandardEncoding" if font.get("/Subtype") != "/TrueType" else "WinAnsiEncoding"
    differences = None
    if isinstance(encoding, pikepdf.Name):
        base = str(encoding)[1:]
    elif isinstance(encoding, pikepdf.Dictionary):
        if isinstance(encoding.get("/BaseEncoding"), pikepdf.Name):
            base = str(encoding.BaseEncoding)[1:]
        differences = encoding.get("/Differences")
    names = list(encodings.get(base, encodings["StandardEncoding"]))
    if isinstance(differences, pikepdf.Array):
        code = 0
        for item in differences:
            if isinstance(item, pikepdf.Name) and 0 <= code < 256:
                names[code] = str(item)[1:]
                code += 1
            elif not isinstance(item, pikepdf.Name):
                code = int(item)
    return names


def _simple_font_glyphs(font: pikepdf.Dictionary, face: TrueTypeFile) -> dict[int, tuple]:
    """code → (glyph name, glyph id in ``face``) for the codes the font can show."""
    codes = {}
    for code, glyph_name in enumerate(_encoding_names(font)):
        if not glyph_name or glyph_name == ".notdef":
            continue
        point = _glyphname2unicode.get(glyph_name)
        if point is None and re.fullmatch(r"uni[0-9A-F]{4}", glyph_name):
            point = int(glyph_name[3:], 16)
        glyph = face.glyph(point) if isinstance(point, int) else None
        if glyph:
            codes[code] = (glyph_name, glyph)
    return codes


def _rewrite_simple_font(document, font, face, codes, base_font, program) -> None:
    win_ansi = encodings["WinAnsiEncoding"]
    differences = pikepdf.Array()
    for code in sorted(codes):
        name = codes[code][0]
        if win_ansi[code] != name:
            differences.extend([code, pikepdf.Name("/" + name)])
    if "/Widths" not in font:
        first = min(codes, default=0)
        last = max(codes, default=0)
        font.FirstChar, font.LastChar = first, last
        font.Widths = pikepdf.Array(
            [
                round(face.advance(codes[code][1])) if code in codes else 0
                for code in range(first, last + 1)
            ]
        )
    flags = 32 | (64 if face.italic_angle else 0) | (2 if "Serif" in face.path else 0)
    flags |= 1 if "Mono" in face.path else 0
    font.Subtype = pikepdf.Name.TrueType
    font.BaseFont = base_font
    font.Encoding = pikepdf.Dictionary(
        Type=pikepdf.Name.Encoding,
        BaseEncoding=pikepdf.Name.WinAnsiEncoding,
        Differences=differences,
    )
    scale = 1000 / face.units_per_em
    font.FontDescriptor = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=base_font,
            Flags=flags,
            FontBBox=pikepdf.Array([round(value * scale) for value in face.bbox]),
            ItalicAngle=face.italic_angle,
            Ascent=round(face.ascent * scale),
            Descent=round(face.descent * scale),
            CapHeight=round(face.cap_height * scale),
            StemV=80,
            FontFile2=program,
        )
    )
