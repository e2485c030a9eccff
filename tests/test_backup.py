"""The restore drill: back up, wipe, restore; the audit chain, the store and every signature
pass, and the signed PDF downloads byte-identical (SQLite here, PostgreSQL in the second run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from portal.extensions import db
from portal.storage import file_store

from .documents.test_documents_api import auth
from .review.flow import counsel_p12, signed_letter, trusted_ca


def test_backup_wipe_restore_drill(app, client, world, tmp_path: Path):
    ca_pem, ca_key = trusted_ca(app)
    document_id, signed = signed_letter(app, client, world, counsel_p12(ca_pem, ca_key))
    runner = app.test_cli_runner()
    folder = tmp_path / "backup-1"
    made = runner.invoke(args=["backup", "create", str(folder)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"] >= 2 and manifest["audit_head"]["entries"] > 0
    assert "instance/secret_key" in manifest["pieces"] or app.config.get("SECRET_KEY")
    # A second backup into the same folder is refused.
    again = runner.invoke(args=["backup", "create", str(folder)])
    assert again.exit_code == 1 and "not empty" in again.output

    # Restoring over a portal that holds data needs --force.
    refused = runner.invoke(args=["backup", "restore", str(folder)])
    assert refused.exit_code == 1 and "--force" in refused.output

    # Wipe: the database's tables and every stored file.
    with app.app_context():
        db.session.remove()
        db.drop_all()
        store_root = file_store().root
    shutil.rmtree(store_root)
    assert client.get(f"/api/v1/documents/{document_id}/pdf").status_code in (401, 500)

    restored = runner.invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "Restore verified." in restored.output
    assert "signed PDFs verified: 1" in restored.output
    checked = runner.invoke(args=["audit", "verify"])
    assert checked.exit_code == 0, checked.output
    store = runner.invoke(args=["storage", "check"])
    assert store.exit_code == 0, store.output
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=auth(app, "legal"))
    assert pdf.status_code == 200 and pdf.data == signed  # byte-identical


def test_a_damaged_backup_is_refused_before_anything_changes(app, client, world, tmp_path):
    runner = app.test_cli_runner()
    folder = tmp_path / "backup-2"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    stored = next((folder / "files").glob("??/??/*"))
    stored.chmod(0o600)
    stored.write_bytes(b"rotten")
    refused = runner.invoke(args=["backup", "restore", "--force", str(folder)])
    assert refused.exit_code == 1 and "damaged" in refused.output
    assert client.get("/api/v1/me", headers=auth(app, "legal")).status_code == 200
