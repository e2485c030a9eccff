"""Signing demand letters: PAdES, certifying, a visible stamp, and the ways it can fail."""

from __future__ import annotations

import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from pyhanko.sign.timestamps import DummyTimeStamper

from portal.domain import ValidationFailed
from portal.pdf.fonts.faces import DEJAVU_SANS
from portal.signing import stamp as stamp_module
from portal.signing.demo_pki import make_signer_p12
from portal.signing.pdfsign import Stamp, TimestampUnavailable, sign_pdf
from portal.signing.pki import CertificateRejected, load_pkcs12
from portal.signing.verify import verify_pdf

from .conftest import LICENCE, PASSPHRASE, SIGNED_AT, SIGNER_NAME
from .pdfsig import parse_pdfsig, run_pdfsig
from .pdftext import base_font, has_outline, pdffonts, shown_glyphs, shown_lines, widths_off

#: The demo lawyer of a Beijing firm, and the practising-certificate number format of the PRC.
CHINESE_STAMP = Stamp(
    signer_name="王律师 (Wang Lei)",
    firm="北京金诚律师事务所",
    licence="11101201910123456",
    reason="律师函已审核",
    location="北京",
)


def test_signed_letter_verifies_as_valid_certified_and_whole(
    signed_pdf: bytes, signer_p12: bytes, ca_cert: x509.Certificate
) -> None:
    [report] = verify_pdf(signed_pdf, [ca_cert])

    assert report.valid
    assert report.field_name == "CounselSignature"
    assert report.signer == SIGNER_NAME
    assert (
        report.signer_fingerprint_sha256 == load_pkcs12(signer_p12, PASSPHRASE).fingerprint_sha256
    )
    assert report.signed_at == SIGNED_AT
    assert report.certifying and report.covers_whole_file and report.intact and report.trusted
    assert not report.modified_after_signing
    assert report.summary == f"Valid signature by {SIGNER_NAME} covering the entire file."


def test_signature_is_pades_certifying_with_fill_forms(signed_pdf: bytes) -> None:
    with pikepdf.open(BytesIO(signed_pdf)) as pdf:
        signature = pdf.Root.Perms.DocMDP
        assert signature.SubFilter == "/ETSI.CAdES.detached"
        assert signature.Reference[0].TransformParams.P == 2
        assert str(signature.Reason) == "Letter before claim approved"
        assert str(signature.Name) == SIGNER_NAME
        assert str(signature.M) == "D:" + SIGNED_AT.strftime("%Y%m%d%H%M%S") + "Z"


def test_visible_stamp_sits_bottom_right_on_the_last_page(signed_pdf: bytes) -> None:
    with pikepdf.open(BytesIO(signed_pdf)) as pdf:
        assert "/Annots" not in pdf.pages[0].obj
        [widget] = pdf.pages[-1].obj.Annots
        assert widget.FT == "/Sig" and widget.Subtype == "/Widget"
        left, bottom, right, top = (float(v) for v in widget.Rect)
        width, height = (float(v) for v in pdf.pages[-1].mediabox[2:])
        assert (right - left, top - bottom) == (200, 70)
        assert right > width / 2 and top < height / 2  # bottom-right quarter
        assert 40 <= width - right <= 72 and 40 <= bottom <= 72  # inside the margins
        lines = shown_lines(widget.AP.N)

    assert lines == [
        f"Digitally signed by {SIGNER_NAME}",
        "Counsel & Co LLP",
        f"Licence no. {LICENCE}",
        f"Signed {SIGNED_AT:%Y-%m-%d %H:%M:%S} UTC",
    ]


def test_poppler_agrees_the_signature_is_valid_and_total(signed_pdf: bytes, tmp_path: Path) -> None:
    [signature] = parse_pdfsig(run_pdfsig(signed_pdf, tmp_path))

    assert signature["Signature Field Name"] == "CounselSignature"
    assert signature["Signer Certificate Common Name"] == SIGNER_NAME
    assert signature["Signature Type"] == "ETSI.CAdES.detached"
    assert signature["Signature Validation"] == "Signature is Valid."
    assert signature["Total document signed"] is True


def test_libreoffice_letter_signs_and_verifies(
    libreoffice_pdf: bytes,
    signer_p12: bytes,
    stamp: Stamp,
    ca_cert: x509.Certificate,
    tmp_path: Path,
) -> None:
    signed = sign_pdf(libreoffice_pdf, signer_p12, PASSPHRASE, stamp)

    assert signed.startswith(libreoffice_pdf)  # an incremental update: the letter is untouched
    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid, report.summary
    [signature] = parse_pdfsig(run_pdfsig(signed, tmp_path))
    assert signature["Signature Validation"] == "Signature is Valid."
    assert signature["Total document signed"] is True


def test_pdf_with_cross_reference_streams_signs_and_verifies(
    xref_stream_pdf: bytes, signer_p12: bytes, stamp: Stamp, ca_cert: x509.Certificate
) -> None:
    assert b"/XRef" in xref_stream_pdf and b"/ObjStm" in xref_stream_pdf

    signed = sign_pdf(xref_stream_pdf, signer_p12, PASSPHRASE, stamp)

    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid, report.summary


def test_approval_signature_without_certification(
    sample_pdf: bytes, signer_p12: bytes, stamp: Stamp, ca_cert: x509.Certificate
) -> None:
    signed = sign_pdf(sample_pdf, signer_p12, PASSPHRASE, stamp, certify=False)

    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid and not report.certifying
    with pikepdf.open(BytesIO(signed)) as pdf:
        assert "/Perms" not in pdf.Root


def test_visible_counter_signature_breaks_a_certification_but_not_an_approval(
    sample_pdf: bytes,
    signed_pdf: bytes,
    signer_p12: bytes,
    ca: tuple[bytes, bytes],
    stamp: Stamp,
    ca_cert: x509.Certificate,
) -> None:
    second = make_signer_p12(
        *ca, common_name="Bob Partner", email="bob@counsel.example", passphrase="pw"
    )
    approved = sign_pdf(sample_pdf, signer_p12, PASSPHRASE, stamp, certify=False)

    after_certification = sign_pdf(
        signed_pdf, second, "pw", stamp, field_name="PartnerSignature", certify=False
    )
    after_approval = sign_pdf(
        approved, second, "pw", stamp, field_name="PartnerSignature", certify=False
    )

    # pyHanko's diff policy rejects a new *visible* signature field after a certification.
    certified, partner = verify_pdf(after_certification, [ca_cert])
    assert partner.valid and partner.signer == "Bob Partner" and not partner.certifying
    assert certified.certifying and certified.intact and certified.trusted
    assert not certified.bottom_line and not certified.valid
    assert certified.summary == f"The file was changed after {SIGNER_NAME} signed it."
    # After an approval signature the addition is harmless, but strictly the first signature
    # no longer covers the whole file, so it is not "valid" on its own.
    first, partner = verify_pdf(after_approval, [ca_cert])
    assert partner.valid
    assert first.intact and first.trusted and first.bottom_line and not first.valid
    assert "extended after" in first.summary


def test_a_certified_letter_cannot_be_certified_again(
    signed_pdf: bytes, signer_p12: bytes, stamp: Stamp
) -> None:
    with pytest.raises(ValidationFailed, match="cannot be signed"):
        sign_pdf(signed_pdf, signer_p12, PASSPHRASE, stamp, field_name="Again")


def test_timestamp_token_gives_the_signing_time(
    sample_pdf: bytes,
    signer_p12: bytes,
    stamp: Stamp,
    ca_cert: x509.Certificate,
    timestamper: DummyTimeStamper,
) -> None:
    signed = sign_pdf(
        sample_pdf, signer_p12, PASSPHRASE, stamp, timestamper=timestamper, trust_roots=[ca_cert]
    )

    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid, report.summary
    assert report.signed_at == timestamper.fixed_dt
    # With a time-stamping authority the signature is long-term: B-T, validation data in a
    # DSS (B-LT), and a document time stamp over the whole file (B-LTA).
    assert report.timestamped and report.validation_data
    assert report.level == "B-LTA"
    assert report.covers_whole_file


def test_without_a_time_stamping_authority_the_signature_is_b_b(
    signed_pdf: bytes, ca_cert: x509.Certificate
) -> None:
    [report] = verify_pdf(signed_pdf, [ca_cert])
    assert report.valid and report.level == "B-B"
    assert not report.timestamped and not report.validation_data


def test_wrong_passphrase_is_reported_on_the_passphrase(
    sample_pdf: bytes, signer_p12: bytes, stamp: Stamp
) -> None:
    with pytest.raises(CertificateRejected) as caught:
        sign_pdf(sample_pdf, signer_p12, "guess", stamp)
    assert list(caught.value.fields) == ["passphrase"]


def test_certificate_must_be_valid_at_signing_time(
    sample_pdf: bytes, signer_p12: bytes, stamp: Stamp
) -> None:
    with pytest.raises(CertificateRejected, match="expired"):
        sign_pdf(sample_pdf, signer_p12, PASSPHRASE, stamp, now=SIGNED_AT + timedelta(days=900))


def test_encrypted_pdf_is_refused(sample_pdf: bytes, signer_p12: bytes, stamp: Stamp) -> None:
    encrypted = BytesIO()
    with pikepdf.open(BytesIO(sample_pdf)) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(owner="owner", user=""))

    with pytest.raises(ValidationFailed, match="encrypted"):
        sign_pdf(encrypted.getvalue(), signer_p12, PASSPHRASE, stamp)


@pytest.mark.parametrize(
    "data",
    [b"", b"Dear Sirs, pay up.", b"%PDF-1.7\nthis is not really a PDF\n"],
    ids=["empty", "text", "fake-header"],
)
def test_unreadable_pdf_is_refused(data: bytes, signer_p12: bytes, stamp: Stamp) -> None:
    with pytest.raises(ValidationFailed):
        sign_pdf(data, signer_p12, PASSPHRASE, stamp)


def test_truncated_pdf_is_refused(sample_pdf: bytes, signer_p12: bytes, stamp: Stamp) -> None:
    with pytest.raises(ValidationFailed):
        sign_pdf(sample_pdf[: len(sample_pdf) // 2], signer_p12, PASSPHRASE, stamp)


@pytest.fixture(scope="module")
def chinese_signed_pdf(libreoffice_pdf: bytes, signer_p12: bytes) -> bytes:
    """The one-page LibreOffice letter signed with a stamp in Chinese."""
    return sign_pdf(libreoffice_pdf, signer_p12, PASSPHRASE, CHINESE_STAMP, now=SIGNED_AT)


def test_chinese_name_and_firm_are_drawn_in_the_stamp(chinese_signed_pdf: bytes) -> None:
    with pikepdf.open(BytesIO(chinese_signed_pdf)) as pdf:
        glyphs = shown_glyphs(pdf.pages[-1].obj.Annots[0].AP.N)
        lines = ["".join(glyph.text for glyph in line) for line in glyphs]
        drawn = all(has_outline(g) for line in glyphs for g in line if not g.text.isspace())
        fonts = {base_font(glyph.font) for line in glyphs for glyph in line}

    assert lines == [
        "Digitally signed by 王律师 (Wang Lei)",
        "北京金诚律师事务所",
        "Licence no. 11101201910123456",
        f"Signed {SIGNED_AT:%Y-%m-%d %H:%M:%S} UTC",
    ]
    assert drawn  # every glyph is in the embedded font program: no "?", no empty boxes
    assert fonts == {"NotoSansCJKsc-Regular"}  # face 2 of the collection: Simplified Chinese


def test_stamp_fonts_are_embedded_subsets(chinese_signed_pdf: bytes, tmp_path: Path) -> None:
    with pikepdf.open(BytesIO(chinese_signed_pdf)) as pdf:
        glyphs = shown_glyphs(pdf.pages[-1].obj.Annots[0].AP.N)
        stamp_fonts = {glyph.font.objgen for line in glyphs for glyph in line}

    listed = pdffonts(chinese_signed_pdf, tmp_path)

    assert stamp_fonts and stamp_fonts <= listed.keys()
    for objgen in stamp_fonts:
        assert listed[objgen]["emb"] == "yes", listed[objgen]
        assert listed[objgen]["sub"] == "yes" and listed[objgen]["uni"] == "yes"


def test_chinese_stamp_verifies_and_stays_small(
    libreoffice_pdf: bytes, chinese_signed_pdf: bytes, ca_cert: x509.Certificate, tmp_path: Path
) -> None:
    [report] = verify_pdf(chinese_signed_pdf, [ca_cert])
    [signature] = parse_pdfsig(run_pdfsig(chinese_signed_pdf, tmp_path))

    assert report.valid, report.summary
    assert report.certifying and report.covers_whole_file
    assert signature["Signature Validation"] == "Signature is Valid."
    assert signature["Total document signed"] is True
    # A subset of the CJK font, not the 16 MB face: the signature adds tens of kilobytes.
    assert len(chinese_signed_pdf) - len(libreoffice_pdf) < 300_000


def test_stamp_mixes_fonts_for_other_scripts_and_percent_signs(
    sample_pdf: bytes, signer_p12: bytes, ca_cert: x509.Certificate
) -> None:
    # "Ł" and "ő" are not in Noto Sans CJK but in DejaVu Sans; no face has Devanagari "क",
    # and the mathematical bold "𝐀" is shown as its base letter.
    stamp = Stamp("Łukasz  Zoë\n", "100% Recovery 律师事务所 क 𝐀 Bő", None, "Approved", None)

    signed = sign_pdf(sample_pdf, signer_p12, PASSPHRASE, stamp, now=SIGNED_AT)

    with pikepdf.open(BytesIO(signed)) as pdf:
        glyphs = shown_glyphs(pdf.pages[-1].obj.Annots[0].AP.N)
        lines = ["".join(glyph.text for glyph in line) for line in glyphs]
        drawn = all(has_outline(g) for line in glyphs for g in line if not g.text.isspace())
        fonts = {glyph.text: base_font(glyph.font) for line in glyphs for glyph in line}
        [dejavu] = {g.font.objgen: g.font for g in glyphs[0] if g.text == "Ł"}.values()
        misplaced = widths_off(dejavu)
    assert lines == [
        "Digitally signed by Łukasz Zoë",
        "100% Recovery 律师事务所 ? A Bő",
        f"Signed {SIGNED_AT:%Y-%m-%d %H:%M:%S} UTC",
    ]
    assert drawn
    assert fonts["Ł"] == fonts["ő"] == "DejaVuSans"
    assert not misplaced  # DejaVu's em is 2048 units, PDF widths are in thousandths
    assert fonts["ë"] == fonts["律"] == "NotoSansCJKsc-Regular"
    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid


def test_stamp_without_a_cjk_font_keeps_latin_and_warns(
    sample_pdf: bytes,
    signer_p12: bytes,
    ca_cert: x509.Certificate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = tmp_path / "NotoSansCJK-Regular.ttc"
    monkeypatch.setattr(stamp_module, "STAMP_FACES", ((str(missing), 2), (DEJAVU_SANS, None)))

    with caplog.at_level(logging.WARNING, logger="portal.signing.stamp"):
        signed = sign_pdf(sample_pdf, signer_p12, PASSPHRASE, CHINESE_STAMP, now=SIGNED_AT)

    with pikepdf.open(BytesIO(signed)) as pdf:
        lines = shown_lines(pdf.pages[-1].obj.Annots[0].AP.N)
    assert lines[:2] == ["Digitally signed by ??? (Wang Lei)", "?????????"]
    assert f"cannot use font {missing}" in caplog.text
    assert verify_pdf(signed, [ca_cert])[0].valid


@pytest.mark.parametrize("damaged", [False, True], ids=["missing", "damaged"])
def test_stamp_without_any_font_falls_back_to_courier(
    damaged: bool,
    sample_pdf: bytes,
    signer_p12: bytes,
    ca_cert: x509.Certificate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cjk, latin = tmp_path / "NotoSansCJK-Regular.ttc", tmp_path / "DejaVuSans.ttf"
    if damaged:
        cjk.write_bytes(b"ttcf" + bytes(40))
        latin.write_bytes(b"not a font")
    monkeypatch.setattr(stamp_module, "STAMP_FACES", ((str(cjk), 2), (str(latin), None)))
    stamp = Stamp("Łukasz Zoë", "100% Recovery 律师事务所", None, "Approved", None)

    with caplog.at_level(logging.WARNING, logger="portal.signing.stamp"):
        signed = sign_pdf(sample_pdf, signer_p12, PASSPHRASE, stamp)

    with pikepdf.open(BytesIO(signed)) as pdf:
        glyphs = shown_glyphs(pdf.pages[-1].obj.Annots[0].AP.N)
        lines = ["".join(glyph.text for glyph in line) for line in glyphs]
        fonts = {base_font(glyph.font) for line in glyphs for glyph in line}
    # Courier is WinAnsi-encoded: "ë" stays, "Ł" is dropped, CJK becomes "?".
    assert lines[:2] == ["Digitally signed by ?ukasz Zoë", "100% Recovery ?????"]
    assert fonts == {"Courier"}
    assert "falling back to Courier" in caplog.text
    [report] = verify_pdf(signed, [ca_cert])
    assert report.valid


def test_unreachable_time_stamping_service_is_reported(
    sample_pdf: bytes, signer_p12: bytes, stamp: Stamp, ca_cert: x509.Certificate
) -> None:
    with socket.socket() as probe:  # a local port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(TimestampUnavailable):
        sign_pdf(
            sample_pdf,
            signer_p12,
            PASSPHRASE,
            stamp,
            tsa_url=f"http://127.0.0.1:{port}/",
            timeout=2,
            trust_roots=[ca_cert],
        )


def test_signing_works_in_a_worker_thread(
    sample_pdf: bytes, signer_p12: bytes, stamp: Stamp, ca_cert: x509.Certificate
) -> None:
    """Jobs sign outside any event loop; pyHanko runs its own with ``asyncio.run``."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(sign_pdf, sample_pdf, signer_p12, PASSPHRASE, stamp).result()

    assert verify_pdf(signed, [ca_cert])[0].valid
