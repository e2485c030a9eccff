"""E-mail (.eml): telling one from plain text, checking it is complete, and its parts."""

from __future__ import annotations

import email.errors
import email.parser
import email.policy
import re
from email.message import EmailMessage, Message

from .base import UploadRejected
from .names import safe_filename

_HEADER_LINE = re.compile(rb"[!-9;-~]+:")


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
