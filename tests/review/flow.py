"""Shared steps of the review tests: a trusted throw-away CA and a signed demand letter."""

from __future__ import annotations

import io

from portal.audit.services import Actor
from portal.extensions import db
from portal.review.certificates import add_trusted_root
from portal.signing.pki import make_ca, make_signer_p12

from ..documents.test_documents_api import auth, complete_the_lawyer
from ..factories import PASSWORD, World

PASSPHRASE = "counsel-p12-pass"


def trusted_pki(app) -> dict[str, bytes]:
    """A CA the portal trusts and a PKCS#12 for the test lawyer issued by it."""
    ca_pem, ca_key = make_ca("Test Counsel CA")
    p12 = make_signer_p12(
        ca_pem,
        ca_key,
        common_name="Lawyer Test",
        email=World.EMAILS["lawyer"],
        organization="Test Chambers LLP",
        passphrase=PASSPHRASE,
    )
    with app.app_context():
        add_trusted_root(Actor.cli(), ca_pem)
        db.session.commit()
    return {"ca": ca_pem, "p12": p12}


def register(client, app, p12: bytes):
    """The test lawyer registers the certificate through the API."""
    return client.post(
        "/api/v1/users/me/certificate",
        data={"passphrase": PASSPHRASE, "file": (io.BytesIO(p12), "counsel.p12")},
        headers=auth(app, "lawyer"),
    )


def signed_letter(app, client, world, p12: bytes) -> tuple[int, bytes]:
    """Generate, submit and sign a demand letter on the assigned case; (id, signed PDF)."""
    legal, lawyer = auth(app, "legal"), auth(app, "lawyer")
    complete_the_lawyer(app)
    assert register(client, app, p12).status_code == 201
    made = client.post(
        f"/api/v1/cases/{world.assigned_case}/documents",
        json={"kind": "demand_letter", "mode": "final"},
        headers=legal,
    )
    document_id = made.get_json()["id"]
    submitted = client.post(f"/api/v1/documents/{document_id}/submit", json={}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()
    signed = client.post(
        f"/api/v1/documents/{document_id}/review",
        json={"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        headers=lawyer,
    )
    assert signed.get_json()["status"] == "signed", signed.get_json()
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=legal)
    assert pdf.status_code == 200
    return document_id, pdf.data
