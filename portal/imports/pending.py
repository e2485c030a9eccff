"""Uploaded files kept between the preview and the confirmation, under server-made names.

A file lives in ``<instance>/imports/<token>.bin`` (mode 0600); the token is random and the page's
session says which kind of file it is and its SHA-256, so a confirmation imports exactly the bytes
that were previewed. Files older than a day are swept away when a new one is saved.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app

#: Seconds a previewed file waits for its confirmation.
MAX_AGE = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def _path(token: str) -> Path | None:
    return _folder() / f"{token}.bin" if _TOKEN.fullmatch(token or "") else None


def save(data: bytes) -> str:
    """Store ``data`` under a new random token and return the token."""
    folder = _folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _sweep(folder)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(folder / f"{token}.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return token


def load(token: str) -> bytes | None:
    """The stored bytes, or ``None`` for an unknown, malformed or expired token."""
    path = _path(token)
    if path is None:
        return None
    try:
        if time.time() - path.stat().st_mtime > MAX_AGE:
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()
    except FileNotFoundError:
        return None


def discard(token: str | None) -> None:
    """Delete a stored file (nothing happens when it is already gone)."""
    path = _path(token or "")
    if path is not None:
        path.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
