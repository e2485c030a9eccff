"""The issue's acceptance: 10,000 invoices with 3 bad rows, the corrected file, a second import."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.imports.services import run_import
from portal.ledger.allocation import invoice_balances
from portal.ledger.models import Invoice

from .conftest import ACTOR, counts, import_audits, invoice_row, write_csv

#: Spreadsheet row → (column, bad value); the header is row 1, so row r holds invoice r - 1.
BAD = {1234: ("issue_date", "2024-02-30"), 5000: ("debtor", "EW-9999"), 9999: ("amount", "100.123")}


def test_ten_thousand_invoices(app, ledger, tmp_path, capsys):
    rows = [invoice_row(index) for index in range(1, 10_001)]
    broken = [dict(row) for row in rows]
    for row_number, (column, value) in BAD.items():
        broken[row_number - 2][column] = value
    broken_file = write_csv(tmp_path / "invoices-broken.csv", broken)
    good_file = write_csv(tmp_path / "invoices.csv", rows)

    with app.app_context():
        before = counts()
        report = run_import(ACTOR, "invoices", broken_file.read_bytes(), filename="broken.csv")
        db.session.commit()
        assert report.as_dict() == {
            "rows": 10_000,
            "created": 0,
            "updated": 0,
            "errors": [
                {"row": 1234, "field": "issue_date", "message": "Not a valid date."},
                {"row": 5000, "field": "debtor", "message": "Unknown debtor 'EW-9999'."},
                {
                    "row": 9999,
                    "field": "amount",
                    "message": "GBP amounts have at most 2 decimal places.",
                },
            ],
        }
        assert counts() == before

        started = time.perf_counter()
        report = run_import(ACTOR, "invoices", good_file.read_bytes(), filename="invoices.csv")
        db.session.commit()
        elapsed = time.perf_counter() - started
        assert report.errors == []
        assert (report.rows, report.created, report.updated) == (10_000, 10_000, 0)
        after = counts()
        assert after["invoices"] == before["invoices"] + 10_000
        assert after["audit"] == before["audit"] + 1
        (audit,) = import_audits()
        assert audit.changes["after"] == {
            "kind": "invoices",
            "sha256": report.sha256,
            "rows": 10_000,
            "created": 10_000,
            "updated": 0,
            "filename": "invoices.csv",
        }
        stored = db.session.scalar(select(Invoice).where(Invoice.external_id == "INV-01233"))
        assert stored.debtor.external_id == rows[1232]["debtor"]
        assert stored.creditor.code == "NWC-UK"
        assert stored.amount == Decimal(rows[1232]["amount"])

        report = run_import(ACTOR, "invoices", good_file.read_bytes(), filename="invoices.csv")
        db.session.commit()
        assert (report.created, report.updated, report.written) == (0, 0, False)
        assert report.unchanged == 10_000
        assert counts() == after

    with capsys.disabled():
        print(f"\n10,000-invoice CSV imported in {elapsed:.2f} s")


def test_changed_amount_updates_one_invoice_and_reallocates(app, ledger, tmp_path):
    """A payment of 150 covers the older invoice (100) and 50 of the newer; raising the older
    invoice to 120 leaves 30 for the newer one."""
    older = invoice_row(1, debtor="EW-0001", amount="100.00", due_date="2024-03-01")
    newer = invoice_row(2, debtor="EW-0001", amount="100.00", due_date="2024-04-01")
    payment = {
        "external_id": "PAY-1",
        "debtor": "EW-0001",
        "date": "2024-04-15",
        "currency": "GBP",
        "amount": "150.00",
    }
    with app.app_context():
        first = write_csv(tmp_path / "first.csv", [older, newer]).read_bytes()
        assert run_import(ACTOR, "invoices", first).created == 2
        payments = write_csv(tmp_path / "payments.csv", [payment]).read_bytes()
        assert run_import(ACTOR, "payments", payments).created == 1
        db.session.commit()
        assert _outstanding() == {"INV-00001": Decimal("0"), "INV-00002": Decimal("50")}

        raised = write_csv(tmp_path / "raised.csv", [{**older, "amount": "120.00"}, newer])
        audits = len(import_audits())
        report = run_import(ACTOR, "invoices", raised.read_bytes(), filename="raised.csv")
        db.session.commit()
        assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
        assert _outstanding() == {"INV-00001": Decimal("0"), "INV-00002": Decimal("70")}
        assert len(import_audits()) == audits + 1


def _outstanding() -> dict[str, Decimal]:
    _credited, _paid, outstanding, joins = invoice_balances()
    query = joins(select(Invoice.external_id, outstanding)).order_by(Invoice.external_id)
    return dict(db.session.execute(query).all())
