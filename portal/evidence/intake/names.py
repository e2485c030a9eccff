"""Size and name: the upload's bytes, read up to a cap, and the file name it may be shown under."""

from __future__ import annotations

import unicodedata
from typing import BinaryIO

from .base import DEFAULT_LIMITS, MB, Limits, UploadRejected, _human_size


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


#: Every spelling of each accepted type's extension; the first is the one files are given.
SUFFIXES = {
    ".pdf": (".pdf",),
    ".jpg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    ".png": (".png",),
    ".tif": (".tif", ".tiff"),
    ".heic": (".heic", ".heif"),
    ".docx": (".docx",),
    ".xlsx": (".xlsx",),
    ".odt": (".odt",),
    ".eml": (".eml",),
    ".txt": (".txt", ".text"),
}

#: Suffixes that claim a file type, so a name ending in one that the content contradicts has it
#: replaced (``scan.png`` holding a PDF → ``scan.pdf``); any other dotted ending is part of the
#: name and the right suffix is added (``Statement 31.12.2025`` → ``Statement 31.12.2025.pdf``).
_TYPE_SUFFIXES = frozenset(spelling for group in SUFFIXES.values() for spelling in group) | {
    ".gif", ".bmp", ".webp", ".svg", ".doc", ".xls", ".xlsm", ".ppt", ".pptx", ".rtf", ".odg",
    ".ods", ".csv", ".htm", ".html", ".xhtml", ".xml", ".json", ".msg", ".zip", ".7z", ".rar",
    ".exe", ".com", ".bat", ".cmd", ".js", ".sh", ".ps1", ".scr", ".dll", ".bin", ".dat",
}  # fmt: skip


def name_for_type(name: str, extension: str) -> str:
    """``name`` ending in ``extension`` (the detected type's, e.g. ``.pdf``): kept when its own
    suffix already says that type, else the type-claiming suffix is replaced or one appended.

    The one naming rule for every stored upload: a file is shown, served and downloaded under a
    name whose extension matches its content, whatever the client called it.
    """
    stem, dot, suffix = name.rpartition(".")
    own = f".{suffix}".lower() if dot and stem else ""
    if own in SUFFIXES.get(extension, (extension,)):
        return name
    base = stem if own in _TYPE_SUFFIXES else name
    renamed = f"{base}{extension}"
    while len(renamed.encode("utf-8")) > 255:  # the limit safe_filename holds names to
        base = base[:-1]
        renamed = f"{base}{extension}"
    return renamed
