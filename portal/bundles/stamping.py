"""What the builder writes onto the merged pages with pikepdf: the page number (bottom centre) and
exhibit label (top right) on every page, index links, bookmarks, ``/PageLabels`` and the
100 % opening view.

Stamps are written straight into the document, not overlaid page by page from a second PDF: each
page gets a small Form XObject (its stamp, drawn in the page's upright coordinates and turned
with the page's ``/Rotate`` by the form's ``/Matrix``), and every page shares one embedded font
(a subset of Noto Sans CJK, ``portal.pdf.fonts``), one ``q`` stream before its content and one
stream after it that draws the form. Nothing is parsed again.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pikepdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ..pdf.base import MM
from ..pdf.fonts.faces import FontSet

_STAMP = pikepdf.Name("/PortalBundleStamp")
_NUMBER_SIZE = 10
_LABEL_SIZE = 10
#: the number's baseline: under the "page N of M" footer of the portal's own renditions (10 mm)
_NUMBER_BASELINE = 4.5 * MM
_LABEL_MARGIN = 8 * MM
_DIGITS = "0123456789"
_GLYPH_CODE = re.compile(r"<([0-9A-F]+)>")


class _Literals:
    """Stands in for a reportlab canvas to collect what ``FontSet.draw`` writes for the CJK
    face (``BT … Tj ET`` with glyph ids), so stamps can be written without reportlab."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def addLiteral(self, text: str) -> None:  # noqa: N802 - reportlab's name
        self.parts.append(text)

    def setFont(self, *_args) -> None:  # noqa: N802 - reportlab's name
        raise ValueError("a stamp character is not in Noto Sans CJK")


@dataclass
class StampFont:
    """The embedded font every stamp of a bundle is set in, made once per bundle."""

    fonts: FontSet
    carrier: pikepdf.Pdf
    resource: str
    #: each stamp character's glyph code (hex, as ``FontSet.draw`` writes it) and advance at
    #: size 1: looked up once, not once per page
    glyphs: dict[str, tuple[str, float]]

    @classmethod
    def for_labels(cls, labels: Iterable[str]) -> StampFont:
        """A font subset with the digits and every character of ``labels``.

        :raises ValueError: a label has a character the stamp font does not have.
        """
        fonts = FontSet(monospace=False)
        characters = "".join(sorted(set(_DIGITS + "".join(labels))))
        probe = _Literals()
        fonts.draw(probe, 0, 0, _LABEL_SIZE, characters)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, invariant=True, initialFontName=fonts.initial_font)
        fonts.draw(canvas, 0, 0, _LABEL_SIZE, characters)
        canvas.showPage()
        canvas.save()
        carrier = pikepdf.open(io.BytesIO(fonts.finish(buffer.getvalue())))
        resource = probe.parts[0].split()[1]  # "BT /FPortalCJK 10 Tf …"
        glyphs = {}
        for character in characters:
            probe = _Literals()
            fonts.draw(probe, 0, 0, 1, character)
            code = _GLYPH_CODE.search(probe.parts[0]).group(1)
            glyphs[character] = (code, fonts.width(character, 1))
        return cls(fonts, carrier, resource, glyphs)

    def draw(self, x: float, y: float, size: float, text: str) -> str:
        """Content-stream operators that show ``text`` at ``x``, ``y``."""
        codes = "".join(self.glyphs[character][0] for character in text)
        return f"BT {self.resource} {size:g} Tf 1 0 0 1 {x:.3f} {y:.3f} Tm <{codes}> Tj ET"

    def width(self, text: str, size: float) -> float:
        return sum(self.glyphs[character][1] for character in text) * size


@dataclass
class Stamper:
    """Stamps the pages of one output document (a volume)."""

    document: pikepdf.Pdf
    font: StampFont
    _resources: pikepdf.Dictionary = field(init=False)
    _before: pikepdf.Stream = field(init=False)
    _after: pikepdf.Stream = field(init=False)
    #: ``/BBox`` and ``/Matrix`` values by their numbers: pages of the same size share one
    #: (direct) array, written out for each form as before; libqpdf's objects are large (some
    #: hundred bytes a number), and ten numbers a page add up to tens of MB on a large bundle
    _arrays: dict[tuple[str, ...], pikepdf.Array] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        carried = self.font.carrier.pages[0].obj.Resources.Font[self.font.resource]
        font = self.document.copy_foreign(carried)
        self._resources = self.document.make_indirect(
            pikepdf.Dictionary(Font=pikepdf.Dictionary({self.font.resource: font}))
        )
        # The page's own content may leave the graphics state changed: it is wrapped in q … Q
        # so the stamp starts from the default state.
        self._before = self.document.make_stream(b"q\n")
        self._after = self.document.make_stream(b"\nQ q " + bytes(_STAMP) + b" Do Q\n")

    def stamp(self, page: pikepdf.Page, number: int, label: str | None) -> None:
        """Writes ``number`` at the bottom centre and ``label`` (if any) at the top right."""
        x0, y0, x1, y1 = (float(v) for v in page.cropbox)
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        width, height = x1 - x0, y1 - y0
        rotate = int(page.obj.get("/Rotate", 0)) % 360
        # The form is drawn upright as the reader sees the page; /Matrix turns it onto the page.
        matrix = {
            0: (1, 0, 0, 1, x0, y0),
            90: (0, 1, -1, 0, x0 + width, y0),
            180: (-1, 0, 0, -1, x0 + width, y0 + height),
            270: (0, -1, 1, 0, x0, y0 + height),
        }.get(rotate, (1, 0, 0, 1, x0, y0))
        if rotate in (90, 270):
            width, height = height, width
        font = self.font
        text = str(number)
        ops = [
            "q 0 g",
            font.draw((width - font.width(text, _NUMBER_SIZE)) / 2, _NUMBER_BASELINE,
                      _NUMBER_SIZE, text),
        ]  # fmt: skip
        if label:
            label_width = font.width(label, _LABEL_SIZE)
            x = width - _LABEL_MARGIN - label_width
            y = height - _LABEL_MARGIN - _LABEL_SIZE
            ops.append(font.draw(x, y, _LABEL_SIZE, label))
            ops.append(
                f"0 G 0.6 w {x - 2.5:.2f} {y - 3:.2f} {label_width + 5:.2f} "
                f"{_LABEL_SIZE + 4.5:.2f} re S"
            )
        ops.append("Q")
        form = self.document.make_stream(
            " ".join(ops).encode("ascii"),
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=self._array((0, 0, round(width, 3), round(height, 3))),
            Matrix=self._array(tuple(round(v, 3) for v in matrix)),
            Resources=self._resources,
        )
        obj = page.obj
        # Pages may share their resources (and XObject dictionaries) with each other: each gets
        # its own copy of the top level, so each can name its own stamp.
        resources = copy.copy(obj.get("/Resources", pikepdf.Dictionary()))
        xobjects = resources.get("/XObject")
        xobjects = copy.copy(xobjects) if isinstance(xobjects, pikepdf.Dictionary) else None
        if xobjects is None:
            xobjects = pikepdf.Dictionary()
        after = self._after
        if _STAMP in xobjects:  # an input that is itself a bundle: another name, own stream
            name = pikepdf.Name.random(prefix="PortalStamp")
            after = self.document.make_stream(b"\nQ q " + bytes(name) + b" Do Q\n")
        else:
            name = _STAMP
        xobjects[name] = form
        resources.XObject = xobjects
        obj.Resources = resources
        contents = obj.get("/Contents")
        if isinstance(contents, pikepdf.Array):
            obj.Contents = pikepdf.Array([self._before, *contents, after])
        elif contents is not None:
            obj.Contents = pikepdf.Array([self._before, contents, after])
        else:
            obj.Contents = pikepdf.Array([self._before, after])

    def _array(self, numbers: tuple[float, ...]) -> pikepdf.Array:
        key = tuple(map(repr, numbers))  # exact: 0 and 0.0 (and -0.0) are written differently
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = pikepdf.Array(numbers)
        return array


def destination(page: pikepdf.Page) -> pikepdf.Array:
    """Go to ``page`` keeping the reader's zoom (``[page /XYZ null null null]``)."""
    return pikepdf.Array([page.obj, pikepdf.Name.XYZ, None, None, None])


def add_links(
    document: pikepdf.Pdf, page: pikepdf.Page, links: Iterable[tuple[tuple, pikepdf.Page]]
) -> None:
    """Link annotations on ``page``: each rectangle goes to its target page."""
    annotations = []
    for rect, target in links:
        annotations.append(
            document.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=pikepdf.Array([round(v, 2) for v in rect]),
                    Border=pikepdf.Array([0, 0, 0]),
                    F=4,  # printable: PDF/A wants it on every annotation
                    Dest=destination(target),
                )
            )
        )
    if annotations:
        existing = page.obj.get("/Annots")
        page.obj.Annots = pikepdf.Array(list(existing or []) + annotations)


@dataclass
class Bookmark:
    """An outline entry and its children."""

    title: str
    page: pikepdf.Page
    children: list[Bookmark] = field(default_factory=list)


def add_outline(document: pikepdf.Pdf, bookmarks: list[Bookmark]) -> None:
    """The document's outline (bookmarks), replacing any it has."""

    def item(bookmark: Bookmark) -> pikepdf.OutlineItem:
        entry = pikepdf.OutlineItem(bookmark.title, destination(bookmark.page))
        entry.children.extend(item(child) for child in bookmark.children)
        return entry

    with document.open_outline() as outline:
        outline.root[:] = [item(bookmark) for bookmark in bookmarks]


def finish_document(document: pikepdf.Pdf, *, first_number: int, title: str) -> None:
    """Page labels that match the stamped numbers, the 100 % opening view and the title."""
    labels = pikepdf.NumberTree.new(document)
    style = pikepdf.Dictionary(S=pikepdf.Name.D)
    if first_number != 1:
        style.St = first_number
    labels[0] = style
    root = document.Root
    root.PageLabels = labels.obj
    # A destination, not an action: opens the first page at zoom 1 (100 %).
    root.OpenAction = pikepdf.Array([document.pages[0].obj, pikepdf.Name.XYZ, None, None, 1])
    root.PageMode = pikepdf.Name.UseOutlines
    document.docinfo["/Title"] = title
    document.docinfo["/Creator"] = "Arrears Portal"
    document.docinfo["/Producer"] = "Arrears Portal"
