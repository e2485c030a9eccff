"""The bundle job on a case with many exhibits: the evidence list is converted once (a real
LibreOffice run, counted), the pages reserved for it keep the ranges it prints right, and the
zip stores the PDFs as they are. Also the builder's reservation on its own, and its volumes as
files."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import zipfile

from portal.bundles.builder import BundleSpec, Part, build_bundle
from portal.bundles.models import Bundle
from portal.bundles.profiles import get_profile
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence, EvidenceKind, RenditionStatus
from portal.extensions import db
from portal.office import OfficeConverter
from portal.storage import file_store

from ..documents.test_documents_api import auth
from .test_builder import make_pdf

#: 21 exhibits of our own and the world's note: 1 + 22 // 20 = 2 pages are reserved for the
#: list (services.LIST_ROWS_PER_PAGE)
EXHIBITS = 21


def page_text(pdf: bytes, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    )
    return out.stdout.decode()


def add_exhibits(case_id: int, count: int) -> None:
    """``count`` one-page exhibit PDFs, already rendered (as the worker leaves them)."""
    store = file_store()
    for number in range(count):
        pdf = make_pdf([[f"Statement of account no. {number}", "Balance due"]])
        sha, size = store.put(pdf)
        db.session.add(
            Evidence(
                case_id=case_id,
                kind=EvidenceKind.CORRESPONDENCE,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=size,
                media_type="application/pdf",
                original_name=f"statement-{number}.pdf",
                document_date=dt.date(2025, 1, 1) + dt.timedelta(days=number),
                description=f"Statement of account no. {number}",
                pages=1,
                rendition_status=RenditionStatus.DONE,
                rendition_sha256=sha,
            )
        )
    db.session.commit()


def test_the_job_converts_the_evidence_list_once_and_stores_pdfs_in_the_zip(
    app, client, world, monkeypatch
):
    legal = auth(app, "legal")
    with app.app_context():
        render_evidence(world.assigned_evidence)
        add_exhibits(world.assigned_case, EXHIBITS)

    converted: list[int] = []
    real = OfficeConverter._run

    def counted(converter, soffice, prefix, root, files, *args, **kwargs):
        converted.append(len(files))  # a real LibreOffice run, counted
        return real(converter, soffice, prefix, root, files, *args, **kwargs)

    monkeypatch.setattr(OfficeConverter, "_run", counted)
    started = client.post(f"/api/v1/cases/{world.assigned_case}/bundles", json={}, headers=legal)
    monkeypatch.undo()
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    assert job["status"] == "done", job
    # One LibreOffice run, one file: the evidence list.
    assert converted == [1]

    with app.app_context():
        bundle = db.session.get(Bundle, job["result"]["bundle"])
        listed = next(d for d in bundle.manifest["documents"] if d["kind"] == "evidence_list")
        exhibits = bundle.manifest["exhibits"]
        pdf = file_store().verified_path(bundle.volumes[0].pdf_sha256).read_bytes()
        archive = file_store().verified_path(bundle.zip_sha256)
        with zipfile.ZipFile(archive) as files:
            kinds = {info.filename: info.compress_type for info in files.infolist()}

    # The list has the 2 pages reserved for it: what it leaves says so; the first exhibit
    # follows them.
    first, last = listed["first_page"], listed["last_page"]
    assert last - first + 1 == 2
    assert exhibits[0]["first_page"] == last + 1
    list_text = page_text(pdf, first)
    blank = [n for n in (first, last) if "intentionally left blank" in page_text(pdf, n)]
    assert first not in blank
    if blank:  # the list took one page: the other is blank
        assert blank == [last]
    else:
        list_text += page_text(pdf, last)
    # Each range the list prints is where the exhibit is stamped.
    for exhibit in exhibits:
        number, label = exhibit["first_page"], exhibit["label"]
        assert re.search(rf"{label}.*\b{number}\b", list_text), (label, number)
        stamped = page_text(pdf, number)
        assert label in stamped and re.search(rf"(?<!\d){number}(?!\d)", stamped)

    # PDFs (volume and originals) are stored as they are; text is deflated.
    pdfs = {name: kind for name, kind in kinds.items() if name.endswith(".pdf")}
    assert len(pdfs) == 1 + EXHIBITS  # the volume and the statements
    assert set(pdfs.values()) == {zipfile.ZIP_STORED}
    assert kinds["manifest.json"] == zipfile.ZIP_DEFLATED
    note = next(name for name in kinds if name.endswith("note.txt"))
    assert kinds[note] == zipfile.ZIP_DEFLATED


SPEC = BundleSpec(
    court="County Court at Central London",
    case_reference="K1QZ0001",
    claimant="Northwind Components Ltd",
    defendant="Acme Ltd",
    version=1,
    on=dt.date(2026, 12, 2),
)


def exhibit_parts(count: int) -> list[Part]:
    return [
        Part(kind="exhibit", title=f"Statement {n}", evidence_id=n, sanitised=True,
             pdf=make_pdf([[f"Statement {n}"]] * 2))
        for n in range(count)
    ]  # fmt: skip


def test_a_list_shorter_than_its_reserve_is_rendered_once_and_followed_by_blank_pages():
    rendered = []

    def one_page(ranges) -> bytes:
        rendered.append([(r.label, r.first_page) for r in ranges])
        return make_pdf([[f"{r.label} p. {r.first_page}" for r in ranges]])

    with build_bundle(
        SPEC,
        exhibit_parts(3),
        get_profile("default"),
        evidence_list_renderer=one_page,
        evidence_list_pages=lambda exhibits: exhibits,  # 3 reserved
    ) as result:
        pdf = result.volumes[0].pdf
        assert len(rendered) == 1
        # cover 1, index 2, list 3, blank 4-5 (3 reserved), exhibits of 2 pages from 6
        assert [r.first_page for r in result.exhibits] == [6, 8, 10]
        assert rendered[0] == [("C-001", 6), ("C-002", 8), ("C-003", 10)]
        assert result.pages == 11
        for number in (4, 5):
            text = page_text(pdf, number)
            assert "intentionally left blank" in text and re.search(rf"\b{number}\b", text)
        assert "C-001" in page_text(pdf, 6)
        folder = result.volumes[0].path.parent
        assert result.volumes[0].path.stat().st_size == result.volumes[0].size == len(pdf)
    # closed: the volumes' files are gone
    assert not folder.exists()


def test_a_list_longer_than_its_reserve_is_rendered_again_without_blank_pages():
    rendered = []

    def two_pages(ranges) -> bytes:
        rendered.append([r.first_page for r in ranges])
        return make_pdf([[f"{r.label} p. {r.first_page}" for r in ranges], ["continued"]])

    with build_bundle(
        SPEC, exhibit_parts(2), get_profile("default"), evidence_list_renderer=two_pages
    ) as result:
        # 1 page reserved: rendered with the exhibits from 4, then with the list's 2 pages
        # (cover 1, index 2, list 3-4) from 5
        assert rendered == [[4, 6], [5, 7]]
        assert [r.first_page for r in result.exhibits] == [5, 7]
        assert result.pages == 8
        assert "intentionally left blank" not in page_text(result.volumes[0].pdf, 4)
