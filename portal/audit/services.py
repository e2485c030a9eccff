"""Writing and verifying the audit trail."""

from __future__ import annotations

import enum
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from ..db import utcnow
from ..extensions import db
from .checkpoint import capture_pending_head
from .models import GENESIS_HASH, AuditEntry

if TYPE_CHECKING:
    from ..accounts.models import User

#: Any constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x41554449
#: ``Session.info`` key of the rows waiting for the commit, each with the savepoint it was
#: queued in (None: the transaction itself).
_QUEUE = "audit_queue"
#: ``Session.info`` key of the ``info`` of the connection the session's rows wait on, and that
#: connection's key of a weak reference to the session.
_CONNECTION_INFO = "audit_connection_info"
_WRITER = "audit_writer"
#: What is inserted of a row (the id comes from the database).
_COLUMNS = [column.key for column in AuditEntry.__table__.columns if column.key != "id"]


@dataclass(frozen=True)
class Actor:
    """Who causes a change and from where; services receive it instead of the request."""

    user: User | None
    ip: str | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return self.user.email if self.user is not None else "system"

    @classmethod
    def cli(cls) -> Actor:
        return cls(user=None, label="cli")

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, label="system")


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold."""

    entry_id: int
    reason: str


def jsonable(value: Any) -> Any:
    """A JSON value that reads back equal (enums, money, dates and times become strings)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the keys whose values differ, as ``{"before": {...}, "after": {...}}``."""
    # Compare values, not their text: Decimal("8") equals Decimal("8.000000").
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {
        "before": {key: jsonable(before.get(key)) for key in keys},
        "after": {key: jsonable(after.get(key)) for key in keys},
    }


def record(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Queue one row for the chain; it is appended as the caller's transaction commits.

    The row is chained and inserted in the same transaction as the change, right before the
    database commits it, under the chain's lock held only for that moment (not from here to the
    end of the request). Rolled back — the transaction, or the savepoint it was queued in — the
    row is never written. The object returned is not the stored row (it gets no id).
    """
    entry = AuditEntry(
        occurred_at=utcnow(),
        actor_id=actor.user.id if actor.user is not None else None,
        actor_label=actor.name,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes={"before": jsonable(before or {}), "after": jsonable(after or {})},
    )
    session = db.session()
    # The transaction begins here if it has not: its commit appends the row, its rollback
    # (even before any other statement) drops it.
    connection = session.connection()
    connection.info[_WRITER] = weakref.ref(session)
    session.info[_CONNECTION_INFO] = connection.info
    session.info.setdefault(_QUEUE, []).append((entry, session.get_nested_transaction()))
    return entry


@event.listens_for(Engine, "commit")
def _append_queued(connection: Connection) -> None:
    """Append the queued rows right before the database commits the transaction.

    A connection event, not the session's ``before_commit``: other ``before_commit`` listeners
    (stored figures, aging) still work and may record after it; here everything else is done.
    """
    writer = connection.info.pop(_WRITER, None)
    session = writer() if writer is not None else None
    if session is None or session.info.get(_CONNECTION_INFO) is not connection.info:
        return
    queued = session.info.pop(_QUEUE, None)
    if queued:
        _append(connection, [entry for entry, _savepoint in queued])
        capture_pending_head(session, connection)


@event.listens_for(Engine, "rollback")
def _forget_writer(connection: Connection) -> None:
    connection.info.pop(_WRITER, None)


def _append(connection: Connection, entries: list[AuditEntry]) -> None:
    """Chain ``entries`` to the newest row and insert them; the COMMIT follows at once."""
    if connection.dialect.name == "postgresql":
        # Released by that COMMIT. READ COMMITTED: the next statement sees the tail the lock's
        # previous holder committed. (SQLite: the database's write lock serialises writers.)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev_hash = connection.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    )
    prev_hash = prev_hash or GENESIS_HASH
    rows = []
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.entry_hash = prev_hash = entry.compute_hash()
        rows.append({name: getattr(entry, name) for name in _COLUMNS})
    connection.execute(insert(AuditEntry.__table__), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    queued = session.info.get(_QUEUE)
    if not queued:
        return
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)
        return
    # A savepoint rolled back: drop the rows queued in it or in savepoints inside it.
    session.info[_QUEUE] = [
        (entry, savepoint) for entry, savepoint in queued if not _within(savepoint, transaction)
    ]


@event.listens_for(Session, "after_transaction_end")
def _drop_unfinished(session: Session, transaction: SessionTransaction) -> None:
    # The transaction is over, committed or not: nothing it queued is left for a later one.
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)
        info = session.info.pop(_CONNECTION_INFO, None)
        if info is not None:
            info.pop(_WRITER, None)


def _within(savepoint: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is outer:
            return True
        savepoint = savepoint.parent
    return False


def iter_entries(batch: int = 1000) -> Iterable[AuditEntry]:
    """Every row in chain order, fetched in batches."""
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.expunge_all()


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Walk the chain; return the number of rows checked and the first break, if any."""
    expected_prev = GENESIS_HASH
    count = 0
    for entry in iter_entries():
        count += 1
        if entry.prev_hash != expected_prev:
            return count, ChainBreak(entry.id, "prev_hash does not match the row before")
        if entry.compute_hash() != entry.entry_hash:
            return count, ChainBreak(entry.id, "content does not match its hash")
        expected_prev = entry.entry_hash
    return count, None
