"""Audit rows are appended to the chain when their transaction commits, under the chain's lock
only for that moment; a transaction or savepoint rolled back leaves no row."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text

from portal.audit.checkpoint import checkpoint_after_commit, checkpoint_path
from portal.audit.models import AuditEntry
from portal.audit.services import _CHAIN_LOCK_KEY, Actor, record, verify_chain
from portal.extensions import db

ACTOR = Actor(user=None, label="tests")


def entries() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.object_id).order_by(AuditEntry.id)))


def test_a_rolled_back_transaction_leaves_no_row(ctx):
    record(ACTOR, "thing.change", "thing", 1)
    db.session.rollback()
    record(ACTOR, "thing.change", "thing", 2)
    db.session.commit()
    assert entries() == ["2"]
    assert verify_chain() == (1, None)


def test_a_row_is_written_at_the_commit_not_before(ctx):
    record(ACTOR, "thing.change", "thing", 1)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    db.session.commit()
    assert entries() == ["1"]


def test_a_rolled_back_savepoint_drops_only_its_rows(ctx):
    record(ACTOR, "thing.change", "thing", "before")
    savepoint = db.session.begin_nested()
    record(ACTOR, "thing.change", "thing", "in the savepoint")
    inner = db.session.begin_nested()
    record(ACTOR, "thing.change", "thing", "in a savepoint inside it")
    inner.commit()  # released into the outer savepoint, which is then rolled back
    savepoint.rollback()
    with db.session.begin_nested():
        record(ACTOR, "thing.change", "thing", "in a released savepoint")
    record(ACTOR, "thing.change", "thing", "after")
    db.session.commit()
    assert entries() == ["before", "in a released savepoint", "after"]
    assert verify_chain() == (3, None)


def test_rows_of_one_commit_are_chained_in_the_order_recorded(ctx):
    for number in range(3):
        record(ACTOR, "thing.change", "thing", number)
    db.session.commit()
    record(ACTOR, "thing.change", "thing", 3)
    db.session.commit()
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [row.object_id for row in rows] == ["0", "1", "2", "3"]
    assert [row.prev_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert verify_chain() == (4, None)


def test_a_checkpoint_names_the_row_its_commit_appended(ctx):
    record(ACTOR, "thing.change", "thing", 1)
    db.session.commit()
    record(ACTOR, "thing.sign", "thing", 2)
    checkpoint_after_commit("signature")
    db.session.commit()
    newest = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    lines = checkpoint_path().read_text().splitlines()
    written = json.loads(lines[-1])
    assert newest.object_id == "2"
    assert (written["entry_id"], written["entry_hash"]) == (newest.id, newest.entry_hash)
    assert written["entries"] == 2 and written["reason"] == "signature"


def test_the_chain_lock_is_not_held_while_the_transaction_works(app):
    """Another connection can take the chain's lock while a transaction with an audit row is
    still open; the lock was held from record() to the commit before."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the advisory lock is PostgreSQL's (SQLite: the database's write lock)")
        record(ACTOR, "thing.change", "thing", 1)
        db.session.execute(text("SELECT 1"))  # the transaction is open and has done work
        with db.engine.connect() as other:
            taken = other.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY}
            )
            other.rollback()
        assert taken is True
        db.session.commit()
        assert entries() == ["1"]


def test_a_row_recorded_by_another_before_commit_listener_is_kept(ctx):
    """Stored figures and aging are computed in ``before_commit`` listeners, which may record
    too: the rows are appended after every such listener, at the database's commit."""
    session_class = db.session.session_factory.class_

    def late(session):
        if not session.info.get("late_done"):
            session.info["late_done"] = True
            record(ACTOR, "thing.late", "thing", "late")

    event.listen(session_class, "before_commit", late)
    try:
        record(ACTOR, "thing.change", "thing", "early")
        db.session.commit()
    finally:
        event.remove(session_class, "before_commit", late)
    assert entries() == ["early", "late"]
    assert verify_chain() == (2, None)


def test_a_released_savepoint_does_not_write_the_checkpoint(ctx):
    """SQLAlchemy reports a savepoint's release as a commit; the checkpoint waits for the real
    one (the case figures compute inside a savepoint just before every commit)."""
    record(Actor.system(), "test.savepoint", "test", "1")
    checkpoint_after_commit("signature")
    with db.session.begin_nested():
        record(Actor.system(), "test.savepoint", "test", "2")
    path = checkpoint_path()
    before = path.read_text().splitlines() if path.exists() else []
    db.session.commit()
    lines = path.read_text().splitlines()
    # One checkpoint line, written by the commit and naming its last row.
    assert len(lines) == len(before) + 1
    newest = db.session.scalar(select(func.max(AuditEntry.id)))
    assert json.loads(lines[-1])["entry_id"] == newest
