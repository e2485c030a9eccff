"""Shared steps of the review tests: a trusted throw-away CA, a submitted or signed demand
letter, and pyHanko's own validator."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from portal.audit.services import Actor
from portal.extensions import db
from portal.review.certificates import add_trusted_root
from portal.signing.demo_pki import make_ca, make_signer_p12

from ..documents.test_documents_api import auth, complete_the_lawyer
from ..factories import PASSWORD, World

PASSPHRASE = "counsel-p12-pass"


def trusted_ca(app, name: str = "Test Counsel CA", **options) -> tuple[bytes, bytes]:
    """A throw-away CA the portal trusts; ``(cert_pem, key_pem)``."""
    ca_pem, ca_key = make_ca(name, **options)
    with app.app_context():
        add_trusted_root(Actor.cli(), ca_pem)
        db.session.commit()
    return ca_pem, ca_key


def counsel_p12(ca_pem: bytes, ca_key: bytes, **options) -> bytes:
    """A PKCS#12 for the test lawyer issued by the CA (``options`` go to make_signer_p12)."""
    defaults = {
        "common_name": "Lawyer Test",
        "email": World.EMAILS["lawyer"],
        "organization": "Test Chambers LLP",
        "passphrase": PASSPHRASE,
    }
    return make_signer_p12(ca_pem, ca_key, **{**defaults, **options})


def trusted_pki(app) -> dict[str, bytes]:
    """A CA the portal trusts and a PKCS#12 for the test lawyer issued by it."""
    ca_pem, ca_key = trusted_ca(app)
    return {"ca": ca_pem, "p12": counsel_p12(ca_pem, ca_key)}


def register(client, app, p12: bytes):
    """The test lawyer registers the certificate through the API."""
    return client.post(
        "/api/v1/users/me/certificate",
        data={"passphrase": PASSPHRASE, "file": (io.BytesIO(p12), "counsel.p12")},
        headers=auth(app, "lawyer"),
    )


def submitted_letter(app, client, world) -> int:
    """A final demand letter on the assigned case, submitted to its lawyer; its id."""
    legal = auth(app, "legal")
    complete_the_lawyer(app)
    made = client.post(
        f"/api/v1/cases/{world.assigned_case}/documents",
        json={"kind": "demand_letter", "mode": "final"},
        headers=legal,
    )
    document_id = made.get_json()["id"]
    submitted = client.post(f"/api/v1/documents/{document_id}/submit", json={}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()
    return document_id


def approve(client, app, url: str, password: str = PASSWORD, passphrase: str = PASSPHRASE):
    """The test lawyer approves (and signs) the version at ``url`` (``…/review``)."""
    return client.post(
        url,
        json={"decision": "approve", "password": password, "p12_passphrase": passphrase},
        headers=auth(app, "lawyer"),
    )


def signed_letter(app, client, world, p12: bytes) -> tuple[int, bytes]:
    """Generate, submit and sign a demand letter on the assigned case; (id, signed PDF)."""
    legal = auth(app, "legal")  # a token made now, not after the signature (it is audited)
    assert register(client, app, p12).status_code == 201
    document_id = submitted_letter(app, client, world)
    signed = approve(client, app, f"/api/v1/documents/{document_id}/review")
    assert signed.get_json()["status"] == "signed", signed.get_json()
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=legal)
    assert pdf.status_code == 200
    return document_id, pdf.data


def ades_verify(pdf: bytes, root_pem: bytes, folder: Path, *pretty: str):
    """pyHanko's own validator, AdES-style, given only ``root_pem``: the finished process."""
    (folder / "signed.pdf").write_bytes(pdf)
    (folder / "root.pem").write_bytes(root_pem)
    return subprocess.run(
        [str(Path(sys.executable).with_name("pyhanko")), "sign", "adesverify", *pretty,
         "--trust", str(folder / "root.pem"), "--trust-replace", str(folder / "signed.pdf")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
