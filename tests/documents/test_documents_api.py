"""The Documents and Jobs routes of ``/api/v1`` end to end (real templates and LibreOffice)."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import zipfile

from docx import Document as WordDocument
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.cases.models import Case
from portal.documents.models import Document, ReferenceSequence
from portal.documents.registry import templates_root
from portal.extensions import db

from ..conftest import login
from ..factories import World, token_for


def auth(app, role: str) -> dict[str, str]:
    with app.app_context():
        return {"Authorization": f"Bearer {token_for(World.EMAILS[role])}"}


def text_of(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode())


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def complete_the_lawyer(app) -> None:
    """The test lawyer has no firm address; a final demand letter needs one."""
    with app.app_context():
        lawyer = db.session.scalar(select(User).where(User.email == World.EMAILS["lawyer"]))
        lawyer.firm_address = "1 Chancery Lane\nLondon WC2A 1LS"
        db.session.commit()


def test_draft_marks_missing_fields_and_final_refuses_naming_them(app, client, world):
    headers = auth(app, "legal")
    url = f"/api/v1/cases/{world.assigned_case}/documents"
    # The world's case has no documents yet; its lawyer has no firm address.
    draft = client.post(url, json={"kind": "demand_letter", "mode": "draft"}, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    body = draft.get_json()
    assert body["version"] == 1 and body["status"] == "draft"
    assert body["template"] == "ew/demand_letter.docx"
    assert body["missing_fields"] == ["firm.address_lines"]
    pdf = client.get(f"/api/v1/documents/{body['id']}/pdf", headers=headers)
    assert pdf.status_code == 200
    assert "[missing: firm.address_lines]" in text_of(pdf.data)

    documents, sequences = count(app, Document), count(app, ReferenceSequence)
    final = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=headers)
    assert final.status_code == 422
    error = final.get_json()["error"]
    assert error["fields"]["missing_fields"] == body["missing_fields"]
    assert "firm.address_lines" in error["message"]
    # Refused means nothing was made and no letter number was used.
    assert count(app, Document) == documents
    assert count(app, ReferenceSequence) == sequences

    complete_the_lawyer(app)
    final = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=headers)
    assert final.status_code == 201, final.get_json()
    second = final.get_json()
    assert second["version"] == 2 and second["missing_fields"] == []
    first = client.get(f"/api/v1/documents/{body['id']}", headers=headers).get_json()
    assert first["status"] == "superseded"


def test_a_version_stores_hashes_template_and_context(app, client, world):
    complete_the_lawyer(app)
    headers = auth(app, "legal")
    made = client.post(
        f"/api/v1/cases/{world.assigned_case}/documents",
        json={"kind": "warning_letter", "mode": "final"},
        headers=headers,
    ).get_json()
    document = client.get(f"/api/v1/documents/{made['id']}", headers=headers).get_json()
    docx = client.get(f"/api/v1/documents/{made['id']}/docx", headers=headers)
    pdf = client.get(f"/api/v1/documents/{made['id']}/pdf", headers=headers)
    assert docx.headers["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(docx.data).hexdigest() == document["sha256_docx"]
    assert hashlib.sha256(pdf.data).hexdigest() == document["sha256_pdf"]
    with app.app_context():
        template = (templates_root() / document["template"]).read_bytes()
    assert hashlib.sha256(template).hexdigest() == document["template_sha256"]
    context = document["context"]
    assert context["debtor"]["name"] in text_of(pdf.data)
    assert len(context["invoices"]) == 2
    assert all(row["number"] in text_of(pdf.data) for row in context["invoices"])
    assert document["reference"] == context["document"]["reference"]
    assert re.fullmatch(r"CRED-\d{4}-\d{4}", document["reference"])
    assert document["approval"] is None


def test_an_edited_docx_comes_back_as_the_next_version(app, client, world):
    headers = auth(app, "legal")
    made = client.post(
        f"/api/v1/cases/{world.assigned_case}/documents",
        json={"kind": "advance_notice"},
        headers=headers,
    ).get_json()
    original = client.get(f"/api/v1/documents/{made['id']}/docx", headers=headers).data
    word = WordDocument(io.BytesIO(original))
    word.add_paragraph("Amended by counsel on review.")
    edited = io.BytesIO()
    word.save(edited)

    before = count(app, Document)
    bad = client.post(
        f"/api/v1/documents/{made['id']}/docx",
        data={"file": (io.BytesIO(b"not a word file"), "letter.docx")},
        headers=headers,
    )
    assert bad.status_code == 422
    assert count(app, Document) == before

    uploaded = client.post(
        f"/api/v1/documents/{made['id']}/docx",
        data={"file": (io.BytesIO(edited.getvalue()), "letter.docx")},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    new = client.get(f"/api/v1/documents/{uploaded.get_json()['id']}", headers=headers).get_json()
    assert new["version"] == made["version"] + 1
    assert new["source"] == "uploaded" and new["based_on"] == made["id"]
    first = client.get(f"/api/v1/documents/{made['id']}", headers=headers).get_json()
    assert new["reference"] == first["reference"]
    pdf = client.get(f"/api/v1/documents/{new['id']}/pdf", headers=headers).data
    assert "Amended by counsel on review." in text_of(pdf)
    old = client.get(f"/api/v1/documents/{made['id']}", headers=headers).get_json()
    assert old["status"] == "superseded"


def test_bad_requests_change_nothing(app, client, world):
    headers = auth(app, "legal")
    url = f"/api/v1/cases/{world.assigned_case}/documents"
    before = count(app, Document)
    assert client.post(url, json={"kind": "sonnet"}, headers=headers).status_code == 422
    assert (
        client.post(url, json={"kind": "advance_notice", "mode": "x"}, headers=headers).status_code
        == 422
    )
    unknown = client.post(
        url, json={"kind": "advance_notice", "fields": {"judge": "x"}}, headers=headers
    )
    assert unknown.status_code == 422
    assert "judge" in unknown.get_json()["error"]["message"]
    finance = client.post(url, json={"kind": "advance_notice"}, headers=auth(app, "finance"))
    assert finance.status_code == 403
    assert count(app, Document) == before


def test_bulk_generation_reports_progress_errors_and_a_zip(app, client, world):
    complete_the_lawyer(app)
    with app.app_context():
        # The PRC case has no lawyer yet, so its lawyer's letter cannot be final.
        db.session.get(Case, world.other_case).lawyer_id = None
        db.session.commit()
    headers = auth(app, "legal")
    started = client.post(
        "/api/v1/documents/bulk",
        json={
            "kind": "demand_letter",
            "mode": "final",
            "cases": [world.assigned_case, world.other_case],
        },
        headers=headers,
    )
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job"]
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert job["status"] == "done" and job["progress"] == 1.0
    result = job["result"]
    # The PRC case is listed with what it lacks; the other one was made.
    assert result["generated"] == 1 and result["failed"] == 1
    (error,) = result["errors"]
    assert error["case"] == world.other_case
    assert {"lawyer.name", "lawyer.licence_number"} <= set(error["missing_fields"])
    archive = client.get(f"/api/v1/jobs/{job_id}/output", headers=headers)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        names = bundle.namelist()
        errors_csv = bundle.read("errors.csv").decode()
    assert sum(name.endswith(".pdf") for name in names) == 1
    assert str(world.other_case) in errors_csv and "lawyer.licence_number" in errors_csv
    # Only the job's owner (and admins) may follow it.
    assert client.get(f"/api/v1/jobs/{job_id}", headers=auth(app, "finance")).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}", headers=auth(app, "admin")).status_code == 200


def test_the_job_page_polls_with_the_session_cookie(app, client, world):
    headers = auth(app, "legal")
    job_id = client.post(
        "/api/v1/documents/bulk",
        json={"kind": "advance_notice", "cases": [world.assigned_case]},
        headers=headers,
    ).get_json()["job"]
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 401
    login(client, World.EMAILS["legal"])
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and b"data-job-url" in page.data
    polled = client.get(f"/api/v1/jobs/{job_id}")
    assert polled.status_code == 200 and polled.get_json()["status"] == "done"
    # A cookie never authenticates anything but that read.
    assert client.post("/api/v1/documents/bulk", json={"kind": "advance_notice"}).status_code == 401
    client.post("/logout")
    login(client, World.EMAILS["finance"])
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}").status_code == 404


def test_bucket_selects_open_cases_by_oldest_due_date(app, client, world):
    headers = auth(app, "legal")
    # The world's invoices fell due in February 2025: over a year before this date.
    started = client.post(
        "/api/v1/documents/bulk",
        json={"kind": "advance_notice", "bucket": "over_365", "as_of": "2026-11-23"},
        headers=headers,
    )
    assert started.status_code == 202
    assert started.get_json()["cases"] == 2
    empty = client.post(
        "/api/v1/documents/bulk",
        json={"kind": "advance_notice", "bucket": "d1_30", "as_of": "2026-11-23"},
        headers=headers,
    )
    assert empty.status_code == 422
