"""Backups you can restore: ``flask --app portal backup create DIR`` and ``backup restore DIR``.

A backup is a folder: the database (SQLite through its online backup API, so the newest
transactions still in the WAL are in it; PostgreSQL through ``pg_dump``), then the file store
(content-addressed and never rewritten, so every file a row of the database copy points at is
there), the instance's secrets and settings, and ``manifest.json`` with the SHA-256 of every
piece and the audit chain's head. A restore checks the manifest, refuses to overwrite data
without ``--force``, puts everything back, and then proves it: the audit chain, the store and
every signed PDF are verified.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .audit.checkpoint import check_head, checkpoint_path, head
from .audit.services import verify_chain
from .db import utcnow
from .extensions import db
from .storage import file_store

FORMAT = "arrears-portal-backup/1"
MANIFEST = "manifest.json"
#: Instance files a restored portal needs (the ones that exist are copied).
INSTANCE_FILES = ("secret_key", "audit_checkpoint_key", "config.py", "demo-tsa.pem", "demo-ca.pem")

backup_cli = AppGroup("backup", help="Back up and restore the database, files and secrets.")


class BackupError(click.ClickException):
    """A backup cannot be made or restored; the message says why."""


@dataclass
class RestoreReport:
    audit: str = ""
    store: str = ""
    signatures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    """The PostgreSQL client program's path. :raises BackupError: not installed."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: sudo apt-get install postgresql-client (the version of "
            "the server, or newer)."
        )
    return found


def _database_url() -> Any:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url: Any) -> str:
    """The URL as ``pg_dump`` and ``pg_restore`` take it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy a SQLite database with its online backup API: consistent, WAL included, while the
    portal keeps running."""
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target_path)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def create(folder: Path) -> dict[str, Any]:
    """Write a backup into ``folder`` (new or empty); the manifest.

    :raises BackupError: the folder holds something, or the database cannot be copied.
    """
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; give a new folder for the backup.")
    folder.mkdir(parents=True, exist_ok=True)
    url = _database_url()
    pieces: dict[str, str] = {}
    if url.get_backend_name() == "sqlite":
        target = folder / "portal.db"
        _sqlite_copy(Path(url.database), target)
        pieces["portal.db"] = _sha256(target)
    else:
        target = folder / "portal.pgdump"
        done = subprocess.run(  # noqa: S603 - the portal's own database URL and folder
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target),
             "--dbname", _libpq_url(url)],
            capture_output=True, text=True, timeout=3600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        pieces["portal.pgdump"] = _sha256(target)
    chain_head = head()
    # The store after the database: every file a copied row points at was written before it.
    store = file_store()
    files = folder / "files"
    stored = 0
    for sha256 in store.iter_hashes():
        destination = files / sha256[:2] / sha256[2:4] / sha256
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(store.path(sha256), destination)
        stored += 1
    instance = folder / "instance"
    instance.mkdir()
    sources = {name: Path(current_app.instance_path) / name for name in INSTANCE_FILES}
    sources["audit-checkpoints.jsonl"] = checkpoint_path()
    for name, source in sources.items():
        if source.is_file():
            shutil.copy2(source, instance / name)
            pieces[f"instance/{name}"] = _sha256(instance / name)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": url.get_backend_name(),
        "pieces": pieces,
        "files": stored,
        "audit_head": chain_head,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def _read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, with every piece and stored file checked against its hash.

    :raises BackupError: missing or damaged.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: it is not a backup of this portal.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{folder} is not a backup this portal can read ({manifest.get('format')})."
        )
    for name, expected in manifest["pieces"].items():
        piece = folder / name
        if not piece.is_file() or _sha256(piece) != expected:
            raise BackupError(f"The backup is damaged: {name} is missing or changed.")
    files = list((folder / "files").glob("??/??/*"))
    if len(files) != manifest["files"]:
        raise BackupError(
            f"The backup is damaged: {len(files)} stored files, the manifest says "
            f"{manifest['files']}."
        )
    for path in files:
        if _sha256(path) != path.name:
            raise BackupError(f"The backup is damaged: stored file {path.name} changed.")
    return manifest


def _holds_data() -> bool:
    from .accounts.models import User

    try:
        return bool(db.session.scalar(select(func.count()).select_from(User)))
    except Exception:  # no tables yet: an empty database
        db.session.rollback()
        return False


def restore(folder: Path, *, force: bool = False) -> RestoreReport:
    """Put a backup back, then verify the result.

    :raises BackupError: the backup is damaged, of another database kind, or the portal
        already holds data and ``force`` is not given.
    """
    manifest = _read_manifest(folder)
    url = _database_url()
    if manifest["database"] != url.get_backend_name():
        raise BackupError(
            f"The backup is of a {manifest['database']} database; this portal uses "
            f"{url.get_backend_name()}."
        )
    store = file_store()
    if not force and (_holds_data() or any(store.iter_hashes())):
        raise BackupError(
            "This portal already holds data; restoring would replace it. Run again with --force "
            "to overwrite (back it up first)."
        )
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        target = Path(url.database)
        for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)
        _sqlite_copy(folder / "portal.db", target)
    else:
        done = subprocess.run(  # noqa: S603 - the portal's own database URL and folder
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--dbname", _libpq_url(url), str(folder / "portal.pgdump")],
            capture_output=True, text=True, timeout=3600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    for path in (folder / "files").glob("??/??/*"):
        with path.open("rb") as handle:
            store.put(handle)
    instance = folder / "instance"
    for name in INSTANCE_FILES:
        if (instance / name).is_file():
            destination = Path(current_app.instance_path) / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(instance / name, destination)
    if (instance / "audit-checkpoints.jsonl").is_file():
        checkpoint_path().parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(instance / "audit-checkpoints.jsonl", checkpoint_path())
    return verify_restored()


def verify_restored() -> RestoreReport:
    """What a restore drill proves: the audit chain, the store, and every signed PDF."""
    from .audit.services import Actor
    from .bundles.models import BundleVolume
    from .documents.models import Document
    from .review.models import Approval
    from .review.verification import signed_pdf

    report = RestoreReport()
    count, broken = verify_chain()
    truncated = check_head()
    if broken is not None:
        report.problems.append(f"audit chain broken at entry {broken.entry_id}: {broken.reason}")
    elif truncated is not None:
        report.problems.append(f"audit chain: {truncated}")
    report.audit = f"{count} entries, chain intact" if not report.problems else "BROKEN"
    checked = file_store().check()
    if checked.missing or checked.corrupted:
        report.problems.append(
            f"file store: {len(checked.missing)} missing, {len(checked.corrupted)} corrupted"
        )
    report.store = f"{checked.files} files, {len(checked.missing)} missing, " \
        f"{len(checked.corrupted)} corrupted"  # fmt: skip
    documents = db.session.scalars(
        select(Document).join(Approval, Approval.document_id == Document.id)
    )
    volumes = db.session.scalars(select(BundleVolume).where(BundleVolume.signed_sha256.isnot(None)))
    for item in [*documents, *volumes]:
        label = (
            f"bundle {item.bundle_id} volume {item.number}"
            if isinstance(item, BundleVolume)
            else f"document {item.id} v{item.version}"
        )
        try:
            signed_pdf(Actor.cli(), item)
        except Exception as error:  # any failure is the drill's finding
            db.session.rollback()
            report.problems.append(f"{label}: {getattr(error, 'message', error)}")
        else:
            report.signatures.append(label)
    return report


@backup_cli.command("create")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def create_command(folder: Path) -> None:
    """Back up the database, the file store and the instance's secrets into FOLDER."""
    manifest = create(folder)
    click.echo(
        f"Backup of the {manifest['database']} database, {manifest['files']} stored files and "
        f"{sum(1 for name in manifest['pieces'] if name.startswith('instance/'))} instance "
        f"files in {folder} (audit head: entry {manifest['audit_head'].get('entry_id')})."
    )


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a portal that already holds data.")
def restore_command(folder: Path, force: bool) -> None:
    """Restore FOLDER (made by ``backup create``), then verify the audit chain, the file store
    and every signed PDF; exit 1 if anything fails."""
    report = restore(folder, force=force)
    click.echo(f"Restored from {folder}.")
    click.echo(f"  audit trail: {report.audit}")
    click.echo(f"  file store: {report.store}")
    click.echo(f"  signed PDFs verified: {len(report.signatures)}")
    for problem in report.problems:
        click.echo(f"  PROBLEM: {problem}", err=True)
    if report.problems:
        raise SystemExit(1)
    click.echo("Restore verified.")
