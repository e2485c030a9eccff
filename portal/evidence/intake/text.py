"""Plain text: what is neither a known binary format nor an e-mail; markup, RTF and PostScript
are refused."""

from __future__ import annotations

import re

from .base import EML, TXT, UploadRejected, _Facts, _has_markup, _markup_rejected, _not_allowed
from .mail import _email_is_complete, _looks_like_email, _parse_email, _split_email

#: Control characters no plain-text file contains (tab, line ends, form feed and DOS end of file
#: are fine).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f]")


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
