"""What every file family's check shares: the media types, ``Limits``, the refusal
(``UploadRejected``) and the result (``Inspection``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...domain import DomainError

MB = 1024 * 1024
CHUNK = 64 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
HEIC = "image/heic"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
EML = "message/rfc822"
TXT = "text/plain"

#: The extension each accepted type is stored and offered for download under.
EXTENSIONS = {
    PDF: ".pdf",
    JPEG: ".jpg",
    PNG: ".png",
    TIFF: ".tif",
    HEIC: ".heic",
    DOCX: ".docx",
    XLSX: ".xlsx",
    ODT: ".odt",
    EML: ".eml",
    TXT: ".txt",
}

#: What each accepted type is, in words (for messages).
TYPE_NAMES = {
    PDF: "a PDF",
    JPEG: "a JPEG image",
    PNG: "a PNG image",
    TIFF: "a TIFF image",
    HEIC: "a HEIC photo",
    DOCX: "a Word document",
    XLSX: "an Excel workbook",
    ODT: "an OpenDocument text",
    EML: "an e-mail",
    TXT: "plain text",
}

ALLOWED_DESCRIPTION = (
    "a PDF, a JPEG, PNG or TIFF image, a Word (.docx), Excel (.xlsx) or OpenDocument (.odt) "
    "file, an e-mail saved as .eml, or a plain-text (.txt) file"
)


@dataclass(frozen=True)
class Limits:
    """What one upload may weigh, unpack to and contain."""

    max_bytes: int = 50 * MB
    #: Per image (per TIFF frame), checked from the header before any pixel is decoded. Pillow's
    #: own hard stop (twice ``Image.MAX_IMAGE_PIXELS``, ~179 million) applies above this.
    max_pixels: int = 60_000_000
    #: Sum over a DOCX/XLSX/ODT's entries, declared and as actually read.
    max_unpacked_bytes: int = 200 * MB
    max_zip_entries: int = 2000
    #: Unpacked ÷ packed size of one entry (checked on entries over 1 MB).
    max_compression_ratio: int = 100
    #: PDF pages, and TIFF frames.
    max_pdf_pages: int = 2000


DEFAULT_LIMITS = Limits()


class UploadRejected(DomainError):
    """An upload that must not be stored: ``status`` (400/413/415/422), ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return f"UploadRejected({self.status}, {self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class Inspection:
    """What the content turned out to be."""

    media_type: str
    #: From the detected type, never from the client's name.
    extension: str
    size: int
    #: PDF pages, TIFF frames, 1 for other images; ``None`` for documents whose paging is unknown.
    pages: int | None = None
    #: Images only: as displayed, i.e. swapped when EXIF orientation turns the picture by 90°.
    width: int | None = None
    height: int | None = None
    #: The cleaned name to display and offer for download (``safe_filename``), ending in the
    #: detected type's extension (``name_for_type``).
    filename: str = field(default="", kw_only=True)
    #: The client's (cleaned) name when it claimed another type and was renamed, else ``None``.
    renamed_from: str | None = field(default=None, kw_only=True)


def _human_size(size: int) -> str:
    if size >= MB and size % MB == 0:
        return f"{size // MB} MB"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


_Facts = tuple[str, int | None, int | None, int | None]


def _not_allowed(message: str | None = None) -> UploadRejected:
    return UploadRejected(
        415,
        "not_allowed",
        message or f"This type of file is not accepted. Please upload {ALLOWED_DESCRIPTION}.",
    )


def _markup_rejected() -> UploadRejected:
    return UploadRejected(
        415,
        "html",
        "This file is a web page or other markup (HTML, SVG or XML), which can carry scripts. "
        "Please upload it as a PDF instead, for example by printing the page to PDF.",
    )


#: Markup a browser would render or run, looked for in the first 4 KB of text.
_MARKUP_MARKERS = (
    "<html",
    "<!doctype",
    "<script",
    "<svg",
    "<?xml",
    "<body",
    "<iframe",
    "<object",
    "<embed",
    "<frameset",
)


def _has_markup(text: str) -> bool:
    lowered = text[:4096].lower()
    return any(marker in lowered for marker in _MARKUP_MARKERS)
