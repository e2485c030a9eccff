"""Exhibit renditions: one clean PDF per evidence item, for review and for the filing bundle.

Pure functions over bytes and an ``Inspection`` (see ``intake``) — no Flask, no database — run
in the job queue. What comes out is what a filing bundle needs: no JavaScript, actions, embedded
files or encryption, fonts embedded, images at most ``max_dpi``. The PDF work is done by
``portal.pdf``; ``render`` picks the way by the media type intake detected:

=============  =================================================================================
PDF            ``pdf.sanitise``: open actions, additional actions (document, page, field,
               annotation), JavaScript, Launch/ImportData/SubmitForm/ResetForm and other active
               actions, ``javascript:``/``file:`` links, embedded files, file-attachment and
               multimedia annotations and XFA removed; fonts it only names embedded (Liberation,
               same widths); saved unencrypted. ``notes`` say what was changed.
JPEG/PNG/TIFF  ``pdf.images``: img2pdf on A4 (portrait or landscape by aspect, 10 mm margins), EXIF
/HEIC          orientation honoured, at most ``max_dpi``; a JPEG that needs no resampling is
               embedded as is (an EXIF turn is applied to the page content, not to the pixels);
               one page per TIFF frame.
DOCX/XLSX/ODT  LibreOffice (``portal.office``), then the PDF sanitiser.
E-mail (.eml)  ``pdf.mail``: an A4 page (reportlab) with a header table and the text body (an
               HTML-only body is cleaned with nh3 and shown as text: no images, no remote
               content); the attachments are listed and returned for the service to store as
               child items.
Text (.txt)    ``pdf.text``: the same text renderer, monospaced.
=============  =================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..office import ConversionFailed, OfficeConverter, OfficeUnavailable
from ..pdf.base import RenditionFailed, page_count
from ..pdf.images import image_pdf
from ..pdf.mail import email_pdf
from ..pdf.preflight import preflight
from ..pdf.sanitise import sanitise_pdf
from ..pdf.text import decode_text, text_pdf
from . import intake
from .intake import Inspection

__all__ = ["IMAGE_TYPES", "OFFICE_TYPES", "Rendition", "RenditionFailed", "preflight", "render"]

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
        pdf, notes, attachments = _email_pdf(data)
    elif media_type == intake.TXT:
        pdf, notes = text_pdf(decode_text(data), title=inspection.filename)
    else:
        raise RenditionFailed(f"Files of type {media_type} cannot be turned into an exhibit PDF.")
    return Rendition(pdf=pdf, pages=page_count(pdf), notes=notes, attachments=attachments)


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


def _email_pdf(data: bytes) -> tuple[bytes, list[str], list[tuple[str, bytes]]]:
    """An e-mail's page (every header of ``intake.EMAIL_HEADERS``) and its attachments."""
    headers, text_body, html_body, attachments = intake.eml_parts(data)
    rows = [(name, headers.get(name, "")) for name in intake.EMAIL_HEADERS]
    pdf, notes = email_pdf(
        rows, text_body, html_body, attachments, title=headers.get("Subject", "E-mail")
    )
    return pdf, notes, attachments
