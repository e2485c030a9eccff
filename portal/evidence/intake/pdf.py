"""PDFs: opened with pikepdf; damaged, cut short, encrypted or too long ones are refused."""

from __future__ import annotations

import io

import pikepdf

from .base import Limits, UploadRejected


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
