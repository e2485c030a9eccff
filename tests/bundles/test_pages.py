"""The bundle pages: the case page's card and build form, building through it, the bundle page,
its volume PDFs and zip, and who may see and build what."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.bundles.models import Bundle
from portal.cases.models import Case
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence, EvidenceKind
from portal.evidence.services import add_evidence
from portal.extensions import db
from portal.jobs.models import Job

from ..conftest import login
from ..factories import ACTOR, World
from ..ui.conftest import section, text

PDF = (Path(__file__).resolve().parents[1] / "resources" / "good" / "two-pages.pdf").read_bytes()


def signed_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, World.EMAILS[role]).status_code == 302
    return client


def render_all(app: Flask, case_id: int) -> None:
    """Make every evidence item of the case an exhibit PDF (the queue does it in production)."""
    with app.app_context():
        for evidence_id in db.session.scalars(
            select(Evidence.id).where(Evidence.case_id == case_id)
        ):
            render_evidence(evidence_id)


def add_contracts(app: Flask, case_id: int, copies: int = 2) -> None:
    """The same signed contract uploaded ``copies`` times (byte-identical exhibits)."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        for number in range(copies):
            fields = {"kind": EvidenceKind.CONTRACT, "document_date": dt.date(2025, 1, 10)}
            add_evidence(ACTOR, case, PDF, f"contract-{number}.pdf", fields)
        db.session.commit()


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_card_refuses_with_the_reason_until_the_exhibits_are_rendered(app, world):
    legal = signed_in(app, "legal")
    page = legal.get(f"/cases/{world.assigned_case}")
    assert page.status_code == 200
    card = section(page, "bundles")
    # The world's placeholder version is listed.
    assert "Filing bundles 1" in card and "v1" in card and "draft" in card
    html = page.data.decode()
    form = re.search(r'<form[^>]*id="bundle-form".*?</form>', html, re.S).group(0)
    assert "<fieldset disabled>" in form
    assert "Cannot build yet" in card and "note.txt (pending)" in card
    # Every court profile is offered with its limits.
    assert "England &amp; Wales (CE-File)" in form
    assert "Volumes of at most 350 pages and 50 MB" in card
    assert 'value="C-"' in form

    render_all(app, world.assigned_case)
    card_html = legal.get(f"/cases/{world.assigned_case}").data.decode()
    form = re.search(r'<form[^>]*id="bundle-form".*?</form>', card_html, re.S).group(0)
    assert "disabled" not in form and "Cannot build yet" not in card_html


@pytest.mark.parametrize("role", ["finance", "lawyer"])
def test_readers_see_the_versions_without_a_build_form(app, world, role):
    page = signed_in(app, role).get(f"/cases/{world.assigned_case}")
    assert page.status_code == 200
    assert "v1" in section(page, "bundles")
    assert 'id="bundle-form"' not in page.data.decode()


def test_build_through_the_page_and_read_the_bundle(app, world):
    legal = signed_in(app, "legal")
    add_contracts(app, world.assigned_case)
    render_all(app, world.assigned_case)

    started = legal.post(
        f"/cases/{world.assigned_case}/bundles",
        data={"profile": "ew_court", "order": "chronological", "label_prefix": "C-"},
    )
    assert started.status_code == 303
    job_id = int(re.fullmatch(r"/jobs/(\d+)", started.headers["Location"]).group(1))
    job_page = legal.get(started.headers["Location"])
    assert job_page.status_code == 200 and "Filing bundle for" in text(job_page)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status.value == "done", job.error
        bundle_id = job.result["bundle"]
    # The finished job's page says what was built and links to it.
    assert f'href="/bundles/{bundle_id}"' in job_page.get_data(as_text=True)
    assert "pages in 1 volume(s)" in text(job_page)

    page = legal.get(f"/bundles/{bundle_id}")
    assert page.status_code == 200
    assert "Filing bundle v2" in text(page)
    facts = section(page, "bundle-facts")
    assert "England & Wales (CE-File)" in facts and "Chronological" in facts
    volumes = section(page, "volumes")
    with app.app_context():
        bundle = db.session.get(Bundle, bundle_id)
        volume = bundle.volumes[0]
        assert volume.pdf_sha256 in volumes
        assert f"{volume.first_page}–{volume.last_page}" in volumes
        labels = [(e.label, e.duplicate_of_label) for e in bundle.exhibits]
    assert (
        "Open PDF" in volumes and f"/bundles/{bundle_id}/volumes/1?download=1" in page.data.decode()
    )
    exhibits = section(page, "exhibits")
    assert [label for label, _ in labels] == ["C-001", "C-002", "C-003"]
    for label, _ in labels:
        assert label in exhibits
    # The second copy of the contract is bound once and says so.
    duplicates = [(label, of) for label, of in labels if of]
    assert duplicates, labels
    assert f"duplicate same as {duplicates[0][1]}" in exhibits
    preflight = section(page, "preflight")
    assert "Volume 1 passed" in preflight and "PDF/A not claimed" in preflight
    # No statement of claim and undated evidence: the bundle's warnings say so.
    assert "There is no final statement of claim" in section(page, "bundle-warnings")
    # The other versions are linked; the placeholder v1 is now superseded.
    versions = section(page, "bundle-versions")
    assert "v1 superseded" in versions and "v2 draft" in versions
    card = section(legal.get(f"/cases/{world.assigned_case}"), "bundles")
    assert "Filing bundles 2" in card

    pdf = legal.get(f"/bundles/{bundle_id}/volumes/1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert pdf.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    saved = legal.get(f"/bundles/{bundle_id}/volumes/1?download=1")
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in saved.headers["Content-Security-Policy"]

    archive = legal.get(f"/bundles/{bundle_id}/zip")
    assert archive.status_code == 200
    assert archive.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(archive.data)) as files:
        manifest = json.loads(files.read("manifest.json"))
        assert any(name.endswith("vol 1.pdf") for name in files.namelist())
    assert [item["label"] for item in manifest["exhibits"]] == ["C-001", "C-002", "C-003"]


def test_a_refused_build_shows_the_reason_on_the_case_page_and_queues_nothing(app, world):
    legal = signed_in(app, "legal")
    jobs = count(app, Job)
    refused = legal.post(f"/cases/{world.assigned_case}/bundles", data={"label_prefix": "C-"})
    assert refused.status_code == 409
    card = section(refused, "bundles")
    assert card.count("no exhibit PDF yet") == 1 and "Cannot build yet" in card

    render_all(app, world.assigned_case)
    too_long = legal.post(
        f"/cases/{world.assigned_case}/bundles",
        data={"profile": "default", "order": "kind", "label_prefix": "EXHIBIT-"},
    )
    assert too_long.status_code == 422
    assert "Field cannot be longer than 6 characters" in section(too_long, "bundle-form")
    unknown = legal.post(
        f"/cases/{world.assigned_case}/bundles",
        data={"profile": "moon_court", "order": "kind", "label_prefix": "C-"},
    )
    assert unknown.status_code == 422 and "Not a valid choice" in section(unknown, "bundle-form")
    assert count(app, Job) == jobs


def test_volume_and_zip_of_a_stored_bundle(app, world):
    reader = signed_in(app, "finance")
    pdf = reader.get(f"/bundles/{world.assigned_bundle}/volumes/1")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF-1.4 placeholder")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert reader.get(f"/bundles/{world.assigned_bundle}/volumes/2").status_code == 404
    archive = reader.get(f"/bundles/{world.assigned_bundle}/zip")
    assert archive.status_code == 200 and archive.data.startswith(b"PK placeholder")
    assert "bundle v1.zip" in archive.headers["Content-Disposition"]


def test_access(app, world):
    other = world.other_bundle
    lawyer = signed_in(app, "lawyer")
    # A lawyer sees the bundles of the case assigned to them, and nothing of other cases.
    assert lawyer.get(f"/bundles/{world.assigned_bundle}").status_code == 200
    for path in (f"/bundles/{other}", f"/bundles/{other}/volumes/1", f"/bundles/{other}/zip"):
        assert lawyer.get(path).status_code == 404, path
    assert lawyer.get("/bundles/999999").status_code == 404
    assert lawyer.post(f"/cases/{world.assigned_case}/bundles").status_code == 403

    finance = signed_in(app, "finance")
    page = finance.get(f"/bundles/{other}")
    assert page.status_code == 200 and "Download zip" in text(page)
    render_all(app, world.assigned_case)
    jobs = count(app, Job)
    assert finance.post(f"/cases/{world.assigned_case}/bundles", data={}).status_code == 403
    assert count(app, Job) == jobs

    anonymous = app.test_client()
    for path in (f"/bundles/{other}", f"/bundles/{other}/volumes/1", f"/bundles/{other}/zip"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = anonymous.post(f"/cases/{world.assigned_case}/bundles")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
