"""Evidence on the case page: uploads (form post and the script's JSON requests), the evidence
table, downloads through the case policy, the readiness checklist and the case list's badges."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.cases.models import Case, CaseStatus, Stage
from portal.cases.services import open_case
from portal.evidence.models import Evidence, EvidenceKind, RenditionStatus
from portal.evidence.services import add_evidence
from portal.extensions import db
from portal.jurisdictions.rules import base as rules_base
from portal.jurisdictions.rules.base import JURISDICTIONS, Finding, Rule

from ..conftest import build_app
from ..factories import ACTOR, PASSWORD, World, build_world, make_debtor, make_invoice
from .conftest import section, text
from .test_case_list import _count_queries, _rows

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
PDF = (RESOURCES / "good" / "two-pages.pdf").read_bytes()
PNG = (RESOURCES / "good" / "scan.png").read_bytes()
#: HTML with a script, named .pdf: refused by content.
FAKE_PDF = (RESOURCES / "corpus" / "delivery.pdf").read_bytes()
JSON = {"Accept": "application/json"}


def _post(client, case_id: int, files: list[tuple[str, bytes]], headers=None, **fields):
    """POST the upload form: ``files`` as (name, bytes), the shared fields as keywords."""
    data = {"kind": "delivery_note", **fields}
    data["file"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        f"/cases/{case_id}/evidence",
        data=data,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _items(app, case_id: int) -> list[Evidence]:
    with app.app_context():
        items = db.session.scalars(
            select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
        ).all()
        for item in items:
            _ = [invoice.number for invoice in item.invoices]  # load before the context ends
        return items


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Evidence))


def _csrf_client(app, role: str):
    """A client signed in through the login form with its CSRF token."""
    client = app.test_client()
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed = client.post(
        "/login", data={"email": World.EMAILS[role], "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    return client


# --- uploads ---------------------------------------------------------------------------------


def test_several_files_through_the_form_without_script(app, as_role, world: World):
    client = as_role("legal")
    before = _items(app, world.assigned_case)
    response = _post(
        client,
        world.assigned_case,
        [("delivery-note.pdf", PDF), ("scan.png", PNG), ("delivery.pdf", FAKE_PDF)],
        invoices=["I-1", "I-2"],
        document_date="2025-01-08",
        signed_by_debtor="yes",
        sealed="no",
        original_held="",
        source="debtor",
        proves="Goods of INV-I-1 and INV-I-2 were delivered.",
        description="Signed delivery note",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{world.assigned_case}#evidence")
    page = client.get(response.headers["Location"])
    alert = re.search(r'<div class="alert alert-danger.*?</div>', page.data.decode(), re.S)
    assert alert, "a refused file makes the summary red"
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", alert.group(0)))
    assert "2 of 3 files stored." in summary
    items = _items(app, world.assigned_case)
    assert len(items) == len(before) + 2
    pdf, png = items[-2:]
    assert f"delivery-note.pdf : Stored as #{pdf.id}." in summary
    assert f"scan.png : Stored as #{png.id}." in summary
    assert re.search(r"delivery\.pdf : not stored\. \S+", summary), summary
    for item in (pdf, png):
        assert item.kind is EvidenceKind.DELIVERY_NOTE
        assert sorted(invoice.number for invoice in item.invoices) == ["INV-I-1", "INV-I-2"]
        assert str(item.document_date) == "2025-01-08"
        assert (item.signed_by_debtor, item.sealed, item.original_held) == (True, False, None)
        assert (item.source, item.description) == ("debtor", "Signed delivery note")
        assert item.proves == "Goods of INV-I-1 and INV-I-2 were delivered."
        assert item.rendition_status is RenditionStatus.DONE, item.rendition_error
    assert (pdf.pages, pdf.media_type) == (2, "application/pdf")
    # The evidence table shows them, with the flags, the invoices and the rendition.
    row = section(page, f"evidence-{pdf.id}")
    assert f"#{pdf.id} Delivery note delivery-note.pdf" in row
    assert "2025-01-08 INV-I-1, INV-I-2" in row
    assert "Signed by the debtor: yes Sealed: no Original held: unknown" in row
    assert "Signed delivery note Source: debtor Proves: Goods of INV-I-1" in row
    assert row.endswith("done 2 pages")
    html = page.data.decode()
    assert f'href="/evidence/{pdf.id}/file"' in html and f'href="/evidence/{pdf.id}/view"' in html


def test_json_answers_for_good_duplicate_and_refused_files(app, as_role, world: World):
    client = as_role("finance")
    good = _post(client, world.assigned_case, [("two-pages.pdf", PDF)], JSON, invoices=["I-1"])
    assert good.status_code == 201, good.json
    first = good.json["id"]
    assert good.json == {
        "ok": True,
        "id": first,
        "name": "two-pages.pdf",
        "renamed_from": None,
        "message": f"Stored as #{first}.",
        "duplicate_of": None,
        "status": "done",
        "pages": 2,
        "rendition_error": None,
    }
    again = _post(client, world.assigned_case, [("again.pdf", PDF)], JSON)
    assert again.status_code == 201
    assert again.json["duplicate_of"] == first and again.json["name"] == "again.pdf"
    assert f"a duplicate of #{first}" in again.json["message"]

    count = _count(app)
    bad = _post(client, world.assigned_case, [("delivery.pdf", FAKE_PDF)], JSON)
    assert 400 <= bad.status_code < 500
    error = bad.json["error"]
    assert error["name"] == "delivery.pdf" and error["code"] and error["message"]
    empty = _post(client, world.assigned_case, [("empty.txt", b"")], JSON)
    assert (empty.status_code, empty.json["error"]["code"]) == (400, "empty")
    kind = _post(client, world.assigned_case, [("scan.png", PNG)], JSON, kind="selfie")
    assert kind.status_code == 422 and "kind" in kind.json["error"]["fields"]
    other = _post(client, world.assigned_case, [("scan.png", PNG)], JSON, invoices=["I-3"])
    assert other.status_code == 422 and "invoices" in other.json["error"]["fields"]
    none = _post(client, world.assigned_case, [], JSON)
    assert none.status_code == 422 and "file" in none.json["error"]["fields"]
    two = _post(client, world.assigned_case, [("a.png", PNG), ("b.pdf", PDF)], JSON)
    assert two.status_code == 400 and two.json["error"]["message"] == "Send one file per request."
    assert _count(app) == count, "nothing refused was stored"


def test_bad_fields_without_script_show_the_form_again(app, as_role, world: World):
    client = as_role("legal")
    count = _count(app)
    refused = _post(
        client, world.assigned_case, [("scan.png", PNG)], kind="", description="kept text"
    )
    assert refused.status_code == 422
    form = section(refused, "evidence-upload")
    assert "One of: contract, purchase_order" in form
    assert "kept text" in form, "the values come back"
    nothing = _post(client, world.assigned_case, [])
    assert nothing.status_code == 422 and "Choose a file." in section(nothing, "evidence-upload")
    assert _count(app) == count


def test_too_large_is_answered_in_json_and_on_the_page(tmp_path):
    # CSRF on, as in production: the token check reads the form, which is where werkzeug
    # notices MAX_CONTENT_LENGTH; the answer must still be JSON for the script.
    for app in build_app(
        tmp_path, WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=20_000, EVIDENCE_MAX_BYTES=5_000
    ):
        with app.app_context():
            world = build_world()
            db.session.commit()
        client = _csrf_client(app, "legal")
        page = client.get(f"/cases/{world.assigned_case}").data.decode()
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        headers = {**JSON, "X-CSRFToken": token}
        per_file = _post(client, world.assigned_case, [("big.txt", b"x" * 6_000)], headers)
        assert per_file.status_code == 413 and per_file.json["error"]["code"] == "too_large"
        assert "larger than the 5 KB limit" in per_file.json["error"]["message"]
        request = _post(client, world.assigned_case, [("huge.txt", b"x" * 30_000)], headers)
        assert request.status_code == 413
        assert request.json["error"]["code"] == "too_large"
        assert "larger than the portal accepts" in request.json["error"]["message"]
        plain = _post(client, world.assigned_case, [("huge.txt", b"x" * 30_000)])
        assert plain.status_code == 303
        assert plain.headers["Location"].endswith(f"/cases/{world.assigned_case}#evidence")
        shown = client.get(plain.headers["Location"])
        assert "larger than the portal accepts in one request" in text(shown)


def test_the_script_sends_the_token_as_a_header(csrf_app, world: World):
    client = _csrf_client(csrf_app, "legal")
    page = client.get(f"/cases/{world.assigned_case}").data.decode()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    missing = _post(client, world.assigned_case, [("scan.png", PNG)], JSON)
    assert missing.status_code == 400 and missing.json["error"]["code"] == "bad_request"
    assert _count(csrf_app) == 2, "only the world's notes"
    sent = _post(client, world.assigned_case, [("scan.png", PNG)], {**JSON, "X-CSRFToken": token})
    assert sent.status_code == 201 and sent.json["ok"] is True
    # The plain form carries the token in its hidden field.
    form = page.split('id="evidence-upload"', 1)[1]
    field = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    posted = _post(client, world.assigned_case, [("two-pages.pdf", PDF)], csrf_token=field)
    assert posted.status_code == 303
    assert _count(csrf_app) == 4


# --- who may --------------------------------------------------------------------------------


def test_lawyers_read_the_evidence_but_do_not_upload(app, as_role, world: World):
    lawyer = as_role("lawyer")
    page = lawyer.get(f"/cases/{world.assigned_case}")
    assert 'id="evidence-upload"' not in page.data.decode()
    assert "Upload evidence" not in text(page)
    assert "note.txt" in section(page, "evidence-table")
    assert _post(lawyer, world.assigned_case, [("scan.png", PNG)]).status_code == 403
    refused = _post(lawyer, world.assigned_case, [("scan.png", PNG)], JSON)
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "forbidden")
    original = lawyer.get(f"/evidence/{world.assigned_evidence}/file")
    assert original.status_code == 200 and original.data.startswith(b"Note on ")
    # Finance and legal see the panel.
    for role in ("finance", "legal"):
        html = as_role(role).get(f"/cases/{world.assigned_case}").data.decode()
        assert 'id="evidence-upload"' in html and 'enctype="multipart/form-data"' in html


def test_another_lawyers_evidence_is_not_found(app, as_role, world: World):
    other = as_role("other_lawyer")
    for path in ("file", "pdf"):
        assert other.get(f"/evidence/{world.assigned_evidence}/{path}").status_code == 404
        assert other.get(f"/evidence/999999/{path}").status_code == 404
    assert other.get(f"/evidence/{world.other_evidence}/file").status_code == 200
    assert _post(other, world.other_case, [("scan.png", PNG)]).status_code == 403
    anonymous = app.test_client().get(f"/evidence/{world.assigned_evidence}/file")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_original_is_a_download_and_the_exhibit_opens_sandboxed(app, as_role, world: World):
    client = as_role("legal")
    uploaded = _post(client, world.assigned_case, [("Lieferschein 1043.pdf", PDF)], JSON).json
    original = client.get(f"/evidence/{uploaded['id']}/file")
    assert original.status_code == 200 and original.data == PDF
    assert original.headers["Content-Disposition"] == (
        "attachment; filename=\"Lieferschein 1043.pdf\"; filename*=UTF-8''Lieferschein%201043.pdf"
    )
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.headers["Cache-Control"] == "no-store"
    assert original.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    exhibit = client.get(f"/evidence/{uploaded['id']}/pdf")
    assert exhibit.status_code == 200 and exhibit.data.startswith(b"%PDF")
    assert exhibit.mimetype == "application/pdf"
    assert exhibit.headers["Content-Disposition"].startswith(
        'inline; filename="Lieferschein 1043.pdf"'
    )
    assert "sandbox" in exhibit.headers["Content-Security-Policy"]
    assert exhibit.headers["X-Content-Type-Options"] == "nosniff"
    saved = client.get(f"/evidence/{uploaded['id']}/pdf?download=1")
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    # The world's note has no exhibit yet.
    with app.app_context():
        note = db.session.get(Evidence, world.assigned_evidence)
        note.rendition_status, note.rendition_sha256 = RenditionStatus.PENDING, None
        db.session.commit()
    pending = client.get(f"/evidence/{world.assigned_evidence}/pdf")
    assert pending.status_code == 409
    assert "not available" in text(pending)


def test_table_marks_duplicates_attachments_and_failed_renditions(app, as_role, world: World):
    client = as_role("legal")
    first = _post(client, world.assigned_case, [("scan.png", PNG)], JSON).json["id"]
    second = _post(client, world.assigned_case, [("scan-2.png", PNG)], JSON).json["id"]
    mail = _post(
        client,
        world.assigned_case,
        [("mail.eml", (RESOURCES / "good" / "mail.eml").read_bytes())],
        JSON,
        kind="correspondence",
    ).json["id"]
    with app.app_context():
        note = db.session.get(Evidence, world.assigned_evidence)
        note.rendition_status = RenditionStatus.FAILED
        note.rendition_error = "ConversionError: <b>timed out</b>"
        db.session.commit()
        children = db.session.scalars(select(Evidence.id).where(Evidence.parent_id == mail)).all()
    page = client.get(f"/cases/{world.assigned_case}")
    assert "duplicate of #" + str(first) in section(page, f"evidence-{second}")
    assert "duplicate of" not in section(page, f"evidence-{first}")
    assert children, "the e-mail's PDF attachment became an item of its own"
    for child in children:
        assert f"from e-mail #{mail}" in section(page, f"evidence-{child}")
    html = page.data.decode()
    assert 'title="ConversionError: &lt;b&gt;timed out&lt;/b&gt;">failed</span>' in html, (
        "the error is in the badge's tooltip, escaped"
    )
    assert f'href="/evidence/{world.assigned_evidence}/view"' not in html


# --- checklist and list badges ---------------------------------------------------------------


@pytest.fixture
def rules(monkeypatch):
    """Replace the registered completeness rules with the test's own (``add(id, …)``)."""
    registry: dict[str, Rule] = {}
    monkeypatch.setattr(rules_base, "RULES", registry)

    def add(rule_id: str, severity: str, from_stage: str, check) -> None:
        registry[rule_id] = Rule(
            rule_id, rule_id, from_stage, frozenset(JURISDICTIONS), severity, "test", check
        )

    return add


def test_checklist_shows_blockers_first_with_their_remedies(app, as_role, world: World, rules):
    def delivery_notes(facts):
        return [
            Finding(
                "R3",
                "blocker",
                f"Invoice {invoice.number} has no delivery note.",
                remedy=f"Upload the signed delivery note for {invoice.number}.",
                invoice=invoice.key,
            )
            for invoice in facts.claimed
        ]

    def originals(facts):
        return [
            Finding("R6", "warning", f"Only a copy of {item.name}.", remedy="Find the original.",
                    evidence=item.id)
            for item in facts.evidence
        ]  # fmt: skip

    rules("R3", "blocker", "notice", delivery_notes)
    rules("R6", "warning", "warning", originals)
    page = as_role("legal").get(f"/cases/{world.assigned_case}")
    upcoming = section(page, "checklist-next")
    assert upcoming.startswith("Before notice:")
    assert "Ready for" not in upcoming
    assert (
        "R3 blocker Invoice INV-I-1 has no delivery note. (invoice INV-I-1) "
        "Upload the signed delivery note for INV-I-1."
    ) in upcoming
    assert "Upload the signed delivery note for INV-I-2." in upcoming
    assert "2 blockers before notice" in section(page, "ladder-readiness")
    # Every stage in its own collapsible section; warnings after blockers, linked to the item.
    assert "Reconciliation (current stage) ready" in section(page, "checklist-reconciliation")
    assert "Nothing missing for reconciliation." in section(page, "checklist-reconciliation")
    later = section(page, "checklist-warning")
    assert later.startswith("Warning 2 blockers 1 warning")
    assert later.index("R3 blocker") < later.index("R6 warning")
    assert f"evidence #{world.assigned_evidence} Find the original." in later
    assert f'href="#evidence-{world.assigned_evidence}"' in page.data.decode()


def test_checklist_says_ready_when_nothing_is_missing(app, as_role, world: World, rules):
    rules("R2", "warning", "warning", lambda facts: [Finding("R2", "warning", "No contract.")])
    page = as_role("lawyer").get(f"/cases/{world.assigned_case}")
    upcoming = section(page, "checklist-next")
    assert upcoming == "Before notice: Ready for notice."
    assert "Ready for notice" in section(page, "ladder-readiness")
    assert "1 warning" in section(page, "checklist-prosecution")


def test_case_list_shows_readiness_for_the_next_stage(app, as_role, world: World, rules):
    def blockers(facts):
        if facts.jurisdiction != "ew":
            return []
        return [Finding("R3", "blocker", f"Missing {n}.") for n in range(3)]

    def warnings(facts):
        return [Finding("R2", "warning", "No contract.")] if facts.jurisdiction == "cn" else []

    rules("R3", "blocker", "notice", blockers)
    rules("R2", "warning", "notice", warnings)
    with app.app_context():
        legal = db.session.get(User, world.legal)
        us = make_debtor("D-US", "us")
        ready = open_case(ACTOR, debtor=us, owner=legal, invoices=[make_invoice("U-1", "D-US")])
        last = open_case(ACTOR, debtor=db.session.get(Case, world.assigned_case).debtor,
                         owner=legal, invoices=[make_invoice("E-9")])  # fmt: skip
        last.stage = Stage.PROSECUTION
        closed = open_case(ACTOR, debtor=us, owner=legal, invoices=[make_invoice("U-2", "D-US")])
        closed.status = CaseStatus.CLOSED
        db.session.commit()
        refs = [db.session.get(Case, world.assigned_case).reference, ready.reference,
                db.session.get(Case, world.other_case).reference, last.reference,
                closed.reference]  # fmt: skip
    page = as_role("legal").get("/cases/")
    rows = _rows(page)
    assigned, us_ready, china, at_top, shut = (rows[ref] for ref in refs)
    assert "Reconciliation 3 blockers before notice" in assigned
    assert "Reconciliation Ready for notice" in us_ready
    assert "Reconciliation 1 warning before notice" in china
    assert "Prosecution 3 blockers at prosecution" in at_top
    assert "Reconciliation closed" in shut, "no readiness for a closed case"
    html = page.data.decode()
    assert 'class="badge text-bg-danger" title="R3: Missing 0.; R3: Missing 1.' in html
    assert '<span class="badge text-bg-success">Ready for notice</span>' in html
    assert 'class="badge text-bg-warning" title="R2: No contract.">1 warning</span>' in html


def test_case_list_queries_stay_flat_with_evidence(app, as_role, world: World):
    """The readiness badges read evidence and its invoices in batches (real rules)."""
    client = as_role("legal")
    client.get("/cases/")
    with_two = _count_queries(app, client, "/cases/")
    with app.app_context():
        owner = db.session.get(User, world.legal)
        for number in range(28):
            debtor = make_debtor(f"E-{number}", ("cn", "ew", "us")[number % 3])
            invoice = make_invoice(f"E-{number}", debtor.external_id)
            case = open_case(ACTOR, debtor=debtor, owner=owner, invoices=[invoice])
            add_evidence(ACTOR, case, f"delivery {number}".encode(), "delivery.txt",
                         {"kind": EvidenceKind.DELIVERY_NOTE, "signed_by_debtor": True},
                         invoice_keys=[invoice.external_id])  # fmt: skip
        db.session.commit()
    page = client.get("/cases/")
    assert len(_rows(page)) == 30
    assert _count_queries(app, client, "/cases/") == with_two


def test_signer_and_amount_are_recorded_from_the_page(app, as_role, world: World):
    client = as_role("legal")
    response = _post(
        client,
        world.assigned_case,
        [("balance.txt", b"Balance confirmed: GBP 3,500.00")],
        kind="reconciliation_confirmation",
        signer="J. Smith, finance director",
        amount="3500.00",
        currency="GBP",
    )
    assert response.status_code == 303
    item = _items(app, world.assigned_case)[-1]
    assert (item.signer, item.amount, item.currency) == (
        "J. Smith, finance director",
        Decimal("3500.00"),
        "GBP",
    )
