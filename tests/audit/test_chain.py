"""The audit trail is append-only and hash-chained; tampering is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.audit.models import GENESIS_HASH, AuditEntry
from portal.audit.services import Actor, diff, record, verify_chain
from portal.extensions import db

from ..factories import World


def _write_entries(count: int) -> None:
    for number in range(count):
        record(
            Actor(user=None, label="tests", ip="10.0.0.1"),
            "thing.change",
            "thing",
            number,
            before={"n": number},
            after={"n": number + 1},
        )
    db.session.commit()


def _without_guards(statement: str, **params) -> None:
    """Change a row the way an intruder with database access would: around the guards."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_entry_no_update"))
        db.session.execute(text("DROP TRIGGER audit_entry_no_delete"))
        db.session.execute(text(statement), params)
    else:
        db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        db.session.execute(text(statement), params)
        db.session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
    db.session.commit()


def test_rows_are_chained(ctx):
    _write_entries(3)
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert all(row.entry_hash == row.compute_hash() for row in rows)
    assert rows[0].occurred_at.tzinfo is not None and rows[0].ip == "10.0.0.1"
    assert verify_chain() == (3, None)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"]
)
def test_database_refuses_update_and_delete(ctx, statement):
    _write_entries(2)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 2


def test_tampered_content_is_found_by_cli(app):
    with app.app_context():
        _write_entries(5)
        third = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[2]
        _without_guards(
            "UPDATE audit_entry SET actor_label = 'someone else' WHERE id = :id", id=third
        )
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at audit entry {third}: content does not match its hash" in result.output


def test_deleted_row_is_found(app):
    with app.app_context():
        _write_entries(4)
        ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        _without_guards("DELETE FROM audit_entry WHERE id = :id", id=ids[1])
        count, broken = verify_chain()
    assert broken is not None and broken.entry_id == ids[2]
    assert broken.reason == "prev_hash does not match the row before"


def test_intact_chain_passes_cli(app):
    with app.app_context():
        _write_entries(2)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "Audit trail intact: 2 entries" in result.output


def test_diff_keeps_only_changed_fields():
    assert diff({"a": 1, "b": "x"}, {"a": 2, "b": "x"}) == {"before": {"a": 1}, "after": {"a": 2}}


def test_assigning_a_lawyer_is_audited_with_before_and_after(app, client, world: World):
    from ..conftest import login

    login(client, World.EMAILS["admin"])
    response = client.post(
        f"/cases/{world.assigned_case}/lawyer", data={"lawyer": str(world.other_lawyer)}
    )
    assert response.status_code == 303
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.assign_lawyer")
        ).one()
        assert entry.actor_label == World.EMAILS["admin"]
        assert entry.object_id == str(world.assigned_case)
        assert entry.changes == {
            "before": {"lawyer": World.EMAILS["lawyer"]},
            "after": {"lawyer": World.EMAILS["other_lawyer"]},
        }


def test_deleting_the_newest_rows_is_found_by_the_checkpoint(app):
    """A chain without its newest rows is still a valid chain: only the checkpoint outside the
    database shows the rows are gone."""
    from portal.audit.checkpoint import checkpoint_path, write_checkpoint

    with app.app_context():
        _write_entries(6)
        written = write_checkpoint("test")
        assert written["entries"] == 6
        path = checkpoint_path()
        assert path.parent == Path(app.instance_path)
        newest = written["entry_id"]
        intact = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert intact.exit_code == 0, intact.output
        # The intruder deletes the two newest rows: what is left still chains.
        _without_guards("DELETE FROM audit_entry WHERE id > :id", id=newest - 2)
        assert verify_chain()[1] is None
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert (
        f"the newest rows are missing: the checkpoint of {written['at']} names entry {newest} "
        f"(6 entries), but the chain now ends at entry {newest - 2} (4 entries)"
    ) in result.output


def test_an_edited_checkpoint_is_reported(app):
    from portal.audit.checkpoint import checkpoint_path, write_checkpoint

    with app.app_context():
        _write_entries(2)
        write_checkpoint("test")
        path = checkpoint_path()
        path.write_text(path.read_text().replace('"entries": 2', '"entries": 1'))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "does not carry the portal's MAC (edited)" in result.output
