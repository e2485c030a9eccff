"""Exhibit renditions: one clean PDF per evidence item, for review and for the filing bundle.

Pure functions over bytes and an ``Inspection`` (see ``intake``) — no Flask, no database — run
in the job queue. What comes out is what a filing bundle needs: no JavaScript, actions, embedded
files or encryption, fonts embedded, images at most ``max_dpi``.

=============  =================================================================================
PDF            opened with pikepdf; open actions, additional actions (document, page, field,
               annotation), JavaScript, Launch/ImportData/SubmitForm/ResetForm and other active
               actions, ``javascript:``/``file:`` links, embedded files, file-attachment and
               multimedia annotations and XFA removed; fonts it only names embedded (Liberation,
               same widths); saved unencrypted. ``notes`` say what was changed.
JPEG/PNG/TIFF  img2pdf on A4 (portrait or landscape by aspect, 10 mm margins), EXIF orientation
               honoured, at most ``max_dpi``; a JPEG that needs no resampling is embedded as is
               (an EXIF turn is applied to the page content, not to the pixels); one page per
               TIFF frame.
DOCX/XLSX/ODT  LibreOffice (``portal.office``), then the PDF sanitiser.
E-mail (.eml)  an A4 page (reportlab) with a header table and the text body (an HTML-only body
               is cleaned with nh3 and shown as text: no images, no remote content); the
               attachments are listed and returned for the service to store as child items.
Text (.txt)    the same text renderer, monospaced.
=============  =================================================================================

Text is set in Noto Sans CJK (fonts-noto-cjk), which covers Latin, Greek, Cyrillic and CJK, with
DejaVu Sans for what it lacks. reportlab embeds only TrueType outlines and Noto Sans CJK has CFF
(PostScript) outlines, so this module embeds it itself: a CID-keyed CFF subset of the glyphs
used, as a Type0 font with a ToUnicode map (so the text can be searched and copied).
"""

from __future__ import annotations

import functools
import hashlib
import html
import html.parser
import io
import logging
import math
import mmap
import os
import re
import struct
import unicodedata
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import img2pdf
import nh3
import pikepdf
from PIL import Image, ImageOps, ImageSequence
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase._fontdata import encodings
from reportlab.pdfbase._glyphlist import _glyphname2unicode
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..domain import DomainError
from ..office import ConversionFailed, OfficeConverter, OfficeUnavailable
from . import intake
from .intake import Inspection

log = logging.getLogger(__name__)

MM = 72 / 25.4

NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#: Faces inside ``NOTO_CJK`` (``fc-query`` lists them): Simplified Chinese forms.
NOTO_CJK_SANS_SC = 2
NOTO_CJK_MONO_SC = 7
DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
DEJAVU_SANS_MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

OFFICE_TYPES = frozenset({intake.DOCX, intake.XLSX, intake.ODT})
IMAGE_TYPES = frozenset({intake.JPEG, intake.PNG, intake.TIFF, intake.HEIC})


@dataclass(frozen=True)
class Rendition:
    """The exhibit PDF of one evidence item."""

    pdf: bytes
    pages: int
    #: What was changed or could not be shown, in sentences for the evidence page.
    notes: list[str] = field(default_factory=list)
    #: E-mail only: (file name, bytes) of each attachment, to become child evidence items.
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


class RenditionFailed(DomainError):
    """No exhibit PDF could be made of this file; the message says why, for the evidence page."""

    code = "rendition_failed"


def render(
    data: bytes,
    inspection: Inspection,
    *,
    converter: OfficeConverter | None = None,
    max_dpi: int = 300,
) -> Rendition:
    """The exhibit PDF of an upload that ``intake.inspect`` accepted as ``inspection``.

    :param converter: LibreOffice for DOCX/XLSX/ODT (a default ``OfficeConverter`` if omitted).
    :raises RenditionFailed: the file cannot be opened or converted.
    """
    media_type = inspection.media_type
    attachments: list[tuple[str, bytes]] = []
    if media_type == intake.PDF:
        pdf, notes = sanitise_pdf(data)
    elif media_type in IMAGE_TYPES:
        pdf, notes = image_pdf(data, max_dpi=max_dpi)
    elif media_type in OFFICE_TYPES:
        pdf, notes = _office_pdf(data, inspection, converter)
    elif media_type == intake.EML:
        pdf, notes, attachments = email_pdf(data)
    elif media_type == intake.TXT:
        pdf, notes = text_pdf(_decode_text(data), title=inspection.filename)
    else:
        raise RenditionFailed(f"Files of type {media_type} cannot be turned into an exhibit PDF.")
    return Rendition(pdf=pdf, pages=page_count(pdf), notes=notes, attachments=attachments)


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, as pikepdf counts them."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def _office_pdf(
    data: bytes, inspection: Inspection, converter: OfficeConverter | None
) -> tuple[bytes, list[str]]:
    converter = converter or OfficeConverter()
    try:
        converted = converter.convert(inspection.filename or "document", data)
    except OfficeUnavailable as error:
        raise RenditionFailed(
            "Office documents cannot be converted here: LibreOffice is not installed."
        ) from error
    except ConversionFailed as error:
        raise RenditionFailed(
            f"LibreOffice could not convert this document ({error.error}). Please save it as "
            "PDF and upload that."
        ) from error
    return sanitise_pdf(converted)


# -- PDF: sanitise ---------------------------------------------------------------------------------

#: Actions that only move around the document or show and hide things. Everything else —
#: JavaScript, Launch, ImportData, SubmitForm, ResetForm, GoToR/GoToE (other files), Rendition,
#: Sound, Movie, RichMediaExecute … — is removed.
_SAFE_ACTIONS = frozenset({"/GoTo", "/Named", "/Thread", "/SetOCGState", "/Hide", "/Trans"})
_SAFE_URI_SCHEMES = ("http://", "https://", "mailto:")
#: Annotations that carry files, sound, video or scripts of their own.
_ACTIVE_ANNOTATIONS = {
    "/FileAttachment": "file attachment",
    "/Sound": "multimedia annotation",
    "/Movie": "multimedia annotation",
    "/Screen": "multimedia annotation",
    "/RichMedia": "multimedia annotation",
    "/3D": "multimedia annotation",
}
_ACTION_CATEGORIES = {
    "/JavaScript": "JavaScript action",
    "/Launch": "Launch action",
    "/ImportData": "form action",
    "/SubmitForm": "form action",
    "/ResetForm": "form action",
}
#: Every action type of PDF 2.0 (``/S``): how an action dictionary is told from others that
#: have an ``/S`` too (structure elements, transparency groups, soft masks).
_ACTION_TYPES = frozenset(
    "/GoTo /GoToR /GoToE /GoToDp /Launch /Thread /URI /Sound /Movie /Hide /Named /SubmitForm "
    "/ResetForm /ImportData /SetOCGState /Rendition /Trans /GoTo3DView /JavaScript "
    "/RichMediaExecute".split()
)
_PLURALS = {"embedded file": "embedded files"}


def _plural(noun: str, count: int) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {_PLURALS.get(noun, noun + 's')}"


class _Sanitiser:
    """Removes what can act on its own from an open pikepdf document, counting what it removes."""

    def __init__(self, document: pikepdf.Pdf) -> None:
        self.document = document
        self.removed: Counter[str] = Counter()
        self.notes: list[str] = []

    def run(self) -> list[str]:
        root = self.document.Root
        if "/OpenAction" in root:
            action = root.OpenAction
            if isinstance(action, pikepdf.Dictionary):
                self._check_action(action)
            del root["/OpenAction"]
        self._remove_additional_actions(root)
        if "/Names" in root and isinstance(root.Names, pikepdf.Dictionary):
            names = root.Names
            if "/JavaScript" in names:
                self.removed["JavaScript action"] += max(1, _name_tree_size(names.JavaScript))
                del names["/JavaScript"]
            if "/EmbeddedFiles" in names:
                self.removed["embedded file"] += max(1, _name_tree_size(names.EmbeddedFiles))
                del names["/EmbeddedFiles"]
        if isinstance(root.get("/Names"), pikepdf.Dictionary):
            for key in ("/AlternatePresentations", "/Renditions"):  # slide shows, media clips
                if key in root.Names:
                    self.removed["multimedia item"] += 1
                    del root.Names[key]
        for key in ("/Collection", "/Perms"):  # a portfolio's cover; usage-rights signatures
            if key in root:
                del root[key]
        self._clean_form(root)
        self._clean_outlines(root)
        for page in self.document.pages:
            self._clean_page(page.obj)
        self._scrub()
        notes = [f"removed {_plural(noun, count)}" for noun, count in sorted(self.removed.items())]
        return notes + self.notes

    # actions

    def _check_action(self, action: pikepdf.Object, depth: int = 0) -> bool:
        """Whether ``action`` (with its ``/Next`` chain cleaned in place) may stay."""
        if not isinstance(action, pikepdf.Dictionary) or depth > 32:
            return False
        kind = action.get("/S")
        kind = str(kind) if isinstance(kind, pikepdf.Name) else ""
        if kind == "/URI":
            uri = _text(action.get("/URI"))
            if not uri.strip().lower().startswith(_SAFE_URI_SCHEMES):
                self.removed[
                    "JavaScript link" if "javascript:" in uri.lower() else "unsafe link"
                ] += 1
                return False
        elif kind not in _SAFE_ACTIONS:
            self.removed[_ACTION_CATEGORIES.get(kind, "active action")] += 1
            return False
        if "/Next" in action:
            following = action.Next
            chain = list(following) if isinstance(following, pikepdf.Array) else [following]
            kept = [item for item in chain if self._check_action(item, depth + 1)]
            if not kept:
                del action["/Next"]
            elif len(kept) != len(chain):
                action.Next = pikepdf.Array(kept)
        return True

    def _remove_additional_actions(self, holder: pikepdf.Dictionary) -> None:
        if "/AA" not in holder:
            return
        triggers = holder.AA
        if isinstance(triggers, pikepdf.Dictionary):
            for _trigger, action in triggers.items():
                if self._check_action(action):
                    self.removed["automatic action"] += 1
        del holder["/AA"]

    def _scrub(self) -> None:
        """A last pass over every object, for active content in places the passes above do not
        visit (a parent form field's kids, a nested appearance, a nonstandard key …)."""
        seen: set[tuple[int, int]] = set()
        stack: list[pikepdf.Object] = [self.document.Root]
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Stream):
                if _seen(obj, seen):
                    continue
                obj = obj.stream_dict
            elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array):
                if _seen(obj, seen):
                    continue
            else:
                continue
            if isinstance(obj, pikepdf.Array):
                kept = [item for item in obj if not self._scrubbed(item)]
                if len(kept) != len(obj):
                    obj[:] = kept  # noqa: B909 - replaced whole, after the loop
                stack.extend(kept)
                continue
            for key in list(obj.keys()):
                value = obj[key]
                if key == "/AA":
                    self._remove_additional_actions(obj)
                elif key in ("/EF", "/RichMediaContent"):
                    self.removed["embedded file"] += 1
                    del obj[key]
                elif self._scrubbed(value):
                    del obj[key]
                else:
                    stack.append(value)

    def _scrubbed(self, value: pikepdf.Object) -> bool:
        """Whether ``value`` is an action (or script) that has to go; counts it if so."""
        if not isinstance(value, pikepdf.Dictionary):
            return False
        kind = value.get("/S")
        is_action = (
            value.get("/Type") == "/Action"
            or "/JS" in value
            or (isinstance(kind, pikepdf.Name) and str(kind) in _ACTION_TYPES)
        )
        if not is_action:
            return False
        if "/JS" in value and kind != "/JavaScript":
            self.removed["JavaScript action"] += 1
            return True
        return not self._check_action(value)

    # parts of the document

    def _clean_form(self, root: pikepdf.Dictionary) -> None:
        form = root.get("/AcroForm")
        if not isinstance(form, pikepdf.Dictionary):
            return
        if "/XFA" in form:
            del form["/XFA"]
            self.notes.append("removed the XFA form (the form's fields and their values are kept)")
        if int(form.get("/SigFlags", 0)) & 1:
            self.notes.append(
                "the digital signature of the original is not valid on this copy; the original "
                "file keeps it"
            )
        seen: set[tuple[int, int]] = set()
        stack = list(form.get("/Fields", pikepdf.Array()))
        while stack:
            field_ = stack.pop()
            if not isinstance(field_, pikepdf.Dictionary) or _seen(field_, seen):
                continue
            self._remove_additional_actions(field_)
            if "/A" in field_ and not self._check_action(field_.A):
                del field_["/A"]
            stack.extend(field_.get("/Kids", pikepdf.Array()))

    def _clean_outlines(self, root: pikepdf.Dictionary) -> None:
        outlines = root.get("/Outlines")
        if not isinstance(outlines, pikepdf.Dictionary):
            return
        seen: set[tuple[int, int]] = set()
        stack = [outlines.get("/First")]
        while stack:
            item = stack.pop()
            if not isinstance(item, pikepdf.Dictionary) or _seen(item, seen):
                continue
            if "/A" in item and not self._check_action(item.A):
                del item["/A"]
            stack.extend(item.get(key) for key in ("/First", "/Next"))

    def _clean_page(self, page: pikepdf.Dictionary) -> None:
        self._remove_additional_actions(page)
        annotations = page.get("/Annots")
        if not isinstance(annotations, pikepdf.Array):
            return
        kept = []
        for annotation in annotations:
            if not isinstance(annotation, pikepdf.Dictionary):
                continue
            subtype = str(annotation.get("/Subtype", ""))
            if subtype in _ACTIVE_ANNOTATIONS:
                self.removed[_ACTIVE_ANNOTATIONS[subtype]] += 1
                continue
            self._remove_additional_actions(annotation)
            if "/PA" in annotation and not self._check_action(annotation.PA):
                del annotation["/PA"]
            if "/A" in annotation and not self._check_action(annotation.A):
                if subtype == "/Link":
                    continue  # a link that did nothing but run the action
                del annotation["/A"]
            kept.append(annotation)
        if len(kept) != len(annotations):
            page.Annots = pikepdf.Array(kept)


def _seen(obj: pikepdf.Object, seen: set[tuple[int, int]]) -> bool:
    if not obj.is_indirect:
        return False
    if obj.objgen in seen:
        return True
    seen.add(obj.objgen)
    return False


def _text(value: pikepdf.Object | None) -> str:
    if isinstance(value, pikepdf.String):
        return bytes(value).decode("latin-1")
    return str(value) if value is not None else ""


def _name_tree_size(node: pikepdf.Object, depth: int = 0) -> int:
    if not isinstance(node, pikepdf.Dictionary) or depth > 32:
        return 0
    count = len(node.get("/Names", ())) // 2
    for kid in node.get("/Kids", ()):
        count += _name_tree_size(kid, depth + 1)
    return count


def sanitise_pdf(data: bytes) -> tuple[bytes, list[str]]:
    """The PDF without active content, unencrypted, and what was removed (for ``notes``).

    :raises RenditionFailed: pikepdf cannot open the file.
    """
    try:
        document = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, pikepdf.PasswordError) as error:
        raise RenditionFailed(
            "This PDF cannot be opened to make the exhibit copy. Please upload it again, or "
            "print it to a new PDF and upload that."
        ) from error
    with document:
        notes = _Sanitiser(document).run()
        if document.is_encrypted:
            notes.append("removed the encryption (permission restrictions)")
        notes += _embed_missing_fonts(document)
        return _save(document), notes


def _save(document: pikepdf.Pdf) -> bytes:
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


# -- PDF: preflight --------------------------------------------------------------------------------


def preflight(pdf: bytes) -> list[str]:
    """What in ``pdf`` a filing bundle must not contain; an empty list when it is clean.

    Each problem is reported once: ``encrypted``, ``OpenAction``, ``additional actions``,
    ``JavaScript``, ``Launch action``, ``form action``, ``embedded file``, ``XFA``,
    ``multimedia``, ``fonts not embedded``.
    """
    problems: list[str] = []

    def found(problem: str) -> None:
        if problem not in problems:
            problems.append(problem)

    try:
        document = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError:
        return ["encrypted"]
    with document:
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
        for obj in _walk(document.trailer):
            _preflight_object(obj, found)
    return problems


def _walk(start: pikepdf.Object) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary (and stream dictionary) reachable from ``start``, each once."""
    seen: set[tuple[int, int]] = set()
    stack = [start]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            if _seen(obj, seen):
                continue
            yield obj.stream_dict
            stack.extend(obj.stream_dict.values())
        elif isinstance(obj, pikepdf.Dictionary):
            if _seen(obj, seen):
                continue
            yield obj
            stack.extend(obj.values())
        elif isinstance(obj, pikepdf.Array):
            if _seen(obj, seen):
                continue
            stack.extend(obj)


def _preflight_object(obj: pikepdf.Dictionary, found) -> None:
    kind = obj.get("/S")
    if "/JS" in obj or kind == "/JavaScript":
        found("JavaScript")
    elif kind == "/Launch":
        found("Launch action")
    elif kind in ("/ImportData", "/SubmitForm", "/ResetForm"):
        found("form action")
    elif kind == "/URI" and _text(obj.get("/URI")).strip().lower().startswith("javascript:"):
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
    if obj.get("/Type") == "/Font" and not _font_embedded(obj):
        found("fonts not embedded")


def _font_embedded(font: pikepdf.Dictionary) -> bool:
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


# -- images --------------------------------------------------------------------------------------

_MARGIN = 10 * MM
_EXIF_ORIENTATION = 0x0112
#: EXIF orientations a page rotation shows without touching the pixels (clockwise degrees).
_PAGE_ROTATIONS = {1: 0, 3: 180, 6: 90, 8: 270}


def _image_layout(width: int, height: int) -> tuple[float, float, float, float]:
    """Page width and height and the image's width and height on it, in points."""
    page_width, page_height = A4 if height >= width else (A4[1], A4[0])
    scale = min((page_width - 2 * _MARGIN) / width, (page_height - 2 * _MARGIN) / height)
    return page_width, page_height, width * scale, height * scale


def _image_layout_fun(width: int, height: int, _dpi) -> tuple[float, float, float, float]:
    return _image_layout(width, height)


def _resampled_size(width: int, height: int, max_dpi: int) -> tuple[int, int] | None:
    """The pixel size that shows the image at ``max_dpi``, or ``None`` if it is within it."""
    _, _, shown_width, _ = _image_layout(width, height)
    dpi = width / (shown_width / 72)
    if dpi <= max_dpi:
        return None
    factor = max_dpi / dpi
    return max(1, math.floor(width * factor)), max(1, math.floor(height * factor))


def image_pdf(data: bytes, *, max_dpi: int = 300) -> tuple[bytes, list[str]]:
    """A JPEG, PNG, TIFF (a page per frame) or HEIC image on A4 pages at most ``max_dpi``.

    :raises RenditionFailed: the image cannot be decoded.
    """
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's metadata and size warnings; intake decided
        try:
            if data[4:8] == b"ftyp":
                _register_heif()
            image = Image.open(io.BytesIO(data))
            with image:
                as_is = _jpeg_as_is(image, max_dpi)
                if as_is is not None:
                    pdf = img2pdf.convert(
                        data,
                        layout_fun=_image_layout_fun,
                        rotation=img2pdf.Rotation.none,
                        nodate=True,
                    )
                    return _turn_pages(pdf, as_is), notes
                pages = []
                resampled = 0
                for frame in ImageSequence.Iterator(image):
                    encoded, changed = _frame_for_pdf(frame, image.format, max_dpi)
                    pages.append(encoded)
                    resampled += changed
        except RenditionFailed:
            raise
        except Exception as error:  # Pillow and img2pdf signal bad data with many types
            raise RenditionFailed(
                "This image cannot be decoded to make the exhibit copy. Please upload the "
                "original file again, or a PDF of it."
            ) from error
        pdf = img2pdf.convert(
            pages, layout_fun=_image_layout_fun, rotation=img2pdf.Rotation.none, nodate=True
        )
    if resampled:
        notes.append(f"reduced {_plural('image', resampled)} to {max_dpi} dpi at the printed size")
    return pdf, notes


def _register_heif() -> None:
    try:
        import pillow_heif  # optional, as in intake: without it HEIC is refused on upload
    except ImportError:
        raise RenditionFailed("HEIC images cannot be converted here.") from None
    pillow_heif.register_heif_opener()


def _jpeg_as_is(image: Image.Image, max_dpi: int) -> int | None:
    """The page turn (degrees) if this JPEG can go into the PDF unchanged, else ``None``."""
    if image.format != "JPEG" or image.mode not in ("L", "RGB", "CMYK"):
        return None
    turn = _PAGE_ROTATIONS.get(image.getexif().get(_EXIF_ORIENTATION, 1))
    if turn is None:
        return None  # a mirrored orientation: the pixels must be transposed
    width, height = image.size if turn in (0, 180) else (image.height, image.width)
    if _resampled_size(width, height, max_dpi) is not None:
        return None
    return turn


def _turn_pages(pdf: bytes, degrees: int) -> bytes:
    """Turns every page clockwise by drawing its content rotated (no ``/Rotate`` left over)."""
    if not degrees:
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            x0, y0, x1, y1 = (float(value) for value in page.mediabox)
            width, height = x1 - x0, y1 - y0
            matrix = {
                90: (0, -1, 1, 0, 0, width),
                180: (-1, 0, 0, -1, width, height),
                270: (0, 1, -1, 0, height, 0),
            }[degrees]
            page.contents_add(
                pikepdf.Stream(
                    document,
                    b"q %s cm 1 0 0 1 %s %s cm\n"
                    % (" ".join(f"{v:g}" for v in matrix).encode(), _num(-x0), _num(-y0)),
                ),
                prepend=True,
            )
            page.contents_add(pikepdf.Stream(document, b"\nQ\n"))
            size = (height, width) if degrees in (90, 270) else (width, height)
            page.mediabox = pikepdf.Array([0, 0, *size])
            for key in ("/CropBox", "/Rotate"):
                if key in page.obj:
                    del page.obj[key]
        return _save(document)


def _num(value: float) -> bytes:
    return f"{value:.4f}".rstrip("0").rstrip(".").encode() or b"0"


def _frame_for_pdf(
    frame: Image.Image, source_format: str | None, max_dpi: int
) -> tuple[bytes, bool]:
    """One frame, upright, in a mode img2pdf takes, at most ``max_dpi``; encoded; resampled?"""
    icc = frame.info.get("icc_profile")
    orientation = frame.getexif().get(_EXIF_ORIENTATION, 1)
    shown = (frame.height, frame.width) if orientation in (5, 6, 7, 8) else frame.size
    target = _resampled_size(*shown, max_dpi)
    if target is not None and source_format == "JPEG":
        raw_target = target if orientation not in (5, 6, 7, 8) else (target[1], target[0])
        frame.draft(frame.mode, raw_target)  # decode at 1/2, 1/4 or 1/8 size where that fits
    image = ImageOps.exif_transpose(frame)
    image = _flatten(image)
    if target is not None:
        if image.mode in ("1", "P"):
            image = image.convert("L" if image.mode == "1" else "RGB")
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    options = {"icc_profile": icc} if icc else {}
    if image.mode == "CMYK" or (source_format == "JPEG" and image.mode in ("L", "RGB")):
        image.save(out, "JPEG", quality=92, **options)
    else:
        image.save(out, "PNG", **options)
    return out.getvalue(), target is not None


def _flatten(image: Image.Image) -> Image.Image:
    """An image in mode 1, L, P, RGB or CMYK: transparency onto white, 16 bits down to 8."""
    mode = image.mode
    if mode in ("1", "L", "RGB", "CMYK") and "transparency" not in image.info:
        return image
    if mode == "P" and "transparency" not in image.info:
        return image
    if mode.startswith("I") or mode == "F":
        if mode.startswith("I;16"):
            image = image.convert("I")
        if image.mode == "I":
            image = image.point(lambda value: value * (1 / 256))
        return image.convert("L")
    if mode in ("RGBA", "LA", "PA", "P", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background.convert("L") if mode in ("LA", "La", "L") else background
    return image.convert("RGB")


# -- text and e-mail -------------------------------------------------------------------------------

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_TEXT_LEFT = 20 * MM
_TEXT_RIGHT = _PAGE_WIDTH - 20 * MM
_TEXT_TOP = _PAGE_HEIGHT - 20 * MM
_TEXT_BOTTOM = 20 * MM
_FOOTER_BASELINE = 10 * MM
_LABEL_WIDTH = 28 * MM
_CELL_PADDING = 2 * MM
_GREY = (0.35, 0.35, 0.35)
_RULE = (0.6, 0.6, 0.6)


@dataclass
class _Line:
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
    paragraphs = [raw.expandtabs(8) for raw in _clean_text(text).split("\n")]

    def layout(fonts: _FontSet) -> list[_Line]:
        return [
            _Line(part, size=size, leading=size * 1.35)
            for raw in paragraphs
            for part in _wrap(raw, fonts, size, _TEXT_RIGHT - _TEXT_LEFT)
        ]

    return _typeset(layout, monospace=True, title=title)


def email_pdf(data: bytes) -> tuple[bytes, list[str], list[tuple[str, bytes]]]:
    """An e-mail as a header table, its text and a list of its attachments, which it returns."""
    headers, text_body, html_body, attachments = intake.eml_parts(data)
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
            f"{_plural('attachment', len(attachments))} listed; each becomes its own evidence item"
        )
    size, leading = 10.0, 14.0
    width = _TEXT_RIGHT - _TEXT_LEFT

    def layout(fonts: _FontSet) -> list[_Line]:
        lines = [_Line("E-mail", size=14, leading=20, bold=True)]
        for name in intake.EMAIL_HEADERS:
            value = _clean_text(headers.get(name, "")).replace("\n", " ").strip() or "—"
            parts = _wrap(value, fonts, size, width - _LABEL_WIDTH - 2 * _CELL_PADDING)
            lines += [
                _Line(
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
        lines.append(_Line(leading=leading))
        if remark:
            lines += [
                _Line(part, size=8.5, leading=12, grey=True)
                for part in _wrap(remark, fonts, 8.5, width)
            ]
        for raw in _clean_text(body).split("\n"):
            lines += [
                _Line(part, size=size, leading=leading)
                for part in _wrap(raw.expandtabs(4), fonts, size, width)
            ]
        lines.append(_Line(leading=leading))
        if not attachments:
            lines.append(_Line("Attachments: none", size=size, leading=leading, grey=True))
            return lines
        lines.append(_Line(f"Attachments ({len(attachments)})", size=11, leading=16, bold=True))
        for number, (name, payload) in enumerate(attachments, 1):
            entry = _clean_text(f"{number}. {name} — {_size_text(len(payload))}")
            lines += [
                _Line(part, size=size, leading=leading) for part in _wrap(entry, fonts, size, width)
            ]
        return lines

    pdf, font_notes = _typeset(layout, monospace=False, title=headers.get("Subject", "E-mail"))
    return pdf, notes + font_notes, attachments


def _typeset(
    layout: Callable[[_FontSet], list[_Line]], *, monospace: bool, title: str
) -> tuple[bytes, list[str]]:
    """Lays out and draws with Noto Sans CJK first; should its CFF program hold something the
    subsetter does not follow, again with DejaVu alone (CJK then shows as '?', with a note)."""
    try:
        fonts = _FontSet(monospace=monospace)
        return _draw(layout(fonts), fonts, title=title)
    except _Unsupported as error:
        log.warning("rendition: cannot subset the CJK font (%s); using DejaVu alone", error)
    fonts = _FontSet(monospace=monospace, cjk=False)
    return _draw(layout(fonts), fonts, title=title)


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


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


def _clean_text(text: str) -> str:
    """Line ends unified; control and format characters (bar tab and line end) dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _wrap(text: str, fonts: _FontSet, size: float, width: float) -> list[str]:
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


def _draw(lines: list[_Line], fonts: _FontSet, *, title: str) -> tuple[bytes, list[str]]:
    pages: list[list[_Line]] = [[]]
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
    canvas.setTitle(_clean_text(title)[:200])
    canvas.setCreator("Arrears Portal")
    canvas.setProducer("Arrears Portal")
    total = len(pages)
    table_left, table_right = _TEXT_LEFT, _TEXT_RIGHT
    divider = table_left + _LABEL_WIDTH
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
                        table_left + _CELL_PADDING,
                        baseline,
                        line.size,
                        line.label,
                        bold=True,
                    )
                canvas.setFillColorRGB(0, 0, 0)
                fonts.draw(canvas, divider + _CELL_PADDING, baseline, line.size, line.text)
            elif line.text:
                if line.grey:
                    canvas.setFillColorRGB(*_GREY)
                else:
                    canvas.setFillColorRGB(0, 0, 0)
                fonts.draw(canvas, _TEXT_LEFT, baseline, line.size, line.text, bold=line.bold)
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


# -- fonts for the text renderer -------------------------------------------------------------------


class _FontSet:
    """The faces one text document is set in, tried in order for each character."""

    def __init__(self, *, monospace: bool, cjk: bool = True) -> None:
        self.faces: list[_Face] = []
        noto = _open_type(NOTO_CJK, NOTO_CJK_MONO_SC if monospace else NOTO_CJK_SANS_SC)
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
        self.bold_faces: list[_Face] = [_ReportlabFace(bold)] if bold else []
        self.missing: Counter[str] = Counter()

    def _face(self, char: str, bold: bool = False) -> _Face | None:
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

    def runs(self, text: str, bold: bool = False) -> Iterator[tuple[_Face, str]]:
        current: _Face | None = None
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
            return _save(document)

    def notes(self) -> list[str]:
        if not self.missing:
            return []
        count = sum(self.missing.values())
        return [f"{_plural('character', count)} could not be shown (no font has them): as '?'"]


class _Face:
    def covers(self, char: str) -> bool:
        raise NotImplementedError

    def advance(self, char: str) -> float:
        """Advance width in thousandths of the font size."""
        raise NotImplementedError

    def draw(self, canvas: Canvas, x: float, y: float, size: float, text: str) -> None:
        raise NotImplementedError


class _ReportlabFace(_Face):
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


class _CidFace(_Face):
    """A CFF-outline OpenType face, drawn by glyph (CID) and embedded by ``pdf_font``."""

    def __init__(self, font: _OpenTypeFont, resource: str) -> None:
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


# -- OpenType with CFF outlines: metrics, cmap and CID-keyed subsets -------------------------------


@functools.cache
def _open_type(path: str, index: int) -> _OpenTypeFont | None:
    if not os.path.exists(path):
        return None
    try:
        return _OpenTypeFont(path, index)
    except (OSError, ValueError, struct.error, IndexError, KeyError) as error:
        log.warning("rendition: cannot use font %s (face %d): %s", path, index, error)
        return None


class _Sfnt:
    """One face of an OpenType/TrueType file or collection: tables, metrics, Unicode cmap.

    The file is memory-mapped, not read: only the tables and glyphs used are touched.
    """

    def __init__(self, path: str, index: int = 0) -> None:
        self.path = path
        with open(path, "rb") as handle:
            self.data = data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        start = 0
        if data[:4] == b"ttcf":
            (count,) = struct.unpack_from(">I", data, 8)
            if index >= count:
                raise ValueError(f"the collection has {count} faces")
            (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
        (tables,) = struct.unpack_from(">H", data, start + 4)
        self.tables: dict[str, tuple[int, int]] = {}
        for number in range(tables):
            tag, _checksum, offset, length = struct.unpack_from(
                ">4sIII", data, start + 12 + 16 * number
            )
            self.tables[tag.decode("latin-1")] = (offset, length)
        head = self.tables["head"][0]
        (self.units_per_em,) = struct.unpack_from(">H", data, head + 18)
        self.bbox = struct.unpack_from(">4h", data, head + 36)
        hhea = self.tables["hhea"][0]
        self.ascent, self.descent = struct.unpack_from(">hh", data, hhea + 4)
        (self.metrics,) = struct.unpack_from(">H", data, hhea + 34)
        self.cap_height = self.ascent * 0.7
        if "OS/2" in self.tables:
            os2, length = self.tables["OS/2"]
            if length >= 90:
                (self.cap_height,) = struct.unpack_from(">h", data, os2 + 88)
        self.postscript_name = self._name(6) or os.path.splitext(os.path.basename(path))[0]
        self._read_cmap()

    def glyph(self, code: int) -> int | None:
        """The glyph id for a Unicode code point, ``None`` if the face has none."""
        position = bisect_right(self._starts, code) - 1
        if position < 0 or code > self._ends[position]:
            return None
        glyph = self._lookup[position](code)
        return glyph or None

    def advance(self, glyph: int) -> float:
        """Advance width in thousandths of an em."""
        hmtx = self.tables["hmtx"][0]
        (width,) = struct.unpack_from(">H", self.data, hmtx + 4 * min(glyph, self.metrics - 1))
        return width * 1000 / self.units_per_em

    def _name(self, name_id: int) -> str | None:
        if "name" not in self.tables:
            return None
        offset, _ = self.tables["name"]
        _format, count, strings = struct.unpack_from(">HHH", self.data, offset)
        for number in range(count):
            platform, encoding, language, found, length, at = struct.unpack_from(
                ">6H", self.data, offset + 6 + 12 * number
            )
            if found != name_id:
                continue
            raw = self.data[offset + strings + at : offset + strings + at + length]
            if platform == 3:
                text = raw.decode("utf-16-be", "replace")
            elif platform == 1:
                text = raw.decode("latin-1")
            else:
                continue
            return re.sub(r"[^A-Za-z0-9_.-]", "", text)
        return None

    def _read_cmap(self) -> None:
        data = self.data
        offset, _ = self.tables["cmap"]
        (count,) = struct.unpack_from(">H", data, offset + 2)
        subtables = {}
        for number in range(count):
            platform, encoding, at = struct.unpack_from(">HHI", data, offset + 4 + 8 * number)
            subtables[(platform, encoding)] = offset + at
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._lookup: list = []
        for key in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3)):
            if key not in subtables:
                continue
            at = subtables[key]
            (form,) = struct.unpack_from(">H", data, at)
            if form == 12:
                (groups,) = struct.unpack_from(">I", data, at + 12)
                for group in range(groups):
                    first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * group)
                    self._starts.append(first)
                    self._ends.append(last)
                    self._lookup.append(functools.partial(_offset_glyph, first, glyph))
                return
            if form == 4:
                self._read_format4(at)
                return
        raise ValueError("no Unicode cmap")

    def _read_format4(self, at: int) -> None:
        data = self.data
        (segments,) = struct.unpack_from(">H", data, at + 6)
        segments //= 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
        range_at = at + 16 + 6 * segments
        ranges = struct.unpack_from(f">{segments}H", data, range_at)
        for number in range(segments):
            if starts[number] == 0xFFFF:
                continue
            self._starts.append(starts[number])
            self._ends.append(ends[number])
            self._lookup.append(
                functools.partial(
                    self._format4_glyph,
                    starts[number],
                    deltas[number],
                    ranges[number],
                    range_at + 2 * number,
                )
            )

    def _format4_glyph(self, start: int, delta: int, range_offset: int, at: int, code: int):
        if range_offset == 0:
            return (code + delta) & 0xFFFF
        (glyph,) = struct.unpack_from(">H", self.data, at + range_offset + 2 * (code - start))
        return (glyph + delta) & 0xFFFF if glyph else 0


class _OpenTypeFont(_Sfnt):
    """A face with CID-keyed CFF outlines (Noto Sans CJK), embedded as CFF subsets."""

    def __init__(self, path: str, index: int) -> None:
        super().__init__(path, index)
        self.cff = _Cff(self.data, *self.tables["CFF "])
        self.registry, self.ordering, self.supplement = self.cff.ros

    def cid(self, glyph: int) -> int:
        return self.cff.cid(glyph)

    def subset(self, glyphs: Iterable[int]) -> bytes:
        return self.cff.subset(glyphs)


def _offset_glyph(first: int, glyph: int, code: int) -> int:
    return glyph + code - first


class _Index:
    """A CFF INDEX read in place: ``len``, ``[i]`` and where it ends."""

    def __init__(self, data, at: int) -> None:
        self.data = data
        (self.count,) = struct.unpack_from(">H", data, at)
        if self.count == 0:
            self.end = at + 2
            return
        self.size = data[at + 2]
        self.offsets = at + 3
        self.base = at + 3 + (self.count + 1) * self.size - 1
        self.end = self.base + self._offset(self.count)

    def _offset(self, number: int) -> int:
        at = self.offsets + number * self.size
        return int.from_bytes(self.data[at : at + self.size], "big")

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, number: int) -> bytes:
        if not 0 <= number < self.count:
            raise IndexError(number)
        return bytes(
            self.data[self.base + self._offset(number) : self.base + self._offset(number + 1)]
        )


def _build_index(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = (
        1
        if offsets[-1] < 1 << 8
        else 2
        if offsets[-1] < 1 << 16
        else 3
        if offsets[-1] < 1 << 24
        else 4
    )
    return (
        struct.pack(">HB", len(items), size)
        + b"".join(offset.to_bytes(size, "big") for offset in offsets)
        + b"".join(items)
    )


# DICT operators (two-byte ones as 1200 + second byte)
_CHARSET, _CHARSTRINGS, _PRIVATE, _SUBRS = 15, 17, 18, 19
_ROS, _FDARRAY, _FDSELECT = 1230, 1236, 1237
_ENCODING = 16


def _parse_dict(raw: bytes) -> list[tuple[int, list[tuple[float | None, bytes]]]]:
    """A CFF DICT as (operator, [(value, encoded operand)]) in order; reals keep no value."""
    entries = []
    operands: list[tuple[float | None, bytes]] = []
    at = 0
    while at < len(raw):
        byte = raw[at]
        if byte <= 21:
            if byte == 12:
                operator, at = 1200 + raw[at + 1], at + 2
            else:
                operator, at = byte, at + 1
            entries.append((operator, operands))
            operands = []
        elif byte == 28:
            operands.append((struct.unpack_from(">h", raw, at + 1)[0], raw[at : at + 3]))
            at += 3
        elif byte == 29:
            operands.append((struct.unpack_from(">i", raw, at + 1)[0], raw[at : at + 5]))
            at += 5
        elif byte == 30:
            end = at + 1
            while not (raw[end] & 0x0F == 0x0F or raw[end] >> 4 == 0x0F):
                end += 1
            operands.append((None, raw[at : end + 1]))
            at = end + 1
        elif 32 <= byte <= 246:
            operands.append((byte - 139, raw[at : at + 1]))
            at += 1
        elif 247 <= byte <= 250:
            operands.append(((byte - 247) * 256 + raw[at + 1] + 108, raw[at : at + 2]))
            at += 2
        elif 251 <= byte <= 254:
            operands.append((-(byte - 251) * 256 - raw[at + 1] - 108, raw[at : at + 2]))
            at += 2
        else:
            raise ValueError(f"bad DICT byte {byte}")
    return entries


def _operator(operator: int) -> bytes:
    return bytes([12, operator - 1200]) if operator >= 1200 else bytes([operator])


def _build_dict(entries, replacements: dict[int, list[int]]) -> bytes:
    """A DICT with ``replacements`` (operator → integer operands, written as 5-byte integers,
    so the size does not depend on them) instead of, or after, the original entries."""
    out = bytearray()
    for operator, operands in entries:
        if operator in replacements:
            continue
        out += b"".join(raw for _value, raw in operands) + _operator(operator)
    for operator, values in replacements.items():
        if values:
            out += b"".join(b"\x1d" + struct.pack(">i", value) for value in values)
            out += _operator(operator)
    return bytes(out)


def _subr_bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


def _charstring_number(value: int) -> bytes:
    if -107 <= value <= 107:
        return bytes([value + 139])
    if 108 <= value <= 1131:
        value -= 108
        return bytes([(value >> 8) + 247, value & 0xFF])
    if -1131 <= value <= -108:
        value = -value - 108
        return bytes([(value >> 8) + 251, value & 0xFF])
    return b"\x1c" + struct.pack(">h", value)


class _Unsupported(Exception):
    """A charstring this subsetter does not follow (e.g. computed subroutine numbers)."""


class _Cff:
    """A CID-keyed CFF font program (the ``CFF `` table), read in place."""

    def __init__(self, data, offset: int, length: int) -> None:
        self.data = data
        self.offset = offset
        header_size = data[offset + 2]
        names = _Index(data, offset + header_size)
        self.name = names[0]
        top_dicts = _Index(data, names.end)
        self.top = _parse_dict(top_dicts[0])
        self.strings_at = top_dicts.end
        strings = _Index(data, top_dicts.end)
        self.strings_raw = bytes(data[top_dicts.end : strings.end])
        self.global_subrs = _Index(data, strings.end)
        top = {operator: operands for operator, operands in self.top}
        if _ROS not in top or _FDSELECT not in top or _FDARRAY not in top:
            raise ValueError("not a CID-keyed CFF font")
        registry, ordering, supplement = (value for value, _raw in top[_ROS])
        self.ros = (
            self._string(int(registry)),
            self._string(int(ordering)),
            int(supplement),
        )
        self.charstrings = _Index(data, offset + int(top[_CHARSTRINGS][0][0]))
        self.glyph_count = len(self.charstrings)
        self._cids = self._read_charset(offset + int(top[_CHARSET][0][0]))
        self._fds = self._read_fdselect(offset + int(top[_FDSELECT][0][0]))
        font_dicts = _Index(data, offset + int(top[_FDARRAY][0][0]))
        self.font_dicts = []
        for number in range(len(font_dicts)):
            entries = _parse_dict(font_dicts[number])
            private = {operator: operands for operator, operands in entries}.get(_PRIVATE)
            private_entries, subrs = [], None
            if private:
                size, at = (int(value) for value, _raw in private)
                private_entries = _parse_dict(bytes(data[offset + at : offset + at + size]))
                local = {operator: operands for operator, operands in private_entries}
                if _SUBRS in local:
                    subrs = _Index(data, offset + at + int(local[_SUBRS][0][0]))
            self.font_dicts.append((entries, private_entries, subrs))

    def _string(self, sid: int) -> str:
        standard = 391  # strings 0..390 are CFF's standard strings; ROS uses custom ones
        if sid < standard:
            raise ValueError("ROS names a standard string")
        return _Index(self.data, self.strings_at)[sid - standard].decode("latin-1")

    def _read_charset(self, at: int) -> list[int]:
        data = self.data
        form = data[at]
        cids = [0]
        at += 1
        if form == 0:
            cids += struct.unpack_from(f">{self.glyph_count - 1}H", data, at)
        else:
            while len(cids) < self.glyph_count:
                if form == 1:
                    first, left = struct.unpack_from(">HB", data, at)
                    at += 3
                else:
                    first, left = struct.unpack_from(">HH", data, at)
                    at += 4
                cids.extend(range(first, first + left + 1))
        return cids[: self.glyph_count]

    def _read_fdselect(self, at: int) -> bytes:
        data = self.data
        form = data[at]
        if form == 0:
            return bytes(data[at + 1 : at + 1 + self.glyph_count])
        if form != 3:
            raise ValueError(f"FDSelect format {form}")
        (ranges,) = struct.unpack_from(">H", data, at + 1)
        fds = bytearray(self.glyph_count)
        for number in range(ranges):
            first, fd = struct.unpack_from(">HB", data, at + 3 + 3 * number)
            (following,) = struct.unpack_from(">H", data, at + 3 + 3 * (number + 1))
            fds[first:following] = bytes([fd]) * (following - first)
        return bytes(fds)

    def cid(self, glyph: int) -> int:
        return self._cids[glyph]

    def subset(self, glyphs: Iterable[int]) -> bytes:
        """A CID-keyed CFF with only ``glyphs`` (and .notdef), keeping their CIDs, and only the
        subroutines they call (renumbered)."""
        order = [0] + sorted(set(glyphs) - {0})
        walker = _CharstringWalker(self)
        try:
            for glyph in order:
                walker.run_glyph(glyph)
            return walker.build(order)
        except (IndexError, KeyError, ValueError, struct.error) as error:
            raise _Unsupported(f"damaged or unexpected font program: {error!r}") from error


class _CharstringWalker:
    """Follows Type 2 charstrings to find the subroutines used, then writes the subset."""

    def __init__(self, cff: _Cff) -> None:
        self.cff = cff
        #: (kind, fd, number) → [(start, end, callee kind, callee number)]; kind "c" glyph,
        #: "g" global subroutine, "l" local subroutine (of font dict fd).
        self.calls: dict[tuple, list[tuple[int, int, str, int]]] = {}
        self.used_global: set[int] = set()
        self.used_local: dict[int, set[int]] = {}
        self.globals_call_locals = False

    def run_glyph(self, glyph: int) -> None:
        fd = self.cff._fds[glyph]
        state = {"stems": 0, "stack": [], "fd": fd}
        self._run(("c", fd, glyph), self.cff.charstrings[glyph], state, 0)

    def _program(self, key: tuple) -> bytes:
        kind, fd, number = key
        if kind == "c":
            return self.cff.charstrings[number]
        if kind == "g":
            return self.cff.global_subrs[number]
        return self.cff.font_dicts[fd][2][number]

    def _run(self, key: tuple, code: bytes, state: dict, depth: int) -> str:
        if depth > 12:
            raise _Unsupported("subroutines nested too deep")
        first_visit = key not in self.calls
        calls = self.calls.setdefault(key, [])
        stack = state["stack"]
        at = 0
        while at < len(code):
            byte = code[at]
            if byte >= 32 or byte == 28:
                if byte == 28:
                    value, end = struct.unpack_from(">h", code, at + 1)[0], at + 3
                elif byte <= 246:
                    value, end = byte - 139, at + 1
                elif byte <= 250:
                    value, end = (byte - 247) * 256 + code[at + 1] + 108, at + 2
                elif byte <= 254:
                    value, end = -(byte - 251) * 256 - code[at + 1] - 108, at + 2
                else:
                    value, end = None, at + 5  # 16.16 fixed: never a subroutine number
                stack.append((value, at, end, key))
                at = end
                continue
            if byte == 12:
                at += 2
                stack.clear()  # flex and arithmetic: results are not subroutine numbers
                continue
            at += 1
            if byte in (1, 3, 18, 23):  # stem hints
                state["stems"] += len(stack) // 2
                stack.clear()
            elif byte in (19, 20):  # hintmask, cntrmask: implicit vstem, then the mask bytes
                state["stems"] += len(stack) // 2
                stack.clear()
                at += (state["stems"] + 7) // 8
            elif byte in (10, 29):  # callsubr, callgsubr
                if not stack:
                    raise _Unsupported("subroutine call without a number")
                value, start, end, owner = stack.pop()
                if value is None or owner != key:
                    raise _Unsupported("computed subroutine number")
                if byte == 29:
                    subrs = self.cff.global_subrs
                    number = value + _subr_bias(len(subrs))
                    callee = ("g", None, number)
                    self.used_global.add(number)
                else:
                    subrs = self.cff.font_dicts[state["fd"]][2]
                    if subrs is None:
                        raise _Unsupported("local subroutine call without local subroutines")
                    number = value + _subr_bias(len(subrs))
                    callee = ("l", state["fd"], number)
                    self.used_local.setdefault(state["fd"], set()).add(number)
                    if key[0] == "g":
                        self.globals_call_locals = True
                if first_visit:
                    calls.append((start, end, callee[0], number))
                if self._run(callee, self._program(callee), state, depth + 1) == "end":
                    return "end"
            elif byte == 11:  # return
                return "return"
            elif byte == 14:  # endchar
                return "end"
            else:
                stack.clear()
        return "end"

    def build(self, order: list[int]) -> bytes:
        cff = self.cff
        new_global = sorted(self.used_global)
        global_numbers = {old: new for new, old in enumerate(new_global)}
        global_bias = _subr_bias(len(new_global))
        fds_used = sorted({cff._fds[glyph] for glyph in order})
        fd_numbers = {old: new for new, old in enumerate(fds_used)}
        renumber_locals = not self.globals_call_locals
        local_numbers: dict[int, dict[int, int]] = {}
        local_lists: dict[int, list[int]] = {}
        for fd in fds_used:
            subrs = cff.font_dicts[fd][2]
            used = sorted(self.used_local.get(fd, ()))
            if subrs is None or not used:
                local_lists[fd] = []
                local_numbers[fd] = {}
            elif renumber_locals:
                local_lists[fd] = used
                local_numbers[fd] = {old: new for new, old in enumerate(used)}
            else:
                local_lists[fd] = list(range(len(subrs)))
                local_numbers[fd] = {old: old for old in range(len(subrs))}

        def rewrite(key: tuple, fd: int) -> bytes:
            code = self._program(key)
            out = bytearray()
            at = 0
            for start, end, kind, number in sorted(self.calls.get(key, [])):
                out += code[at:start]
                if kind == "g":
                    out += _charstring_number(global_numbers[number] - global_bias)
                else:
                    numbers = local_numbers[fd]
                    out += _charstring_number(numbers[number] - _subr_bias(len(numbers)))
                at = end
            out += code[at:]
            return bytes(out)

        charstrings = [rewrite(("c", cff._fds[g], g), cff._fds[g]) for g in order]
        # A global subroutine calling local ones is used from glyphs of one font dict only
        # when local numbering is kept (``renumber_locals`` false), so any fd does here.
        global_subrs = [rewrite(("g", None, n), fds_used[0]) for n in new_global]
        privates = []
        for fd in fds_used:
            entries, private_entries, subrs = cff.font_dicts[fd]
            used = set(self.used_local.get(fd, ()))
            local = [rewrite(("l", fd, n), fd) if n in used else b"\x0b" for n in local_lists[fd]]
            privates.append((entries, private_entries, _build_index(local) if local else b""))

        header = bytes([1, 0, 4, 4])
        names = _build_index([cff.name])
        charset = b"\x00" + b"".join(struct.pack(">H", cff.cid(g)) for g in order[1:])
        fdselect = b"\x00" + bytes(fd_numbers[cff._fds[g]] for g in order)
        charstrings_index = _build_index(charstrings)
        global_index = _build_index(global_subrs)
        placeholder = {_CHARSET: [0], _CHARSTRINGS: [0], _FDSELECT: [0], _FDARRAY: [0]}
        dropped = {_ENCODING: [], _PRIVATE: []}
        top_size = len(_build_index([_build_dict(cff.top, placeholder | dropped)]))
        position = len(header) + len(names) + top_size + len(cff.strings_raw) + len(global_index)
        charset_at = position
        fdselect_at = charset_at + len(charset)
        charstrings_at = fdselect_at + len(fdselect)
        fdarray_at = charstrings_at + len(charstrings_index)
        font_dict_size = len(
            _build_index([_build_dict(entries, {_PRIVATE: [0, 0]}) for entries, _p, _l in privates])
        )
        private_at = fdarray_at + font_dict_size
        font_dicts, private_blocks = [], []
        for entries, private_entries, local_index in privates:
            private = _build_dict(private_entries, {_SUBRS: [0] if local_index else []})
            if local_index:
                private = _build_dict(private_entries, {_SUBRS: [len(private)]})
            font_dicts.append(_build_dict(entries, {_PRIVATE: [len(private), private_at]}))
            private_blocks.append(private + local_index)
            private_at += len(private) + len(local_index)
        top = _build_dict(
            cff.top,
            {
                _CHARSET: [charset_at],
                _CHARSTRINGS: [charstrings_at],
                _FDSELECT: [fdselect_at],
                _FDARRAY: [fdarray_at],
            }
            | dropped,
        )
        return b"".join(
            [
                header,
                names,
                _build_index([top]),
                cff.strings_raw,
                global_index,
                charset,
                fdselect,
                charstrings_index,
                _build_index(font_dicts),
                *private_blocks,
            ]
        )


# -- PDFs with fonts that are not embedded ---------------------------------------------------------

LIBERATION = "/usr/share/fonts/truetype/liberation2"
#: Name fragments (lower case, no spaces) that say a font is not a text font: left alone.
_SYMBOLIC_NAMES = ("symbol", "zapf", "dingbat", "wingding", "webdings", "marlett")
_SERIF_NAMES = ("times", "roman", "serif", "georgia", "garamond", "cambria", "bookantiqua")
_MONO_NAMES = ("courier", "mono", "consolas", "typewriter")
_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")
_ITALIC_NAMES = ("italic", "oblique")


def _embed_missing_fonts(document: pikepdf.Pdf) -> list[str]:
    """Embeds a metric-compatible Liberation font (subset) for every simple font the PDF only
    names — typically the standard Helvetica, Times and Courier, or Arial — so that the exhibit
    looks the same everywhere and the bundle has every font embedded. The font's own widths are
    kept, so the text does not move. Returns notes on what was substituted or left."""
    substituted: dict[str, str] = {}
    left: set[str] = set()
    plans = []
    for font in list(_walk(document.Root)):
        if font.get("/Type") != "/Font" or _font_embedded(font):
            continue
        name = str(font.get("/BaseFont", "/unnamed"))[1:]
        face_path = _substitute_face(font, name)
        face = _true_type(face_path) if face_path else None
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


def _simple_font_glyphs(font: pikepdf.Dictionary, face: _TrueTypeFile) -> dict[int, tuple]:
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


@functools.cache
def _true_type(path: str) -> _TrueTypeFile | None:
    if not os.path.exists(path):
        return None
    try:
        return _TrueTypeFile(path)
    except (OSError, ValueError, struct.error, KeyError) as error:
        log.warning("rendition: cannot use font %s: %s", path, error)
        return None


#: TrueType tables a PDF viewer uses from an embedded font; the rest are left out.
_TRUE_TYPE_TABLES = (
    "OS/2",
    "cmap",
    "cvt ",
    "fpgm",
    "gasp",
    "glyf",
    "head",
    "hhea",
    "hmtx",
    "loca",
    "maxp",
    "name",
    "post",
    "prep",
)


class _TrueTypeFile(_Sfnt):
    """A TrueType font file: subsets that keep the glyph ids (unused glyphs emptied)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        (self.long_loca,) = struct.unpack_from(">h", self.data, self.tables["head"][0] + 50)
        (self.glyph_count,) = struct.unpack_from(">H", self.data, self.tables["maxp"][0] + 4)
        (angle,) = struct.unpack_from(">i", self.data, self.tables["post"][0] + 4)
        self.italic_angle = round(angle / 65536, 2)
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", self.postscript_name.replace("-Regular", ""))
        self.full_name = words.replace("-", " ")

    def _glyph_data(self, glyph: int) -> bytes:
        loca, glyf = self.tables["loca"][0], self.tables["glyf"][0]
        if self.long_loca:
            start, end = struct.unpack_from(">II", self.data, loca + 4 * glyph)
        else:
            start, end = (
                2 * value for value in struct.unpack_from(">HH", self.data, loca + 2 * glyph)
            )
        return self.data[glyf + start : glyf + end]

    def subset(self, glyphs: Iterable[int]) -> bytes:
        """The font with every glyph but ``glyphs`` (their components and .notdef) emptied."""
        keep = {0}
        pending = list(glyphs)
        while pending:
            glyph = pending.pop()
            if glyph in keep or not 0 <= glyph < self.glyph_count:
                continue
            keep.add(glyph)
            pending.extend(_components(self._glyph_data(glyph)))
        glyf = bytearray()
        loca = []
        for glyph in range(self.glyph_count):
            loca.append(len(glyf))
            if glyph in keep:
                glyf += self._glyph_data(glyph)
                glyf += b"\0" * (-len(glyf) % 4)
        loca.append(len(glyf))
        head_at, head_length = self.tables["head"]
        head = bytearray(self.data[head_at : head_at + head_length])
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment: not checked by PDF viewers
        head[50:52] = struct.pack(">h", 1)  # long loca offsets
        tables = {
            tag: bytes(self.data[offset : offset + length])
            for tag, (offset, length) in self.tables.items()
            if tag in _TRUE_TYPE_TABLES
        }
        tables |= {
            "head": bytes(head),
            "glyf": bytes(glyf),
            "loca": struct.pack(f">{len(loca)}I", *loca),
            # format 3, without glyph names: viewers find glyphs by Unicode through the cmap
            "post": struct.pack(">I", 0x00030000) + tables["post"][4:32],
        }
        return _build_sfnt(tables)


def _components(glyph: bytes) -> list[int]:
    """The glyph ids a composite glyph is made of (none for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found = []
    at = 10
    while at + 4 <= len(glyph):
        flags, component = struct.unpack_from(">HH", glyph, at)
        found.append(component)
        at += 4 + (4 if flags & 0x0001 else 2)
        at += 8 if flags & 0x0080 else 4 if flags & 0x0040 else 2 if flags & 0x0008 else 0
        if not flags & 0x0020:
            break
    return found


def _build_sfnt(tables: dict[str, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    offset = 12 + 16 * count
    directory, body = bytearray(), bytearray()
    for tag in tags:
        table = tables[tag]
        padded = table + b"\0" * (-len(table) % 4)
        checksum = sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), checksum, offset + len(body), len(table)
        )
        body += padded
    return header + bytes(directory) + bytes(body)
