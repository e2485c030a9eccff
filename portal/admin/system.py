"""The System page: what an administrator must act on — damaged or missing stored files — and
the state of the parts the portal depends on (database, job queue, worker, file store, malware
scanner)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import func, select

from ..audit.models import AuditEntry
from ..extensions import db
from ..jobs import queue_health
from ..jobs.sweep import worker_health
from ..scanning import scanner_health
from ..security import Permission, permission_required
from ..storage import file_store, store_health
from .views import bp

#: Audit actions written when a request met a stored file it could not use (portal/errors.py).
FILE_PROBLEMS = ("file.damaged", "file.missing")


@dataclass(frozen=True)
class FileProblem:
    """A stored file some request found damaged or missing, and whether it is fixed now."""

    sha256: str
    problem: str
    first_seen: datetime
    last_seen: datetime
    times: int
    last_path: str
    restored: bool


def file_problems() -> list[FileProblem]:
    """Every file a request refused, newest first; ``restored`` once its bytes verify again."""
    rows = db.session.execute(
        select(
            AuditEntry.object_id,
            AuditEntry.action,
            func.min(AuditEntry.occurred_at),
            func.max(AuditEntry.occurred_at),
            func.count(),
            func.max(AuditEntry.id),
        )
        .where(AuditEntry.action.in_(FILE_PROBLEMS))
        .group_by(AuditEntry.object_id, AuditEntry.action)
    ).all()
    latest = {
        entry.id: entry
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.id.in_([row[5] for row in rows]))
        )
    }
    store = file_store()
    problems = [
        FileProblem(
            sha256=sha256,
            problem=action.removeprefix("file."),
            first_seen=first,
            last_seen=last,
            times=times,
            last_path=(latest[last_id].changes.get("after") or {}).get("path", ""),
            restored=store.verify(sha256),
        )
        for sha256, action, first, last, times, last_id in rows
    ]
    return sorted(problems, key=lambda item: item.last_seen, reverse=True)


@bp.get("/system")
@permission_required(Permission.MANAGE_USERS)
def system():
    """Files to restore from backup, and the health of the portal's dependencies."""
    problems = file_problems()
    worker, seen = worker_health()
    store, free = store_health(int(current_app.config["HEALTH_MIN_FREE_BYTES"]))
    return render_template(
        "admin/system.html",
        open_problems=[item for item in problems if not item.restored],
        restored=[item for item in problems if item.restored],
        health={"queue": queue_health(), "worker": worker, "store": store},
        worker_seen=seen,
        free_bytes=free,
        scanner=scanner_health(),
    )
