"""The audit trail: append-only, each row chained to the previous one by SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db

#: ``prev_hash`` of the first row.
GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One state change: who did what to which object, before and after, when and from where."""

    __tablename__ = "audit_entry"
    #: The audit page sorts by object as well as by id, time, actor and action.
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The actor's e-mail at the time (or ``system``/``cli``), kept even if the user changes.
    actor_label: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    #: Dotted verb, e.g. ``user.create``, ``case.assign_lawyer``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: ``{"before": {...}, "after": {...}}`` of the fields that changed.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``entry_hash`` of the row before; unique, so two writers can never fork the chain.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    def compute_hash(self) -> str:
        """SHA-256 over the canonical JSON of this row's content and ``prev_hash``."""
        return hash_entry(
            {
                "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
                "actor_id": self.actor_id,
                "actor_label": self.actor_label,
                "ip": self.ip,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "changes": self.changes,
            },
            self.prev_hash,
        )


def hash_entry(content: dict[str, Any], prev_hash: str) -> str:
    """The chain hash of one row's content given its predecessor's hash."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


#: Database-level guards: the application never updates or deletes audit rows, and neither may
#: anybody else through SQL. Alembic does not see triggers; the first migration creates them too.
SQLITE_GUARDS = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
]
POSTGRESQL_GUARDS = [
    "CREATE OR REPLACE FUNCTION audit_entry_refuse_change() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit trail is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change()",
]

for _statement in SQLITE_GUARDS:
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_GUARDS:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
