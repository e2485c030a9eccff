"""Images on A4 pages: img2pdf, portrait or landscape by aspect, 10 mm margins, EXIF orientation
honoured, at most ``max_dpi``. A JPEG that needs no resampling is embedded as is (an EXIF turn is
applied to the page content, not to the pixels); one page per TIFF frame; HEIC through
``pillow-heif``.
"""

from __future__ import annotations

import io
import math
import warnings

import img2pdf
import pikepdf
from PIL import Image, ImageOps, ImageSequence
from reportlab.lib.pagesizes import A4

from .base import MM, RenditionFailed, plural, save

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
        notes.append(f"reduced {plural('image', resampled)} to {max_dpi} dpi at the printed size")
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
        return save(document)


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
