"""Building a case's filing bundle through ``/api/v1``: real renditions, the real evidence-list
template through LibreOffice, and the result checked with independent tools."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pypdf
from sqlalchemy import func, select

from portal.cases.models import Case
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence
from portal.extensions import db

from ..documents.test_documents_api import auth, complete_the_lawyer
from ..factories import ready_for_prosecution

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "good"
COURT = "County Court at Central London"


def run(*command: str, data: bytes | None = None) -> str:
    out = subprocess.run(command, input=data, capture_output=True, check=True)
    return out.stdout.decode()


def page_text(pdf: bytes, page: int) -> str:
    return run("pdftotext", "-f", str(page), "-l", str(page), "-layout", "-", "-", data=pdf)


def upload(client, app, case_id: int, name: str, kind: str, date: str) -> int:
    response = client.post(
        f"/api/v1/cases/{case_id}/evidence",
        data={
            "file": (io.BytesIO((RESOURCES / name).read_bytes()), name),
            "kind": kind,
            "document_date": date,
            # Described for the evidence list (R8 blocks a final claim otherwise).
            "source": "Our files",
            "proves": f"What the {kind.replace('_', ' ')} says.",
        },
        headers=auth(app, "legal"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def file_claim(app, client, case_id: int) -> None:
    """A final statement of claim on the case (the lawyer's firm address filled in first)."""
    complete_the_lawyer(app)
    claim = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "statement_of_claim", "mode": "final", "fields": {"court.name": COURT}},
        headers=auth(app, "legal"),
    )
    assert claim.status_code == 201, claim.get_json()


def prosecution_ready(app, case_id: int) -> None:
    """Clear the case's prosecution blockers (delivery notes, described evidence, a demand
    letter delivered 60 days ago): a final claim and bundle are refused before that."""
    with app.app_context():
        ready_for_prosecution(db.session.get(Case, case_id))
        db.session.commit()


def render_all(app, case_id: int) -> None:
    """Make every evidence item's exhibit PDF (the worker's job)."""
    with app.app_context():
        for evidence_id in db.session.scalars(
            select(Evidence.id).where(Evidence.case_id == case_id)
        ):
            render_evidence(evidence_id)


def ready_case(app, client, world) -> int:
    """The assigned case ready for prosecution, with exhibit PDFs, dated evidence and a final
    statement of claim."""
    case = world.assigned_case
    prosecution_ready(app, case)
    render_all(app, case)
    dated = client.patch(
        f"/api/v1/evidence/{world.assigned_evidence}",
        json={"document_date": "2025-03-01"},
        headers=auth(app, "legal"),
    )
    assert dated.status_code == 200, dated.get_json()
    file_claim(app, client, case)
    return case


def test_build_a_bundle_and_check_it_with_independent_tools(app, client, world, tmp_path):
    legal = auth(app, "legal")
    case = world.assigned_case
    url = f"/api/v1/cases/{case}/bundles"

    # Delivery notes, described evidence and a delivered demand letter (4 items with the note).
    prosecution_ready(app, case)
    # The evidence has no exhibit PDF yet: nothing is queued.
    refused = client.post(url, json={}, headers=legal)
    assert refused.status_code == 409
    assert "no exhibit PDF yet" in refused.get_json()["error"]["message"]
    render_all(app, case)

    # Every exhibit needs a date for the evidence list to be final.
    dated = client.patch(
        f"/api/v1/evidence/{world.assigned_evidence}",
        json={"document_date": "2025-03-01"},
        headers=legal,
    )
    assert dated.status_code == 200, dated.get_json()
    upload(client, app, case, "two-pages.pdf", "contract", "2025-01-10")
    upload(client, app, case, "scan.png", "delivery_note", "2025-02-01")
    file_claim(app, client, case)

    assert client.post(url, json={"profile": "nope"}, headers=legal).status_code == 422
    assert client.post(url, json={}, headers=auth(app, "finance")).status_code == 403
    assert client.post(url, json={}, headers=auth(app, "other_lawyer")).status_code == 404

    started = client.post(url, json={"profile": "ew_court"}, headers=legal)
    assert started.status_code == 202, started.get_json()
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    assert job["status"] == "done", job
    bundle_id = job["result"]["bundle"]

    bundle = client.get(f"/api/v1/bundles/{bundle_id}", headers=legal).get_json()
    # The world holds a placeholder version 1 (for the access tests).
    assert bundle["version"] == 2 and bundle["status"] == "draft"
    assert [v["number"] for v in bundle["volumes"]] == [1]
    assert bundle["warnings"] == []
    exhibits = bundle["exhibits"]
    # The note, two delivery notes, the proof of delivery, the contract and the scan.
    assert [e["label"] for e in exhibits] == [f"C-{n:03d}" for n in range(1, 7)]
    pdf = client.get(f"/api/v1/bundles/{bundle_id}/pdf?volume=1", headers=legal)
    assert pdf.status_code == 200
    data = pdf.data
    path = tmp_path / "bundle.pdf"
    path.write_bytes(data)

    # qpdf finds nothing wrong; pdfinfo counts the pages the API reports.
    subprocess.run(["qpdf", "--check", str(path)], capture_output=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(path))).group(1))
    assert pages == bundle["pages"] == bundle["volumes"][0]["pages"]
    # Every page carries its own number; each exhibit's pages carry its label.
    for number in range(1, pages + 1):
        assert re.search(rf"(?<!\d){number}(?!\d)", page_text(data, number)), number
    for exhibit in exhibits:
        for number in range(exhibit["first_page"], exhibit["last_page"] + 1):
            assert exhibit["label"] in page_text(data, number)
    # The cover names the court the claim was issued in; fonts are embedded.
    assert COURT in page_text(data, 1)
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts

    # Read back with pypdf: each exhibit's bookmark and its index link land on its first page.
    reader = pypdf.PdfReader(io.BytesIO(data))
    firsts = {e["label"]: e["first_page"] - 1 for e in exhibits if not e["duplicate_of"]}
    bookmarks = {}
    pending = list(reader.outline)
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        else:
            bookmarks[item.title] = reader.get_destination_page_number(item)
    for label, first in firsts.items():
        title = next(name for name in bookmarks if name.startswith(f"{label} "))
        assert bookmarks[title] == first, (title, bookmarks[title], first)
    index_links = {}
    for number, page in enumerate(reader.pages[:3]):
        for annotation in page.get("/Annots", []):
            link = annotation.get_object()
            if "/Dest" in link:
                target = reader.get_page_number(link["/Dest"][0].get_object())
                index_links.setdefault(number, set()).add(target)
    linked = set().union(*index_links.values())
    assert set(firsts.values()) <= linked, (firsts, index_links)

    # The evidence list inside the bundle shows each exhibit's final range.
    text = run("pdftotext", "-layout", str(path), "-")
    assert "DRAFT" not in text  # the claim and the evidence list are final
    # The list inside carries the bundle's reference: no letter number is drawn for it, so the
    # next letter never prints the same number.
    assert re.search(r"Reference AC-\d{4}-\d{4}/bundle/v2\b", text), text[:2000]
    for exhibit in exhibits:
        first, last = exhibit["first_page"], exhibit["last_page"]
        shown = str(first) if first == last else f"{first}–{last}"
        assert re.search(rf"{exhibit['label']}.*{shown}", text), (exhibit, shown)

    archive = client.get(f"/api/v1/bundles/{bundle_id}/zip", headers=legal)
    with zipfile.ZipFile(io.BytesIO(archive.data)) as files:
        names = files.namelist()
        manifest = json.loads(files.read("manifest.json"))
    assert any(name.endswith("vol 1.pdf") for name in names)
    assert sum(name.startswith("originals/") for name in names) == 6
    labels = [item["label"] for item in manifest["exhibits"]]
    assert labels == [e["label"] for e in exhibits]

    # Other lawyers see nothing of it; a second build is version 2 and supersedes the first.
    other = auth(app, "other_lawyer")
    for path_ in ("", "/pdf", "/zip"):
        assert client.get(f"/api/v1/bundles/{bundle_id}{path_}", headers=other).status_code == 404
    again = client.post(url, json={"profile": "default", "order": "chronological"}, headers=legal)
    second = client.get(f"/api/v1/jobs/{again.get_json()['job']}", headers=legal).get_json()
    assert second["result"]["version"] == 3
    listed = client.get(url, headers=legal).get_json()["items"]
    assert [(b["version"], b["status"]) for b in listed] == [
        (3, "draft"),
        (2, "superseded"),
        (1, "superseded"),
    ]


def test_a_failed_build_is_reported_on_the_job_and_keeps_nothing(app, client, world, monkeypatch):
    from portal.bundles import services
    from portal.bundles.layout import BundleFailed
    from portal.bundles.models import Bundle

    legal = auth(app, "legal")
    with app.app_context():
        render_evidence(world.assigned_evidence)
        before = db.session.scalar(select(func.count()).select_from(Bundle))

    def broken(*_args, **_kwargs):
        raise BundleFailed("“note.txt” has no pages.")

    monkeypatch.setattr(services, "build_bundle", broken)
    started = client.post(f"/api/v1/cases/{world.assigned_case}/bundles", json={}, headers=legal)
    assert started.status_code == 202
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    assert job["status"] == "failed" and job["error"] == "“note.txt” has no pages."
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bundle)) == before
