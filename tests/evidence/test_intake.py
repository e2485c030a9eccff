"""Evidence intake: every file in ``tests/resources/corpus`` is refused with the right status and
code, every sample in ``tests/resources/good`` is accepted as what it really is."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from portal.domain import DomainError
from portal.evidence import intake
from portal.evidence.intake import (
    DOCX,
    EML,
    HEIC,
    JPEG,
    ODT,
    PDF,
    PNG,
    TIFF,
    TXT,
    XLSX,
    Limits,
    UploadRejected,
    eml_parts,
    inspect,
    safe_filename,
)
from tests.resources import make_corpus

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CORPUS = RESOURCES / "corpus"
GOOD = RESOURCES / "good"

#: Corpus file → (status, code): what the upload must be refused with.
REFUSED = {
    "invoice.pdf": (415, "executable"),  # ELF
    "contract.pdf": (415, "executable"),  # Windows PE
    "payment.pdf": (415, "executable"),  # shell script
    "receipt.pdf": (415, "executable"),  # Java class
    "delivery.pdf": (415, "html"),
    "photo.png": (415, "html"),  # SVG with a script
    "statement.pdf": (415, "html"),  # HTML page in front of a real PDF
    "encrypted.pdf": (422, "encrypted_pdf"),  # needs a password to open
    "restricted.pdf": (422, "encrypted_pdf"),  # opens, but encrypted with restrictions
    "truncated.pdf": (422, "corrupt_pdf"),  # first half of a 3-page PDF
    "xref-damaged.pdf": (422, "corrupt_pdf"),  # qpdf would have to rebuild the xref table
    "corrupt.pdf": (422, "corrupt_pdf"),
    "bomb-20000x20000.png": (422, "pixel_bomb"),  # over twice Pillow's limit: its error
    "bomb-10000x10000.png": (422, "pixel_bomb"),  # over Pillow's warning level: silenced
    "bomb-8000x8000.png": (422, "pixel_bomb"),  # under Pillow's limit, over ours
    "bomb-100000x100000.tif": (422, "pixel_bomb"),
    "truncated.jpg": (422, "corrupt_image"),
    "truncated.png": (422, "corrupt_image"),
    "truncated.tif": (422, "corrupt_image"),
    # pillow-heif is a dependency, so HEIC is read; this one is cut short.
    "photo.heic": (422, "corrupt_image"),
    "zip-bomb.docx": (422, "zip_bomb"),  # 300 MB of zeros in 300 KB
    "many-entries.docx": (422, "zip_bomb"),  # 5,003 entries
    "lying-size.docx": (422, "corrupt_document"),  # declares 1,000 bytes, inflates to 2 MB
    "billion-laughs.xlsx": (422, "xml_bomb"),
    "external-entity.docx": (422, "xml_bomb"),  # XXE
    "macro.docx": (415, "macro"),  # a .docm renamed
    "encrypted.docx": (422, "encrypted_document"),  # ZIP entries flagged as encrypted
    "encrypted.odt": (422, "encrypted_document"),  # ODF encryption, described in the manifest
    "truncated.docx": (422, "corrupt_document"),
    "archive.zip": (415, "not_allowed"),
    "legacy.doc": (415, "not_allowed"),  # OLE compound file (.doc/.xls/.msg)
    "nul-bytes.txt": (415, "not_allowed"),
    "latin1.txt": (415, "not_allowed"),  # not UTF-8
    "letter.txt": (415, "not_allowed"),  # RTF
    "truncated.eml": (422, "corrupt_email"),
    "empty.txt": (400, "empty"),
}

#: Good sample → (media type, extension, pages, (width, height) or None).
ACCEPTED = {
    "two-pages.pdf": (PDF, ".pdf", 2, None),
    "rotated.jpg": (JPEG, ".jpg", 1, (32, 64)),  # stored 64×32, EXIF orientation 6
    "scan.png": (PNG, ".png", 1, (160, 120)),
    "three-frames.tif": (TIFF, ".tif", 3, (120, 80)),
    "letter.docx": (DOCX, ".docx", None, None),
    "ledger.xlsx": (XLSX, ".xlsx", None, None),
    "reconciliation.odt": (ODT, ".odt", None, None),
    "mail.eml": (EML, ".eml", None, None),
    "note.txt": (TXT, ".txt", None, None),
    "note-utf16.txt": (TXT, ".txt", None, None),
}


def refusal(data, filename="upload.bin", limits=intake.DEFAULT_LIMITS) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        inspect(data, filename, limits)
    return caught.value


def assert_sentence(message: str) -> None:
    assert re.fullmatch(r"[A-Z][^\n]*[.]", message), message
    assert len(message.split()) >= 6, message


# -- the committed files -------------------------------------------------------------------------


def test_the_committed_files_are_the_ones_listed_here():
    assert sorted(path.name for path in CORPUS.iterdir()) == sorted(REFUSED)
    assert sorted(path.name for path in GOOD.iterdir()) == sorted(ACCEPTED)
    total = sum(path.stat().st_size for path in [*CORPUS.iterdir(), *GOOD.iterdir()])
    assert total < 2 * 1024 * 1024


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_file_is_refused(name):
    status, code = REFUSED[name]
    rejected = refusal((CORPUS / name).read_bytes(), name)
    assert (rejected.status, rejected.code) == (status, code), rejected.message
    assert_sentence(rejected.message)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_good_sample_is_accepted_as_what_it_is(name):
    media_type, extension, pages, dimensions = ACCEPTED[name]
    data = (GOOD / name).read_bytes()
    result = inspect(data, name)
    assert (result.media_type, result.extension, result.pages) == (media_type, extension, pages)
    assert result.size == len(data)
    assert result.filename == name
    if dimensions:
        assert (result.width, result.height) == dimensions
    else:
        assert result.width is None and result.height is None


def test_a_stream_is_read_like_bytes():
    data = (GOOD / "two-pages.pdf").read_bytes()
    assert inspect(io.BytesIO(data), "note.pdf") == inspect(data, "note.pdf")


def test_the_name_and_extension_of_the_client_are_not_trusted():
    result = inspect((GOOD / "two-pages.pdf").read_bytes(), "photo.jpg")
    assert (result.media_type, result.extension) == (PDF, ".pdf")
    # The name follows the content; the client's name is kept to tell the uploader.
    assert (result.filename, result.renamed_from) == ("photo.pdf", "photo.jpg")
    result = inspect((GOOD / "scan.png").read_bytes(), "contract.pdf")
    assert (result.media_type, result.extension, result.filename) == (PNG, ".png", "contract.png")


# -- the generator -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resources")
    make_corpus.build(root)
    return root


def test_the_generator_makes_the_same_verdicts(regenerated):
    assert sorted(path.name for path in (regenerated / "corpus").iterdir()) == sorted(REFUSED)
    for name, (status, code) in REFUSED.items():
        rejected = refusal((regenerated / "corpus" / name).read_bytes(), name)
        assert (rejected.status, rejected.code) == (status, code), name
    for name, (media_type, _extension, pages, _dimensions) in ACCEPTED.items():
        result = inspect((regenerated / "good" / name).read_bytes(), name)
        assert (result.media_type, result.pages) == (media_type, pages), name


def test_the_generator_is_deterministic(regenerated, tmp_path):
    make_corpus.build(tmp_path)
    for folder in ("corpus", "good"):
        for path in (regenerated / folder).iterdir():
            assert (tmp_path / folder / path.name).read_bytes() == path.read_bytes(), path.name


# -- size ----------------------------------------------------------------------------------------


def test_one_byte_over_the_limit_is_413():
    limits = Limits(max_bytes=1000)
    assert inspect(b"a" * 1000, "note.txt", limits).size == 1000
    rejected = refusal(b"a" * 1001, "note.txt", limits)
    assert (rejected.status, rejected.code) == (413, "too_large")
    assert "1000 bytes" in rejected.message
    assert_sentence(rejected.message)


def test_a_stream_is_not_read_past_the_limit():
    stream = io.BytesIO(b"a" * 10_000)
    rejected = refusal(stream, "note.txt", Limits(max_bytes=1000))
    assert rejected.status == 413
    assert stream.tell() == 1001


def test_size_is_checked_before_anything_else():
    rejected = refusal(b"\x7fELF" + b"\x00" * 2000, "../evil", Limits(max_bytes=1000))
    assert rejected.code == "too_large"


def test_the_default_limit_is_50_mb_and_said_so():
    assert Limits().max_bytes == 50 * 1024 * 1024
    assert intake._human_size(Limits().max_bytes) == "50 MB"
    assert intake._human_size(1536) == "2 KB"


# -- file names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../invoice.pdf",
        "..",
        "a/b.pdf",
        "/etc/passwd",
        "a\\b.pdf",
        "C:\\Users\\clerk\\invoice.pdf",
        "x\r\ny.pdf",
        "invoice.pdf\n",
        "\x00.pdf",
        "in\x00voice.pdf",
        "in\x7fvoice.pdf",
        "tab\there.pdf",
        "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
        "line\u2028break.pdf",
        "",
        "   ",
        "a" * 300,
        "é" * 128,  # 256 bytes in UTF-8
    ],
    ids=repr,
)
def test_unsafe_file_name_is_400(name):
    with pytest.raises(UploadRejected) as caught:
        safe_filename(name)
    assert (caught.value.status, caught.value.code) == (400, "bad_filename")
    assert_sentence(caught.value.message)
    rejected = refusal((GOOD / "note.txt").read_bytes(), name)
    assert rejected.code == "bad_filename"


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("  Rechnung 2024-117.pdf ", "Rechnung 2024-117.pdf"),
        ("Lieferschein fu\u0308r Ma\u0308rz.pdf", "Lieferschein f\u00fcr M\u00e4rz.pdf"),
        ("对账函 2023.pdf", "对账函 2023.pdf"),
        ("a..b.pdf", "a..b.pdf"),
        ("a" * 255, "a" * 255),
    ],
)
def test_safe_file_name_is_trimmed_and_nfc(name, cleaned):
    assert safe_filename(name) == cleaned


# -- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n in REFUSED if n.startswith("bomb-")))
def test_pixel_bomb_is_refused_from_the_header_without_decoding(name, monkeypatch):
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))
    before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rejected = refusal((CORPUS / name).read_bytes(), name)
    assert (rejected.status, rejected.code) == (422, "pixel_bomb")
    assert caught == [], "no DecompressionBombWarning (or any other) may escape"
    assert loads == [], "no pixel may be decoded"
    assert Image.MAX_IMAGE_PIXELS == before


def test_the_pixel_limit_is_ours_not_pillows():
    data = (CORPUS / "bomb-10000x10000.png").read_bytes()  # over Pillow's 89 MP warning level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = inspect(data, "scan.png", Limits(max_pixels=100_000_000))
    assert (result.width, result.height) == (10_000, 10_000)
    assert caught == []
    assert refusal((GOOD / "scan.png").read_bytes(), "a.png", Limits(max_pixels=100)).code == (
        "pixel_bomb"
    )


def test_our_pixel_limit_applies_to_every_tiff_frame():
    data = (GOOD / "three-frames.tif").read_bytes()
    assert refusal(data, "scan.tif", Limits(max_pixels=120 * 80 - 1)).code == "pixel_bomb"
    assert inspect(data, "scan.tif", Limits(max_pixels=120 * 80)).pages == 3


def test_too_many_pages_or_frames_is_422():
    rejected = refusal((GOOD / "two-pages.pdf").read_bytes(), "a.pdf", Limits(max_pdf_pages=1))
    assert (rejected.status, rejected.code) == (422, "too_many_pages")
    assert "2 pages" in rejected.message
    rejected = refusal((GOOD / "three-frames.tif").read_bytes(), "a.tif", Limits(max_pdf_pages=2))
    assert (rejected.status, rejected.code) == (422, "too_many_pages")


def test_a_pdf_header_after_some_bytes_is_still_a_pdf():
    data = b"\r\n" * 100 + (GOOD / "two-pages.pdf").read_bytes()
    assert inspect(data, "scan.pdf").pages == 2


def test_heic_is_accepted():
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    make_corpus.gradient(64, 48).save(buffer, "HEIF")
    result = inspect(buffer.getvalue(), "IMG_0001.HEIC")
    assert (result.media_type, result.extension, result.pages) == (HEIC, ".heic", 1)
    assert (result.width, result.height) == (64, 48)


# -- ZIP-based documents -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zip-bomb.docx", "many-entries.docx"])
def test_zip_bomb_is_refused_before_any_part_is_unpacked(name, monkeypatch):
    opened = []
    real_open = zipfile.ZipFile.open

    def recording_open(self, *args, **kwargs):
        opened.append(args)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    rejected = refusal((CORPUS / name).read_bytes(), name)
    assert rejected.code == "zip_bomb"
    assert opened == []


def test_a_part_is_never_unpacked_past_its_declared_size(monkeypatch):
    data = (CORPUS / "lying-size.docx").read_bytes()
    declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    unpacked = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        chunk = real_read(self, n)
        unpacked.append(len(chunk))
        return chunk

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    assert refusal(data, "letter.docx").code == "corrupt_document"
    assert 0 < sum(unpacked) <= declared < 2000


def test_the_reader_stops_at_the_declared_size_and_the_budget():
    with pytest.raises(intake._TooMuchData):
        intake._CappedReader(io.BytesIO(b"x" * 5000), 1000, [10_000]).drain()
    with pytest.raises(intake._TooMuchData):
        intake._CappedReader(io.BytesIO(b"x" * 5000), 5000, [1000]).drain()
    budget = [10_000]
    intake._CappedReader(io.BytesIO(b"x" * 5000), 5000, budget).drain()
    assert budget == [5000]


def test_zip_limits_are_configurable():
    data = (GOOD / "letter.docx").read_bytes()
    assert refusal(data, "a.docx", Limits(max_zip_entries=2)).code == "zip_bomb"
    assert refusal(data, "a.docx", Limits(max_unpacked_bytes=100)).code == "zip_bomb"
    two_mb_of_zeros = make_corpus.zip_bomb_docx(unpacked=2 * 1024 * 1024)
    rejected = refusal(two_mb_of_zeros, "a.docx")  # 2 MB is allowed, a ratio of ~1000 is not
    assert rejected.code == "zip_bomb"
    assert refusal(two_mb_of_zeros, "a.docx", Limits(max_compression_ratio=2000)).code == (
        "corrupt_document"  # zeros are not XML
    )


# -- text and e-mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b"<html><body>Paid</body></html>", "html"),
        (b"\n\n  <!DOCTYPE html><p>Paid</p>", "html"),
        (b"Notes\n<SCRIPT>alert(1)</SCRIPT>", "html"),
        (b'<?xml version="1.0"?><invoice/>', "html"),
        ("\ufeff<svg onload=alert(1)>".encode(), "html"),
        ("<html>utf-16</html>".encode("utf-16"), "html"),
        (b"Payment promised\x07 by Friday", "not_allowed"),  # bell: binary, not text
    ],
)
def test_markup_and_binary_are_not_plain_text(text, code):
    assert refusal(text, "note.txt").code == code


@pytest.mark.parametrize(
    "text",
    [
        b"MZ Logistics called about invoice 2024-117.\r\n",  # starts like a Windows program
        b"Subject: arrears\n\nNo sender, so a note rather than an e-mail.\n",
        b"Total due\tEUR 1.234,56\f\n",
    ],
)
def test_ordinary_text_is_accepted(text):
    assert inspect(text, "note.txt").media_type == TXT


def test_eml_parts_gives_headers_bodies_and_safely_named_attachments():
    headers, text, html, attachments = eml_parts((GOOD / "mail.eml").read_bytes())
    assert headers["From"] == "Anna Berger <anna.berger@debtor.example>"
    assert headers["Subject"] == "Re: Invoice 2024-117 – goods received"
    assert set(headers) == {"From", "To", "Date", "Subject", "Message-ID"}
    assert "40 steel brackets" in text and "<" not in text
    assert html is not None and "<b>2024-117</b>" in html
    assert [name for name, _data in attachments] == ["delivery-note.pdf", "attachment-2"]
    assert inspect(attachments[0][1], attachments[0][0]).pages == 1
    assert attachments[1][1] == b"internal note\n"  # was named "../../notes.txt"


def test_eml_parts_of_a_plain_message():
    data = (
        b"From: clerk@creditor.example\r\nDate: Tue, 05 Mar 2024 10:15:00 +0100\r\n"
        b"Subject: Reminder\r\n\r\nPlease pay invoice 2024-117.\r\n"
    )
    assert inspect(data, "reminder.eml").media_type == EML
    headers, text, html, attachments = eml_parts(data)
    assert headers["Subject"] == "Reminder" and "2024-117" in text
    assert html is None and attachments == []


# -- the error -----------------------------------------------------------------------------------


def test_upload_rejected_is_a_domain_error_the_app_already_renders():
    rejected = refusal((CORPUS / "encrypted.pdf").read_bytes(), "contract.pdf")
    assert isinstance(rejected, DomainError)
    assert rejected.message == str(rejected)
    assert "unencrypted copy" in rejected.message
    assert repr(rejected).startswith("UploadRejected(422, 'encrypted_pdf'")


@pytest.mark.parametrize(
    ("given", "extension", "stored"),
    [
        ("scan.png", ".pdf", "scan.pdf"),  # a type-claiming suffix the content contradicts
        ("scan.PDF", ".pdf", "scan.PDF"),  # the right type, whatever the case
        ("photo.jpeg", ".jpg", "photo.jpeg"),  # another spelling of the same type
        ("page.tiff", ".tif", "page.tiff"),
        ("invoice.exe", ".pdf", "invoice.pdf"),
        ("Statement 31.12.2025", ".pdf", "Statement 31.12.2025.pdf"),  # a dotted name, kept
        ("README", ".txt", "README.txt"),
        (".pdf", ".png", ".pdf.png"),  # a bare suffix is the whole name
        ("对账函.docx", ".pdf", "对账函.pdf"),
    ],
)
def test_names_follow_the_content(given: str, extension: str, stored: str):
    assert intake.name_for_type(given, extension) == stored


def test_a_renamed_file_still_fits_in_255_bytes():
    # 251 + 3 = 254 bytes; ".bz" claims no type, so ".docx" is appended: 259 bytes, over the
    # 255 allowed, so the name loses its last 4 characters: "a" × 250 + ".docx" = 255 bytes.
    assert intake.name_for_type("a" * 251 + ".bz", ".docx") == "a" * 250 + ".docx"
