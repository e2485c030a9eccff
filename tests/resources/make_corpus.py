"""Write the evidence-intake test files: ``corpus/`` (bad input that must be refused) and ``good/``.

Everything is made here, deterministically, with the libraries the portal already uses; nothing
is downloaded. Run ``python tests/resources/make_corpus.py`` to rewrite the committed files, or
call ``build(path)`` to write them elsewhere (the tests do, into a temporary folder). The large
cases stay small on disk: the pixel bombs are 1-bit PNGs of one colour and the zip bomb is 300 MB
of zeros deflated, streamed through ``zipfile`` so that building it never holds more than 1 MB.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import io
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pikepdf
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2024, 3, 5, 10, 0, 0)
MB = 1024 * 1024

# -- building blocks -----------------------------------------------------------------------------


def junk(seed: int, size: int) -> bytes:
    """Reproducible bytes that look random."""
    return hashlib.shake_256(f"corpus-{seed}".encode()).digest(size)


def pdf_document(pages: int, title: str = "Delivery note 2024-117") -> bytes:
    """A text PDF of ``pages`` pages; ``invariant`` keeps dates and ids fixed."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    pdf.setTitle(title)
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(60, 780, f"{title} — page {page} of {pages}")
        pdf.setFont("Helvetica", 11)
        for line, y in enumerate(range(740, 80, -18), start=1):
            pdf.drawString(60, y, f"Item {line:03d}: steel brackets, 40 pcs, received intact.")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypted_pdf(user_password: str) -> bytes:
    """RC4-128 (R4) encryption: unlike AES, qpdf writes it byte-for-byte reproducibly."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_document(1))) as pdf:
        pdf.save(
            out,
            static_id=True,
            encryption=pikepdf.Encryption(
                user=user_password,
                owner="creditor-owner-password",
                R=4,
                aes=False,
                metadata=False,
                allow=pikepdf.Permissions(extract=False, modify_other=False),
            ),
        )
    return out.getvalue()


def zip_bytes(entries: Iterable[tuple[str, bytes]], *, stored: Iterable[str] = ()) -> bytes:
    """A ZIP with fixed timestamps, entries in the given order (``stored`` ones uncompressed)."""
    stored = set(stored)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def png_bytes(width: int, height: int, rows: Callable[[], Iterable[bytes]], **header) -> bytes:
    """A PNG written chunk by chunk; ``rows`` yields filtered scanlines, compressed as they come."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    bit_depth, colour_type = header.get("bit_depth", 1), header.get("colour_type", 0)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for row in rows()) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def blank_png(width: int, height: int) -> bytes:
    """A white 1-bit PNG of any size: the file grows ~1 KB per megapixel, memory stays flat."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    return png_bytes(width, height, lambda: (row for _ in range(height)))


def tiff_header_only(width: int, height: int) -> bytes:
    """A little-endian TIFF whose one IFD claims ``width`` × ``height`` 1-bit pixels (16 bytes)."""
    pixels = b"\x00" * 16
    tags = [  # (tag, type 3=SHORT 4=LONG, value)
        (256, 4, width),
        (257, 4, height),
        (258, 3, 1),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 0),  # strip offset, filled in below
        (277, 3, 1),
        (278, 4, height),
        (279, 4, len(pixels)),
    ]
    ifd_size = 2 + 12 * len(tags) + 4
    data_offset = 8 + ifd_size
    ifd = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = data_offset if tag == 273 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + pixels


def gradient(width: int, height: int, shade: int = 0) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x * 255 // width, y * 255 // height, shade) for y in range(height) for x in range(width)]
    )
    return image


def png_image() -> bytes:
    buffer = io.BytesIO()
    gradient(160, 120).save(buffer, "PNG")
    return buffer.getvalue()


def tiff_frames() -> bytes:
    """Three pages, as a multi-page scan is."""
    buffer = io.BytesIO()
    frames = [gradient(120, 80, shade) for shade in (0, 120, 240)]
    frames[0].save(
        buffer, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate"
    )
    return buffer.getvalue()


def jpeg_bytes(width: int, height: int, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    gradient(width, height).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


# -- Office documents ----------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "{extra}</Types>"
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def document_xml(*paragraphs: str, doctype: str = "") -> str:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )


def docx_entries(document: str | None = None, *, main: str = DOCX_MAIN, extra: str = ""):
    """The three parts Word needs, hand-written (python-docx is not a dependency)."""
    return [
        ("[Content_Types].xml", CONTENT_TYPES.format(main=main, extra=extra).encode()),
        ("_rels/.rels", ROOT_RELS.encode()),
        (
            "word/document.xml",
            (
                document
                or document_xml(
                    "Delivery note 2024-117",
                    "Received 40 steel brackets in good order. Signed: A. Berger (Debtor Ltd).",
                )
            ).encode(),
        ),
    ]


def docx() -> bytes:
    return zip_bytes(docx_entries())


def odt(encrypted: bool = False) -> bytes:
    """A minimal OpenDocument text: ``mimetype`` first and stored, as the format requires.

    ``encrypted`` makes what LibreOffice writes under a password: the manifest describes the
    encryption and ``content.xml`` is ciphertext (here: random bytes).
    """
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    manifest_ns = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<office:document-content xmlns:office="{office}" xmlns:text="{text}" '
        'office:version="1.3"><office:body><office:text>'
        "<text:p>Reconciliation confirmation: balance EUR 12,480.00 as of 31.12.2023.</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest:manifest xmlns:manifest="{manifest_ns}" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"'
        + (
            '><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="">'
            '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
            'manifest:initialisation-vector=""/></manifest:encryption-data></manifest:file-entry>'
            if encrypted
            else "/>"
        )
        + "</manifest:manifest>"
    )
    return zip_bytes(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", junk(6, 600) if encrypted else content.encode()),
            ("META-INF/manifest.xml", manifest.encode()),
        ],
        stored=["mimetype"],
    )


def xlsx(extra_entries: Iterable[tuple[str, bytes]] = ()) -> bytes:
    """A small ledger made by openpyxl, repacked with fixed timestamps so it is reproducible."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Invoices"
    sheet.append(["Invoice", "Due date", "Amount", "Paid"])
    sheet.append(["2024-117", dt.date(2024, 2, 29), 12480.00, 0])
    sheet.append(["2024-131", dt.date(2024, 3, 15), 3150.50, 1000])
    workbook.properties.created = dt.datetime(2024, 3, 5, 10, 0, 0)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as made:
        entries = [(info.filename, made.read(info)) for info in made.infolist()]
    fixed = []
    for name, data in entries:
        if name == "docProps/core.xml":  # openpyxl stamps "modified" with the current time
            data = re.sub(
                rb"<dcterms:modified([^>]*)>[^<]*<",
                rb"<dcterms:modified\1>2024-03-05T10:00:00Z<",
                data,
            )
        fixed.append((name, data))
    return zip_bytes([*fixed, *extra_entries])


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">\n'
        for level in range(1, 10)
    )
    + ']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)


def zip_bomb_docx(unpacked: int = 300 * MB) -> bytes:
    """A DOCX whose document part is ``unpacked`` bytes of zeros, streamed 1 MB at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in docx_entries()[:2]:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        info = zipfile.ZipInfo("word/document.xml", FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        block = b"\x00" * MB
        with archive.open(info, "w") as part:
            for _ in range(unpacked // MB):
                part.write(block)
    return buffer.getvalue()


def lying_size_docx() -> bytes:
    """A DOCX whose document part declares 1,000 bytes but inflates to 2 MB."""
    data = bytearray(zip_bytes(docx_entries(document_xml(*["Filler paragraph."] * 35_000))))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        offset = archive.getinfo("word/document.xml").header_offset
    struct.pack_into("<I", data, offset + 22, 1000)  # local file header: uncompressed size
    central = data.find(b"PK\x01\x02")
    while struct.unpack_from("<I", data, central + 42)[0] != offset:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 1000)  # central directory: uncompressed size
    return bytes(data)


def encrypted_flag_docx() -> bytes:
    """A DOCX whose entries carry the ZIP 'encrypted' flag (zipfile cannot write real ZipCrypto)."""
    patched = bytearray(docx())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = patched.find(signature)
        while at >= 0:
            patched[at + flag_offset] |= 0x01
            at = patched.find(signature, at + 4)
    return bytes(patched)


# -- the files -----------------------------------------------------------------------------------


def elf_executable() -> bytes:
    header = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1)
    return header + junk(1, 2048)


def windows_executable() -> bytes:
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(dos), b"\x00")
    return bytes(dos) + stub + b"PE\x00\x00" + junk(2, 2048)


def truncated_pdf() -> bytes:
    data = pdf_document(3)
    return data[: len(data) // 2]


def xref_damaged_pdf() -> bytes:
    """A whole PDF (ending in %%EOF) whose ``startxref`` points to the wrong place."""
    data = pdf_document(2)
    return re.sub(rb"startxref\s+\d+", b"startxref\n123", data)


def eml_message() -> bytes:
    message = EmailMessage()
    message["From"] = "Anna Berger <anna.berger@debtor.example>"
    message["To"] = "Finance <finance@creditor.example>"
    message["Subject"] = "Re: Invoice 2024-117 – goods received"
    message["Date"] = "Tue, 05 Mar 2024 10:15:00 +0100"
    message["Message-ID"] = "<20240305101500.117@debtor.example>"
    message.set_content(
        "Dear Sir or Madam,\n\nwe confirm that the 40 steel brackets of invoice 2024-117 were "
        "delivered on 28 February 2024.\nThe signed delivery note is attached.\n\nAnna Berger\n"
    )
    message.add_alternative(
        "<html><body><p>Dear Sir or Madam,</p><p>we confirm that the 40 steel brackets of invoice "
        "<b>2024-117</b> were delivered on 28 February 2024.</p><p>Anna Berger</p></body></html>\n",
        subtype="html",
    )
    message.add_attachment(
        pdf_document(1), maintype="application", subtype="pdf", filename="delivery-note.pdf"
    )
    message.add_attachment(
        b"internal note\n", maintype="text", subtype="plain", filename="../../notes.txt"
    )
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"==boundary-{number}==")
    return message.as_bytes(policy=email.policy.SMTP)


def bad_files() -> dict[str, bytes | Callable[[], bytes]]:
    """Name → content (or a function making it) of every file that must be refused."""
    html = (
        "<!DOCTYPE html>\n<html><head><title>Delivery note</title></head>\n<body>"
        "<h1>Delivery note 2024-117</h1><script>document.location='https://evil.example/'"
        "</script></body></html>\n"
    )
    return {
        # programs under document names
        "invoice.pdf": elf_executable,
        "contract.pdf": windows_executable,
        "payment.pdf": b"#!/bin/sh\necho 'this is not a payment record'\n",
        "receipt.pdf": b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + junk(3, 512),
        # markup under document or image names
        "delivery.pdf": html.encode(),
        "photo.png": (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
            b'onload="alert(1)"><script>alert(document.domain)</script></svg>\n'
        ),
        "statement.pdf": lambda: html.encode() + pdf_document(1),
        # PDFs that cannot be used
        "encrypted.pdf": lambda: encrypted_pdf("secret"),
        "restricted.pdf": lambda: encrypted_pdf(""),
        "truncated.pdf": truncated_pdf,
        "xref-damaged.pdf": xref_damaged_pdf,
        "corrupt.pdf": b"%PDF-1.7\n" + junk(4, 4096) + b"\n%%EOF\n",
        # images that would exhaust memory, or are damaged
        "bomb-20000x20000.png": lambda: blank_png(20_000, 20_000),
        "bomb-10000x10000.png": lambda: blank_png(10_000, 10_000),
        "bomb-8000x8000.png": lambda: blank_png(8_000, 8_000),
        "bomb-100000x100000.tif": lambda: tiff_header_only(100_000, 100_000),
        "truncated.jpg": lambda: jpeg_bytes(400, 300)[:6000],
        "truncated.png": lambda: png_image()[:200],
        "truncated.tif": lambda: tiff_frames()[:20_000],
        "photo.heic": (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
            + b"\x00\x00\x00\x20meta"
            + junk(5, 24)
        ),
        # Office documents that attack the unpacker or the XML parser, or carry macros
        "zip-bomb.docx": zip_bomb_docx,
        "many-entries.docx": lambda: zip_bytes(
            [*docx_entries(), *((f"x/{n}", b"") for n in range(5000))]
        ),
        "lying-size.docx": lying_size_docx,
        "billion-laughs.xlsx": lambda: xlsx([("xl/sharedStrings.xml", BILLION_LAUGHS.encode())]),
        "external-entity.docx": lambda: zip_bytes(
            docx_entries(
                document_xml(
                    "&xxe;",
                    doctype='<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
                )
            )
        ),
        "macro.docx": lambda: zip_bytes(
            [
                *docx_entries(main=DOCM_MAIN),
                ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504),
            ]
        ),
        "encrypted.docx": encrypted_flag_docx,
        "encrypted.odt": lambda: odt(encrypted=True),
        "truncated.docx": lambda: docx()[: len(docx()) // 2],
        "archive.zip": lambda: zip_bytes([("delivery-note.pdf", pdf_document(1))]),
        "legacy.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00",
        # text that is not plain UTF-8 text
        "nul-bytes.txt": b"Call note 2024-03-05\x00\x00\x00 promised payment\n",
        "latin1.txt": "Zahlungserinnerung für Rechnung 2024-117: 1.234,56 €\n".encode("cp1252"),
        "truncated.eml": lambda: eml_message()[:3000],
        "letter.txt": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Payment reminder.}\n",
        "empty.txt": b"",
    }


def good_files() -> dict[str, bytes | Callable[[], bytes]]:
    """Name → content of small, real files of every accepted type."""
    return {
        "two-pages.pdf": lambda: pdf_document(2),
        "rotated.jpg": lambda: jpeg_bytes(64, 32, orientation=6),
        "scan.png": png_image,
        "three-frames.tif": tiff_frames,
        "letter.docx": docx,
        "ledger.xlsx": xlsx,
        "reconciliation.odt": odt,
        "mail.eml": eml_message,
        "note.txt": (
            "Call note 2024-03-05\nDebtor promised to pay EUR 1.234,56 by 15.03.2024 — "
            "confirmed by e-mail.\n债务人承诺付款。\n"
        ).encode(),
        "note-utf16.txt": "Visit 2024-03-07: goods seen in the debtor's yard.\n".encode("utf-16"),
    }


def _write(folder: Path, files: dict[str, bytes | Callable[[], bytes]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content() if callable(content) else content)
        written.append(path)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in files:
            stale.unlink()
    return written


def build(root: Path = HERE) -> list[Path]:
    """Write ``root/corpus`` and ``root/good``, removing files no longer made; returns the paths."""
    return _write(Path(root) / "corpus", bad_files()) + _write(Path(root) / "good", good_files())


if __name__ == "__main__":
    paths = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    total = sum(path.stat().st_size for path in paths)
    print(f"wrote {len(paths)} files, {total / 1024:.0f} KB")
