"""The migrations build the schema the models describe, guards included."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from portal import create_app
from portal.extensions import db

from .conftest import make_config


def test_upgrade_on_an_empty_sqlite_database_matches_the_models(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app(make_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            assert compare_metadata(context, db.metadata) == []
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            assert set(triggers) == {"audit_entry_no_update", "audit_entry_no_delete"}
        assert "audit_entry" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_migrated_enum_checks_allow_every_value(tmp_path, monkeypatch):
    """Autogenerate does not compare CHECK constraints: this catches an enum value added to a
    model without a migration that widens its constraint."""
    import re

    from sqlalchemy import Enum

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app(make_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'enums.db'}"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            schemas = dict(
                connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                ).all()
            )
        db.engine.dispose()
    missing = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Enum):
                check = re.search(
                    rf"CHECK \({re.escape(column.name)} IN \(([^)]*)\)\)", schemas[table.name]
                )
                allowed = set(re.findall(r"'([^']*)'", check.group(1))) if check else set()
                missing += [
                    f"{table.name}.{column.name}={value}"
                    for value in column.type.enums
                    if value not in allowed
                ]
    assert missing == []
