"""Only a certificate that chains to a trusted root registers, and only one that still does signs.

Measured before: a PKCS#12 from a CA the portal does not trust (with another lawyer's name in it)
registered and signed. Now registration answers 422 naming the reason, and approval checks the
chain again (trust can change) and answers 409 before anything is approved or written.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from sqlalchemy import func, select
from werkzeug.test import Client

from portal.audit.models import AuditEntry
from portal.audit.services import Actor
from portal.extensions import db
from portal.review import services as review_services
from portal.review.certificates import remove_trusted_root, trusted_roots
from portal.review.models import Approval, SigningCertificate
from portal.signing.demo_pki import DemoRevocation, make_ca, make_tsa_certificate
from portal.signing.pki import open_pkcs12
from portal.signing.tsa import authority

from ..conftest import login
from ..documents.test_documents_api import auth
from ..factories import PASSWORD, World
from ..ui.conftest import text
from .flow import (
    PASSPHRASE,
    ades_verify,
    approve,
    counsel_p12,
    register,
    signed_letter,
    submitted_letter,
    trusted_ca,
    trusted_pki,
)
from .tsa import LocalRevocation, assert_pdfsig_b_lta, local_tsa


def in_review(app, client, world) -> int:
    """A final demand letter submitted to the lawyer, whose trusted certificate is registered."""
    assert register(client, app, trusted_pki(app)["p12"]).status_code == 201
    return submitted_letter(app, client, world)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_certificate_from_an_untrusted_ca_is_refused_naming_its_issuer(app, client, world):
    trusted_pki(app)  # the portal trusts one CA, but not the one below
    p12 = counsel_p12(
        *make_ca("Mallory's Own CA"), common_name="Other Lawyer", email=World.EMAILS["other_lawyer"]
    )
    refused = register(client, app, p12)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "certificate_untrusted"
    assert "issued by CN=Mallory's Own CA" in error["message"]
    assert "does not lead to a certificate authority the portal trusts" in error["message"]
    assert count(app, SigningCertificate) == 0


def test_an_expired_certificate_is_refused(app, client, world):
    # A trusted CA that issued a certificate valid for one day, two years ago.
    ca = trusted_ca(app, "Test Counsel CA (old)", now=datetime.now(UTC) - timedelta(days=800))
    old = counsel_p12(*ca, now=datetime.now(UTC) - timedelta(days=730), days=1)
    refused = register(client, app, old)
    assert refused.status_code == 422
    assert "The certificate expired on" in refused.get_json()["error"]["message"]
    assert count(app, SigningCertificate) == 0


def test_approval_after_the_root_is_withdrawn_is_409_and_nothing_is_signed(app, client, world):
    document_id = in_review(app, client, world)
    legal = auth(app, "legal")

    # The admin stops trusting the CA after the certificate was registered.
    with app.app_context():
        for root in trusted_roots():
            remove_trusted_root(Actor.cli(), root)
        db.session.commit()
        audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    refused = approve(client, app, f"/api/v1/documents/{document_id}/review")
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert message.startswith("Nothing was signed: No certificate authority is trusted yet")
    document = client.get(f"/api/v1/documents/{document_id}", headers=legal).get_json()
    assert document["status"] == "in_review" and document["approval"] is None
    assert count(app, Approval) == 0
    with app.app_context():
        # No approval, transition or signature was recorded (a failed re-authentication or
        # refusal may add its own entry, never an approval).
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > audits)).all()
        assert not [action for action in actions if "approve" in action or "sign" in action]
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=legal)
    assert pdf.status_code == 200 and b"/ByteRange" not in pdf.data


def test_wrong_passwords_and_passphrases_on_approval_are_audited_and_limited(
    app, client, world, monkeypatch
):
    document_id = in_review(app, client, world)
    legal = auth(app, "legal")
    url = f"/api/v1/documents/{document_id}/review"

    # Three wrong passwords and two wrong passphrases: five failures, each 422 and audited.
    for password, passphrase in [("nope", PASSPHRASE)] * 3 + [(PASSWORD, "nope")] * 2:
        assert approve(client, app, url, password, passphrase).status_code == 422
    with app.app_context():
        failures = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "approval.failed")
        ).all()
        assert [entry.changes["after"]["wrong"] for entry in failures] == [
            "password", "password", "password", "passphrase", "passphrase",
        ]  # fmt: skip
    # The sixth attempt is refused before anything is checked, even with the right secrets.
    paused = approve(client, app, url)
    assert paused.status_code == 429
    assert "approval is paused for your account until" in paused.get_json()["error"]["message"]
    assert client.get(f"/api/v1/documents/{document_id}", headers=legal).get_json()["status"] == (
        "in_review"
    )
    # Fifteen minutes later the window has passed and the right secrets sign.
    later = review_services.utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(review_services, "utcnow", lambda: later)
    signed = approve(client, app, url)
    assert signed.status_code == 200, signed.get_json()
    assert signed.get_json()["status"] == "signed"


def test_a_signature_checkpoints_the_audit_chain_outside_the_database(app, client, world):
    from portal.audit.checkpoint import checkpoint_path

    pki = trusted_pki(app)
    document_id, _pdf = signed_letter(app, client, world, pki["p12"])
    with app.app_context():
        lines = checkpoint_path().read_text().splitlines()
        newest = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    written = json.loads(lines[-1])
    assert written["reason"] == "signature of demand letter v1"
    # The head as the signature's transaction left it: the "sign" transition is in it.
    with app.app_context():
        signed_entry = db.session.get(AuditEntry, written["entry_id"])
        assert signed_entry.entry_hash == written["entry_hash"]
        assert signed_entry.action == "document.sign"
        assert signed_entry.object_id == str(document_id)
        assert written["entry_id"] == newest.id
        assert written["entries"] == db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_trusted_roots_page_says_the_signature_level(app, world):
    admin = app.test_client()
    login(admin, World.EMAILS["admin"])

    def banner() -> str:
        return "".join(text(admin.get("/admin/trusted-roots")).split())

    assert "Notime-stampingauthorityisconfigured(PORTAL_TSA_URL):signaturesarePAdESB-Bonly" in (
        banner()
    )
    app.config["TSA_URL"] = "http://127.0.0.1:9/tsa"
    assert "RFC3161timestampfromhttp://127.0.0.1:9/tsa(PAdESB-T)." in banner()


def test_with_a_time_stamping_authority_a_signed_letter_is_pades_b_lta(
    app, client, world, tmp_path
):
    """Signed through the API against a TSA on 127.0.0.1: the verify API reports the
    signature time-stamped with its validation data and a document time stamp (B-LTA), and
    poppler's pdfsig, trusting only the CA, finds the signature valid and trusted and the
    document time stamp signing the whole file."""
    ca_pem, ca_key = trusted_ca(app)
    p12 = counsel_p12(ca_pem, ca_key)
    with local_tsa(ca_pem, ca_key) as url:
        app.config["TSA_URL"] = url
        document_id, pdf = signed_letter(app, client, world, p12)
    verified = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf), "letter.pdf")},
        headers=auth(app, "finance"),
    ).get_json()
    assert verified["document"] == document_id and verified["valid"] is True
    (signature,) = verified["signatures"]
    assert signature["level"] == "B-LTA"
    assert signature["timestamped"] and signature["validation_data"]
    assert signature["covers_whole_file"] and signature["trusted"]
    assert_pdfsig_b_lta(pdf, ca_pem, tmp_path, "Lawyer Test")


def test_the_demo_authority_refuses_what_is_not_a_time_stamp_query():
    ca_pem, ca_key = make_ca("Test Counsel CA")
    client = Client(authority(*make_tsa_certificate(ca_pem, ca_key)))
    assert client.get("/tsa").status_code == 405
    bad = client.post("/tsa", data=b"not a query", content_type="application/timestamp-query")
    assert bad.status_code == 400


def test_seed_demo_makes_the_demo_authority_that_make_run_serves(app, tmp_path):
    from portal.cli import _pem_pair
    from portal.seed import demo_ca_path, demo_tsa_path, seed_demo

    runner = app.test_cli_runner()
    missing = runner.invoke(args=["demo-tsa", "--url"])
    assert missing.exit_code == 1 and "Signatures stay PAdES B-B" in missing.output
    with app.app_context():
        seed_demo()
        db.session.commit()
        path = demo_tsa_path()
    assert path.stat().st_mode & 0o077 == 0  # the key is the owner's only
    served = runner.invoke(args=["demo-tsa", "--url", "--port", "5999"])
    assert served.exit_code == 0 and served.output.strip() == "http://127.0.0.1:5999/tsa"
    # The demo lawyers' certificates name the demo service's CRL, which it serves.
    with app.app_context():
        certificate = db.session.scalars(select(SigningCertificate)).first()
        _key, cert, _chain = open_pkcs12(certificate.p12, "demo-p12-pass")
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert points[0].full_name[0].value == "http://127.0.0.1:5001/crl"
        ca_pem, ca_key = _pem_pair(demo_ca_path().read_bytes())
        tsa_cert, tsa_key = _pem_pair(demo_tsa_path().read_bytes())
    service = Client(authority(tsa_cert, tsa_key, DemoRevocation(ca_pem, ca_key)))
    answer = service.get("/crl")
    assert answer.status_code == 200
    listing = x509.load_der_x509_crl(answer.data)
    assert listing.issuer == cert.issuer and len(listing) == 0
    # …and its OCSP responder, which answers for the certificate, signed by the demo CA.
    access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert access[0].access_location.value == "http://127.0.0.1:5001/ocsp"
    ca = x509.load_pem_x509_certificate(ca_pem)
    query = ocsp.OCSPRequestBuilder().add_certificate(cert, ca, hashes.SHA256()).build()
    answer = service.post(
        "/ocsp",
        data=query.public_bytes(serialization.Encoding.DER),
        content_type="application/ocsp-request",
    )
    response = ocsp.load_der_ocsp_response(answer.data)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == cert.serial_number
    ca.public_key().verify(  # raises if the CA did not sign the answer
        response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )
    assert service.post("/ocsp", data=b"not a request").status_code == 200


@pytest.mark.parametrize("source", ["crl_url", "ocsp_url"])
def test_a_revoked_certificate_never_registers_or_signs(app, client, world, source):
    """The CA's CRL or OCSP responder (on 127.0.0.1, named in each certificate) is asked at
    registration and at every approval: a revoked certificate is refused (422), and one revoked
    after it was registered stops approval (409) with nothing signed."""
    ca_pem, ca_key = trusted_ca(app)
    with LocalRevocation(ca_pem, ca_key) as service:

        def issue() -> tuple[bytes, int]:
            p12 = counsel_p12(ca_pem, ca_key, **service.pointers(source))
            return p12, open_pkcs12(p12, PASSPHRASE)[1].serial_number

        revoked, serial = issue()
        service.revoke(serial)
        refused = register(client, app, revoked)
        assert refused.status_code == 422, refused.get_json()
        assert "has been revoked" in refused.get_json()["error"]["message"]
        assert count(app, SigningCertificate) == 0
        assert set(service.asked) == {source.removesuffix("_url")}

        good, serial = issue()
        assert register(client, app, good).status_code == 201
        document_id = submitted_letter(app, client, world)
        service.revoke(serial)  # the CA revokes it after registration
        stopped = approve(client, app, f"/api/v1/documents/{document_id}/review")
        assert stopped.status_code == 409
        assert "has been revoked" in stopped.get_json()["error"]["message"]
        assert count(app, Approval) == 0


def verify(app, client, pdf: bytes) -> dict:
    """``POST /api/v1/verify`` as finance; the answer."""
    return client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf), "letter.pdf")},
        headers=auth(app, "finance"),
    ).get_json()


def test_verification_asks_the_issuer_and_reports_a_certificate_revoked_since(app, client, world):
    """A B-B signature (no time-stamping authority): verification asks the OCSP responder the
    certificate names. Not revoked → "good" from the issuer; revoked after signing → reported
    revoked, and without a trusted time the signature can no longer be relied on."""
    ca_pem, ca_key = trusted_ca(app)
    with LocalRevocation(ca_pem, ca_key) as service:
        p12 = counsel_p12(ca_pem, ca_key, **service.pointers("ocsp_url"))
        serial = open_pkcs12(p12, PASSPHRASE)[1].serial_number
        _document_id, pdf = signed_letter(app, client, world, p12)
        before = verify(app, client, pdf)
        (signature,) = before["signatures"]
        assert signature["revocation"] == "good" and signature["revocation_source"] == "issuer"
        assert before["valid"] is True and service.asked[-1] == "ocsp"

        revoked_at = datetime.now(UTC).replace(microsecond=0)
        service.revoke(serial, revoked_at)
        after = verify(app, client, pdf)
    (signature,) = after["signatures"]
    assert signature["revocation"] == "revoked" and signature["revocation_source"] == "issuer"
    assert datetime.fromisoformat(signature["revoked_at"]) == revoked_at
    assert after["valid"] is False and "revoked" in signature["summary"]


def test_a_certificate_revoked_after_a_time_stamped_signature_leaves_it_valid(app, client, world):
    """B-LTA: the time stamp proves the signature was made before the revocation, so
    verification reports the certificate revoked (and when) and the signature still valid."""
    ca_pem, ca_key = trusted_ca(app)
    with (
        LocalRevocation(ca_pem, ca_key) as service,
        local_tsa(ca_pem, ca_key, service) as url,
    ):
        p12 = counsel_p12(ca_pem, ca_key, **service.pointers())
        serial = open_pkcs12(p12, PASSPHRASE)[1].serial_number
        app.config["TSA_URL"] = url
        _document_id, pdf = signed_letter(app, client, world, p12)
        time.sleep(1)  # revocation times are whole seconds: one after the time stamp's
        service.revoke(serial, datetime.now(UTC).replace(microsecond=0))
        verified = verify(app, client, pdf)
    (signature,) = verified["signatures"]
    stamped = datetime.fromisoformat(signature["timestamp_at"])
    assert signature["revocation"] == "revoked"
    assert datetime.fromisoformat(signature["revoked_at"]) > stamped
    assert verified["valid"] is True
    assert "after the time-stamped signing time" in signature["summary"]


def test_a_b_lta_signature_carries_its_revocation_data_and_verification_reads_it(
    app, client, world, tmp_path
):
    """At signing the CRL and OCSP answers the certificates name are fetched into the DSS;
    once the CA's service is gone, verification (and pyHanko's AdES validator) judge
    revocation on that embedded data."""
    ca_pem, ca_key = trusted_ca(app)
    with (
        LocalRevocation(ca_pem, ca_key) as service,
        local_tsa(ca_pem, ca_key, service) as url,
    ):
        p12 = counsel_p12(ca_pem, ca_key, **service.pointers())
        app.config["TSA_URL"] = url
        _document_id, pdf = signed_letter(app, client, world, p12)
        asked = list(service.asked)
    # registration and approval, then the signature's and the authority's validation data
    assert asked.count("ocsp") >= 2, asked
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        # The OCSP answers validation used, and the CRL as well: a validator asks a named
        # responder first and, once it is gone, falls back on CRLs (not embedded OCSP).
        assert len(opened.Root.DSS.OCSPs) >= 1 and len(opened.Root.DSS.CRLs) >= 1
    # The CA's service is gone: the verdict comes from the file alone.
    verified = verify(app, client, pdf)
    (signature,) = verified["signatures"]
    assert signature["level"] == "B-LTA"
    assert signature["revocation"] == "good" and signature["revocation_source"] == "embedded"
    assert verified["valid"] is True
    # pyHanko's own validator, AdES-style (long-term: from the embedded data alone, the CRL
    # server being gone), given only the root.
    checked = ades_verify(pdf, ca_pem, tmp_path, "--pretty-print")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The signer's certificate is trusted." in checked.stdout
    assert "This timestamp is backed by a time stamping authority." in checked.stdout
    assert "The TSA certificate is trusted." in checked.stdout
    assert "All modifications relate to signature maintenance" in checked.stdout
    assert "The signature is judged VALID." in checked.stdout
