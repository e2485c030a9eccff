"""``flask --app portal import KIND FILE [--dry-run]``: exit codes, output, progress."""

from __future__ import annotations

from .conftest import counts, import_audits, invoice_row, write_csv
from .test_files import PNG


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["import", *args])


def state(app) -> dict[str, int]:
    with app.app_context():
        return counts()


def test_import_dry_run_and_again(app, ledger, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", [invoice_row(n) for n in range(1, 1201)])
    before = state(app)

    dry = invoke(app, "invoices", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == (
        "1,200 invoices read: 1,200 would be created, 0 would be updated, 0 unchanged. "
        "Dry run: nothing written.\n"
    )
    assert "Checking 1,200 invoices" in dry.stderr
    assert "Writing" not in dry.stderr
    assert state(app) == before

    result = invoke(app, "invoices", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "1,200 invoices read: 1,200 created, 0 updated, 0 unchanged.\n"
    assert "Checking 1,200 invoices" in result.stderr
    assert "Writing 1,200 invoices" in result.stderr
    assert state(app)["invoices"] == before["invoices"] + 1200
    with app.app_context():
        (audit,) = import_audits()
        assert audit.actor_label == "cli"
        assert audit.changes["after"]["filename"] == "invoices.csv"

    again = invoke(app, "invoices", str(path))
    assert again.exit_code == 0
    assert again.stdout == "1,200 invoices read: 0 created, 0 updated, 1,200 unchanged.\n"
    assert state(app)["audit"] == before["audit"] + 1


def test_errors_exit_1_and_are_listed(app, ledger, tmp_path):
    rows = [invoice_row(n) for n in range(1, 6)]
    rows[1]["debtor"] = "NOPE"
    rows[3]["issue_date"] = "2024-13-01"
    rows[3]["currency"] = "GBX"
    path = write_csv(tmp_path / "invoices.csv", rows)
    before = state(app)
    result = invoke(app, "invoices", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "row 3\tdebtor\tUnknown debtor 'NOPE'.",
        "row 5\tissue_date\tNot a valid date.",
        "row 5\tcurrency\tNot an accepted currency.",
        "3 errors in 2 of 5 rows: nothing imported.",
    ]
    assert state(app) == before


def test_refused_files_and_bad_arguments(app, ledger, tmp_path):
    png = tmp_path / "invoices.csv"
    png.write_bytes(PNG)
    result = invoke(app, "invoices", str(png))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: The file is binary")
    assert invoke(app, "creditors", str(png)).exit_code == 2
    assert invoke(app, "invoices", str(tmp_path / "missing.csv")).exit_code == 2
