"""A stored file whose bytes no longer match their hash (or that is gone) is never served: 409
saying it must be restored from the backup, an audit entry, and a notice on the System page."""

from __future__ import annotations

import os

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.storage import file_store

from .conftest import login
from .factories import World, token_for


def _stored_path(app, evidence_id: int):
    with app.app_context():
        sha256 = db.session.get(Evidence, evidence_id).sha256
        return sha256, file_store().path(sha256)


def _flip_one_byte(path) -> bytes:
    original = path.read_bytes()
    os.chmod(path, 0o640)
    path.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])
    return original


def test_a_damaged_file_is_refused_audited_and_listed_until_restored(app, client, world: World):
    sha256, path = _stored_path(app, world.assigned_evidence)
    original = _flip_one_byte(path)
    assert login(client, World.EMAILS["legal"]).status_code == 302
    page = client.get(f"/evidence/{world.assigned_evidence}/file")
    assert page.status_code == 409
    assert "damaged" in page.text and "restore it from the backup" in page.text
    assert original not in page.data
    with app.app_context():
        headers = {"Authorization": f"Bearer {token_for(World.EMAILS['legal'])}"}
    api = client.get(f"/api/v1/evidence/{world.assigned_evidence}/file", headers=headers)
    assert api.status_code == 409 and api.json["error"]["code"] == "file_damaged"
    assert "restore it from the backup" in api.json["error"]["message"]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "file.damaged")
        ).all()
    assert [entry.object_id for entry in entries] == [sha256, sha256]
    assert entries[0].actor_label == World.EMAILS["legal"]
    assert entries[0].changes["after"]["path"] == f"/evidence/{world.assigned_evidence}/file"

    admin = app.test_client()
    login(admin, World.EMAILS["admin"])
    notice = admin.get("/admin/system").text
    assert "1 stored file must be restored from the backup" in notice and sha256 in notice

    # The administrator restores the bytes (here: puts them back); the notice goes.
    path.write_bytes(original)
    assert client.get(f"/evidence/{world.assigned_evidence}/file").data == original
    notice = admin.get("/admin/system").text
    assert "must be restored" not in notice and "verifies again" in notice


def test_a_missing_file_is_409_too(app, client, world: World):
    sha256, path = _stored_path(app, world.assigned_evidence)
    path.unlink()
    with app.app_context():
        headers = {"Authorization": f"Bearer {token_for(World.EMAILS['legal'])}"}
    api = client.get(f"/api/v1/evidence/{world.assigned_evidence}/file", headers=headers)
    assert api.status_code == 409 and api.json["error"]["code"] == "file_missing"
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "file.missing")
        ).one()
    assert entry.object_id == sha256
