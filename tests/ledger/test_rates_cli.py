"""``flask rates``: the shipped table, single rows, listing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.jurisdictions import SHIPPED_RATES_CSV, load_rates_csv
from portal.ledger.models import InterestRate


def test_load_the_shipped_table_twice(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["rates", "load"])
    shipped = len(load_rates_csv(SHIPPED_RATES_CSV))
    assert first.exit_code == 0 and f"{shipped} rows read, {shipped} added" in first.output
    again = runner.invoke(args=["rates", "load"])
    assert f"{shipped} rows read, 0 added or changed" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InterestRate)) == shipped


def test_set_and_list(app):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["rates", "set", "boe_base", "2026-11-05", "3.50", "--source", "BoE MPC 5 Nov 2026"]
    )
    assert made.exit_code == 0 and "3.50% (saved)" in made.output
    listed = runner.invoke(args=["rates", "list", "--kind", "boe_base"])
    assert "2026-11-05" in listed.output and "BoE MPC 5 Nov 2026" in listed.output
    bad = runner.invoke(args=["rates", "set", "nonsense", "2026-11-05", "3", "--source", "x"])
    assert bad.exit_code != 0 and "unknown rate kind" in bad.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "rate.create")
            )
            == 1
        )


def test_bad_file_loads_nothing(app, tmp_path):
    bad = tmp_path / "rates.csv"
    bad.write_text("kind,valid_from,rate,source\nboe_base,2026-01-01,3.5,BoE\nboe_base,nope,1,x\n")
    result = app.test_cli_runner().invoke(args=["rates", "load", str(bad)])
    assert result.exit_code != 0 and "line 3" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InterestRate)) == 0
