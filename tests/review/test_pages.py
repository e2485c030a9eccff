"""Counsel review through the pages: the document page's panel, the review page, the queue, the
certificate page, verification, the inbox and trusted roots — access, errors, and one real
approve-and-sign (LibreOffice, pyHanko) on a throw-away certificate authority."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from html import unescape

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.cases.models import Case, CaseEvent
from portal.documents.models import Document, DocumentStatus
from portal.extensions import db
from portal.review import services
from portal.review.models import Notification, TrustedRoot
from portal.signing.demo_pki import make_ca

from ..conftest import login
from ..documents.test_documents_api import complete_the_lawyer
from ..factories import PASSWORD, World, ready_for_prosecution
from ..ui.conftest import section, text
from .flow import PASSPHRASE, trusted_pki

ROLES = ["anonymous", "admin", "legal", "finance", "lawyer", "other_lawyer"]


def signed_in(app, role: str):
    """A fresh client signed in as one of the world's users."""
    client = app.test_client()
    if role != "anonymous":
        assert login(client, World.EMAILS[role]).status_code == 302
    return client


def update_document(app, document_id: int, **values) -> None:
    with app.app_context():
        document = db.session.get(Document, document_id)
        for name, value in values.items():
            setattr(document, name, value)
        db.session.commit()


def status_of(app, document_id: int) -> str:
    with app.app_context():
        return db.session.get(Document, document_id).status.value


def inbox_of(app, role: str) -> list[tuple[str, str | None]]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == World.EMAILS[role]))
        return [
            (item.message, item.link)
            for item in db.session.scalars(
                select(Notification).where(Notification.user_id == user.id)
            )
        ]


def user_id(app, role: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == World.EMAILS[role]))


# --- access ----------------------------------------------------------------------------------

#: (method, path, {role: status}); roles not named get 200; anonymous is always sent to sign in.
ACCESS = [
    (
        "GET",
        "/documents/{assigned_document}/review",
        {"admin": 403, "legal": 403, "finance": 403, "other_lawyer": 404},
    ),
    (
        "GET",
        "/documents/{other_document}/review",
        {"lawyer": 404, "admin": 403, "legal": 403, "finance": 403},
    ),
    (
        "POST",
        "/documents/{assigned_document}/review",
        {"admin": 403, "legal": 403, "finance": 403, "other_lawyer": 404, "lawyer": 422},
    ),
    ("GET", "/review", {"admin": 403, "legal": 403, "finance": 403}),
    ("GET", "/account/certificate", {"admin": 403, "legal": 403, "finance": 403}),
    (
        "GET",
        "/admin/trusted-roots",
        {"legal": 403, "finance": 403, "lawyer": 403, "other_lawyer": 403},
    ),
    ("GET", "/inbox", {}),
    ("GET", "/verify", {}),
    # Visibility first (404 for a lawyer not on the case), then the role (403).
    (
        "POST",
        "/documents/{assigned_document}/submit",
        {"finance": 403, "lawyer": 403, "other_lawyer": 404, "admin": 409, "legal": 409},
    ),
    (
        "POST",
        "/documents/{assigned_document}/dispatch",
        {"finance": 403, "lawyer": 403, "other_lawyer": 404, "admin": 422, "legal": 422},
    ),
]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_open_which_review_page(app, world: World, role: str):
    client = signed_in(app, role)
    ids = {key: value for key, value in vars(world).items() if isinstance(value, int)}
    mismatches = []
    for method, path, expected in ACCESS:
        url = path.format(**ids)
        response = client.open(url, method=method, data={})
        if role == "anonymous":
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
            if not ok:
                mismatches.append(f"{method} {url}: {response.status_code}")
        elif response.status_code != expected.get(role, 200):
            mismatches.append(f"{method} {url}: {response.status_code}")
    assert mismatches == []


def test_navigation_shows_the_queue_to_lawyers_and_the_inbox_to_everyone(app, world: World):
    with app.app_context():
        services.notify(db.session.get(User, world.legal), "Something for you", "/cases/")
        db.session.commit()
    legal = signed_in(app, "legal").get("/").data.decode()
    assert 'id="nav-review-queue"' not in legal
    inbox = re.search(r'<a[^>]*id="nav-inbox".*?</a>', legal, re.S).group(0)
    assert "1 unread" in inbox and ">1</span>" in inbox
    lawyer = signed_in(app, "lawyer").get("/").data.decode()
    assert 'id="nav-review-queue"' in lawyer
    assert "unread" not in re.search(r'<a[^>]*id="nav-inbox".*?</a>', lawyer, re.S).group(0)
    admin = signed_in(app, "admin").get("/").data.decode()
    assert 'href="/admin/trusted-roots"' in admin
    assert 'href="/admin/trusted-roots"' not in legal


# --- submit, request changes, the queue and the inbox (placeholder PDFs, no LibreOffice) -------


def test_submit_then_request_changes_through_the_pages(app, world: World):
    legal, lawyer = signed_in(app, "legal"), signed_in(app, "lawyer")
    document_id = world.assigned_document
    page = legal.get(f"/documents/{document_id}")
    panel = section(page, "review-panel")
    assert "Only a final version goes to counsel" in panel
    assert re.search(r'id="submit-form".*?<fieldset disabled>', page.data.decode(), re.S)
    refused = legal.post(f"/documents/{document_id}/submit", data={"comment": "Please"})
    assert refused.status_code == 409
    assert "generate it as final" in section(refused, "submit-form")
    assert status_of(app, document_id) == "draft"

    update_document(app, document_id, final=True)
    # A final evidence list waits until the case could enter prosecution; the panel says why.
    panel = section(legal.get(f"/documents/{document_id}"), "review-panel")
    assert "cannot be submitted while the case is not ready for prosecution" in panel
    assert "R14: Debtor D-1 Ltd has not been sent a demand letter." in panel
    refused = legal.post(f"/documents/{document_id}/submit", data={"comment": "Please"})
    assert refused.status_code == 409 and status_of(app, document_id) == "draft"
    with app.app_context():
        ready_for_prosecution(db.session.get(Case, world.assigned_case))
        db.session.commit()
    panel = section(legal.get(f"/documents/{document_id}"), "review-panel")
    assert "Sends v1 to Lawyer User (Test Chambers LLP)" in panel
    sent = legal.post(f"/documents/{document_id}/submit", data={"comment": "Exhibits attached."})
    assert sent.status_code == 303
    assert status_of(app, document_id) == "in_review"
    assert "sent to Lawyer User for review" in text(legal.get(sent.headers["Location"]))
    assert inbox_of(app, "lawyer") == [
        (
            f"{_reference(app, world.assigned_case)}: Evidence list v1 awaits your review.",
            f"/documents/{document_id}/review",
        )
    ]
    # The legal side sees who has it; the lawyer gets the button to the review page.
    assert "With Lawyer User for review since" in section(
        legal.get(f"/documents/{document_id}"), "review-panel"
    )
    assert 'id="review-button"' in lawyer.get(f"/documents/{document_id}").data.decode()

    queue = lawyer.get("/review")
    rows = section(queue, "queue-table")
    assert _reference(app, world.assigned_case) in rows
    assert "Debtor D-1 Ltd" in rows and "Evidence list" in rows and "v1" in rows
    assert "Legal User" in rows and "Exhibits attached." in rows and "0 days" in rows
    assert "badge text-bg-success" in queue.data.decode()
    nav = re.search(r'id="nav-review-queue".*?</a>', queue.data.decode(), re.S).group(0)
    assert ">1</span>" in nav
    assert "Nothing waits" in text(signed_in(app, "other_lawyer").get("/review"))

    page = lawyer.get(f"/documents/{document_id}/review")
    assert page.status_code == 200
    assert f'src="/documents/{document_id}/pdf"' in page.data.decode()
    assert "first version" in section(page, "context-changes")
    assert "Readiness for prosecution" in section(page, "readiness")
    assert "note.txt" in section(page, "evidence-table")
    assert "Exhibits attached." in section(page, "review-comments")
    # No certificate yet: the page sends the lawyer to register one instead of the sign form.
    assert "Register your PKCS#12 certificate" in section(page, "no-certificate")
    assert re.search(r'id="no-certificate".*?href="/account/certificate"', page.data.decode(), re.S)
    assert 'id="approve-form"' not in page.data.decode()

    empty = lawyer.post(
        f"/documents/{document_id}/review",
        data={"decision": "request_changes", "changes-comment": "  "},
    )
    assert empty.status_code == 422
    assert "Say what needs to change." in section(empty, "changes-form")
    assert status_of(app, document_id) == "in_review"

    asked = lawyer.post(
        f"/documents/{document_id}/review",
        data={"decision": "request_changes", "changes-comment": "Add the contract date."},
    )
    assert asked.status_code == 303 and asked.headers["Location"] == "/review"
    assert status_of(app, document_id) == "changes_requested"
    assert "Changes requested" in text(lawyer.get("/review"))
    assert any("asked for changes" in message for message, _ in inbox_of(app, "legal"))

    page = legal.get(f"/documents/{document_id}")
    assert "Add the contract date." in section(page, "changes-requested")
    comments = section(page, "review-comments")
    assert re.search(r"v1 submitted Legal User .*Exhibits attached\.", comments)
    assert re.search(r"v1 changes requested Lawyer User .*Add the contract date\.", comments)
    # Sent back, the version may be submitted again (after changes, usually a new version).
    assert 'id="submit-form"' in page.data.decode()
    # Nothing is decided twice: the review page now offers no forms.
    page = lawyer.get(f"/documents/{document_id}/review")
    assert "changes requested" in section(page, "not-in-review")
    assert 'id="changes-form"' not in page.data.decode()
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "document", AuditEntry.object_id == str(document_id)
            )
        ).all()
    assert {"document.submit", "document.request_changes"} <= set(actions)


def _reference(app, case_id: int) -> str:
    from portal.cases.models import Case

    with app.app_context():
        return db.session.get(Case, case_id).reference


def test_review_page_shows_what_changed_since_the_previous_version(app, world: World):
    with app.app_context():
        first = db.session.get(Document, world.assigned_document)
        first.context = {
            "debtor": {"name": "Debtor D-1 Ltd", "address": "2 Low Road"},
            "invoices": [{"number": "INV-I-1", "amount": "1,000.00"}],
            "notes": "x" * 5000,
        }
        first.status = DocumentStatus.SUPERSEDED
        second = Document(
            **{
                column: getattr(first, column)
                for column in (
                    "case_id",
                    "kind",
                    "source",
                    "reference",
                    "template",
                    "template_sha256",
                    "docx_sha256",
                    "pdf_sha256",
                    "pages",
                    "document_date",
                    "missing_fields",
                )
            },
            version=2,
            final=True,
            status=DocumentStatus.IN_REVIEW,
            context={
                "debtor": {"name": "Debtor D-1 Ltd", "address": "3 High Road"},
                "invoices": [{"number": "INV-I-1", "amount": "900.00"}],
                "notes": "short",
            },
        )
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    lawyer = signed_in(app, "lawyer")
    page = lawyer.get(f"/documents/{second_id}/review")
    changes = section(page, "changes-table")
    assert "debtor.address 2 Low Road 3 High Road" in changes
    assert "debtor.name" not in changes
    html = unescape(page.data.decode())
    # Lists are shown as JSON, long values cut with a note of what was left out.
    assert re.search(r'<pre class="context-value mb-0">\[\s+\{\s+"amount": "1,000.00"', html)
    assert "(1,000 more characters)" in changes
    assert "3 changes since v1" in text(page)
    # The first version has nothing to compare with.
    first_page = lawyer.get(f"/documents/{world.assigned_document}/review")
    assert "first version" in section(first_page, "first-version")


# --- the real thing: certificate, generate, submit, sign, download, verify, dispatch ----------


def test_approve_and_sign_through_the_pages(app, world: World):
    pki = trusted_pki(app)
    complete_the_lawyer(app)
    legal, lawyer, finance = (signed_in(app, role) for role in ("legal", "lawyer", "finance"))

    # The certificate page: wrong passphrase and wrong file are explained; then it registers.
    def upload(data: bytes, passphrase: str, name: str = "counsel.p12"):
        return lawyer.post(
            "/account/certificate",
            data={"file": (io.BytesIO(data), name), "passphrase": passphrase},
            content_type="multipart/form-data",
        )

    assert "No certificate registered" in text(lawyer.get("/account/certificate"))
    wrong = upload(pki["p12"], "not-the-passphrase")
    assert wrong.status_code == 422
    assert "The passphrase does not open this certificate." in section(wrong, "certificate-form")
    not_p12 = upload(b"hello", PASSPHRASE, "notes.txt")
    assert not_p12.status_code == 422
    assert "ending in .p12 or .pfx" in section(not_p12, "certificate-form")
    registered = upload(pki["p12"], PASSPHRASE)
    assert registered.status_code == 303
    page = lawyer.get("/account/certificate")
    card = section(page, "active-certificate")
    assert "Lawyer Test" in card and "CN=Test Counsel CA" in card
    assert re.search(r"expires in \d+ days", card)
    assert "never stored" in section(page, "upload-certificate")
    assert "/account/certificate" in lawyer.get("/profile").data.decode()

    made = legal.post(
        f"/cases/{world.assigned_case}/documents", data={"kind": "demand_letter", "mode": "final"}
    )
    assert made.status_code == 303, text(made)[-500:]
    document_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert legal.post(f"/documents/{document_id}/submit", data={}).status_code == 303

    url = f"/documents/{document_id}/review"
    page = lawyer.get(url)
    with app.app_context():
        document = db.session.get(Document, document_id)
        statement = services.approval_statement(document, db.session.get(User, world.lawyer))
    assert section(page, "statement") == statement
    assert "demand letter" in section(page, "readiness").lower()

    approve = {
        "decision": "approve",
        "approve-password": PASSWORD,
        "approve-passphrase": PASSPHRASE,
        "approve-comment": "Approved as drafted.",
        "approve-confirm": "y",
    }
    unconfirmed = lawyer.post(url, data={**approve, "approve-confirm": ""})
    assert unconfirmed.status_code == 422
    assert "Tick the box" in section(unconfirmed, "approve-form")
    wrong_password = lawyer.post(url, data={**approve, "approve-password": "not it"})
    assert wrong_password.status_code == 422
    assert "Enter your portal password." in section(wrong_password, "approve-form")
    wrong_passphrase = lawyer.post(url, data={**approve, "approve-passphrase": "nope"})
    assert wrong_passphrase.status_code == 422
    assert "does not open this certificate" in section(wrong_passphrase, "approve-form")
    assert status_of(app, document_id) == "in_review"

    signed = lawyer.post(url, data=approve)
    assert signed.status_code == 303, text(signed)[-800:]
    assert signed.headers["Location"] == f"/documents/{document_id}"
    assert status_of(app, document_id) == "signed"
    with app.app_context():
        approval = db.session.get(Document, document_id).approval
        signed_sha, reviewed_sha = approval.signed_sha256, approval.reviewed_sha256
        fingerprint = approval.certificate_sha256

    page = legal.get(f"/documents/{document_id}")
    record = section(page, "approval-record")
    for value in ("Lawyer User", signed_sha, reviewed_sha, fingerprint, "UTC"):
        assert value in record
    assert "Time-stamped no" in record
    assert section(page, "approval-statement") == statement
    assert "Signature verified" in section(page, "signature-check")
    assert "Approved as drafted." in section(page, "review-comments")

    pdf = legal.get(f"/documents/{document_id}/pdf?download=1")
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.data).hexdigest() == signed_sha
    assert "signed.pdf" in pdf.headers["Content-Disposition"]

    verified = finance.post(
        "/verify",
        data={"file": (io.BytesIO(pdf.data), "letter.pdf")},
        content_type="multipart/form-data",
    )
    assert verified.status_code == 200
    result = section(verified, "verify-result")
    assert "Valid signature" in result and "known" in result and "unchanged" in result
    assert "Lawyer Test" in result and "trusted signer" in result
    assert "covers the whole file" in result
    assert f'href="/documents/{document_id}"' in verified.data.decode()
    not_pdf = finance.post(
        "/verify",
        data={"file": (io.BytesIO(b"GIF89a not a pdf at all"), "letter.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 422
    assert "not a PDF" in section(not_pdf, "verify-form")

    # Dispatch: the dates are checked, then the event lands on the case's timeline. The letter
    # was dated and signed today: it cannot have gone out yesterday, nor arrive before it left.
    today, yesterday = dt.date.today(), dt.date.today() - dt.timedelta(days=1)
    early = legal.post(
        f"/documents/{document_id}/dispatch",
        data={"sent_on": yesterday.isoformat(), "courier": "Royal Mail", "tracking": "RM1"},
    )
    assert early.status_code == 422
    assert "it cannot have been sent before that" in section(early, "dispatch-form")
    backwards = legal.post(
        f"/documents/{document_id}/dispatch",
        data={
            "sent_on": today.isoformat(),
            "delivered_on": yesterday.isoformat(),
            "courier": "Royal Mail",
            "tracking": "RM1",
        },
    )
    assert backwards.status_code == 422
    assert "On or after the date sent." in section(backwards, "dispatch-form")
    sent = legal.post(
        f"/documents/{document_id}/dispatch",
        data={"sent_on": today.isoformat(), "courier": "Royal Mail", "tracking": "RM123456785GB"},
    )
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/cases/{world.assigned_case}#timeline"
    with app.app_context():
        event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == world.assigned_case))
        assert event.type.value == "dispatch" and event.details["document_id"] == document_id

    # The lawyer was told to review; legal was told it is signed, and the link leads there.
    assert any("awaits your review" in message for message, _ in inbox_of(app, "lawyer"))
    inbox = legal.get("/inbox")
    assert "record its dispatch once sent" in section(inbox, "notifications")
    with app.app_context():
        notification_id = db.session.scalar(
            select(Notification.id).where(
                Notification.user_id == world.legal, Notification.message.contains("signed")
            )
        )
    opened = legal.post(f"/inbox/{notification_id}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/documents/{document_id}"

    # Once its authority is no longer trusted, the page says so and the PDF is withheld.
    admin = signed_in(app, "admin")
    with app.app_context():
        root_id = db.session.scalar(select(TrustedRoot.id))
    assert (
        admin.post(f"/admin/trusted-roots/{root_id}/remove", data={"confirm": "y"}).status_code
        == 303
    )
    check = section(legal.get(f"/documents/{document_id}"), "signature-check")
    assert "Signature does not verify" in check
    assert legal.get(f"/documents/{document_id}/pdf").status_code == 409


# --- the inbox -------------------------------------------------------------------------------


def test_inbox_marks_read_and_follows_only_internal_links(app, world: World):
    links = [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        None,
        f"/documents/{world.assigned_document}",
    ]
    with app.app_context():
        lawyer = db.session.get(User, world.lawyer)
        for number, link in enumerate(links):
            services.notify(lawyer, f"Message {number}", link)
        services.notify(db.session.get(User, world.legal), "Not the lawyer's", "/cases/")
        db.session.commit()
        ids = db.session.scalars(select(Notification.id).order_by(Notification.id)).all()
    client = signed_in(app, "lawyer")
    page = client.get("/inbox")
    listed = section(page, "notifications")
    # Newest first; unread ones bold; the other user's line is not there.
    assert listed.index("Message 6") < listed.index("Message 0")
    assert "Not the lawyer's" not in listed
    assert page.data.decode().count("notification-unread") == len(links)
    assert "7 unread" in section(page, "unread-count")

    for notification_id in ids[:5]:
        response = client.post(f"/inbox/{notification_id}")
        assert response.status_code == 303
        assert response.headers["Location"] == "/inbox", response.headers["Location"]
    internal = client.post(f"/inbox/{ids[6]}")
    assert internal.headers["Location"] == f"/documents/{world.assigned_document}"
    assert client.post(f"/inbox/{ids[-1]}").status_code == 404
    assert client.post("/inbox/999999").status_code == 404
    assert "1 unread" in section(client.get("/inbox"), "unread-count")

    assert client.post("/inbox/read").status_code == 303
    page = client.get("/inbox")
    assert "notification-unread" not in page.data.decode()
    assert 'id="unread-count"' not in page.data.decode()
    with app.app_context():
        other = db.session.get(Notification, ids[-1])
        assert other.read_at is None


# --- trusted roots ---------------------------------------------------------------------------


def test_admin_adds_and_removes_trusted_roots_with_a_confirmation(app, world: World):
    admin = signed_in(app, "admin")
    assert "No certificate authority is trusted" in text(admin.get("/admin/trusted-roots"))
    ca_pem, ca_key = make_ca("Page Test Root CA")

    def upload(data: bytes, name: str = "root.pem"):
        return admin.post(
            "/admin/trusted-roots",
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    assert upload(ca_pem).status_code == 303
    page = admin.get("/admin/trusted-roots")
    table = section(page, "roots-table")
    assert "CN=Page Test Root CA" in table and "DEMO" not in table
    again = upload(ca_pem)
    assert again.status_code == 409 and "already trusted" in text(again)
    garbage = upload(b"not a certificate", "root.der")
    assert garbage.status_code == 422
    assert "Not a certificate." in section(garbage, "root-form")
    from portal.signing.demo_pki import make_signer_p12

    p12 = make_signer_p12(
        ca_pem,
        ca_key,
        common_name="Signer",
        email="s@x.example",
        organization="Org",
        passphrase="pw",
    )
    _key, signer_cert, _chain = pkcs12.load_key_and_certificates(p12, b"pw")
    leaf = upload(signer_cert.public_bytes(Encoding.PEM), "signer.pem")
    assert leaf.status_code == 422
    assert "not a signer's" in section(leaf, "root-form")

    with app.app_context():
        root_id = db.session.scalar(select(TrustedRoot.id))
    confirm = admin.get(f"/admin/trusted-roots/{root_id}/remove")
    assert "CN=Page Test Root CA" in text(confirm) and "untrusted" in text(confirm)
    unticked = admin.post(f"/admin/trusted-roots/{root_id}/remove", data={})
    assert unticked.status_code == 422
    assert "Tick the box to confirm the removal." in section(unticked, "remove-form")
    with app.app_context():
        assert db.session.get(TrustedRoot, root_id) is not None
    removed = admin.post(f"/admin/trusted-roots/{root_id}/remove", data={"confirm": "y"})
    assert removed.status_code == 303
    assert admin.get(f"/admin/trusted-roots/{root_id}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(TrustedRoot, root_id) is None
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "trusted_root")
        ).all()
    assert actions == ["trusted_root.add", "trusted_root.remove"]
    for role in ("legal", "lawyer", "finance"):
        client = signed_in(app, role)
        assert client.post(f"/admin/trusted-roots/{root_id}/remove").status_code == 403


# --- verification limits and CSRF ------------------------------------------------------------


def test_verify_refuses_files_over_the_limit(app, world: World):
    app.config["MAX_CONTENT_LENGTH"] = 1024  # /verify is capped like every upload
    response = signed_in(app, "finance").post(
        "/verify",
        data={"file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * 2000), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than" in section(response, "verify-form")
    unsigned = signed_in(app, "finance").post(
        "/verify",
        data={"file": (io.BytesIO(b"%PDF-1.4 placeholder for nothing"), "x.pdf")},
        content_type="multipart/form-data",
    )
    # Not a readable PDF: explained, not an error page.
    assert unsigned.status_code == 422
    assert 'id="verify-result"' not in unsigned.data.decode()


def _csrf_client(app, role: str):
    client = app.test_client()
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": World.EMAILS[role], "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_review_forms_refuse_posts_without_a_csrf_token(csrf_app, world: World):
    with csrf_app.app_context():
        services.notify(db.session.get(User, world.lawyer), "Hello", "/inbox")
        db.session.commit()
        notification_id = db.session.scalar(select(Notification.id))
    document, bundle = world.assigned_document, world.assigned_bundle
    paths = {
        "legal": [
            f"/documents/{document}/submit",
            f"/documents/{document}/dispatch",
            f"/bundles/{bundle}/submit",
        ],
        "lawyer": [
            f"/documents/{document}/review",
            f"/bundles/{bundle}/review",
            "/account/certificate",
            "/verify",
            "/inbox/read",
            f"/inbox/{notification_id}",
        ],
        "admin": ["/admin/trusted-roots", "/admin/trusted-roots/1/remove"],
    }
    for role, urls in paths.items():
        client = _csrf_client(csrf_app, role)
        for url in urls:
            assert client.post(url, data={}).status_code == 400, url
    # With the page's token the same posts get through to their checks.
    client = _csrf_client(csrf_app, "lawyer")
    page = client.get("/inbox").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/inbox/read", data={"csrf_token": token}).status_code == 303
    verify_page = client.get("/verify").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', verify_page).group(1)
    refused = client.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(b"plain text"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
