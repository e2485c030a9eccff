"""The content-addressed file store and ``flask storage check``."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from portal import storage
from portal.storage import FileStore, StorageError


def test_put_is_content_addressed_and_deduplicated(tmp_path):
    store = FileStore(tmp_path / "files")
    data = b"%PDF-1.7 a delivery note"
    sha, size = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest() and size == len(data)
    path = store.path(sha)
    assert path == tmp_path / "files" / sha[:2] / sha[2:4] / sha
    assert store.put(io.BytesIO(data)) == (sha, size), "the same bytes are stored once"
    assert list(store.iter_hashes()) == [sha]
    assert store.read(sha) == data
    assert not [name for name in os.listdir(tmp_path / "files") if name.startswith(".incoming")]
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_corruption_is_detected_on_read(tmp_path):
    store = FileStore(tmp_path)
    sha, _size = store.put(b"original bytes")
    path = store.path(sha)
    os.chmod(path, 0o600)
    path.write_bytes(b"tampered bytes")
    with pytest.raises(StorageError, match="damaged"):
        store.read(sha)
    assert store.verify(sha) is False
    with pytest.raises(StorageError, match="missing"):
        store.read("0" * 64)
    # Files handed on by path (a bundle's exhibits) are checked the same way first.
    with pytest.raises(StorageError, match="damaged"):
        store.verified_path(sha)
    with pytest.raises(StorageError, match="missing"):
        store.verified_path("0" * 64)
    good, _size = store.put(b"kept bytes")
    assert store.verified_path(good).read_bytes() == b"kept bytes"


def test_cli_check_reports_missing_orphaned_and_corrupted(app, monkeypatch):
    with app.app_context():
        store = storage.file_store()
        kept, _ = store.put(b"a file a row points at")
        corrupt, _ = store.put(b"a file that will rot")
        # A crash after the file was written but before the row was committed leaves an orphan.
        orphan, _ = store.put(b"uploaded, then the request died")
    os.chmod(store.path(corrupt), 0o600)
    store.path(corrupt).write_bytes(b"rotten")
    missing = hashlib.sha256(b"a row whose file vanished").hexdigest()
    monkeypatch.setattr(storage, "_reference_providers", [lambda: {kept, corrupt, missing}])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 1
    assert f"missing: {missing}" in result.output
    assert f"corrupted: {corrupt}" in result.output
    assert f"orphaned: {orphan}" in result.output
    assert f"orphaned: {kept}" not in result.output
    removed = runner.invoke(args=["storage", "check", "--remove-orphans", "--grace-minutes", "0"])
    assert f"orphaned: {orphan} (removed)" in removed.output
    assert not store.exists(orphan) and store.exists(kept)


def test_cleanup_keeps_young_orphans_and_a_running_jobs_files_and_finds_partials(
    app, world, monkeypatch
):
    """Only orphans older than the grace period, and older than the oldest running job, are
    removed; partial files a crash left (``.incoming-*``) are reported and removed too."""
    import datetime as dt

    from portal.extensions import db
    from portal.jobs.models import Job, JobStatus

    now = dt.datetime.now(dt.UTC).timestamp()
    with app.app_context():
        store = storage.file_store()
        young, _ = store.put(b"a bulk job's letter, its batch not yet committed")
        old, _ = store.put(b"left by a request that died two hours ago")
    os.utime(store.path(old), (now - 7200, now - 7200))
    crashed = store.root / ".incoming-crashed"
    crashed.write_bytes(b"half an upload")
    os.utime(crashed, (now - 7200, now - 7200))
    (store.root / ".incoming-now").write_bytes(b"an upload under way")
    referenced = set(store.iter_hashes()) - {young, old}
    monkeypatch.setattr(storage, "_reference_providers", [lambda: referenced])
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["storage", "check"])
    assert checked.exit_code == 1
    assert "partial: .incoming-crashed (left by a crash)" in checked.output
    assert "partial: .incoming-now (recent: possibly an upload under way)" in checked.output
    # A job running for three hours may still commit rows pointing at the two-hour-old file.
    with app.app_context():
        job = db.session.get(Job, world.legal_job)
        job.status = JobStatus.RUNNING
        job.started_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        db.session.commit()
    cleaned = runner.invoke(args=["storage", "check", "--remove-orphans"])
    assert f"orphaned: {old} (kept" in cleaned.output and store.exists(old)
    assert f"orphaned: {young} (kept" in cleaned.output and store.exists(young)
    assert crashed.exists()
    with app.app_context():
        db.session.get(Job, world.legal_job).status = JobStatus.DONE
        db.session.commit()
    cleaned = runner.invoke(args=["storage", "check", "--remove-orphans"])
    assert f"orphaned: {old} (removed)" in cleaned.output and not store.exists(old)
    assert f"orphaned: {young} (kept" in cleaned.output and store.exists(young)  # < 1 hour
    assert "partial: .incoming-crashed (removed)" in cleaned.output and not crashed.exists()
    assert (store.root / ".incoming-now").exists()
    assert cleaned.exit_code == 0, cleaned.output
