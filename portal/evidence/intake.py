"""Evidence intake: decide from an upload's bytes whether it may be stored, before anything is.

Pure functions over bytes (or a stream read up to a cap) and a ``Limits`` object — no Flask, no
database — so the upload service can call them first. The type is decided by the content, never by
the client's file name extension or Content-Type. Every refusal is an ``UploadRejected`` carrying an
HTTP status, a stable code and a sentence a finance clerk can act on:

====  ==========================================================================================
400   ``bad_filename``, ``empty``
413   ``too_large``
415   ``not_allowed``, ``executable``, ``html``, ``macro``, ``heic_unsupported``
422   ``encrypted_pdf``, ``corrupt_pdf``, ``too_many_pages``, ``pixel_bomb``, ``corrupt_image``,
      ``zip_bomb``, ``xml_bomb``, ``encrypted_document``, ``corrupt_document``, ``corrupt_email``
====  ==========================================================================================
"""

from __future__ import annotations

import email.errors
import email.parser
import email.policy
import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import BinaryIO

import pikepdf
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from PIL import Image

from ..domain import DomainError

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
    #: The cleaned name to display and offer for download (``safe_filename``).
    filename: str = field(default="", kw_only=True)


# -- size and name -------------------------------------------------------------------------------


def _human_size(size: int) -> str:
    if size >= MB and size % MB == 0:
        return f"{size // MB} MB"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def read_upload(source: bytes | bytearray | BinaryIO, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The upload's bytes; a stream is read from where it stands, never past ``max_bytes + 1``.

    :raises UploadRejected: 413 ``too_large`` over ``limits.max_bytes``, 400 ``empty``.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        parts, remaining = [], limits.max_bytes + 1
        while remaining > 0:
            chunk = source.read(min(remaining, MB))
            if not chunk:
                break
            parts.append(chunk)
            remaining -= len(chunk)
        data = b"".join(parts)
    if len(data) > limits.max_bytes:
        raise UploadRejected(
            413,
            "too_large",
            f"This file is larger than the {_human_size(limits.max_bytes)} limit. "
            "Please upload a smaller file, for example by splitting it or scanning at a lower "
            "resolution.",
        )
    if not data:
        raise UploadRejected(
            400, "empty", "This file is empty. Please check the file and upload it again."
        )
    return data


#: Invisible characters that reorder text, as in ``invoice<U+202E>fdp.exe`` shown as ``…exe.pdf``.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _bad_filename(message: str) -> UploadRejected:
    return UploadRejected(400, "bad_filename", message)


def safe_filename(name: str) -> str:
    """The NFC-normalised, trimmed file name, for display and download only (storage uses the hash).

    :raises UploadRejected: 400 ``bad_filename`` for folder parts, control or line-break
        characters, an empty name or one over 255 bytes in UTF-8.
    """
    if not isinstance(name, str):
        raise _bad_filename("The file has no name. Please give it a name and upload it again.")
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise _bad_filename(
                "The file name contains control characters or line breaks. "
                "Please rename the file and upload it again."
            )
    if "/" in name or "\\" in name:
        raise _bad_filename(
            "The file name must not contain folder names or slashes (/ or \\). "
            "Please upload the file under its own name only."
        )
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise _bad_filename("The file has no name. Please give it a name and upload it again.")
    if cleaned in (".", ".."):
        raise _bad_filename(
            "The file name must not refer to a folder. Please rename the file and upload it again."
        )
    if len(cleaned.encode("utf-8")) > 255:
        raise _bad_filename(
            "The file name is too long (over 255 bytes). Please shorten it and upload it again."
        )
    return cleaned


# -- deciding the type ---------------------------------------------------------------------------


def inspect(
    data: bytes | bytearray | BinaryIO, filename: str, limits: Limits = DEFAULT_LIMITS
) -> Inspection:
    """Decide from the content what an upload is, or refuse it.

    Order: size (413) and emptiness, then the name (400), then the content (415/422).

    :raises UploadRejected: see the module docstring for statuses and codes.
    """
    content = read_upload(data, limits)
    name = safe_filename(filename)
    media_type, pages, width, height = _identify(content, limits)
    return Inspection(
        media_type=media_type,
        extension=EXTENSIONS[media_type],
        size=len(content),
        pages=pages,
        width=width,
        height=height,
        filename=name,
    )


_EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux and most Unix
    b"\xfe\xed\xfa\xce",  # Mach-O 32/64 bit, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Java class, or a universal Mach-O
    b"\xca\xfe\xba\xbf",
    b"#!",  # scripts
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
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

_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG", JPEG),
    (b"\x89PNG\r\n\x1a\n", "PNG", PNG),
    (b"II*\x00", "TIFF", TIFF),
    (b"MM\x00*", "TIFF", TIFF),
    (b"II+\x00", "TIFF", TIFF),  # BigTIFF
    (b"MM\x00+", "TIFF", TIFF),
)

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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


def _identify(data: bytes, limits: Limits) -> _Facts:
    head = data[:1024]
    if head.startswith(_EXECUTABLE_MAGIC) or (head.startswith(b"MZ") and b"\x00" in head[:64]):
        raise UploadRejected(
            415,
            "executable",
            "This file is a program, not a document. "
            "Please upload the document itself, for example as a PDF.",
        )
    if head.startswith(b"%PDF-"):
        return PDF, _inspect_pdf(data, limits), None, None
    for magic, pil_format, media_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return (media_type, *_inspect_image(data, pil_format, limits))
    if _is_heif(head):
        return (HEIC, *_inspect_heif(data, limits))
    if head.startswith(b"PK\x03\x04"):
        return _inspect_zip(data, limits), None, None, None
    if head.startswith(_CFB_MAGIC):
        raise _not_allowed(
            "This is an older Office file (.doc, .xls), an Outlook message (.msg) or a "
            "password-protected Office file, which the portal does not accept. Please save it as "
            "PDF, .docx or .xlsx without a password (an e-mail as .eml or PDF) and upload that."
        )
    # PDF readers accept the header anywhere in the first 1 KB; what stands before it must not
    # be a web page (a file that is both HTML and PDF would render as either).
    pdf_at = head.find(b"%PDF-")
    if pdf_at > 0:
        if _has_markup(head[:pdf_at].decode("latin-1")):
            raise _markup_rejected()
        return PDF, _inspect_pdf(data, limits), None, None
    return _inspect_text(data)


def _has_markup(text: str) -> bool:
    lowered = text[:4096].lower()
    return any(marker in lowered for marker in _MARKUP_MARKERS)


# -- PDF -----------------------------------------------------------------------------------------


def _corrupt_pdf() -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_pdf",
        "This PDF is damaged or incomplete and cannot be opened reliably. "
        "Please upload the original file again, or export a new PDF.",
    )


def _inspect_pdf(data: bytes, limits: Limits) -> int:
    # A file cut short (an interrupted download or scan) loses its trailer; qpdf would quietly
    # rebuild the cross-reference table and show whatever pages survived, so refuse instead.
    if b"%%EOF" not in data[-1024:]:
        raise _corrupt_pdf()
    encrypted = repaired = False
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            encrypted = pdf.is_encrypted
            pages = len(pdf.pages)
            repaired = any(
                "damaged" in warning or "reconstruct" in warning for warning in pdf.get_warnings()
            )
    except pikepdf.PasswordError:
        encrypted = True
    except Exception:  # any qpdf failure means the file is not a usable PDF
        raise _corrupt_pdf() from None
    if encrypted:
        raise UploadRejected(
            422,
            "encrypted_pdf",
            "This PDF is password-protected or restricted. "
            "Please upload an unencrypted copy (without a password or restrictions).",
        )
    if repaired:
        raise _corrupt_pdf()
    if pages < 1:
        raise _corrupt_pdf()
    if pages > limits.max_pdf_pages:
        raise UploadRejected(
            422,
            "too_many_pages",
            f"This PDF has {pages:,} pages, more than the {limits.max_pdf_pages:,} allowed. "
            "Please split it into smaller files.",
        )
    return pages


# -- images --------------------------------------------------------------------------------------

_ORIENTATION = 0x0112


def _pixel_bomb(limits: Limits) -> UploadRejected:
    return UploadRejected(
        422,
        "pixel_bomb",
        f"This image is too large (over {limits.max_pixels:,} pixels) to process safely. "
        "Please upload a smaller image or scan at a lower resolution.",
    )


def _corrupt_image() -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_image",
        "This image is damaged or incomplete. Please upload the original file again.",
    )


def _inspect_image(data: bytes, pil_format: str, limits: Limits) -> tuple[int, int, int]:
    """Pages, width and height; pixel counts are checked from the headers, before decoding."""
    # Pillow warns above its global MAX_IMAGE_PIXELS (left as it is) and raises above twice
    # that. Its warnings — that one, and those about odd metadata — are silenced here rather
    # than let out to the caller; ``limits.max_pixels`` decides, per frame, below Pillow's error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                frames = image.n_frames if pil_format == "TIFF" else 1
                if frames > limits.max_pdf_pages:
                    raise UploadRejected(
                        422,
                        "too_many_pages",
                        f"This image has {frames:,} pages, more than the "
                        f"{limits.max_pdf_pages:,} allowed. Please split it into smaller files.",
                    )
                for frame in range(frames):
                    if frame:
                        image.seek(frame)
                    if image.width * image.height > limits.max_pixels:
                        raise _pixel_bomb(limits)
                image.seek(0)
                width, height = image.size
                if image.getexif().get(_ORIENTATION) in (5, 6, 7, 8):
                    width, height = height, width
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                image.verify()  # PNG: every chunk's CRC up to IEND
            if pil_format == "JPEG":
                # Decoding at 1/8 scale still walks all the compressed data, so a JPEG cut
                # short is caught without allocating the full-size picture.
                with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                    image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()
        except UploadRejected:
            raise
        except Image.DecompressionBombError:
            raise _pixel_bomb(limits) from None
        except Exception:  # Pillow signals bad data with many exception types
            raise _corrupt_image() from None
    return frames, width, height


def _is_heif(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_size, len(head)), 4)}
    return bool(brands & _HEIF_BRANDS) and b"avif" not in brands


def _heif_opener() -> bool:
    """Whether Pillow can read HEIC here (the optional ``pillow-heif`` package)."""
    try:
        import pillow_heif  # optional: not a declared dependency
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _inspect_heif(data: bytes, limits: Limits) -> tuple[int, int, int]:
    if not _heif_opener():
        raise UploadRejected(
            415,
            "heic_unsupported",
            "HEIC photos (the iPhone format) are not accepted yet. Please convert the photo to "
            "JPEG (on the iPhone: Settings > Camera > Formats > Most Compatible) and upload it.",
        )
    return _inspect_image(data, "HEIF", limits)


# -- DOCX, XLSX, ODT -----------------------------------------------------------------------------

#: Entries smaller than this are not held to the compression-ratio limit: small, repetitive XML
#: compresses very well and is harmless.
_RATIO_FLOOR = MB


class _TooMuchData(Exception):
    """More bytes came out of an archive than declared or allowed."""


class _CappedReader:
    """A read-only view of one archive entry that counts what comes out and stops at a cap."""

    def __init__(self, raw: BinaryIO, declared: int, budget: list[int]) -> None:
        self._raw = raw
        self._left = declared
        self._budget = budget  # a one-element list: the bytes the whole archive may still unpack

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else min(size, CHUNK)
        chunk = self._raw.read(size)
        self._left -= len(chunk)
        self._budget[0] -= len(chunk)
        if self._left < 0 or self._budget[0] < 0:
            raise _TooMuchData
        return chunk

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


def _zip_bomb(limits: Limits) -> UploadRejected:
    return UploadRejected(
        422,
        "zip_bomb",
        "This document unpacks to far more data or parts than a real document has "
        f"(limits: {_human_size(limits.max_unpacked_bytes)}, {limits.max_zip_entries:,} parts). "
        "Please save it again from Word, Excel or LibreOffice, or upload it as a PDF.",
    )


def _corrupt_document() -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_document",
        "This document is damaged and cannot be opened. "
        "Please save it again from Word, Excel or LibreOffice, or upload it as a PDF.",
    )


def _encrypted_document() -> UploadRejected:
    return UploadRejected(
        422,
        "encrypted_document",
        "This document is password-protected. Please upload an unencrypted copy.",
    )


def _macro_rejected() -> UploadRejected:
    return UploadRejected(
        415,
        "macro",
        "This document contains macros, which are not accepted. Please save it as a normal "
        "document without macros (.docx, .xlsx or .odt) or as a PDF and upload that.",
    )


def _inspect_zip(data: bytes, limits: Limits) -> str:
    # Counting central-directory signatures first keeps a file claiming a million parts from
    # costing a million ZipInfo objects; the count is re-checked on the parsed directory.
    if data.count(b"PK\x01\x02") > limits.max_zip_entries:
        raise _zip_bomb(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _corrupt_document() from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise _zip_bomb(limits)
        if len({info.filename for info in infos}) != len(infos):
            raise _corrupt_document()  # two parts of one name: readers disagree on which counts
        if sum(info.file_size for info in infos) > limits.max_unpacked_bytes:
            raise _zip_bomb(limits)
        for info in infos:
            if info.file_size > _RATIO_FLOOR and (
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
            ):
                raise _zip_bomb(limits)
            if info.flag_bits & 0x1:
                raise _encrypted_document()
        media_type = _office_type(archive, infos)
        _read_parts(archive, infos, limits)
    return media_type


def _office_type(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str:
    names = {info.filename for info in infos}
    lowered = {name.lower() for name in names}
    if any(
        name.endswith("vbaproject.bin")  # OOXML macros (.docm/.xlsm under another name)
        or "/activex/" in name
        or name.startswith(("basic/", "scripts/"))  # OpenDocument macros
        for name in lowered
    ):
        raise _macro_rejected()
    try:
        if "[Content_Types].xml" in names:
            with archive.open("[Content_Types].xml") as part:
                content_types = part.read(MB).lower()
            if b"macroenabled" in content_types:
                raise _macro_rejected()
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
        elif infos[0].filename == "mimetype" and infos[0].file_size <= 100:
            declared = archive.read(infos[0]).strip()
            if declared == ODT.encode() and "content.xml" in names:
                if "META-INF/manifest.xml" in names:
                    with archive.open("META-INF/manifest.xml") as part:
                        if b"encryption-data" in part.read(MB):
                            raise _encrypted_document()
                return ODT
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise _corrupt_document() from None
    raise _not_allowed()


def _read_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Unpack every entry as a stream, counting the bytes, and parse the XML parts safely."""
    budget = [limits.max_unpacked_bytes]
    try:
        for info in infos:
            if info.is_dir():
                continue
            with archive.open(info) as raw:
                reader = _CappedReader(raw, info.file_size, budget)
                if info.filename.lower().endswith((".xml", ".rels")):
                    # Entity definitions (billion laughs) and external references (XXE) are
                    # refused at the DOCTYPE, before anything is expanded.
                    for _event, element in iterparse(reader, events=("end",), forbid_dtd=True):
                        element.clear()
                    reader.drain()
                else:
                    reader.drain()
    except _TooMuchData:
        raise _zip_bomb(limits) from None
    except DefusedXmlException:
        raise UploadRejected(
            422,
            "xml_bomb",
            "This document contains XML entity definitions, which are not allowed because they "
            "can be used to attack the server. Please save it again from Word, Excel or "
            "LibreOffice, or upload it as a PDF.",
        ) from None
    except (
        ParseError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ):
        raise _corrupt_document() from None


# -- e-mail and text -----------------------------------------------------------------------------

_HEADER_LINE = re.compile(rb"[!-9;-~]+:")

#: Control characters no plain-text file contains (tab, line ends, form feed and DOS end of file
#: are fine).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f]")


def _looks_like_email(data: bytes) -> bool:
    if not _HEADER_LINE.match(data):
        return False
    try:
        headers = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            data, headersonly=True
        )
        return headers["From"] is not None and (
            headers["Date"] is not None or headers["Subject"] is not None
        )
    except Exception:  # a header the parser cannot make sense of: then it is not an e-mail
        return False


#: Parser findings that mean a multipart e-mail was cut short or its structure is broken.
_BROKEN_EMAIL = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
)


def _parse_email(data: bytes) -> EmailMessage:
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(data)


def _email_is_complete(message: EmailMessage) -> bool:
    return not any(
        isinstance(defect, _BROKEN_EMAIL) for part in message.walk() for defect in part.defects
    )


def _decode_text(data: bytes) -> str | None:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _inspect_text(data: bytes) -> _Facts:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _not_allowed()  # binary data of a kind we do not know
    if _looks_like_email(data):
        try:
            message = _parse_email(data)
            complete = _email_is_complete(message)
            _split_email(message)
        except Exception:
            complete = False
        if not complete:
            raise UploadRejected(
                422,
                "corrupt_email",
                "This e-mail file is damaged or incomplete and cannot be read. "
                "Please save the e-mail again as .eml, or print it to PDF.",
            )
        return EML, None, None, None
    text = _decode_text(data)
    if text is None or _BINARY_CONTROLS.search(text):
        raise _not_allowed()
    if _has_markup(text):
        raise _markup_rejected()
    start = text.lstrip()[:8].lower()
    if start.startswith(("{\\rtf", "%!ps")):
        raise _not_allowed(
            "This is a rich-text (RTF) or PostScript file, which is not accepted. "
            "Please save it as PDF or .docx and upload that."
        )
    return TXT, None, None, None


#: Headers that ``eml_parts`` returns, when present.
EMAIL_HEADERS = ("From", "To", "Cc", "Date", "Subject", "Message-ID")


def _part_text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError):  # unknown or wrong charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def _leaves(message: Message):
    """Every non-multipart part; an attached e-mail is one part, not opened up."""
    if message.is_multipart() and message.get_content_type() != "message/rfc822":
        for part in message.get_payload():
            yield from _leaves(part)
    else:
        yield message


def eml_parts(data: bytes) -> tuple[dict[str, str], str, str | None, list[tuple[str, bytes]]]:
    """An e-mail's headers (``EMAIL_HEADERS`` present), text body, HTML body and attachments.

    Attachment names go through ``safe_filename``; a missing or unsafe one becomes
    ``attachment-N`` (N counting from 1). The HTML body is returned as is: sanitise before showing.
    """
    return _split_email(_parse_email(data))


def _split_email(
    message: EmailMessage,
) -> tuple[dict[str, str], str, str | None, list[tuple[str, bytes]]]:
    headers = {name: str(message[name]) for name in EMAIL_HEADERS if message[name] is not None}
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text_body = _part_text(text_part) if text_part is not None else ""
    html_body = _part_text(html_part) if html_part is not None else None
    attachments: list[tuple[str, bytes]] = []
    for part in _leaves(message):
        if part is text_part or part is html_part:
            continue
        if part.get_content_type() == "message/rfc822":
            payload = part.get_content().as_bytes()
        else:
            payload = part.get_payload(decode=True) or b""
        number = len(attachments) + 1
        try:
            name = safe_filename(part.get_filename() or "")
        except UploadRejected:
            name = f"attachment-{number}"
        attachments.append((name, payload))
    return headers, text_body, html_body, attachments
