"""Evidence through the API: uploads checked by content, stored once, served safely."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.storage import file_store

from ..conftest import login
from ..factories import World, token_for

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
GOOD = RESOURCES / "good"
CORPUS = RESOURCES / "corpus"


@pytest.fixture
def upload(app, world: World):
    tokens: dict[str, str] = {}

    def call(name: str, data: bytes, role: str = "finance", case: int | None = None, **form):
        if role not in tokens:
            with app.app_context():
                tokens[role] = token_for(World.EMAILS[role])
        body = {"kind": "delivery_note", **form, "file": (io.BytesIO(data), name)}
        return app.test_client().post(
            f"/api/v1/cases/{case or world.assigned_case}/evidence",
            data=body,
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )

    call.tokens = tokens
    return call


def _stored(app) -> tuple[int, list[str]]:
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Evidence))
        return rows, sorted(file_store().iter_hashes())


@pytest.fixture
def before(app, world):
    """Rows and files there before the test (the world has a note on each case)."""
    return _stored(app)


def test_upload_a_pdf_and_read_it_back(app, upload, world):
    data = (GOOD / "two-pages.pdf").read_bytes()
    response = upload("delivery-note-1043.pdf", data, invoices="I-1,I-2",
                      document_date="2025-01-08", signed_by_debtor="true", sealed="false",
                      original_held="true", description="Signed delivery note")  # fmt: skip
    assert response.status_code == 201, response.json
    body = response.json
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["size"], body["media_type"], body["pages"]) == (len(data), "application/pdf", 2)
    assert body["invoices"] == ["I-1", "I-2"] and body["signed_by_debtor"] is True
    assert body["duplicate_of"] is None and body["rendition_status"] == "done"
    token = upload.tokens["finance"]
    original = app.test_client().get(
        f"/api/v1/evidence/{body['id']}/file", headers={"Authorization": f"Bearer {token}"}
    )
    assert original.data == data
    assert original.headers["Content-Disposition"].startswith(
        'attachment; filename="delivery-note-1043.pdf"'
    )
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert original.headers["Cache-Control"] == "no-store"
    pdf = app.test_client().get(
        f"/api/v1/evidence/{body['id']}/pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_same_bytes_twice_are_stored_once_and_flagged(app, upload, before):
    data = (GOOD / "scan.png").read_bytes()
    first = upload("scan.png", data).json
    second = upload("scan-again.png", data)
    assert second.status_code == 201 and second.json["duplicate_of"] == first["id"]
    rows, files = _stored(app)
    assert rows == before[0] + 2
    assert files.count(first["sha256"]) == 1


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda path: path.name)
def test_bad_input_is_refused_and_leaves_nothing(app, upload, before, path):
    response = upload(path.name, path.read_bytes())
    assert 400 <= response.status_code < 500, response.json
    assert response.json["error"]["message"]
    assert _stored(app) == before


def test_too_large_is_413(tmp_path):
    from ..conftest import build_app
    from ..factories import build_world

    for app in build_app(tmp_path, EVIDENCE_MAX_BYTES=1000):
        with app.app_context():
            build_world()
            db.session.commit()
            token = token_for(World.EMAILS["legal"])
        response = app.test_client().post(
            "/api/v1/cases/1/evidence",
            data={"kind": "other", "file": (io.BytesIO(b"x" * 1001), "note.txt")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 413
        assert response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        ("../etc/passwd.pdf", {400}),
        ("a/b.pdf", {400}),
        ("nul\x00.pdf", {400}),
        # CR/LF cannot survive a multipart header: the part is not even a file any more.
        ("x\r\ny.pdf", {400, 422}),
    ],
)
def test_bad_file_names_are_refused(app, upload, before, name, statuses):
    response = upload(name, (GOOD / "two-pages.pdf").read_bytes())
    assert response.status_code in statuses
    assert _stored(app) == before


def test_bad_fields_are_422(app, upload, before):
    data = (GOOD / "note.txt").read_bytes()
    assert upload("note.txt", data, kind="selfie").status_code == 422
    assert upload("note.txt", data, invoices="I-3").status_code == 422  # another case's invoice
    assert upload("note.txt", data, document_date="yesterday").status_code == 422
    assert _stored(app) == before


def test_who_may_upload_and_read(app, upload, world):
    data = (GOOD / "note.txt").read_bytes()
    assert upload("note.txt", data, role="lawyer").status_code == 403
    assert upload("note.txt", data, role="lawyer", case=world.other_case).status_code == 404
    item = upload("note.txt", data, role="legal").json
    with app.app_context():
        other = token_for(World.EMAILS["other_lawyer"])
        mine = token_for(World.EMAILS["lawyer"])
    client = app.test_client()
    hidden = client.get(f"/api/v1/evidence/{item['id']}/file",
                        headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert hidden.status_code == 404
    listed = client.get(f"/api/v1/cases/{world.assigned_case}/evidence",
                        headers={"Authorization": f"Bearer {mine}"})  # fmt: skip
    assert [row["id"] for row in listed.json["items"]] == [world.assigned_evidence, item["id"]]


def test_a_pdf_named_png_is_stored_and_served_as_a_pdf_and_the_uploader_is_told(app, upload):
    data = (GOOD / "two-pages.pdf").read_bytes()
    response = upload("scan.png", data)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["media_type"] == "application/pdf"
    assert body["name"] == "scan.pdf" and body["renamed_from"] == "scan.png"
    original = app.test_client().get(
        f"/api/v1/evidence/{body['id']}/file",
        headers={"Authorization": f"Bearer {upload.tokens['finance']}"},
    )
    assert original.headers["Content-Type"] == "application/pdf"
    assert 'filename="scan.pdf"' in original.headers["Content-Disposition"]
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "evidence.add")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.changes["after"]["name"] == "scan.pdf"
        assert entry.changes["after"]["uploaded_as"] == "scan.png"
    # A name that already says the type is kept as it is, whatever its spelling.
    again = upload("Delivery note.PDF", data)
    assert again.json["name"] == "Delivery note.PDF" and again.json["renamed_from"] is None


def test_the_upload_form_says_when_a_file_was_renamed(app, client, world):
    login(client, World.EMAILS["finance"])
    data = (GOOD / "rotated.jpg").read_bytes()
    response = client.post(
        f"/cases/{world.assigned_case}/evidence",
        data={"kind": "delivery_note", "file": (io.BytesIO(data), "note.docx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "under the name “note.jpg”: its content is a JPEG image" in response.text
    assert "not what the name “note.docx” says" in response.text
