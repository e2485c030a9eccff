"""Case references come from a counter per year: ``AC-2026-0007``, and past 9,999 ``AC-2026-10001``
(the text maximum of the references had stopped at ``AC-2026-9999``)."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.cases.models import Case, CaseReferenceSequence
from portal.cases.services import next_reference, open_case
from portal.db import utcnow
from portal.extensions import db
from portal.ledger.models import Debtor

from ..conftest import login, make_config
from ..factories import ACTOR, World, make_invoice, token_for


def by_hand(world: World, *numbers: int) -> None:
    """Cases of this year with these numbers, as if opened earlier (no counter involved)."""
    year = utcnow().year
    for number in numbers:
        db.session.add(
            Case(
                reference=f"AC-{year}-{number:04d}",
                creditor_id=world.creditor,
                debtor_id=db.session.scalar(select(Debtor.id).where(Debtor.external_id == "D-1")),
                owner_id=world.legal,
                jurisdiction="ew",
            )
        )
    db.session.flush()


def test_references_count_up_within_the_year(app, world: World):
    year = utcnow().year
    with app.app_context():
        # The world opened two cases: 0001 and 0002; the counter stands at 2.
        assert db.session.get(CaseReferenceSequence, year).last == 2
        assert [next_reference(), next_reference()] == [f"AC-{year}-0003", f"AC-{year}-0004"]


def test_the_10001st_case_follows_the_counter(app, world: World):
    year = utcnow().year
    with app.app_context():
        by_hand(world, 9999, 10000)
        db.session.get(CaseReferenceSequence, year).last = 10000
        db.session.commit()
        invoice = make_invoice("X-1")
        case = open_case(ACTOR, debtor=invoice.debtor, owner=_legal(world), invoices=[invoice])
        db.session.commit()
        assert case.reference == f"AC-{year}-10001"
        assert next_reference() == f"AC-{year}-10002"


def test_a_year_without_a_counter_starts_after_its_highest_number(app, world: World):
    """No counter row (cases made before it, by hand): the counter starts at the highest number
    read as a number — 10000, though "AC-2026-9999" is the larger text."""
    year = utcnow().year
    with app.app_context():
        db.session.delete(db.session.get(CaseReferenceSequence, year))
        by_hand(world, 9999, 10000)
        db.session.commit()
        assert next_reference() == f"AC-{year}-10001"
        assert db.session.get(CaseReferenceSequence, year).last == 10001


def test_the_10001st_case_opens_through_the_api(app, world: World):
    year = utcnow().year
    with app.app_context():
        by_hand(world, 9999, 10000)
        db.session.get(CaseReferenceSequence, year).last = 10000
        make_invoice("X-1")
        db.session.commit()
        token = token_for(World.EMAILS["legal"])
    answer = app.test_client().post(
        "/api/v1/cases",
        json={"debtor": "D-1", "invoices": ["X-1"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.json
    with app.app_context():
        assert db.session.get(Case, answer.json["id"]).reference == f"AC-{year}-10001"


def test_the_10001st_case_opens_through_the_debtor_page(app, client, world: World):
    year = utcnow().year
    with app.app_context():
        db.session.delete(db.session.get(CaseReferenceSequence, year))
        by_hand(world, 9999, 10000)
        invoice_id = make_invoice("X-1").id
        db.session.commit()
    login(client, World.EMAILS["legal"])
    answer = client.post("/ledger/debtors/D-1", data={"invoices": [str(invoice_id)]})
    assert answer.status_code == 303, answer.text
    follow = client.get(answer.headers["Location"])
    assert f"Case AC-{year}-10001 opened for 1 invoice(s)." in follow.text


def _legal(world: World):
    from portal.accounts.models import User

    return db.session.get(User, world.legal)


# --- the migration ---------------------------------------------------------------------------


def _migrated_counters(app) -> dict[int, int]:
    """Upgrade to 0014, add cases with these references, upgrade to 0015: the counters."""
    references = ["AC-2025-9999", "AC-2025-10000", "AC-2025-0420", "AC-2026-0007"]
    with app.app_context():
        upgrade(revision="0014_case_version")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "user" (email, name, role, password_hash, active, '
                    "session_version, created_at, updated_at) VALUES ('l@x.example', 'L', "
                    "'legal', 'x', true, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO creditor_entity (code, legal_name, registration_id, address, "
                    "jurisdiction, created_at, updated_at) VALUES ('C', 'C Ltd', '1', 'A', 'ew', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO debtor (external_id, name, kind, jurisdiction, created_at, "
                    "updated_at) VALUES ('D', 'D Ltd', 'company', 'ew', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            for reference in references:
                connection.execute(
                    text(
                        'INSERT INTO "case" (reference, creditor_id, debtor_id, owner_id, '
                        "jurisdiction, stage, status, fees_clause, version, created_at, "
                        "updated_at) SELECT :reference, c.id, d.id, u.id, 'ew', "
                        "'reconciliation', 'open', false, 1, CURRENT_TIMESTAMP, "
                        'CURRENT_TIMESTAMP FROM creditor_entity c, debtor d, "user" u'
                    ),
                    {"reference": reference},
                )
        upgrade(revision="0015_write_paths")
        with db.engine.connect() as connection:
            counters = dict(
                connection.execute(text("SELECT year, last FROM case_reference_sequence")).all()
            )
        db.engine.dispose()
    return counters


def test_the_migration_starts_each_year_at_its_highest_number_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app(make_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}"))
    # 2025: 9999, 10000 and 420 → 10000 (as text "9999" would win); 2026: 7.
    assert _migrated_counters(app) == {2025: 10000, 2026: 7}


def test_the_migration_starts_each_year_at_its_highest_number_postgresql(tmp_path, monkeypatch):
    url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL run only (PORTAL_TEST_DATABASE_URL)")
    scratch = _scratch_database(url, f"migrate_refs_{os.getpid()}")
    try:
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
        app = create_app(make_config(tmp_path, DATABASE_URL=scratch.render_as_string(False)))
        assert _migrated_counters(app) == {2025: 10000, 2026: 7}
    finally:
        _drop_database(scratch)


def _scratch_database(url: str, name: str):
    from sqlalchemy import create_engine

    scratch = make_url(url).set(database=name)
    admin = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return scratch


def _drop_database(scratch) -> None:
    from sqlalchemy import create_engine

    admin = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()
