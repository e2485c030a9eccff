"""Acceptance of document generation on the demo data: every kind, every jurisdiction, final.

Real parts only: the shipped templates, docxtpl, LibreOffice (one batched run for all the
documents), the file store, and poppler's ``pdftotext``/``pdffonts`` to read the PDFs back.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import zipfile

import pytest
from sqlalchemy import select

from portal.audit.services import Actor
from portal.cases.models import Case
from portal.documents.manifest import STATUTORY_FORMS
from portal.documents.models import Document, DocumentKind, DocumentStatus
from portal.documents.services import convert_all, page_count, prepare_document, store
from portal.documents.statutory import upload_form
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.office import OfficeConverter
from portal.seed import seed_demo
from portal.storage import file_store

from ..factories import ready_for_prosecution
from ..ui.test_statutory_forms import form_pdf

ON = dt.date(2026, 11, 23)
COURTS = {
    "cn": "上海市浦东新区人民法院",
    "ew": "County Court at Central London",
    "us": "Circuit Court of Cook County, Illinois, County Department, Law Division",
}


def pdf_text(pdf: bytes) -> str:
    """Text of a PDF by poppler, without any whitespace (tables wrap long cells)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return re.sub(r"\s+", "", result.stdout.decode("utf-8"))


def page_footer(pdf: bytes, number: int) -> str:
    """The last line of text on one page, with its spaces squeezed."""
    result = subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), "-layout", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    )
    lines = [line for line in result.stdout.decode("utf-8").splitlines() if line.strip()]
    return " ".join(lines[-1].split())


def pdf_fonts(pdf: bytes) -> list[list[str]]:
    """Rows of ``pdffonts``: name, type, encoding, emb, sub, uni, …"""
    result = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    lines = result.stdout.decode().splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo()
        db.session.commit()
    return app


def test_every_kind_renders_final_for_a_demo_case_of_each_jurisdiction(demo):
    with demo.app_context():
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        chosen = {}
        for case in cases:
            key = (case.jurisdiction.value, case.debtor.kind.value)
            chosen.setdefault(key, case)
        # cn, ew (company and individual: the PAP-Debt variant), us
        assert {key[0] for key in chosen} == {"cn", "ew", "us"}
        assert ("ew", "individual") in chosen
        # The PAP-Debt letter is issued with the prescribed forms an admin uploads (stand-ins
        # here; tests/ui/test_statutory_forms.py checks the mechanism).
        for kind in STATUTORY_FORMS:
            upload_form(Actor.cli(), kind, form_pdf(kind), f"{kind}.pdf", "test edition")
        prepared = []
        for (jurisdiction, _debtor_kind), case in sorted(chosen.items()):
            # A final claim and evidence list need a case that could enter prosecution, and
            # the evidence list each exhibit's pages (the worker's renditions).
            ready_for_prosecution(case)
            db.session.commit()  # the rendition task reads the rows in its own session
            for evidence_id in db.session.scalars(
                select(Evidence.id).where(Evidence.case_id == case.id)
            ):
                render_evidence(evidence_id)
            for kind in DocumentKind:
                prepared.append(
                    prepare_document(
                        case,
                        kind,
                        final=True,
                        on=ON,
                        inputs={"court.name": COURTS[jurisdiction]},
                    )
                )
        office = OfficeConverter(timeout=300, batch_size=100)
        # The DOCX files open in LibreOffice: all of them convert, in one process.
        results = convert_all(
            [(f"{n}.docx", item.docx) for n, item in enumerate(prepared)], office=office
        )
        assert office.launches == 1
        failures = [
            (item.spec.relative, error)
            for item, (pdf, error) in zip(prepared, results, strict=True)
            if pdf is None
        ]
        assert failures == []
        actor = Actor(user=None, label="tests")
        for item, (pdf, _error) in zip(prepared, results, strict=True):
            assert item.missing == [], item.spec.relative
            document = store(actor, item, pdf)
            assert document.final and document.status is DocumentStatus.DRAFT
            text = pdf_text(pdf)
            context = item.context
            where = f"{item.spec.relative} for {item.case.reference}"
            assert re.sub(r"\s+", "", context["debtor"]["name"]) in text, where
            for invoice in context["invoices"]:
                assert invoice["number"] in text, (where, invoice["number"])
            assert context["totals"]["total_due"] in text, (where, context["totals"]["total_due"])
            assert re.sub(r"\s+", "", context["deadline"]["date"]) in text, where
            assert "[missing:" not in text, where
            if item.spec.manifest.language == "en":
                # Money is written one way: £3,500.00 / $3,500.00, never "GBP 3,500.00" as well.
                symbol = context["symbol"]
                assert re.search(re.escape(symbol) + r"\d", text), where
                assert not re.search(r"(GBP|USD|EUR)\d", text), where
            # Fonts embedded (Chinese included): nothing left to the reader's machine.
            assert all(row[-5] == "yes" for row in pdf_fonts(pdf)), where
            # Every page says which it is and of how many ("第 X 页 共 Y 页" in Chinese). The
            # prescribed forms a PAP-Debt letter is issued with follow its own pages, with theirs.
            own = page_count(pdf)
            annexed = 3 if item.spec.manifest.enclosures else 0  # one page per stand-in form
            assert document.pages == own + annexed, where
            for number in range(1, own + 1):
                footer = page_footer(pdf, number)
                if item.spec.manifest.language == "zh":
                    wanted = f"第{number}页共{own}页"
                    assert footer.replace(" ", "") == wanted, (where, footer)
                else:
                    assert footer == f"Page {number} of {own}", (where, footer)
        ew_individual = chosen[("ew", "individual")]
        letter = next(
            item
            for item in prepared
            if item.case is ew_individual and item.kind.value == "demand_letter"
        )
        assert letter.spec.relative == "ew/demand_letter.individual.docx"
        db.session.commit()
        assert db.session.scalar(select(db.func.count()).select_from(Document)) == len(prepared)


def test_chinese_pdf_has_embedded_cjk_fonts_and_the_characters_come_back(demo):
    with demo.app_context():
        case = db.session.scalar(select(Case).where(Case.jurisdiction == "cn").order_by(Case.id))
        item = prepare_document(case, DocumentKind.DEMAND_LETTER, final=True, on=ON)
        ((pdf, error),) = convert_all([("letter.docx", item.docx)])
        assert error is None
        fonts = pdf_fonts(pdf)
        assert any("CJK" in row[0] for row in fonts), fonts
        assert all(row[-5] == "yes" for row in fonts)
        text = pdf_text(pdf)
        # The letter's own words, the amount in financial capitals and the firm's name.
        assert "律师函" in text
        assert item.context["totals"]["total_due_words"] in text
        assert re.sub(r"\s+", "", item.context["firm"]["name"]) in text
        assert "\ufffd" not in text  # no replacement characters: every glyph was there


def test_bulk_zip_holds_a_pdf_and_docx_per_case(demo, monkeypatch):
    # Two LibreOffice processes side by side, as on a two-core server with many letters.
    monkeypatch.setattr("portal.office.MIN_SHARED_BATCH", 2)
    demo.config["OFFICE_PROCESSES"] = 2
    with demo.app_context():
        from portal.documents.bulk import start_bulk
        from portal.jobs.models import Job, JobStatus

        legal = db.session.scalar(select(Case.owner_id).order_by(Case.id).limit(1))
        from portal.accounts.models import User

        user = db.session.get(User, legal)
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        job = start_bulk(Actor(user=user), DocumentKind.WARNING_LETTER, cases, final=False, on=ON)
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        assert job.status is JobStatus.DONE, job.error
        assert job.result["generated"] == len(cases) and job.result["failed"] == 0
        with zipfile.ZipFile(io.BytesIO(file_store().read(job.output_sha256))) as archive:
            names = archive.namelist()
        assert sum(name.endswith(".pdf") for name in names) == len(cases)
        assert sum(name.endswith(".docx") for name in names) == len(cases)
        assert "errors.csv" in names
