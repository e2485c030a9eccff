"""The filing-bundle builder on a realistic small case, checked with tools that share nothing with
it: qpdf (structure), poppler's pdfinfo/pdftotext/pdffonts (pages, text, fonts) and, for the
links, outline and page labels, pikepdf reading the finished bytes back (and pypdf when
installed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdf
import pytest
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from portal.bundles.builder import BundleSpec, ExhibitRange, Part, build_bundle
from portal.bundles.layout import BundleFailed
from portal.bundles.profiles import PROFILES, CourtProfile, get_profile

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ON = dt.date(2026, 12, 2)


# -- inputs ----------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, font="TestDejaVu", size=A4, x=60, step=16) -> bytes:
    """A PDF with a page per list of lines (``Helvetica`` is not embedded: it needs the
    sanitiser; ``TestDejaVu`` is)."""
    if font == "TestDejaVu" and font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font, DEJAVU))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, invariant=True, initialFontName=font)
    for lines in pages:
        canvas.setFont(font, 11)
        for number, line in enumerate(lines):
            canvas.drawString(x, size[1] - 80 - number * step, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def rotated(pdf: bytes, degrees: int) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            page.obj.Rotate = degrees
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()


LETTER = [
    ["Dear Sirs,", "We refer to invoice INV-1001 which remains unpaid."],
    ["Yours faithfully"],
]


@pytest.fixture(scope="module")
def parts() -> list[Part]:
    invoice = make_pdf([["Invoice INV-1001", "Amount due: GBP 12,400.00"], ["Terms: 30 days"]])
    exhibit = dict(kind="exhibit", sanitised=True)
    return [
        Part(
            kind="pleading",
            title="Particulars of claim",
            pdf=make_pdf([[f"Particulars of claim, p. {n}"] for n in (1, 2, 3)], font="Helvetica"),
        ),
        Part(title="Invoice INV-1001", pdf=invoice, evidence_id=11, evidence_kind="invoice",
             date=dt.date(2025, 3, 1), original_name="INV-1001.pdf",
             sha256_original="a" * 64, **exhibit),
        Part(title="Master services agreement",
             pdf=make_pdf([["Master services agreement", "Clause 1"]], size=landscape(A4)),
             evidence_id=12, evidence_kind="contract", date=dt.date(2024, 1, 10), **exhibit),
        Part(title="Letter before claim", pdf=make_pdf(LETTER), evidence_id=13,
             evidence_kind="correspondence", date=dt.date(2025, 5, 2), **exhibit),
        # the same letter rendered again (other font, other layout): a near-duplicate
        Part(title="Letter before claim (scan copy)",
             pdf=make_pdf(LETTER, font="Helvetica", x=90, step=20),
             evidence_id=14, evidence_kind="correspondence", date=dt.date(2025, 5, 3),
             kind="exhibit"),
        # the invoice again, byte for byte: an exact duplicate
        Part(title="Invoice INV-1001 (resent)", pdf=invoice, evidence_id=15,
             evidence_kind="invoice", date=dt.date(2025, 3, 9), **exhibit),
        Part(title="Delivery note", pdf=rotated(make_pdf([["Delivery note DN-77"]]), 90),
             evidence_id=16, evidence_kind="invoice", date=dt.date(2025, 2, 20), **exhibit),
    ]  # fmt: skip


def render_evidence_list(ranges: list[ExhibitRange]) -> bytes:
    """An evidence list with each exhibit's page range; a page per three exhibits, so its
    length depends on the ranges given and the builder has to lay out twice."""
    lines = [f"{item.label} pp. {item.first_page}–{item.last_page}" for item in ranges]
    return make_pdf([["Evidence list", *lines[n : n + 3]] for n in range(0, len(lines), 3)])


SPEC = BundleSpec(
    court="High Court of Justice, King's Bench Division",
    case_reference="KB-2026-000123",
    claimant="Northwind Components Ltd",
    defendant="Bench Customer Ltd",
    version=2,
    on=ON,
)


@pytest.fixture(scope="module")
def bundle(parts):
    progress = []
    result = build_bundle(
        SPEC,
        parts,
        PROFILES["ew_court"],
        evidence_list_renderer=render_evidence_list,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    result.progress = progress
    return result


@pytest.fixture(scope="module")
def bundle_file(bundle, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "bundle.pdf"
    path.write_bytes(bundle.volumes[0].pdf)
    return path


# -- reading back ----------------------------------------------------------------------------------


def pages_of(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def page_text(path: Path, number: int) -> str:
    args = ["pdftotext", "-enc", "UTF-8", "-f", str(number), "-l", str(number), str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


def all_pages_text(path: Path) -> list[str]:
    args = ["pdftotext", "-enc", "UTF-8", str(path), "-"]
    text = subprocess.run(args, capture_output=True, check=True, text=True).stdout
    return text.split("\f")[:-1]


def pdffonts_rows(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def destination_index(document: pikepdf.Pdf, dest: pikepdf.Array) -> int:
    return pikepdf.Page(dest[0]).index


def link_targets(document: pikepdf.Pdf, page_index: int) -> list[int]:
    return [
        destination_index(document, annot.Dest)
        for annot in document.pages[page_index].obj.get("/Annots", [])
        if annot.get("/Subtype") == "/Link"
    ]


def outline_targets(document: pikepdf.Pdf) -> dict[str, int]:
    found = {}
    with document.open_outline() as outline:
        stack = list(outline.root)
        while stack:
            item = stack.pop()
            found[item.title] = destination_index(document, item.destination)
            stack.extend(item.children)
    return found


def exhibits_by_id(bundle) -> dict[int, ExhibitRange]:
    return {item.evidence_id: item for item in bundle.exhibits}


# -- the bundle ------------------------------------------------------------------------------------


def test_qpdf_check_passes_and_page_count_is_the_parts_plus_cover_and_index(
    bundle, bundle_file, parts
):
    checked = subprocess.run(["qpdf", "--check", str(bundle_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    info = subprocess.run(["pdfinfo", str(bundle_file)], capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    with pikepdf.open(io.BytesIO(bundle.volumes[0].pdf)) as document:
        index_pages = sum(1 for page in document.pages[:5] if "/Annots" in page.obj)
    unique = {hashlib.sha256(part.pdf).hexdigest(): pages_of(part.pdf) for part in parts}
    evidence_list = pages_of(render_evidence_list(bundle.exhibits))
    expected = 1 + index_pages + sum(unique.values()) + evidence_list
    assert pages == bundle.pages == expected == bundle.volumes[0].pages
    assert len(bundle.volumes) == 1 and bundle.volumes[0].first_page == 1


def test_every_page_is_stamped_with_its_number_and_exhibit_pages_with_their_label(
    bundle, bundle_file
):
    texts = all_pages_text(bundle_file)
    assert len(texts) == bundle.pages
    for number, text in enumerate(texts, 1):
        assert str(number) in text.split(), f"page {number} has no stamp: {text!r}"
    for item in bundle.exhibits:
        for number in range(item.first_page, item.last_page + 1):
            text = page_text(bundle_file, number)  # page by page, as a reader would
            assert (item.duplicate_of_label or item.label) in text
            assert str(number) in text.split()


def test_exhibits_are_ordered_by_kind_then_date_and_labelled(bundle):
    order = [item.evidence_id for item in sorted(bundle.exhibits, key=lambda item: item.label)]
    assert order == [16, 11, 15, 12, 13, 14]  # invoices by date, contract, correspondence
    assert [item.label for item in bundle.exhibits] == [f"C-00{n}" for n in range(1, 7)]


def test_outline_and_index_links_point_at_each_exhibits_first_page(bundle):
    with pikepdf.open(io.BytesIO(bundle.volumes[0].pdf)) as document:
        outline = outline_targets(document)
        links = [target for index in range(1, 4) for target in link_targets(document, index)]
        for item in bundle.exhibits:
            if item.duplicate_of_label is None:
                title = next(key for key in outline if key.startswith(item.label + " "))
                assert outline[title] == item.first_page - 1
            assert item.first_page - 1 in links
        assert set(outline) >= {"Index", "Pleadings", "Evidence list", "Exhibits"}
        assert document.Root.OpenAction[1] == "/XYZ" and document.Root.OpenAction[4] == 1
        assert [page.label for page in document.pages] == [
            str(n) for n in range(1, bundle.pages + 1)
        ]


def test_pypdf_reads_the_same_outline_and_links(bundle):
    reader = pypdf.PdfReader(io.BytesIO(bundle.volumes[0].pdf))
    firsts = {
        item.label: item.first_page - 1 for item in bundle.exhibits if not item.duplicate_of_label
    }
    exhibits = reader.outline[-1]  # the last section's children: [.., "Exhibits", [...]]
    assert reader.outline[-2].title == "Exhibits"
    assert {
        item.title.split()[0]: reader.get_destination_page_number(item) for item in exhibits
    } == firsts
    linked = set()
    for page in reader.pages[1:3]:
        for annotation in page.get("/Annots", []):
            linked.add(reader.get_page_number(annotation.get_object()["/Dest"][0].get_object()))
    assert set(firsts.values()) <= linked


def test_fonts_are_all_embedded(bundle_file):
    rows = pdffonts_rows(bundle_file)
    assert rows
    for row in rows:
        assert row[-5] == "yes", row  # emb column


def test_duplicates_appear_once_and_near_duplicates_are_flagged(bundle, bundle_file):
    exhibits = exhibits_by_id(bundle)
    original, resent = exhibits[11], exhibits[15]
    assert resent.duplicate_of_label == original.label
    assert (resent.first_page, resent.last_page) == (original.first_page, original.last_page)
    assert exhibits[14].near_duplicate_of_label == exhibits[13].label
    assert exhibits[13].near_duplicate_of_label is None
    index = " ".join(page_text(bundle_file, n) for n in (2, 3))
    assert f"same as {original.label}" in index
    texts = all_pages_text(bundle_file)
    assert sum("Amount due: GBP 12,400.00" in text for text in texts) == 1  # included once
    assert any("same text" in warning for warning in bundle.preflight[0].warnings)


def test_evidence_list_shows_final_page_ranges(bundle, bundle_file):
    listed = next(doc for doc in bundle.manifest["documents"] if doc["kind"] == "evidence_list")
    # laid out at one page first, rendered at two: the exhibits moved by a page
    assert listed["last_page"] - listed["first_page"] + 1 == 2
    text = "\n".join(all_pages_text(bundle_file))
    for item in bundle.exhibits:
        assert f"{item.label} pp. {item.first_page}–{item.last_page}" in text


def test_preflight_and_manifest(bundle):
    report = bundle.preflight[0]
    assert report.problems == [] and report.fonts_embedded and report.pdfa == "not claimed"
    assert not any("PDF/A" in warning for warning in report.warnings)
    manifest = bundle.manifest
    assert manifest["profile"] == "ew_court" and manifest["pages"] == bundle.pages
    assert manifest["volumes"] == [
        {"number": 1, "pages": bundle.pages, "bytes": len(bundle.volumes[0].pdf),
         "sha256": hashlib.sha256(bundle.volumes[0].pdf).hexdigest(), "first_page": 1,
         "last_page": bundle.pages}
    ]  # fmt: skip
    invoice = next(entry for entry in manifest["exhibits"] if entry["evidence_id"] == 11)
    assert invoice["original_name"] == "INV-1001.pdf" and invoice["sha256_original"] == "a" * 64
    assert invoice["kind"] == "invoice" and invoice["date"] == "2025-03-01"
    assert invoice["first_page"] == exhibits_by_id(bundle)[11].first_page
    assert bundle.progress[-1][0] == bundle.progress[-1][1] == bundle.pages


def test_hostile_input_is_sanitised(parts):
    pdf = make_pdf([["Hostile"]])
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.pages[0].obj.AA = pikepdf.Dictionary(
            O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        out = io.BytesIO()
        document.save(out)
    hostile = Part(kind="exhibit", title="Hostile", pdf=out.getvalue())
    result = build_bundle(SPEC, [hostile], PROFILES["default"])
    assert result.preflight[0].problems == []
    assert any("JavaScript" in warning for warning in result.preflight[0].warnings)


def test_parts_given_as_files_make_the_same_bundle_as_bytes(parts, bundle, tmp_path):
    """``Part.path`` instead of ``Part.pdf`` (the pleading needs sanitising, the exhibits do
    not): the same volumes, byte for byte, and the same manifest."""
    as_files = []
    for number, part in enumerate(parts):
        path = tmp_path / f"part-{number}.pdf"
        path.write_bytes(part.pdf)
        as_files.append(dataclasses.replace(part, pdf=b"", path=path))
    result = build_bundle(
        SPEC,
        as_files,
        PROFILES["ew_court"],
        evidence_list_renderer=render_evidence_list,
        built_at=dt.datetime.fromisoformat(bundle.manifest["built_at"]),
    )
    assert [v.pdf for v in result.volumes] == [v.pdf for v in bundle.volumes]
    assert result.manifest == bundle.manifest
    assert result.preflight == bundle.preflight and result.exhibits == bundle.exhibits


def test_a_missing_file_fails_the_build(parts, tmp_path):
    missing = dataclasses.replace(parts[1], pdf=b"", path=tmp_path / "gone.pdf")
    with pytest.raises(BundleFailed, match="is not a readable PDF"):
        build_bundle(SPEC, [parts[2], missing], PROFILES["default"])


# -- volumes, languages, options ------------------------------------------------------------------


def test_page_limit_splits_into_volumes_with_continuous_numbering(parts, tmp_path):
    profile = CourtProfile("tight", "Tight", None, 12, True, 300)
    result = build_bundle(SPEC, parts, profile, evidence_list_renderer=render_evidence_list)
    assert len(result.volumes) >= 2
    for before, after in zip(result.volumes, result.volumes[1:], strict=False):
        assert after.first_page == before.last_page + 1
    assert result.volumes[-1].last_page == result.pages
    assert result.preflight[0].warnings[0].startswith("Tight requires PDF/A-2b")
    exhibits = {item.label: item for item in result.exhibits}
    for number, volume in enumerate(result.volumes, 1):
        path = tmp_path / f"volume-{number}.pdf"
        path.write_bytes(volume.pdf)
        texts = all_pages_text(path)
        assert len(texts) == volume.pages
        assert "Index" in texts[1]  # every volume has the whole index
        for offset, text in enumerate(texts):
            assert str(volume.first_page + offset) in text.split()
        with pikepdf.open(io.BytesIO(volume.pdf)) as document:
            assert document.pages[0].label == str(volume.first_page)
            for item in exhibits.values():
                if item.volume == number and not item.duplicate_of_label:
                    target = item.first_page - volume.first_page
                    assert target in link_targets(document, 1) + link_targets(document, 2)
                    assert item.label in texts[target]
        index = texts[1] + texts[2]
        others = [item for item in exhibits.values() if item.volume != number]
        assert all(f"Vol. {item.volume}" in index for item in others)


def test_an_exhibit_longer_than_a_volume_gets_its_own_volume_and_a_warning(parts):
    long = Part(
        kind="exhibit",
        title="Ledger extract",
        pdf=make_pdf([[f"Ledger line {n}"] for n in range(8)]),
        sanitised=True,
    )
    profile = CourtProfile("tight", "Tight", None, 6, False, 300)
    result = build_bundle(SPEC, [parts[2], long, parts[3]], profile)
    assert [volume.pages for volume in result.volumes] == [3, 10, 4]  # cover + index each
    assert [volume.first_page for volume in result.volumes] == [1, 4, 14]
    assert result.preflight[0].warnings == []
    second = result.preflight[1].warnings
    assert any("C-002 Ledger extract (8 pages) is longer than a volume" in w for w in second)
    assert "Volume 2 has 10 pages, over the court's 6 per volume." in second
    assert result.warnings == result.preflight[1].warnings


def test_chinese_cover_and_index_render_in_embedded_fonts(parts, tmp_path):
    spec = BundleSpec(
        court="北京市朝阳区人民法院",
        case_reference="（2026）京0105民初123号",
        claimant="北京北风零部件有限公司",
        defendant="测试客户有限公司",
        version=1,
        on=ON,
        language="zh",
        label_prefix="证据",
    )
    result = build_bundle(spec, parts[1:4], get_profile("cn_court"))
    path = tmp_path / "zh.pdf"
    path.write_bytes(result.volumes[0].pdf)
    cover = page_text(path, 1)
    assert "北京市朝阳区人民法院" in cover and "2026年12月2日" in cover
    assert "目录" in page_text(path, 2)
    assert "证据001" in page_text(path, result.exhibits[0].first_page)
    assert all(row[-5] == "yes" for row in pdffonts_rows(path))


def test_dividers_and_chronological_order(parts):
    spec = BundleSpec(**{**SPEC.__dict__, "dividers": True, "order": "chronological"})
    result = build_bundle(spec, parts, PROFILES["default"])
    dates = [part.date for part in parts if part.kind == "exhibit"]
    by_label = sorted(result.exhibits, key=lambda item: item.label)
    assert [item.evidence_id for item in by_label] == [12, 16, 11, 15, 13, 14]
    assert sorted(dates) == [p.date for p in sorted(parts[1:], key=lambda p: p.date)]
    with pikepdf.open(io.BytesIO(result.volumes[0].pdf)) as document:
        outline = outline_targets(document)
        first = min(item.first_page for item in result.exhibits)
        assert outline["Exhibits"] == first - 2  # the divider before the first exhibit
        assert outline["Pleadings"] == 2  # cover, index, divider
        assert len(document.pages) == result.pages


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="Unknown court profile"):
        get_profile("moon_court")
    assert set(PROFILES) == {"default", "ew_court", "cn_court", "us_ecf"}
