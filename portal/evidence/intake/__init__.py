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

The checks are by file family: ``names`` (size and file name), ``pdf``, ``images`` (JPEG, PNG,
TIFF, HEIC), ``office`` (DOCX, XLSX, ODT: zip-based), ``mail`` (.eml, and ``eml_parts`` for the
rendition) and ``text``; ``base`` holds the media types, ``Limits``, ``UploadRejected`` and
``Inspection``. ``inspect`` (here) reads the magic bytes and hands over to the family's check.
"""

from __future__ import annotations

from typing import BinaryIO

from .base import (
    ALLOWED_DESCRIPTION,
    CHUNK,
    DEFAULT_LIMITS,
    DOCX,
    EML,
    EXTENSIONS,
    HEIC,
    JPEG,
    MB,
    ODT,
    PDF,
    PNG,
    TIFF,
    TXT,
    TYPE_NAMES,
    XLSX,
    Inspection,
    Limits,
    UploadRejected,
    _Facts,
    _has_markup,
    _markup_rejected,
    _not_allowed,
)
from .base import _human_size as _human_size  # re-exported: tests call intake._human_size
from .images import _IMAGE_MAGIC, _inspect_heif, _inspect_image, _is_heif
from .mail import EMAIL_HEADERS, eml_parts
from .names import name_for_type, read_upload, safe_filename
from .office import _CappedReader as _CappedReader  # re-exported, as _TooMuchData: for the tests
from .office import _inspect_zip
from .office import _TooMuchData as _TooMuchData
from .pdf import _inspect_pdf
from .text import _inspect_text

__all__ = [
    "ALLOWED_DESCRIPTION",
    "CHUNK",
    "DEFAULT_LIMITS",
    "DOCX",
    "EMAIL_HEADERS",
    "EML",
    "EXTENSIONS",
    "HEIC",
    "JPEG",
    "MB",
    "ODT",
    "PDF",
    "PNG",
    "TIFF",
    "TXT",
    "TYPE_NAMES",
    "XLSX",
    "Inspection",
    "Limits",
    "UploadRejected",
    "eml_parts",
    "inspect",
    "name_for_type",
    "read_upload",
    "safe_filename",
]


def inspect(
    data: bytes | bytearray | BinaryIO, filename: str, limits: Limits = DEFAULT_LIMITS
) -> Inspection:
    """Decide from the content what an upload is, or refuse it.

    Order: size (413) and emptiness, then the name (400), then the content (415/422). The name
    given back ends in the detected type's extension (``name_for_type``); ``renamed_from`` holds
    the client's name when that changed it, so the uploader can be told.

    :raises UploadRejected: see the module docstring for statuses and codes.
    """
    content = read_upload(data, limits)
    name = safe_filename(filename)
    media_type, pages, width, height = _identify(content, limits)
    stored_name = name_for_type(name, EXTENSIONS[media_type])
    return Inspection(
        media_type=media_type,
        extension=EXTENSIONS[media_type],
        size=len(content),
        pages=pages,
        width=width,
        height=height,
        filename=stored_name,
        renamed_from=name if stored_name != name else None,
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

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
