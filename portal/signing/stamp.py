"""The visible signature stamp: what it says and the embedded fonts it is set in.

pyHanko's default stamp font is the standard Courier, WinAnsi-encoded and not embedded, so a
Chinese lawyer's name comes out as ``?``. The stamp is set instead in Noto Sans CJK SC
(fonts-noto-cjk: Latin, Greek, Cyrillic, kana, hangul and CJK ideographs), with DejaVu Sans for
what Noto lacks (``Ł``, ``ő``, Hebrew, Arabic…), both shaped by HarfBuzz and embedded by pyHanko
as subsets of the glyphs used (``pyhanko[opentype]``). The font files are read from the system
once per process; nothing is fetched. Without them the stamp falls back to Courier and a warning
is logged, so signing still works.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO

from fontTools import ttLib
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStamp, TextStampStyle

from portal.pdf.fonts.faces import DEJAVU_SANS, NOTO_CJK, NOTO_CJK_SANS_SC

log = logging.getLogger(__name__)

#: Format of the signing time in the stamp; the value is always UTC.
STAMP_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The stamp's faces, tried in order for each character: ``(path, face index in a collection)``.
STAMP_FACES: tuple[tuple[str, int | None], ...] = (
    (NOTO_CJK, NOTO_CJK_SANS_SC),
    (DEJAVU_SANS, None),
)

#: Tables of the stamp fonts that pyHanko's embedded subsets leave out: layout (applied by
#: HarfBuzz when shaping), vertical metrics (the stamp is horizontal) and FontForge's timestamp.
_UNEMBEDDED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "vhea", "vmtx", "VORG", "FFTM")

#: Glyph space of PDF fonts: widths are in thousandths of the font size.
PDF_UNITS_PER_EM = 1000
_HINTING_TABLES = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX")

#: Font size and line spacing of the stamp text, in points: CJK glyphs fill the whole em.
FONT_SIZE = 10
LEADING = 12

# Left-aligned: centring text that was shrunk to the full width trips over a rounding error in
# pyHanko's layout and logs a warning on every signature.
_TEXT_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MIN,
    y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins.uniform(4),
)


@dataclass(frozen=True)
class Stamp:
    """What the visible signature stamp says besides the time."""

    signer_name: str
    firm: str | None
    licence: str | None  #: the lawyer's bar or practising-certificate number
    reason: str
    location: str | None


def stamp_appearance(stamp: Stamp) -> tuple[TextStampStyle, dict[str, str]]:
    """pyHanko's stamp style and the text parameters for ``stamp``.

    Set in the embedded faces of ``STAMP_FACES`` that the system has; in Courier, with the text
    reduced to what it can show, if it has none of them. The first usable face is read now, the
    others only when the text needs them.
    """
    for number, (path, index) in enumerate(STAMP_FACES):
        first = _font_face(path, index)
        if first is not None:
            fonts = _FallbackFontFactory(first, STAMP_FACES[number + 1 :])
            style = _style(stamp, TextBoxStyle(font=fonts, font_size=FONT_SIZE, leading=LEADING))
            return style, _params(stamp, _printable)
    log.warning("signature stamp: no font in %s, falling back to Courier", STAMP_FACES)
    return _style(stamp, TextBoxStyle()), _params(stamp, _latin)


def _style(stamp: Stamp, text_box_style: TextBoxStyle) -> TextStampStyle:
    return _MultiFontTextStampStyle(
        stamp_text=_stamp_template(stamp),
        timestamp_format=STAMP_TIME_FORMAT,
        text_box_style=text_box_style,
        inner_content_layout=_TEXT_LAYOUT,
    )


def _stamp_template(stamp: Stamp) -> str:
    """The stamp's lines; user text enters only through parameters, so ``%`` is harmless."""
    lines = ["Digitally signed by %(counsel)s"]
    if stamp.firm:
        lines.append("%(firm)s")
    if stamp.licence:
        lines.append("Licence no. %(licence)s")
    lines.append("Signed %(ts)s UTC")
    return "\n".join(lines)


def _params(stamp: Stamp, clean: Callable[[str], str]) -> dict[str, str]:
    return {
        "counsel": clean(stamp.signer_name),
        "firm": clean(stamp.firm or ""),
        "licence": clean(stamp.licence or ""),
    }


def _printable(text: str) -> str:
    """One line of text: control characters and runs of white space become single spaces."""
    shown = (" " if unicodedata.category(char) == "Cc" else char for char in text)
    return " ".join("".join(shown).split())


def _latin(text: str) -> str:
    """Text the standard (non-embedded) Courier font can show.

    It is WinAnsi-encoded: accents of Latin-1 survive, other accents are dropped, and characters
    of other scripts become ``?``. The full name is still in the signature dictionary and the
    certificate.
    """
    shown = []
    for char in _printable(text):
        if ord(char) < 0x100:
            shown.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        shown.append(base if ord(base) < 0x100 else "?")
    return "".join(shown)


@dataclass(frozen=True, eq=False)
class _FontFace:
    """A font program as a standalone OpenType/TrueType file, and the characters it has."""

    data: bytes
    codepoints: frozenset[int]

    def covers(self, char: str) -> bool:
        return ord(char) in self.codepoints


@functools.cache
def _font_face(path: str, index: int | None) -> _FontFace | None:
    """The face ``index`` of a font collection (or the font) at ``path``, read once per process.

    A face of a ``.ttc`` collection is written out as a font of its own (in memory), because
    pyHanko's glyph accumulator reads single fonts only. ``None``, with a warning, if the file is
    missing or unreadable.
    """
    output = BytesIO()
    try:
        # Opened here: fontTools leaves a file it opened itself open when the font is damaged.
        with (
            open(path, "rb") as file,
            ttLib.TTFont(file, fontNumber=-1 if index is None else index, lazy=True) as font,
        ):
            if font["head"].unitsPerEm != PDF_UNITS_PER_EM:
                _rescale(font)
            font.save(output)  # before reading the cmap: recompiling it would take a minute
            codepoints = frozenset(font.getBestCmap())
    except (OSError, ttLib.TTLibError, KeyError, IndexError, ValueError, AssertionError) as error:
        log.warning("signature stamp: cannot use font %s (face %s): %s", path, index, error)
        return None
    return _FontFace(output.getvalue(), codepoints)


def _rescale(font: ttLib.TTFont) -> None:
    """Scale the font to 1000 units per em, the unit of PDF glyph widths.

    pyHanko 0.38 writes a font's own units into the ``/W`` widths and ``TJ`` adjustments, so in
    a font with another em (DejaVu's is 2048) every glyph but a run's last would advance too
    far. TrueType hinting does not survive the scaling, so it is dropped.
    """
    scale_upem(font, PDF_UNITS_PER_EM)
    for tag in _HINTING_TABLES:
        if tag in font:
            del font[tag]
    if "glyf" in font:
        glyphs = font["glyf"]
        for name in font.getGlyphOrder():
            glyphs[name].removeHinting()


@dataclass(frozen=True)
class _FallbackFontFactory(FontEngineFactory):
    first: _FontFace
    fallbacks: tuple[tuple[str, int | None], ...]  #: read when first needed

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: object = None
    ) -> _FallbackFontEngine:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return _FallbackFontEngine(writer, self.first, self.fallbacks, obj_stream)


class _FallbackFontEngine(FontEngine):
    """Shapes each run of text with the first face that has its characters.

    Each face is a pyHanko ``GlyphAccumulator`` (embedded as a subset), created when first
    needed, under the resource name ``/F1`` for the first face and ``/F1_<n>`` for the others;
    a run switches fonts with ``Tf``. Characters no face has are shown by their base letter if
    a face has that, else as ``?``. pyHanko's text box knows one font only, so it is not
    registered with the writer itself; its accumulators are, and are subset when it writes.
    """

    def __init__(
        self,
        writer: BasePdfFileWriter,
        first: _FontFace,
        fallbacks: tuple[tuple[str, int | None], ...],
        obj_stream: object,
    ) -> None:
        self.writer = writer
        self.first = first
        self.fallbacks = fallbacks
        self.obj_stream = obj_stream
        self.font_size = FONT_SIZE  # the text box sets its own
        self.accumulators: dict[int, GlyphAccumulator] = {}

    @property
    def uses_complex_positioning(self) -> bool:
        return True

    def resource_name(self, face_number: int) -> str:
        return "F1" if face_number == 0 else f"F1_{face_number}"

    def extra_fonts(self) -> Iterator[tuple[str, generic.IndirectObject]]:
        """The fonts besides the first face's that the shaped text uses, by resource name."""
        for number, accumulator in sorted(self.accumulators.items()):
            if number:
                yield self.resource_name(number), accumulator.as_resource()

    def as_resource(self) -> generic.IndirectObject:
        return self._accumulator(0).as_resource()

    def shape(self, txt: str) -> ShapeResult:
        ops: list[bytes] = []
        x_advance = y_advance = 0.0
        for number, run in self._runs(txt):
            accumulator = self._accumulator(number)
            accumulator.font_size = self.font_size
            result = accumulator.shape(run)
            ops.append(
                b"/%s %g Tf %s"
                % (self.resource_name(number).encode(), self.font_size, result.graphics_ops)
            )
            x_advance += result.x_advance
            y_advance += result.y_advance
        return ShapeResult(b" ".join(ops), x_advance, y_advance)

    def _runs(self, text: str) -> Iterator[tuple[int, str]]:
        current: int | None = None
        run = ""
        for char in text:
            number = self._face_number(char, current)
            if number is None:
                char = self._substitute(char)
                number = self._face_number(char, current) or 0
            if number != current and run:
                yield current, run
                run = ""
            current = number
            run += char
        if run:
            yield current, run

    def _face_number(self, char: str, current: int | None) -> int | None:
        # Spaces and combining marks stay in the current run's face if it has them.
        if current is not None and (char.isspace() or unicodedata.combining(char)):
            if self._face(current).covers(char):
                return current
        for number in range(len(self.fallbacks) + 1):
            face = self._face(number)
            if face is not None and face.covers(char):
                return number
        return None

    def _substitute(self, char: str) -> str:
        base = unicodedata.normalize("NFKD", char)[0]
        return base if self._face_number(base, None) is not None else "?"

    def _face(self, number: int) -> _FontFace | None:
        return self.first if number == 0 else _font_face(*self.fallbacks[number - 1])

    def _accumulator(self, number: int) -> GlyphAccumulator:
        if number not in self.accumulators:
            accumulator = GlyphAccumulator(
                self.writer,
                BytesIO(self._face(number).data),
                font_size=self.font_size,
                obj_stream=self.obj_stream,
            )
            # HarfBuzz shapes from its own copy of the font. fontTools only measures and
            # subsets, and would spend seconds parsing tables the subset leaves out anyway.
            for tag in _UNEMBEDDED_TABLES:
                if tag in accumulator.tt:
                    del accumulator.tt[tag]
            self.accumulators[number] = accumulator
        return self.accumulators[number]


@dataclass(frozen=True)
class _MultiFontTextStampStyle(TextStampStyle):
    """A text stamp whose text box may use more fonts than its own ``/F1``."""

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict
    ) -> TextStamp:
        return _MultiFontTextStamp(writer=writer, style=self, box=box, text_params=text_params)


class _MultiFontTextStamp(TextStamp):
    def _inner_layout_natural_size(self) -> tuple[list[bytes], tuple[float, float]]:
        result = super()._inner_layout_natural_size()
        engine = self.text_box.font_engine if self.text_box else None
        if isinstance(engine, _FallbackFontEngine):
            # The text box shares this stamp's resources but names only its first font.
            for name, font in engine.extra_fonts():
                self.set_resource(ResourceType.FONT, generic.pdf_name(f"/{name}"), font)
        return result
