"""PAP-Debt letters are issued with the prescribed forms, as uploaded by an admin.

The forms here are PDFs the test makes (a page of text naming each form), standing in for the
official files; what is checked is the mechanism: versions, refusal while one is missing, the
forms' pages appended to the letter's PDF in the annexes' order, an earlier letter keeping the
version it was issued with, and the store knowing the files are referenced.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pikepdf
from reportlab.pdfgen import canvas
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.cases.services import open_case, set_agreement
from portal.extensions import db
from portal.storage import file_store

from ..documents.test_documents_api import auth
from ..factories import ACTOR, World, make_individual, make_invoice
from .conftest import text

EDITION = "PAP-Debt Annex 1, GOV.UK, version in force from 1 October 2017"


def form_pdf(title: str, pages: int = 1) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for number in range(1, pages + 1):
        page.drawString(72, 720, f"OFFICIAL FORM {title} page {number}")
        page.showPage()
    page.save()
    return out.getvalue()


def pdf_pages(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return [" ".join(page.split()) for page in out.split("\f")[:-1]]


def upload(admin, kind: str, data: bytes, name: str = "form.pdf", edition: str = EDITION):
    return admin.post(
        "/admin/forms",
        data={"kind": kind, "edition": edition, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def individual_case(app, world: World) -> int:
    with app.app_context():
        person = make_individual("EW-P")
        lawyer = db.session.get(User, world.lawyer)
        lawyer.firm_address = "1 Chancery Lane\nLondon WC2A 1LS"
        case = open_case(
            ACTOR,
            debtor=person,
            owner=db.session.get(User, world.legal),
            lawyer=lawyer,
            invoices=[make_invoice("EW-P-1", "EW-P")],
        )
        set_agreement(
            ACTOR,
            case,
            {"agreement_form": "written", "agreement_date": dt.date(2024, 11, 1),
             "agreement_parties": "Creditor Trading Ltd and Thomas Whitfield"},
        )  # fmt: skip
        db.session.commit()
        return case.id


def letter(client, app, case_id: int, mode: str):
    return client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "demand_letter", "mode": mode},
        headers=auth(app, "legal"),
    )


def test_a_pap_debt_letter_is_issued_with_the_uploaded_prescribed_forms(
    app, client, as_role, world: World
):
    case_id = individual_case(app, world)
    admin = as_role("admin")
    page = text(admin.get("/admin/forms"))
    assert page.count("not uploaded") == 3

    refused = letter(client, app, case_id, "final")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert (
        "no admin has uploaded the official Information Sheet, Reply Form, Financial "
        in (error["message"])
    )
    assert {"enclosures.pap_debt_reply_form"} <= set(error["fields"]["missing_fields"])
    draft = letter(client, app, case_id, "draft")
    assert draft.status_code == 201
    pdf = client.get(f"/api/v1/documents/{draft.get_json()['id']}/pdf", headers=auth(app, "legal"))
    assert "Annex 3 – [missing: Reply Form – an admin must upload the official form]" in " ".join(
        pdf_pages(pdf.data)
    )

    # By content: a text file named .pdf and an encrypted PDF are refused, and nothing is kept.
    not_pdf = upload(admin, "pap_debt_reply_form", b"Reply form as text", "reply.pdf")
    assert not_pdf.status_code == 422
    assert "must be a PDF that opens without a password" in text(not_pdf)
    locked = io.BytesIO()
    with pikepdf.open(io.BytesIO(form_pdf("Locked"))) as document:
        document.save(locked, encryption=pikepdf.Encryption(owner="o", user="u"))
    assert upload(admin, "pap_debt_reply_form", locked.getvalue()).status_code == 422

    for kind, title, pages in (
        ("pap_debt_information_sheet", "INFORMATION SHEET", 1),
        ("pap_debt_reply_form", "REPLY FORM", 2),
        ("pap_debt_financial_statement", "FINANCIAL STATEMENT", 3),
    ):
        assert upload(admin, kind, form_pdf(title, pages)).status_code == 303
    assert "not uploaded" not in text(admin.get("/admin/forms"))

    made = letter(client, app, case_id, "final")
    assert made.status_code == 201, made.get_json()
    first = made.get_json()["id"]
    body = client.get(f"/api/v1/documents/{first}", headers=auth(app, "legal")).get_json()
    assert [item["version"] for item in body["context"]["enclosures"]] == [1, 1, 1]
    pages = pdf_pages(client.get(f"/api/v1/documents/{first}/pdf", headers=auth(app, "legal")).data)
    # The letter's own pages, then 1 + 2 + 3 pages of forms in the annexes' order.
    assert body["pages"] == len(pages)
    assert [page for page in pages if page.startswith("OFFICIAL FORM")] == [
        "OFFICIAL FORM INFORMATION SHEET page 1",
        "OFFICIAL FORM REPLY FORM page 1",
        "OFFICIAL FORM REPLY FORM page 2",
        "OFFICIAL FORM FINANCIAL STATEMENT page 1",
        "OFFICIAL FORM FINANCIAL STATEMENT page 2",
        "OFFICIAL FORM FINANCIAL STATEMENT page 3",
    ]
    assert pages[-6].startswith("OFFICIAL FORM INFORMATION SHEET")
    letter_text = " ".join(pages[:-6])
    assert (
        "Annex 3 – Reply Form, the form prescribed by Annex 1 to the Pre-Action Protocol for "
        f"Debt Claims ({EDITION})" in letter_text
    )
    first_pdf = client.get(f"/api/v1/documents/{first}/pdf", headers=auth(app, "legal")).data

    # A new Reply Form: the next letter is issued with it, the first keeps version 1.
    assert upload(admin, "pap_debt_reply_form", form_pdf("REPLY FORM 2026")).status_code == 303
    second = letter(client, app, case_id, "final").get_json()["id"]
    later = client.get(f"/api/v1/documents/{second}", headers=auth(app, "legal")).get_json()
    assert [item["version"] for item in later["context"]["enclosures"]] == [1, 2, 1]
    assert "OFFICIAL FORM REPLY FORM 2026 page 1" in pdf_pages(
        client.get(f"/api/v1/documents/{second}/pdf", headers=auth(app, "legal")).data
    )
    again = client.get(f"/api/v1/documents/{first}/pdf", headers=auth(app, "legal")).data
    assert again == first_pdf

    with app.app_context():
        uploads = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "statutory_form.upload")
        ).all()
        assert len(uploads) == 4
        # The forms' files are referenced: a storage check finds no orphans.
        assert file_store().check().orphans == []
    history = text(admin.get("/admin/forms"))
    assert "Reply Form version 2" in history
