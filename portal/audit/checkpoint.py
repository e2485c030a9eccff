"""Checkpoints of the audit chain's head, kept outside the database.

The hash chain shows any edited or removed row in its middle, but not its newest rows deleted
together: what is left is still a valid chain. So the head — the newest entry's id and hash and
the number of entries — is written to a file outside the database at every signature and daily,
one JSON line each, with an HMAC-SHA256 under a key that is not in the database either
(``instance/audit_checkpoint_key``, or ``PORTAL_AUDIT_CHECKPOINT_KEY``). ``audit verify`` then
finds the rows the latest checkpoint names, or reports them missing.

A checkpoint asked for inside a transaction (a signature) is written after that transaction
commits, and not at all if it rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from ..config import instance_secret
from ..db import utcnow
from ..extensions import db
from .models import AuditEntry

_PENDING = "audit_checkpoint"


def checkpoint_path() -> Path:
    """``AUDIT_CHECKPOINT_PATH``, else ``instance/audit-checkpoints.jsonl``."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_PATH")
    return (
        Path(configured)
        if configured
        else Path(current_app.instance_path) / ("audit-checkpoints.jsonl")
    )


def _key() -> bytes:
    configured = current_app.config.get("AUDIT_CHECKPOINT_KEY")
    if configured:
        return str(configured).encode()
    return instance_secret(Path(current_app.instance_path) / "audit_checkpoint_key").encode()


def _mac(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(), canonical.encode(), hashlib.sha256).hexdigest()


def head(session: Session | Connection | None = None) -> dict[str, Any]:
    """The chain's newest entry (id and hash) and its length, as this session sees them."""
    session = session or db.session
    newest = session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return {
        "entry_id": newest.id if newest else None,
        "entry_hash": newest.entry_hash if newest else None,
        "entries": count,
    }


def write_checkpoint(reason: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append a checkpoint of the head (``state``, else read now) to the file; fsynced."""
    body = {"at": utcnow().isoformat(timespec="seconds"), "reason": reason, **(state or head())}
    line = json.dumps({**body, "mac": _mac(body)}, sort_keys=True)
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return body


def checkpoint_after_commit(reason: str) -> None:
    """Checkpoint the head as this transaction leaves it, once it has committed."""
    # The head is read at the commit, after this transaction's queued rows are appended.
    db.session.info[_PENDING] = (reason, None)


def capture_pending_head(session: Session, connection: Connection) -> None:
    """Fill in the session's pending checkpoint with the head its commit leaves: read on the
    committing connection right after its rows are appended, still under the chain's lock."""
    pending = session.info.get(_PENDING)
    if pending is not None and pending[1] is None:
        session.info[_PENDING] = (pending[0], head(connection))


@event.listens_for(Session, "after_commit")
def _write_pending(session: Session) -> None:
    # SQLAlchemy also calls this when a savepoint is released (``begin_nested``): the real
    # commit comes later, and only it may write the checkpoint.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if pending is not None and has_app_context():
        # No audit row in that transaction: the head is read now, after the commit.
        write_checkpoint(*pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def check_head() -> str | None:
    """Compare the chain with the latest checkpoint; a sentence for what is wrong, or None."""
    path = checkpoint_path()
    if not path.exists():
        return None
    latest = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            mac = data.pop("mac")
        except (ValueError, KeyError, AttributeError):
            return f"checkpoint line {number} of {path} is not a checkpoint"
        if not hmac.compare_digest(mac, _mac(data)):
            return f"checkpoint line {number} of {path} does not carry the portal's MAC (edited)"
        latest = data
    if latest is None or latest.get("entry_id") is None:
        return None
    found = db.session.get(AuditEntry, latest["entry_id"])
    now = head()
    if found is None or found.entry_hash != latest["entry_hash"]:
        return (
            f"the newest rows are missing: the checkpoint of {latest['at']} names entry "
            f"{latest['entry_id']} ({latest['entries']} entries), but the chain now ends at entry "
            f"{now['entry_id']} ({now['entries']} entries)"
        )
    if now["entries"] < latest["entries"]:
        return (
            f"rows are missing: the checkpoint of {latest['at']} counted {latest['entries']} "
            f"entries, the chain now has {now['entries']}"
        )
    return None
