"""Counsel review and signing through ``/api/v1``, end to end: real templates, LibreOffice,
pyHanko and poppler's ``pdfsig`` on a throw-away certificate authority."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.cases.models import CaseEvent
from portal.extensions import db
from portal.review.models import Notification

from ..documents.test_documents_api import auth, complete_the_lawyer
from ..factories import PASSWORD, World
from .flow import PASSPHRASE


def pdfsig(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    # pdfsig exits 0 even when a signature is invalid: the text is what counts.
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return out.stdout + out.stderr


def test_generate_review_sign_verify_and_dispatch(app, client, world, pki, tmp_path):
    legal, lawyer, other = auth(app, "legal"), auth(app, "lawyer"), auth(app, "other_lawyer")
    finance = auth(app, "finance")
    complete_the_lawyer(app)

    # The lawyer registers the certificate; the passphrase is checked and not kept.
    registered = client.post(
        "/api/v1/users/me/certificate",
        data={"passphrase": PASSPHRASE, "file": (io.BytesIO(pki["p12"]), "c.p12")},
        headers=lawyer,
    )
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["subject_name"] == "Lawyer Test"

    url = f"/api/v1/cases/{world.assigned_case}/documents"
    first = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=legal)
    assert first.status_code == 201, first.get_json()
    first_id = first.get_json()["id"]

    submitted = client.post(f"/api/v1/documents/{first_id}/submit", json={}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "in_review"
    queue = client.get("/api/v1/review/queue", headers=lawyer).get_json()["items"]
    assert [item["id"] for item in queue] == [first_id]

    # Finance may read the case but never reviews; another lawyer cannot even see it.
    review_url = f"/api/v1/documents/{first_id}/review"
    changes = {"decision": "request_changes", "comment": "Add the contract date.", "password": ""}
    assert client.post(review_url, json=changes, headers=finance).status_code == 403
    assert client.post(review_url, json=changes, headers=other).status_code == 404
    assert client.post(review_url, json=changes, headers=legal).status_code == 403
    no_comment = client.post(review_url, json={**changes, "comment": " "}, headers=lawyer)
    assert no_comment.status_code == 422

    asked = client.post(review_url, json=changes, headers=lawyer)
    assert asked.status_code == 200, asked.get_json()
    assert asked.get_json()["status"] == "changes_requested"

    second = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=legal)
    second_id = second.get_json()["id"]
    old = client.get(f"/api/v1/documents/{first_id}", headers=legal).get_json()
    assert old["status"] == "superseded"
    assert client.post(review_url, json=changes, headers=lawyer).status_code == 409
    client.post(f"/api/v1/documents/{second_id}/submit", json={}, headers=legal)

    review_url = f"/api/v1/documents/{second_id}/review"
    approve = {"decision": "approve", "comment": "Fine.", "p12_passphrase": PASSPHRASE}
    wrong = client.post(review_url, json={**approve, "password": "not-it"}, headers=lawyer)
    assert wrong.status_code == 422
    assert "password" in wrong.get_json()["error"]["fields"]
    bad_passphrase = client.post(
        review_url, json={**approve, "password": PASSWORD, "p12_passphrase": "nope"}, headers=lawyer
    )
    assert bad_passphrase.status_code == 422
    assert "p12_passphrase" in bad_passphrase.get_json()["error"]["fields"]
    state = client.get(f"/api/v1/documents/{second_id}", headers=legal).get_json()
    assert state["status"] == "in_review" and state["approval"] is None

    signed = client.post(review_url, json={**approve, "password": PASSWORD}, headers=lawyer)
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["status"] == "signed"
    approval = body["approval"]
    assert approval["lawyer"] == World.EMAILS["lawyer"]
    assert approval["reviewed_sha256"] == body["sha256_pdf"]
    assert approval["signed_sha256"] != body["sha256_pdf"]
    assert "have reviewed demand letter version 2" in approval["statement"]

    pdf = client.get(f"/api/v1/documents/{second_id}/pdf", headers=legal)
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.data).hexdigest() == approval["signed_sha256"]
    report = pdfsig(pdf.data, tmp_path)
    assert "Signature is Valid." in report, report
    assert "Total document signed" in report, report
    assert "Lawyer Test" in report

    verified = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf.data), "letter.pdf")},
        headers=finance,
    ).get_json()
    assert verified["known"] is True and verified["document"] == second_id
    (signature,) = verified["signatures"]
    assert signature["signer"] == "Lawyer Test"
    assert signature["intact"] and signature["trusted"] and signature["covers_whole_file"]
    # No time-stamping authority is configured here: the signature says it is B-B only.
    assert signature["level"] == "B-B" and signature["timestamped"] is False
    # Nothing embedded, and the test certificate names no CRL or OCSP responder to ask.
    assert signature["validation_data"] is False and signature["revocation"] == "unknown"
    assert signature["revocation_source"] is None and "timestamp_at" not in signature

    # The other lawyer gets 404 on every route of the document.
    for method, path in [
        ("get", f"/api/v1/documents/{second_id}"),
        ("get", f"/api/v1/documents/{second_id}/pdf"),
        ("get", f"/api/v1/documents/{second_id}/docx"),
        ("get", f"/api/v1/documents/{second_id}/comments"),
        ("post", f"/api/v1/documents/{second_id}/submit"),
        ("post", f"/api/v1/documents/{second_id}/review"),
    ]:
        response = getattr(client, method)(path, json=approve, headers=other)
        assert response.status_code == 404, (method, path, response.status_code)

    comments = client.get(f"/api/v1/documents/{second_id}/comments", headers=legal).get_json()
    assert [(c["version"], c["action"]) for c in comments["items"]] == [
        (1, "submitted"),
        (1, "changes_requested"),
        (2, "submitted"),
        (2, "approved"),
    ]

    # Not before the letter was dated and signed (today): a back-dated dispatch is refused.
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    backdated = client.post(
        f"/api/v1/documents/{second_id}/dispatch",
        json={"date": yesterday, "courier": "Royal Mail", "tracking": "RM123456785GB"},
        headers=legal,
    )
    assert backdated.status_code == 422, backdated.get_json()
    assert "cannot have been sent before" in backdated.get_json()["error"]["message"]
    dispatch = client.post(
        f"/api/v1/documents/{second_id}/dispatch",
        json={"date": dt.date.today().isoformat(), "courier": "Royal Mail",
              "tracking": "RM123456785GB"},
        headers=legal,
    )  # fmt: skip
    assert dispatch.status_code == 201, dispatch.get_json()
    with app.app_context():
        event = db.session.get(CaseEvent, dispatch.get_json()["id"])
        assert event.type.value == "dispatch"
        assert event.details["document"] == "demand_letter"
        assert event.details["document_id"] == second_id
        inbox = db.session.scalars(
            select(Notification.message).where(Notification.user_id == world.lawyer)
        ).all()
        assert len(inbox) == 2 and all("awaits your review" in line for line in inbox)
        actions = set(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_type == "document")
            )
        )
        assert {
            "document.submit",
            "document.request_changes",
            "document.approve",
            "document.sign",
        } <= actions


def test_evidence_feeding_a_signed_letter_is_frozen_until_a_new_version(app, client, world, pki):
    legal, lawyer = auth(app, "legal"), auth(app, "lawyer")
    complete_the_lawyer(app)
    client.post(
        "/api/v1/users/me/certificate",
        data={"passphrase": PASSPHRASE, "file": (io.BytesIO(pki["p12"]), "c.p12")},
        headers=lawyer,
    )
    evidence = f"/api/v1/evidence/{world.assigned_evidence}"
    assert client.patch(evidence, json={"description": "before"}, headers=legal).status_code == 200
    url = f"/api/v1/cases/{world.assigned_case}/documents"
    letter = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=legal)
    letter_id = letter.get_json()["id"]
    client.post(f"/api/v1/documents/{letter_id}/submit", json={}, headers=legal)
    signed = client.post(
        f"/api/v1/documents/{letter_id}/review",
        json={"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        headers=lawyer,
    )
    assert signed.get_json()["status"] == "signed"

    edit = client.patch(evidence, json={"description": "after"}, headers=legal)
    assert edit.status_code == 409
    assert "new version" in edit.get_json()["error"]["message"]
    assert client.delete(evidence, headers=legal).status_code == 409
    assert client.get(evidence, headers=legal).get_json()["description"] == "before"

    # A new version of the letter supersedes the signed one and frees the evidence.
    assert client.post(url, json={"kind": "demand_letter", "mode": "draft"}, headers=legal)
    assert client.patch(evidence, json={"description": "after"}, headers=legal).status_code == 200
    assert client.delete(evidence, headers=legal).status_code == 204
    assert client.get(evidence, headers=legal).status_code == 404
