"""The case-insensitive invoice number check is served by ix_invoice_creditor_lower_number (it was
a sequential scan of every invoice), and the migrated schema matches the models on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from portal import create_app
from portal.extensions import db
from portal.ledger.models import CreditorEntity, Debtor, Invoice
from portal.ledger.upserts import number_clash

from ..cases.test_references import _drop_database, _scratch_database
from ..conftest import make_config
from ..factories import World

#: Enough invoices that reading them all costs the planner more than the index does.
INVOICES = 5000


def _many_invoices() -> None:
    creditor = db.session.scalar(select(CreditorEntity.id))
    debtor = db.session.scalar(select(Debtor.id).where(Debtor.external_id == "D-1"))
    db.session.execute(
        insert(Invoice),
        [
            {
                "external_id": f"BULK-{n}",
                "debtor_id": debtor,
                "creditor_id": creditor,
                "number": f"Inv-{n:05d}",
                "issue_date": dt.date(2025, 1, 1),
                "due_date": dt.date(2025, 2, 1),
                "currency": "GBP",
                "amount": "10.00",
            }
            for n in range(INVOICES)
        ],
    )
    db.session.commit()


def test_the_number_check_finds_another_case_of_the_number(app, world: World):
    with app.app_context():
        _many_invoices()
        creditor = db.session.scalar(select(CreditorEntity.id))
        # "INV-00042" is "Inv-00042" in other letters; the invoice itself is no clash.
        assert db.session.scalar(number_clash(creditor, " INV-00042 ", "NEW")) == "BULK-42"
        assert db.session.scalar(number_clash(creditor, "inv-00042", "BULK-42")) is None


def test_the_number_check_uses_the_index(app, world: World):
    with app.app_context():
        _many_invoices()
        creditor = db.session.scalar(select(CreditorEntity.id))
        statement = number_clash(creditor, "INV-00042", "NEW").compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE invoice"))
            plan = db.session.scalars(text(f"EXPLAIN {statement}")).all()
        else:
            db.session.execute(text("ANALYZE"))
            plan = [row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}"))]
        # Default planner settings: the index is chosen on cost, not forced.
        assert any("ix_invoice_creditor_lower_number" in line for line in plan), plan


def test_the_migrated_schema_matches_the_models_on_postgresql(tmp_path, monkeypatch):
    """SQLite cannot reflect the index on lower(number); PostgreSQL compares it."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL run only (PORTAL_TEST_DATABASE_URL)")
    scratch = _scratch_database(url, f"migrate_index_{os.getpid()}")
    try:
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
        app = create_app(make_config(tmp_path, DATABASE_URL=scratch.render_as_string(False)))
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
                indexes = connection.scalar(
                    text(
                        "SELECT indexdef FROM pg_indexes "
                        "WHERE indexname = 'ix_invoice_creditor_lower_number'"
                    )
                )
            db.engine.dispose()
        assert "(creditor_id, lower((number)::text))" in indexes
    finally:
        _drop_database(scratch)
