"""Verifying signed letters: tampering, later changes, untrusted signers, damaged files."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from portal.domain import ValidationFailed
from portal.signing.verify import verify_pdf

from .conftest import SIGNER_NAME
from .pdfsig import parse_pdfsig, run_pdfsig


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def _signed_ranges(signed: bytes) -> list[int]:
    """``/ByteRange`` of the only signature: start, length, start, length."""
    [signature] = PdfFileReader(BytesIO(signed)).embedded_signatures
    return [int(n) for n in signature.sig_object["/ByteRange"]]


def _append_revision(signed: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    change(writer)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def test_unsigned_pdf_has_no_signatures(sample_pdf: bytes, ca_cert: x509.Certificate) -> None:
    assert verify_pdf(sample_pdf, [ca_cert]) == []


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.4\n%%EOF"], ids=["empty", "text", "stub"])
def test_not_a_pdf_is_a_validation_error(data: bytes, ca_cert: x509.Certificate) -> None:
    with pytest.raises(ValidationFailed):
        verify_pdf(data, [ca_cert])


def test_flipped_byte_in_the_signed_range_breaks_integrity(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    offset = signed_pdf.index(b"ReportLab PDF Library")  # the /Producer in /Info

    [report] = verify_pdf(_flip(signed_pdf, offset), [ca_cert])

    assert not report.intact and not report.valid and not report.bottom_line
    assert report.signer == SIGNER_NAME
    assert report.summary.startswith("The signature does not match the file")


def test_no_single_flipped_byte_in_the_signed_ranges_passes(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    start1, length1, start2, length2 = _signed_ranges(signed_pdf)
    offsets = [*range(start1, start1 + length1, 41), *range(start2, start2 + length2, 23)]

    outcomes = set()
    for offset in offsets:
        try:
            reports = verify_pdf(_flip(signed_pdf, offset), [ca_cert])
        except ValidationFailed:
            outcomes.add("refused")
            continue
        assert len(reports) == 1, offset
        assert not reports[0].intact and not reports[0].valid, offset
        outcomes.add("not intact")

    assert outcomes == {"refused", "not intact"}


def test_damaged_signature_field_is_not_taken_for_unsigned(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    damaged = signed_pdf.replace(b"/FT /Sig", b"/FT /Sih", 1)

    with pytest.raises(ValidationFailed, match="signature fields are damaged"):
        verify_pdf(damaged, [ca_cert])


def test_metadata_update_after_signing_is_not_valid(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    def retitle(writer: IncrementalPdfFileWriter) -> None:
        info = generic.DictionaryObject(
            {generic.pdf_name("/Title"): generic.TextStringObject("Paid in full")}
        )
        writer.set_info(writer.add_object(info))

    [report] = verify_pdf(_append_revision(signed_pdf, retitle), [ca_cert])

    # pyHanko judges a metadata-only revision harmless; the portal does not.
    assert report.intact and report.trusted and report.bottom_line
    assert report.modified_after_signing and not report.covers_whole_file
    assert not report.valid
    assert "extended after" in report.summary


def test_content_added_after_signing_fails_the_bottom_line(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    def overprint(writer: IncrementalPdfFileWriter) -> None:
        stream = generic.StreamObject(stream_data=b"BT /F1 48 Tf 200 400 Td (PAID) Tj ET")
        writer.add_stream_to_page(0, writer.add_object(stream))

    [report] = verify_pdf(_append_revision(signed_pdf, overprint), [ca_cert])

    assert report.intact and report.trusted and report.modified_after_signing
    assert not report.bottom_line and not report.valid
    assert report.summary == f"The file was changed after {SIGNER_NAME} signed it."


def test_signer_from_an_untrusted_ca_is_intact_but_untrusted(
    signed_pdf: bytes, other_ca_cert: x509.Certificate
) -> None:
    [report] = verify_pdf(signed_pdf, [other_ca_cert])

    assert report.intact and report.covers_whole_file
    assert not report.trusted and not report.bottom_line and not report.valid
    assert report.summary == (
        f"Signed by {SIGNER_NAME} with a certificate the portal does not trust."
    )


def test_no_trust_roots_means_no_trust(signed_pdf: bytes) -> None:
    [report] = verify_pdf(signed_pdf, [])

    assert report.intact and not report.trusted and not report.valid


def test_trust_roots_may_be_given_as_pem_or_der(
    signed_pdf: bytes, ca: tuple[bytes, bytes], ca_cert: x509.Certificate
) -> None:
    der = ca_cert.public_bytes(serialization.Encoding.DER)

    assert verify_pdf(signed_pdf, [ca[0]])[0].valid
    assert verify_pdf(signed_pdf, [der])[0].valid


def test_poppler_also_sees_the_tampering(signed_pdf: bytes, tmp_path: Path) -> None:
    offset = signed_pdf.index(b"ReportLab PDF Library")

    [signature] = parse_pdfsig(run_pdfsig(_flip(signed_pdf, offset), tmp_path))

    assert signature["Signature Validation"] == "Digest Mismatch."
