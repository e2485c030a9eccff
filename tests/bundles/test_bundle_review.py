"""A filing bundle over the court's page limit, reviewed and signed by counsel through
``/api/v1``: volumes with continuous numbering, every volume signed (checked with poppler's
``pdfsig``), the signed zip, verification, and evidence frozen until a new bundle version."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from portal.evidence.jobs import render_evidence

from ..documents.test_documents_api import auth
from ..factories import PASSWORD
from ..review.flow import (
    PASSPHRASE,
    ades_verify,
    approve,
    counsel_p12,
    register,
    trusted_ca,
    trusted_pki,
)
from ..review.tsa import LocalRevocation, assert_pdfsig_b_lta, local_tsa
from .test_bundles_api import page_text, ready_case, run

#: Pages of each long exhibit: two of them overflow ``ew_court``'s 350 pages per volume.
LONG = 180


def long_pdf(title: str, pages: int) -> bytes:
    """A text PDF of ``pages`` pages, like a scanned ledger's rendition."""
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=A4)
    for number in range(1, pages + 1):
        sheet.setFont("Helvetica", 12)
        sheet.drawString(72, 760, f"{title}: sheet {number} of {pages}")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def upload_pdf(client, app, case_id: int, name: str, data: bytes, kind: str, date: str) -> int:
    response = client.post(
        f"/api/v1/cases/{case_id}/evidence",
        data={
            "file": (io.BytesIO(data), name),
            "kind": kind,
            "document_date": date,
            "source": "Our files",
            "proves": f"What the {kind.replace('_', ' ')} says.",
        },
        headers=auth(app, "legal"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def pdfsig(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def build(client, app, case_id: int, profile: str) -> dict:
    legal = auth(app, "legal")
    started = client.post(
        f"/api/v1/cases/{case_id}/bundles", json={"profile": profile}, headers=legal
    )
    assert started.status_code == 202, started.get_json()
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    assert job["status"] == "done", job
    return client.get(f"/api/v1/bundles/{job['result']['bundle']}", headers=legal).get_json()


def test_a_bundle_in_volumes_is_reviewed_signed_per_volume_and_freezes_its_evidence(
    app, client, world, tmp_path
):
    legal, lawyer = auth(app, "legal"), auth(app, "lawyer")
    case = ready_case(app, client, world)
    ledger = upload_pdf(
        client, app, case, "ledger.pdf", long_pdf("Ledger", LONG), "invoice", "2025-01-31"
    )
    upload_pdf(
        client, app, case, "deliveries.pdf", long_pdf("Deliveries", LONG), "delivery_note",
        "2025-02-15",
    )  # fmt: skip

    # Over the England & Wales limit of 350 pages a volume: two volumes, numbered on.
    bundle = build(client, app, case, "ew_court")
    bundle_id, volumes = bundle["id"], bundle["volumes"]
    assert len(volumes) == 2, volumes
    assert bundle["final"] is True and bundle["warnings"] == []
    assert all(volume["pages"] <= 350 for volume in volumes)
    assert volumes[0]["first_page"] == 1
    assert volumes[1]["first_page"] == volumes[0]["last_page"] + 1
    assert volumes[1]["last_page"] == bundle["pages"]
    second = client.get(f"/api/v1/bundles/{bundle_id}/pdf?volume=2", headers=legal).data
    pages_2 = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", "-", data=second)).group(1))
    assert pages_2 == volumes[1]["pages"]
    # Volume 2 opens with its own cover and index, then goes on counting from volume 1.
    assert str(volumes[1]["first_page"]) in page_text(second, 1)
    last_text = page_text(second, pages_2)
    assert re.search(rf"(?<!\d){volumes[1]['last_page']}(?!\d)", last_text), last_text

    # Submitting: finance may not, another lawyer does not see it, legal sends it.
    submit_url = f"/api/v1/bundles/{bundle_id}/submit"
    review_url = f"/api/v1/bundles/{bundle_id}/review"
    assert client.post(submit_url, json={}, headers=auth(app, "finance")).status_code == 403
    assert client.post(submit_url, json={}, headers=auth(app, "other_lawyer")).status_code == 404
    submitted = client.post(submit_url, json={"comment": "Ready to file."}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "in_review"
    twice = client.post(submit_url, json={}, headers=legal)
    assert twice.status_code == 409
    assert twice.get_json()["error"]["message"] == (
        "The filing bundle is in review; it cannot be submitted now."
    )
    queue = client.get("/api/v1/review/queue", headers=lawyer).get_json()["items"]
    assert {"type": "bundle", "id": bundle_id, "kind": "filing_bundle"}.items() <= queue[0].items()

    # Counsel sends it back (a comment is needed), legal resubmits, counsel signs.
    no_comment = client.post(review_url, json={"decision": "request_changes"}, headers=lawyer)
    assert no_comment.status_code == 422
    back = client.post(
        review_url, json={"decision": "request_changes", "comment": "Index title."}, headers=lawyer
    )
    assert back.get_json()["status"] == "changes_requested"
    assert client.post(submit_url, json={}, headers=legal).get_json()["status"] == "in_review"
    pki = trusted_pki(app)
    assert register(client, app, pki["p12"]).status_code == 201
    wrong = client.post(
        review_url,
        json={"decision": "approve", "password": "not it", "p12_passphrase": PASSPHRASE},
        headers=lawyer,
    )
    assert wrong.status_code == 422
    assert client.get(f"/api/v1/bundles/{bundle_id}", headers=legal).get_json()["status"] == (
        "in_review"
    )
    signed = client.post(
        review_url,
        json={"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        headers=lawyer,
    )
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["status"] == "signed"
    approval = body["approval"]
    assert approval["reviewed_sha256"] == bundle["sha256_zip"]
    assert approval["signed_sha256"] == body["sha256_signed_zip"]
    assert "each volume" in approval["statement"]
    comments = client.get(f"/api/v1/bundles/{bundle_id}/comments", headers=legal).get_json()
    assert [c["action"] for c in comments["items"]] == [
        "submitted", "changes_requested", "submitted", "approved",
    ]  # fmt: skip

    # Every volume is signed over the whole file; the downloads are the signed volumes.
    for volume in body["volumes"]:
        pdf = client.get(
            f"/api/v1/bundles/{bundle_id}/pdf?volume={volume['number']}", headers=legal
        )
        assert pdf.status_code == 200
        assert hashlib.sha256(pdf.data).hexdigest() == volume["sha256_signed"]
        report = pdfsig(pdf.data, tmp_path, f"vol{volume['number']}.pdf")
        assert "Signature is Valid." in report, report
        assert "Total document signed" in report, report
    archive = client.get(f"/api/v1/bundles/{bundle_id}/zip", headers=legal)
    with zipfile.ZipFile(io.BytesIO(archive.data)) as files:
        manifest = json.loads(files.read("manifest.json"))
        inside = {
            name: hashlib.sha256(files.read(name)).hexdigest()
            for name in files.namelist()
            if name.endswith(".pdf") and not name.startswith("originals/")
        }
    assert sorted(inside.values()) == sorted(v["sha256_signed"] for v in body["volumes"])
    assert [v["sha256_signed"] for v in manifest["signature"]["volumes"]] == [
        v["sha256_signed"] for v in body["volumes"]
    ]
    verified = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf.data), "volume.pdf")},
        headers=legal,
    ).get_json()
    assert verified["valid"] and verified["bundle"] == bundle_id
    assert verified["volume"] == body["volumes"][-1]["number"]

    # The exhibits of a signed bundle cannot be edited or removed ...
    patch = client.patch(f"/api/v1/evidence/{ledger}", json={"description": "x"}, headers=legal)
    assert patch.status_code == 409
    assert "filing bundle v" in patch.get_json()["error"]["message"]
    assert client.delete(f"/api/v1/evidence/{ledger}", headers=legal).status_code == 409
    # ... until a new bundle version is built (it supersedes the signed one).
    newer = build(client, app, case, "ew_court")
    assert newer["version"] == bundle["version"] + 1 and newer["status"] == "draft"
    old = client.get(f"/api/v1/bundles/{bundle_id}", headers=legal).get_json()
    assert old["status"] == "superseded" and old["approval"] is not None
    patch = client.patch(f"/api/v1/evidence/{ledger}", json={"description": "y"}, headers=legal)
    assert patch.status_code == 200, patch.get_json()


def test_a_bundle_without_a_statement_of_claim_is_not_submitted(app, client, world):
    legal = auth(app, "legal")
    with app.app_context():
        render_evidence(world.assigned_evidence)
    bundle = build(client, app, world.assigned_case, "default")
    refused = client.post(f"/api/v1/bundles/{bundle['id']}/submit", json={}, headers=legal)
    assert refused.status_code == 409
    assert "statement of claim" in refused.get_json()["error"]["message"]
    again = client.get(f"/api/v1/bundles/{bundle['id']}", headers=legal).get_json()
    assert again["status"] == "draft"


def test_a_bundle_built_while_a_prosecution_blocker_stands_is_a_draft(app, client, world):
    legal = auth(app, "legal")
    case = ready_case(app, client, world)
    # Evidence added after the claim, not described: R8 blocks prosecution again.
    late = client.post(
        f"/api/v1/cases/{case}/evidence",
        data={"file": (io.BytesIO(long_pdf("Late", 1)), "late.pdf"), "kind": "correspondence"},
        headers=legal,
    )
    assert late.status_code == 201, late.get_json()
    with app.app_context():
        render_evidence(late.get_json()["id"])
    bundle = build(client, app, case, "default")
    # The evidence list inside is a draft, and the bundle says why.
    assert bundle["final"] is False
    assert any(
        "cannot be made final while the case is not ready for prosecution" in warning
        and "R8" in warning
        for warning in bundle["warnings"]
    ), bundle["warnings"]
    refused = client.post(f"/api/v1/bundles/{bundle['id']}/submit", json={}, headers=legal)
    assert refused.status_code == 409
    assert "draft" in refused.get_json()["error"]["message"]


def test_with_a_time_stamping_authority_a_signed_volume_is_b_lta_for_pyhankos_validator(
    app, client, world, tmp_path
):
    """The volume of a filing bundle is signed like a letter: against a TSA on 127.0.0.1 it is
    PAdES B-LTA, pyHanko's own validator (AdES, given only the root) judges it valid, and
    poppler's pdfsig finds it valid, trusted and wholly signed by the document time stamp."""
    legal = auth(app, "legal")
    case = ready_case(app, client, world)
    bundle = build(client, app, case, "ew_court")
    submitted = client.post(f"/api/v1/bundles/{bundle['id']}/submit", json={}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()
    ca_pem, ca_key = trusted_ca(app)
    # Long-term validation needs revocation status: the certificates name the CA's CRL and
    # OCSP responder.
    with (
        LocalRevocation(ca_pem, ca_key) as service,
        local_tsa(ca_pem, ca_key, service) as url,
    ):
        p12 = counsel_p12(ca_pem, ca_key, **service.pointers())
        assert register(client, app, p12).status_code == 201
        app.config["TSA_URL"] = url
        signed = approve(client, app, f"/api/v1/bundles/{bundle['id']}/review")
        assert signed.status_code == 200, signed.get_json()
        volume = client.get(f"/api/v1/bundles/{bundle['id']}/pdf?volume=1", headers=legal).data
        # pdfsig asks the OCSP responder the certificate names (NSS checks online).
        assert_pdfsig_b_lta(volume, ca_pem, tmp_path, "Lawyer Test")
    # The CA's service is gone: the portal and pyHanko judge from the file's own data.
    verified = client.post(
        "/api/v1/verify", data={"file": (io.BytesIO(volume), "volume.pdf")}, headers=legal
    ).get_json()
    assert verified["valid"] and verified["signatures"][0]["level"] == "B-LTA"
    checked = ades_verify(volume, ca_pem, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Its summary line: intact and trusted, a trusted time stamp, only long-term updates after.
    assert ":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES," in (
        checked.stdout
    )
