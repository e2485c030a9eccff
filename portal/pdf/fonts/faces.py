"""The faces a text document is set in: Noto Sans CJK (embedded here as a CID-keyed CFF subset)
first, then DejaVu (embedded by reportlab), tried in order for each character."""

from __future__ import annotations

import functools
import hashlib
import io
import os
from collections import Counter
from collections.abc import Iterator

import pikepdf
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..base import RenditionFailed, plural, save
from .opentype import OpenTypeFont, open_type

NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#: Faces inside ``NOTO_CJK`` (``fc-query`` lists them): Simplified Chinese forms.
NOTO_CJK_SANS_SC = 2
NOTO_CJK_MONO_SC = 7
DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
DEJAVU_SANS_MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


class FontSet:
    """The faces one text document is set in, tried in order for each character."""

    def __init__(self, *, monospace: bool, cjk: bool = True) -> None:
        self.faces: list[Face] = []
        noto = open_type(NOTO_CJK, NOTO_CJK_MONO_SC if monospace else NOTO_CJK_SANS_SC)
        if noto is not None and cjk:
            self.faces.append(_CidFace(noto, "FPortalCJK"))
        dejavu = _reportlab_font(DEJAVU_SANS_MONO if monospace else DEJAVU_SANS)
        if dejavu is not None:
            self.faces.append(_ReportlabFace(dejavu))
        if not self.faces:
            raise RenditionFailed(
                "No font to set text in: install fonts-noto-cjk or fonts-dejavu-core."
            )
        self.initial_font = dejavu.fontName if dejavu is not None else None
        bold = _reportlab_font(DEJAVU_SANS_BOLD)
        self.bold_faces: list[Face] = [_ReportlabFace(bold)] if bold else []
        self.missing: Counter[str] = Counter()

    def _face(self, char: str, bold: bool = False) -> Face | None:
        for face in (self.bold_faces if bold else []) + self.faces:
            if face.covers(char):
                return face
        return None

    def width(self, text: str, size: float) -> float:
        total = 0.0
        for char in text:
            face = self._face(char) or self._face("?")
            total += face.advance(char if face.covers(char) else "?") * size / 1000
        return total

    def runs(self, text: str, bold: bool = False) -> Iterator[tuple[Face, str]]:
        current: Face | None = None
        run = ""
        for char in text:
            face = self._face(char, bold)
            if face is None:
                self.missing[char] += 1
                char = "?"
                face = self._face(char, bold)
            if face is not current and run:
                yield current, run
                run = ""
            current = face
            run += char
        if run:
            yield current, run

    def draw(self, canvas: Canvas, x: float, y: float, size: float, text: str, *, bold=False):
        for face, run in self.runs(text, bold):
            face.draw(canvas, x, y, size, run)
            x += sum(face.advance(char) for char in run) * size / 1000

    def finish(self, pdf: bytes) -> bytes:
        """The PDF with the CFF faces' subsets embedded and unused resources dropped."""
        with pikepdf.open(io.BytesIO(pdf)) as document:
            for face in self.faces:
                if isinstance(face, _CidFace) and face.used:
                    font = face.pdf_font(document)
                    for page in document.pages:
                        if "/Resources" not in page.obj:
                            page.obj.Resources = pikepdf.Dictionary()
                        if "/Font" not in page.obj.Resources:
                            page.obj.Resources.Font = pikepdf.Dictionary()
                        page.obj.Resources.Font[f"/{face.resource}"] = font
            document.remove_unreferenced_resources()
            return save(document)

    def notes(self) -> list[str]:
        if not self.missing:
            return []
        count = sum(self.missing.values())
        return [f"{plural('character', count)} could not be shown (no font has them): as '?'"]


class Face:
    def covers(self, char: str) -> bool:
        raise NotImplementedError

    def advance(self, char: str) -> float:
        """Advance width in thousandths of the font size."""
        raise NotImplementedError

    def draw(self, canvas: Canvas, x: float, y: float, size: float, text: str) -> None:
        raise NotImplementedError


class _ReportlabFace(Face):
    """A TrueType font reportlab embeds (as a subset) itself."""

    def __init__(self, font: TTFont) -> None:
        self.font = font
        self.glyphs = font.face.charToGlyph

    def covers(self, char: str) -> bool:
        return ord(char) in self.glyphs

    def advance(self, char: str) -> float:
        return self.font.stringWidth(char, 1000)

    def draw(self, canvas: Canvas, x: float, y: float, size: float, text: str) -> None:
        canvas.setFont(self.font.fontName, size)
        canvas.drawString(x, y, text)


@functools.cache
def _reportlab_font(path: str) -> TTFont | None:
    if not os.path.exists(path):
        return None
    name = "Portal-" + os.path.splitext(os.path.basename(path))[0]
    font = TTFont(name, path)
    pdfmetrics.registerFont(font)
    return font


class _CidFace(Face):
    """A CFF-outline OpenType face, drawn by glyph (CID) and embedded by ``pdf_font``."""

    def __init__(self, font: OpenTypeFont, resource: str) -> None:
        self.font = font
        self.resource = resource
        #: glyph id → the character it was first used for (for the ToUnicode map)
        self.used: dict[int, str] = {}

    def covers(self, char: str) -> bool:
        return self.font.glyph(ord(char)) is not None

    def advance(self, char: str) -> float:
        glyph = self.font.glyph(ord(char))
        return self.font.advance(glyph or 0)

    def draw(self, canvas: Canvas, x: float, y: float, size: float, text: str) -> None:
        codes = []
        for char in text:
            glyph = self.font.glyph(ord(char)) or 0
            self.used.setdefault(glyph, char)
            codes.append(f"{self.font.cid(glyph):04X}")
        canvas.addLiteral(
            f"BT /{self.resource} {size:g} Tf 1 0 0 1 {x:.3f} {y:.3f} Tm <{''.join(codes)}> Tj ET"
        )

    def pdf_font(self, document: pikepdf.Pdf) -> pikepdf.Object:
        """A Type0 font (Identity-H, codes are CIDs) with the subset of the glyphs drawn."""
        font = self.font
        glyphs = sorted(self.used)
        cff = font.subset(glyphs)
        tag = "".join(chr(65 + byte % 26) for byte in hashlib.sha256(cff).digest()[:6])
        name = pikepdf.Name(f"/{tag}+{font.postscript_name}")
        scale = 1000 / font.units_per_em
        widths = pikepdf.Array()
        for glyph in glyphs:
            widths.extend([font.cid(glyph), pikepdf.Array([round(font.advance(glyph))])])
        descriptor = pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=name,
            Flags=4,
            FontBBox=pikepdf.Array([round(value * scale) for value in font.bbox]),
            ItalicAngle=0,
            Ascent=round(font.ascent * scale),
            Descent=round(font.descent * scale),
            CapHeight=round(font.cap_height * scale),
            StemV=80,
            FontFile3=document.make_stream(cff, Subtype=pikepdf.Name.CIDFontType0C),
        )
        cid_font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType0,
            BaseFont=name,
            CIDSystemInfo=pikepdf.Dictionary(
                Registry=pikepdf.String(font.registry),
                Ordering=pikepdf.String(font.ordering),
                Supplement=font.supplement,
            ),
            FontDescriptor=document.make_indirect(descriptor),
            DW=1000,
            W=widths,
        )
        to_unicode = _to_unicode_cmap({font.cid(g): self.used[g] for g in glyphs})
        return document.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type0,
                BaseFont=name,
                Encoding=pikepdf.Name("/Identity-H"),
                DescendantFonts=pikepdf.Array([document.make_indirect(cid_font)]),
                ToUnicode=document.make_stream(to_unicode),
            )
        )


def _to_unicode_cmap(mapping: dict[int, str]) -> bytes:
    entries = [
        f"<{code:04X}> <{text.encode('utf-16-be').hex().upper()}>"
        for code, text in sorted(mapping.items())
    ]
    blocks = []
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
