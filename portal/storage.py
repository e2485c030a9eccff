"""Content-addressed file store: a file's name is its SHA-256, so the same bytes are kept once.

Writes go to a temporary file in the store, are fsynced, then renamed into place (and the folder
fsynced) before the caller commits the row that points at them; a crash in between leaves an
orphan file, never a row without its file. Reads verify the hash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app

CHUNK = 1024 * 1024
_HEX = frozenset("0123456789abcdef")


class StorageError(Exception):
    """A file is missing or its bytes no longer match their hash (``problem``: ``missing`` or
    ``damaged``); either way only a restore from backup brings it back."""

    def __init__(self, sha256: str, problem: str) -> None:
        self.sha256 = sha256
        self.problem = problem
        what = "is missing from the store" if problem == "missing" else "is damaged"
        detail = "" if problem == "missing" else " (its bytes no longer match their hash)"
        super().__init__(f"file {sha256} {what}{detail}")


@dataclass
class StoreReport:
    """What ``check`` found."""

    files: int = 0
    referenced: int = 0
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Orphans kept by ``remove_orphans``: younger than the grace period, or written since a job
    #: that is still running began (its rows are not committed yet).
    kept: list[str] = field(default_factory=list)
    #: Partial uploads (``.incoming-*``) and health probes in the store's root; the ones older
    #: than the grace period were left by a crash (younger ones may be uploads under way).
    partials: list[str] = field(default_factory=list)
    stale_partials: list[str] = field(default_factory=list)
    removed_partials: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        left = set(self.orphans) - set(self.removed) - set(self.kept)
        stray = set(self.stale_partials) - set(self.removed_partials)
        return not (self.missing or self.corrupted or left or stray)


#: Functions returning the SHA-256 of every file some table points at (evidence, documents …).
_reference_providers: list[Callable[[], Iterable[str]]] = []


def register_references(provider: Callable[[], Iterable[str]]) -> None:
    """Tell ``check`` which hashes rows point at (each domain that stores files registers)."""
    if provider not in _reference_providers:
        _reference_providers.append(provider)


def _valid(sha256: str) -> bool:
    return len(sha256) == 64 and set(sha256) <= _HEX


class FileStore:
    """Files under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _valid(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO | bytes) -> tuple[str, int]:
        """Store bytes or a stream; returns ``(sha256, size)``. Existing content is kept as is."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle, temp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(handle, "wb") as temp:
                if isinstance(source, bytes | bytearray):
                    temp.write(source)
                    digest.update(source)
                    size = len(source)
                else:
                    while chunk := source.read(CHUNK):
                        temp.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            sha256 = digest.hexdigest()
            target = self.path(sha256)
            if target.exists():
                os.unlink(temp_name)
                return sha256, size
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temp_name, 0o440)
            os.replace(temp_name, target)
            _fsync_dir(target.parent)
            return sha256, size
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def open(self, sha256: str) -> BinaryIO:
        """The stored file for reading. :raises StorageError: missing."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as error:
            raise StorageError(sha256, "missing") from error

    def read(self, sha256: str) -> bytes:
        """The whole file, verified. :raises StorageError: missing or corrupted."""
        with self.open(sha256) as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StorageError(sha256, "damaged")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def verified_path(self, sha256: str) -> Path:
        """The stored file's path, once its bytes were checked against its name (read in
        chunks: for large files handed to a library by path rather than held in memory).

        :raises StorageError: missing or corrupted.
        """
        if not self.exists(sha256):
            raise StorageError(sha256, "missing")
        if not self.verify(sha256):
            raise StorageError(sha256, "damaged")
        return self.path(sha256)

    def verify(self, sha256: str) -> bool:
        """Whether the file exists and its bytes hash to its name."""
        try:
            with self.open(sha256) as handle:
                digest = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except StorageError:
            return False
        return digest.hexdigest() == sha256

    def iter_hashes(self) -> Iterator[str]:
        """Every stored file's hash (incomplete temporary files are skipped)."""
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and _valid(path.name):
                yield path.name

    def remove(self, sha256: str) -> None:
        path = self.path(sha256)
        path.unlink(missing_ok=True)

    def check(
        self,
        *,
        remove_orphans: bool = False,
        grace: timedelta = timedelta(hours=1),
        busy_since: datetime | None = None,
        now: datetime | None = None,
    ) -> StoreReport:
        """Missing, orphaned and corrupted files (every file's hash is recomputed), and partial
        files a crash left behind.

        ``remove_orphans`` deletes orphans and partials older than ``grace`` and older than
        ``busy_since`` (when the oldest running job began: its files are orphans only until
        its transaction commits); younger ones are reported as kept.
        """
        referenced = {sha for provider in _reference_providers for sha in provider()}
        stored = set(self.iter_hashes())
        report = StoreReport(files=len(stored), referenced=len(referenced))
        report.missing = sorted(referenced - stored)
        report.orphans = sorted(stored - referenced)
        report.corrupted = sorted(sha for sha in stored if not self.verify(sha))
        moment = now or datetime.now(UTC)
        cutoff = moment - grace if busy_since is None else min(moment - grace, busy_since)

        def older(path: Path, than: datetime) -> bool:
            try:
                return datetime.fromtimestamp(path.stat().st_mtime, UTC) < than
            except FileNotFoundError:
                return False

        partials = []
        if self.root.exists():
            partials = sorted(self.root.glob(".incoming-*")) + sorted(self.root.glob(".health-*"))
        report.partials = [path.name for path in partials]
        report.stale_partials = [path.name for path in partials if older(path, moment - grace)]
        if not remove_orphans:
            return report
        for sha in report.orphans:
            if older(self.path(sha), cutoff):
                self.remove(sha)
                report.removed.append(sha)
            else:
                report.kept.append(sha)
        for path in partials:
            if older(path, cutoff):
                path.unlink(missing_ok=True)
                report.removed_partials.append(path.name)
        return report


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def init_app(app: Flask) -> None:
    """The store lives in ``FILE_STORE_PATH`` (default ``instance/files``)."""
    root = app.config.get("FILE_STORE_PATH") or Path(app.instance_path) / "files"
    app.extensions["file_store"] = FileStore(Path(root))


def file_store() -> FileStore:
    """The current app's store."""
    return current_app.extensions["file_store"]


def store_health(min_free: int) -> tuple[str, int | None]:
    """``("ok", free bytes)`` when the store takes a write and its disk has ``min_free`` bytes,
    else the reason (``/api/v1/health``)."""
    root = file_store().root
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".health-", dir=root) as probe:
            probe.write(b"ok")
            probe.flush()
        free = shutil.disk_usage(root).free
    except OSError as error:
        return f"not writable: {error.strerror or type(error).__name__}", None
    if free < min_free:
        return f"disk almost full: {free // 1024**2} MB free", free
    return "ok", free
