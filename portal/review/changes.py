"""What changed between two versions of a document: its context snapshot compared field by field
(the review page shows it, so a lawyer re-reviewing sees which figures moved)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..documents.models import Document
from ..extensions import db


@dataclass(frozen=True)
class ContextChange:
    """One value of the context snapshot that differs from the previous version."""

    field: str
    before: Any
    after: Any


def previous_version(document: Document) -> Document | None:
    """The version before this one of the same kind on the same case."""
    return db.session.scalar(
        select(Document)
        .where(
            Document.case_id == document.case_id,
            Document.kind == document.kind,
            Document.version < document.version,
        )
        .order_by(Document.version.desc())
        .limit(1)
    )


def context_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ContextChange]:
    """What differs between two context snapshots, by dotted field name (lists compared whole,
    so a changed invoice row shows as the table before and after)."""
    changes: list[ContextChange] = []

    def walk(prefix: str, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new), key=str):
                walk(f"{prefix}.{key}" if prefix else str(key), old.get(key), new.get(key))
        elif old != new:
            changes.append(ContextChange(prefix, old, new))

    walk("", before or {}, after or {})
    return changes
