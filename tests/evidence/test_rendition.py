"""Exhibit renditions: every good sample becomes a clean PDF (checked by ``preflight``, by
``qpdf --check`` and by the poppler tools), hostile PDFs lose their active content, images stay
at or under 300 dpi, and Chinese text is shown in an embedded font.

LibreOffice runs once for the module: the office samples are converted in one batch and handed
to ``render`` through a stand-in converter.
"""

from __future__ import annotations

import email.policy
import io
import re
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps

from portal.evidence import intake
from portal.evidence.intake import Inspection, inspect
from portal.evidence.rendition import (
    Rendition,
    RenditionFailed,
    preflight,
    render,
)
from portal.office import ConversionFailed, OfficeConverter, OfficeUnavailable
from portal.pdf.mail import html_to_text

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
GOOD = RESOURCES / "good"
CORPUS = RESOURCES / "corpus"
A4 = (595.2756, 841.8898)


# -- helpers -------------------------------------------------------------------------------------


def rendition_of(name: str, data: bytes | None = None, **options) -> Rendition:
    data = (GOOD / name).read_bytes() if data is None else data
    return render(data, inspect(data, name), **options)


def check_clean(pdf: bytes, tmp_path: Path) -> None:
    """What every rendition must pass: preflight, qpdf --check, and no active names at all."""
    assert preflight(pdf) == []
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not active_names(pdf)


def expanded(pdf: bytes) -> bytes:
    """The PDF with every stream decompressed and no object streams, for byte searches."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.save(out, qdf=True, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def active_names(pdf: bytes) -> set[bytes]:
    found = re.findall(
        rb"/(JavaScript|JS|Launch|EmbeddedFiles?|XFA|OpenAction|AA)(?![A-Za-z0-9])",
        expanded(pdf),
    )
    return set(found)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def fonts_of(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(name, emb) per row of ``pdffonts``."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    output = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in output.splitlines()[2:] if line.strip()]
    return [(row[0], row[-5]) for row in rows]


def images_with_dpi(pdf: bytes) -> list[tuple[int, int, float, float]]:
    """(pixel width, pixel height, horizontal dpi, vertical dpi) of each image drawn."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            matrix = pikepdf.Matrix()
            saved = []
            for operands, operator in pikepdf.parse_content_stream(page):
                name = str(operator)
                if name == "q":
                    saved.append(matrix)
                elif name == "Q":
                    matrix = saved.pop()
                elif name == "cm":
                    matrix = pikepdf.Matrix(*[float(value) for value in operands]) @ matrix
                elif name == "Do":
                    image = page.Resources.XObject[operands[0]]
                    width_pt = (matrix.a**2 + matrix.b**2) ** 0.5
                    height_pt = (matrix.c**2 + matrix.d**2) ** 0.5
                    found.append(
                        (
                            int(image.Width),
                            int(image.Height),
                            int(image.Width) / (width_pt / 72),
                            int(image.Height) / (height_pt / 72),
                        )
                    )
    return found


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        sizes = []
        for page in document.pages:
            assert "/Rotate" not in page.obj or int(page.obj.Rotate) == 0
            box = [float(value) for value in page.mediabox]
            sizes.append((box[2] - box[0], box[3] - box[1]))
        return sizes


def raster(pdf: bytes, tmp_path: Path, dpi: int = 36) -> Image.Image:
    path = tmp_path / "raster.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "p")],
        check=True,
    )
    return Image.open(next(tmp_path.glob("p-*1.png"))).convert("RGB")


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


# -- the good samples ----------------------------------------------------------------------------

#: Sample → pages its rendition has.
PAGES = {
    "two-pages.pdf": 2,
    "rotated.jpg": 1,
    "scan.png": 1,
    "three-frames.tif": 3,
    "note.txt": 1,
    "note-utf16.txt": 1,
    "mail.eml": 1,
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_good_sample_renders_clean(name, tmp_path):
    rendition = rendition_of(name)
    assert rendition.pages == PAGES[name]
    check_clean(rendition.pdf, tmp_path)
    for _font, embedded in fonts_of(rendition.pdf, tmp_path):
        assert embedded == "yes"


def test_pdf_keeps_its_text_and_gets_its_fonts_embedded(tmp_path):
    rendition = rendition_of("two-pages.pdf")
    text = text_of(rendition.pdf, tmp_path)
    assert "Delivery note 2024-117 — page 2 of 2" in text
    assert "Item 001: steel brackets, 40 pcs, received intact." in text
    # The original names Helvetica without embedding it: a metric twin is embedded instead.
    assert [name.split("+")[1] for name, _ in fonts_of(rendition.pdf, tmp_path)] == [
        "LiberationSans",
        "LiberationSans-Bold",
    ]
    assert any("Helvetica as Liberation Sans" in note for note in rendition.notes)


def test_rotated_jpeg_is_upright_and_not_reencoded(tmp_path):
    data = (GOOD / "rotated.jpg").read_bytes()
    rendition = rendition_of("rotated.jpg", data)
    ((width, height),) = page_sizes(rendition.pdf)
    assert (round(width), round(height)) == (595, 842)  # portrait: 64×32 turned by EXIF 6
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        assert image.read_raw_bytes() == data  # the JPEG itself, not a re-encoded copy
    # What is shown is what Pillow's EXIF transpose shows: compare the coloured corners.
    shown = raster(rendition.pdf, tmp_path)
    shown = shown.crop(
        ImageChops.difference(shown, Image.new("RGB", shown.size, "white")).getbbox()
    )
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    assert shown.width < shown.height
    shown = shown.resize(expected.size)
    for x, y in ((2, 2), (expected.width - 3, 2), (2, expected.height - 3), (29, 61)):
        assert (
            max(
                abs(a - b)
                for a, b in zip(shown.getpixel((x, y)), expected.getpixel((x, y)), strict=True)
            )
            < 60
        )


def test_multi_frame_tiff_gives_a_page_per_frame(tmp_path):
    rendition = rendition_of("three-frames.tif")
    assert rendition.pages == 3
    assert [(w, h) for w, h, _, _ in images_with_dpi(rendition.pdf)] == [(120, 80)] * 3
    assert page_sizes(rendition.pdf) == [pytest.approx((A4[1], A4[0]), abs=0.01)] * 3


def test_large_photo_is_reduced_to_300_dpi(tmp_path):
    photo = Image.new("RGB", (6000, 4000), (200, 180, 160))
    draw = ImageDraw.Draw(photo)
    for x in range(0, 6000, 250):
        draw.line((x, 0, 6000 - x, 4000), fill=(20, 40, 60), width=9)
    rendition = rendition_of("photo.jpg", jpeg(photo, quality=80))
    ((width, height, dpi_x, dpi_y),) = images_with_dpi(rendition.pdf)
    assert width < 6000
    assert 290 <= dpi_x <= 300 and 290 <= dpi_y <= 300.5
    assert page_sizes(rendition.pdf) == [pytest.approx((A4[1], A4[0]), abs=0.01)]  # landscape
    assert any("300 dpi" in note for note in rendition.notes)
    check_clean(rendition.pdf, tmp_path)


def test_lower_dpi_limit_is_honoured(tmp_path):
    photo = Image.new("RGB", (2400, 1600), (90, 120, 150))
    rendition = rendition_of("photo.jpg", jpeg(photo), max_dpi=150)
    ((_, _, dpi_x, _),) = images_with_dpi(rendition.pdf)
    assert dpi_x <= 150


def _rgba() -> bytes:
    image = Image.new("RGBA", (300, 200), (255, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((50, 50, 250, 150), fill=(0, 0, 255, 255))
    return png(image)


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (100, 100), 0)
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    ImageDraw.Draw(image).ellipse((10, 10, 90, 90), fill=1)
    return png(image, transparency=0)


def _sixteen_bit_grey() -> bytes:
    image = Image.new("I;16", (256, 64))
    image.putdata([x * 256 for _ in range(64) for x in range(256)])
    return png(image)


def _mirrored_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 5  # transpose: turned and mirrored, needs new pixels
    return jpeg(Image.new("RGB", (80, 40), (10, 200, 30)), exif=exif.tobytes())


IMAGES = {
    "rgba.png": _rgba,
    "grey-alpha.png": lambda: png(Image.new("LA", (64, 64), (128, 100))),
    "palette.png": _palette_with_transparency,
    "sixteen-bit.png": _sixteen_bit_grey,
    "cmyk.jpg": lambda: jpeg(Image.new("CMYK", (120, 90), (0, 80, 200, 10))),
    "mirrored.jpg": _mirrored_jpeg,
    "bilevel.tif": lambda: _tiff(Image.new("1", (200, 100), 1)),
}


def _tiff(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group4")
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_modes_img2pdf_cannot_take_are_converted(name, tmp_path):
    rendition = rendition_of(name, IMAGES[name]())
    assert rendition.pages == 1
    check_clean(rendition.pdf, tmp_path)
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        assert "/SMask" not in image  # transparency flattened onto white
        assert int(image.BitsPerComponent) <= 8
    if name == "mirrored.jpg":
        assert page_sizes(rendition.pdf) == [pytest.approx(A4, abs=0.01)]  # 80×40 turned


def test_sixteen_bit_grey_keeps_its_gradient(tmp_path):
    rendition = rendition_of("sixteen-bit.png", _sixteen_bit_grey())
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        pixels = pikepdf.PdfImage(image).as_pil_image()
    assert pixels.mode == "L"
    assert pixels.getpixel((0, 0)) < 5 and pixels.getpixel((255, 0)) > 250


def test_heic_photo_renders_to_one_page(tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()  # for saving here; ``render`` registers it for reading
    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    ImageDraw.Draw(photo).rectangle((8, 8, 56, 40), fill=(20, 40, 220))
    out = io.BytesIO()
    photo.save(out, "HEIF")
    data = out.getvalue()
    rendition = render(data, Inspection(media_type=intake.HEIC, extension=".heic", size=len(data)))
    assert rendition.pages == 1
    check_clean(rendition.pdf, tmp_path)
    assert [(w, h) for w, h, _, _ in images_with_dpi(rendition.pdf)] == [(64, 48)]
    assert page_sizes(rendition.pdf) == [pytest.approx((A4[1], A4[0]), abs=0.01)]  # landscape


# -- office documents through LibreOffice --------------------------------------------------------

OFFICE = {
    "letter.docx": "Received 40 steel brackets in good order.",
    "ledger.xlsx": "2024-131",
    "reconciliation.odt": "balance EUR 12,480.00 as of 31.12.2023",
}


class _Converted:
    """Stands in for the converter: hands ``render`` the PDFs of one batched LibreOffice run."""

    def __init__(self, pdfs: dict[str, bytes]) -> None:
        self.pdfs = pdfs

    def convert(self, name: str, data: bytes) -> bytes:
        return self.pdfs[name]


@pytest.fixture(scope="module")
def office_renditions(tmp_path_factory) -> dict[str, Rendition]:
    converter = OfficeConverter(temp_dir=tmp_path_factory.mktemp("office"))
    assert converter.available, "LibreOffice is not installed (make sysdeps-test installs it)"
    inputs = [(name, (GOOD / name).read_bytes()) for name in OFFICE]
    results = converter.convert_many(inputs)
    assert converter.launches == 1
    stand_in = _Converted({result.name: result.pdf for result in results})
    return {name: rendition_of(name, data, converter=stand_in) for name, data in inputs}


@pytest.mark.parametrize("name", sorted(OFFICE))
def test_office_documents_render_through_libreoffice(name, office_renditions, tmp_path):
    rendition = office_renditions[name]
    assert rendition.pages >= 1
    assert OFFICE[name] in text_of(rendition.pdf, tmp_path)
    check_clean(rendition.pdf, tmp_path)


def test_failed_conversion_is_a_rendition_failure():
    class Failing:
        def convert(self, name, data):
            raise ConversionFailed(name, "LibreOffice crashed (signal 11)")

    class Missing:
        def convert(self, name, data):
            raise OfficeUnavailable("no soffice")

    data = (GOOD / "letter.docx").read_bytes()
    with pytest.raises(RenditionFailed, match="crashed"):
        rendition_of("letter.docx", data, converter=Failing())
    with pytest.raises(RenditionFailed, match="not installed"):
        rendition_of("letter.docx", data, converter=Missing())


# -- e-mail and text -----------------------------------------------------------------------------


def test_email_shows_headers_body_and_returns_the_attachments(tmp_path):
    data = (GOOD / "mail.eml").read_bytes()
    rendition = rendition_of("mail.eml", data)
    text = text_of(rendition.pdf, tmp_path)
    for expected in (
        "Anna Berger <anna.berger@debtor.example>",
        "Finance <finance@creditor.example>",
        "Re: Invoice 2024-117 – goods received",
        "Tue, 05 Mar 2024 10:15:00 +0100",
        "<20240305101500.117@debtor.example>",
        "we confirm that the 40 steel brackets of invoice 2024-117 were delivered",
        "Attachments (2)",
        "1. delivery-note.pdf",
        "page 1 of 1",
    ):
        assert expected in text
    _headers, _text, _html, attachments = intake.eml_parts(data)
    assert rendition.attachments == attachments
    name, pdf = rendition.attachments[0]
    assert name == "delivery-note.pdf" and pdf.startswith(b"%PDF-")
    assert inspect(pdf, name).pages == 1  # the attached PDF, intact


CHINESE = "债务人承诺于2024年3月15日前支付发票2024-117的全部欠款人民币12,480.00元。"


def test_chinese_text_file_uses_an_embedded_cjk_font(tmp_path):
    data = f"通话记录 2024-03-05\n{CHINESE}\n".encode()
    rendition = rendition_of("call.txt", data)
    assert CHINESE in text_of(rendition.pdf, tmp_path)
    fonts = fonts_of(rendition.pdf, tmp_path)
    assert any("NotoSansMonoCJK" in name for name, _ in fonts)
    assert fonts and all(embedded == "yes" for _, embedded in fonts)
    check_clean(rendition.pdf, tmp_path)


def test_chinese_email_renders(tmp_path):
    message = EmailMessage()
    message["From"] = "王芳 <wang.fang@debtor.example>"
    message["To"] = "财务部 <finance@creditor.example>"
    message["Subject"] = "关于发票2024-117的付款确认"
    message["Date"] = "Wed, 06 Mar 2024 09:00:00 +0800"
    message.set_content(f"您好，\n\n{CHINESE}\n\n王芳\n")
    data = message.as_bytes(policy=email.policy.SMTP)
    rendition = rendition_of("mail.eml", data)
    text = text_of(rendition.pdf, tmp_path)
    for expected in ("王芳 <wang.fang@debtor.example>", "关于发票2024-117的付款确认", CHINESE):
        assert expected in text
    fonts = fonts_of(rendition.pdf, tmp_path)
    assert any("NotoSansCJK" in name for name, _ in fonts)
    assert all(embedded == "yes" for _, embedded in fonts)
    assert rendition.attachments == []
    check_clean(rendition.pdf, tmp_path)


def test_html_only_email_is_cleaned_text_without_remote_content(tmp_path):
    message = EmailMessage()
    message["From"] = "Debtor Ltd <accounts@debtor.example>"
    message["To"] = "finance@creditor.example"
    message["Subject"] = "Payment plan"
    message["Date"] = "Thu, 07 Mar 2024 11:00:00 +0000"
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>We propose <b>three instalments</b> of EUR 4,160.00.</p>"
        '<img src="https://tracker.example/open.gif?id=117">'
        '<p><a href="javascript:alert(1)">Click here</a> or '
        '<a href="https://pay.example/117">pay online</a>.</p>'
        "<ul><li>15 April</li><li>15 May</li></ul></body></html>",
        subtype="html",
    )
    rendition = rendition_of("mail.eml", message.as_bytes(policy=email.policy.SMTP))
    text = text_of(rendition.pdf, tmp_path)
    assert "We propose three instalments of EUR 4,160.00." in text
    assert "• 15 April" in text and "Click here or pay online." in text
    assert "alert" not in text and "color:red" not in text
    raw = expanded(rendition.pdf)
    assert b"tracker.example" not in raw and b"pay.example" not in raw
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        assert not any(page.get_images() for page in document.pages)
    assert any("HTML" in note for note in rendition.notes)
    check_clean(rendition.pdf, tmp_path)


def test_html_to_text_drops_scripts_images_and_links():
    text = html_to_text(
        "<div>Balance <i>confirmed</i></div><script>steal()</script>"
        '<img src="http://example.com/x.png" alt="logo"><p>Line&nbsp;two &amp; more</p>'
    )
    assert text == "Balance confirmed\n\nLine\xa0two & more"


def test_long_text_wraps_inside_the_margins_and_numbers_its_pages(tmp_path):
    lines = [f"{n:03d} " + "Zahlungserinnerung für Rechnung 2024-117. " * 4 for n in range(150)]
    lines.append("x" * 400)  # one word longer than a line
    lines.append("欠款" * 80)  # CJK breaks between any two characters
    data = "\n".join(lines).encode()
    rendition = rendition_of("long.txt", data)
    assert rendition.pages >= 4
    text = text_of(rendition.pdf, tmp_path)
    assert f"page 1 of {rendition.pages}" in text
    assert f"page {rendition.pages} of {rendition.pages}" in text
    path = tmp_path / "bbox.pdf"
    path.write_bytes(rendition.pdf)
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    right_edges = [float(value) for value in re.findall(r'xMax="([\d.]+)"', boxes)]
    assert max(right_edges) <= A4[0] - 20 * 72 / 25.4 + 1
    assert text.count("x" * 50) >= 4  # the long word is cut, not lost
    check_clean(rendition.pdf, tmp_path)


# -- hostile PDFs ----------------------------------------------------------------------------------


def hostile_pdf() -> bytes:
    """A one-page PDF with every kind of active content the sanitiser must remove, and a web
    link, a form field and a bookmark that must stay."""
    Name, Dictionary, Array, String = (
        pikepdf.Name,
        pikepdf.Dictionary,
        pikepdf.Array,
        pikepdf.String,
    )
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.contents_add(pdf.make_stream(b"0 0 1 rg 72 700 200 50 re f"))

    def javascript(code: str) -> pikepdf.Dictionary:
        return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))

    def embedded_file(name: str) -> pikepdf.Dictionary:
        stream = pdf.make_stream(b"MZ\x90\x00 not a real program", Type=Name.EmbeddedFile)
        return Dictionary(Type=Name.Filespec, F=String(name), UF=String(name), EF={"/F": stream})

    def link(rect, action) -> pikepdf.Dictionary:
        return pdf.make_indirect(
            Dictionary(
                Type=Name.Annot, Subtype=Name.Link, Rect=Array(rect), Border=[0, 0, 0], A=action
            )
        )

    pdf.Root.OpenAction = pdf.make_indirect(javascript("app.alert('opened')"))
    pdf.Root.AA = Dictionary(WC=javascript("app.alert('closing')"))
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), javascript("this.print()")])),
        EmbeddedFiles=Dictionary(
            Names=Array([String("payload.exe"), embedded_file("payload.exe")])
        ),
    )
    page.obj.AA = Dictionary(O=javascript("app.alert('page')"))
    appearance = pdf.make_stream(
        b"BT ET", Type=Name.XObject, Subtype=Name.Form, BBox=Array([0, 0, 150, 20])
    )
    amount = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("amount"),
            V=String("12,480.00"),
            Rect=Array([72, 500, 222, 520]),
            AP=Dictionary(N=appearance),
            AA=Dictionary(K=javascript("AFNumber_Keystroke(2)")),
            P=page.obj,
        )
    )
    pdf.Root.AcroForm = Dictionary(
        Fields=Array([amount]), XFA=pdf.make_stream(b"<xdp:xdp>template</xdp:xdp>")
    )
    page.Annots = Array(
        [
            link([72, 600, 200, 620], Dictionary(S=Name.Launch, F=String("calc.exe"))),
            link(
                [72, 570, 200, 590], Dictionary(S=Name.URI, URI=String("javascript:app.alert(2)"))
            ),
            link(
                [72, 540, 200, 560], Dictionary(S=Name.URI, URI=String("https://example.com/117"))
            ),
            link(
                [72, 450, 200, 470],
                Dictionary(
                    S=Name.GoTo, D=Array([page.obj, Name.Fit]), Next=javascript("app.alert(3)")
                ),
            ),
            link(
                [72, 420, 200, 440], Dictionary(S=Name.SubmitForm, F=String("https://evil.example"))
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=Array([300, 600, 320, 620]),
                    FS=embedded_file("invoice.xlsm"),
                )
            ),
            amount,
        ]
    )
    bookmark = pdf.make_indirect(Dictionary(Title=String("Delivery note"), A=javascript("1")))
    bookmark.Dest = Array([page.obj, Name.Fit])
    pdf.Root.Outlines = pdf.make_indirect(
        Dictionary(Type=Name.Outlines, First=bookmark, Last=bookmark, Count=1)
    )
    bookmark.Parent = pdf.Root.Outlines
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_hostile_pdf_is_caught_by_preflight():
    problems = preflight(hostile_pdf())
    for problem in (
        "OpenAction",
        "JavaScript",
        "embedded file",
        "XFA",
        "Launch action",
        "form action",
        "additional actions",
    ):
        assert problem in problems


def test_hostile_pdf_comes_out_clean(tmp_path):
    rendition = rendition_of("hostile.pdf", hostile_pdf())
    assert rendition.pages == 1
    check_clean(rendition.pdf, tmp_path)
    assert active_names(rendition.pdf) == set()
    notes = rendition.notes
    for expected in (
        "removed 1 Launch action",
        "removed 1 JavaScript link",
        "removed 1 embedded file",
        "removed 1 file attachment",
        "removed 1 form action",
    ):
        assert expected in notes
    assert "removed 7 JavaScript actions" in notes
    assert any("XFA" in note for note in notes)
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        page = document.pages[0]
        kept = {str(annotation.Subtype): annotation for annotation in page.Annots}
        assert set(kept) == {"/Link", "/Widget"}
        links = [a for a in page.Annots if a.Subtype == "/Link"]
        assert sorted(str(a.A.S) for a in links) == ["/GoTo", "/URI"]
        assert str(next(a for a in links if a.A.S == "/URI").A.URI) == "https://example.com/117"
        assert "/Next" not in next(a for a in links if a.A.S == "/GoTo").A
        (field,) = document.Root.AcroForm.Fields
        assert str(field.V) == "12,480.00" and "/AP" in field
        bookmark = document.Root.Outlines.First
        assert str(bookmark.Title) == "Delivery note" and "/A" not in bookmark


def test_encryption_is_removed(tmp_path):
    data = (CORPUS / "restricted.pdf").read_bytes()  # opens without a password, restricted
    assert "encrypted" in preflight(data)
    inspection = Inspection(media_type=intake.PDF, extension=".pdf", size=len(data), pages=1)
    rendition = render(data, inspection)
    assert any("encryption" in note for note in rendition.notes)
    check_clean(rendition.pdf, tmp_path)


def test_broken_input_is_a_rendition_failure():
    pdf = Inspection(media_type=intake.PDF, extension=".pdf", size=10)
    with pytest.raises(RenditionFailed):
        render(b"%PDF-1.7 nothing else", pdf)
    image = Inspection(media_type=intake.PNG, extension=".png", size=10)
    with pytest.raises(RenditionFailed):
        render(b"\x89PNG\r\n\x1a\nbroken", image)


def test_preflight_reports_fonts_that_are_not_embedded():
    data = (GOOD / "two-pages.pdf").read_bytes()
    assert preflight(data) == ["fonts not embedded"]


def test_actions_in_unusual_places_are_scrubbed_too(tmp_path):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    launch = pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name.Launch)
    pdf.pages[0].obj.PieceInfo = pikepdf.Dictionary(
        Private=pikepdf.Dictionary(A=script, List=pikepdf.Array([launch, 1]))
    )
    # structure-like dictionaries with /S that are not actions stay
    pdf.pages[0].obj.Group = pikepdf.Dictionary(S=pikepdf.Name.Transparency)
    out = io.BytesIO()
    pdf.save(out)
    rendition = rendition_of("odd.pdf", out.getvalue())
    check_clean(rendition.pdf, tmp_path)
    assert {"removed 1 JavaScript action", "removed 1 Launch action"} <= set(rendition.notes)
    with pikepdf.open(io.BytesIO(rendition.pdf)) as document:
        page = document.pages[0].obj
        assert list(page.PieceInfo.Private.List) == [1]
        assert page.Group.S == "/Transparency"
