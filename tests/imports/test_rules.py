"""The ledger's rules applied to whole files: every bad row reported, nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.imports.services import run_import
from portal.ledger.models import Debtor, DebtorKind, Invoice, Jurisdiction, Payment
from portal.ledger.upserts import upsert_invoice

from .conftest import (
    ACTOR,
    INVOICE_HEADER,
    add_debtors,
    counts,
    import_audits,
    invoice_row,
    write_csv,
)


def errors_of(report) -> list[tuple[int | None, str | None, str]]:
    return [(error.row, error.field, error.message) for error in report.errors]


def run(tmp_path, kind, rows, header=None, **options):
    path = write_csv(tmp_path / f"{kind}.csv", rows, header, **options)
    report = run_import(ACTOR, kind, path.read_bytes(), filename=path.name)
    if report.written:
        db.session.commit()
    else:
        db.session.rollback()
    return report


@pytest.fixture
def ctx_ledger(app, ledger):
    with app.app_context():
        yield ledger


# Header -------------------------------------------------------------------------------------------


def test_header_is_case_insensitive_and_trimmed(ctx_ledger, tmp_path):
    row = invoice_row(1)
    header = [f"  {name.upper()} " for name in row]
    path = tmp_path / "invoices.csv"
    path.write_text(",".join(header) + "\n" + ",".join(str(value) for value in row.values()) + "\n")
    report = run_import(ACTOR, "invoices", path.read_bytes())
    assert (report.errors, report.created) == ([], 1)


def test_unknown_and_missing_columns_are_one_error_each(ctx_ledger, tmp_path):
    rows = [{"external_id": "INV-1", "debtor": "EW-0001", "Total": "5", "vat": "1"}]
    report = run(tmp_path, "invoices", rows)
    assert report.as_dict()["created"] == 0
    assert errors_of(report) == [
        (
            1,
            None,
            "Unknown columns Total, vat. The columns of invoices are: external_id, debtor, "
            "creditor, number, issue_date, delivery_date, due_date, currency, amount, "
            "contract_ref, interest_rate.",
        ),
        (
            1,
            None,
            "Required columns are missing: number, issue_date, due_date, currency, amount.",
        ),
    ]


def test_a_column_named_twice(ctx_ledger, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(",".join([*INVOICE_HEADER, "Amount"]) + "\n")
    report = run_import(ACTOR, "invoices", path.read_bytes())
    assert errors_of(report) == [(1, "amount", "The column amount appears more than once.")]


def test_values_without_a_header_are_errors(ctx_ledger, tmp_path):
    path = tmp_path / "invoices.csv"
    row = invoice_row(1)
    path.write_text(",".join([*row, ""]) + "\n" + ",".join([*row.values(), "note"]) + ",x\n")
    report = run_import(ACTOR, "invoices", path.read_bytes())
    assert errors_of(report) == [
        (2, None, "Column L has a value but no header."),
        (2, None, "Column M has a value but no header."),
    ]


def test_empty_file_and_header_only(ctx_ledger, tmp_path):
    report = run_import(ACTOR, "debtors", b"")
    assert report.rows == 0
    assert errors_of(report)[0][:2] == (1, None)
    assert errors_of(report)[0][2].startswith("The first row must name the columns")
    header_only = ",".join(INVOICE_HEADER).encode()
    report = run_import(ACTOR, "invoices", header_only)
    assert (report.ok, report.rows, report.created, report.written) == (True, 0, 0, False)


# Rows ---------------------------------------------------------------------------------------------


def test_every_error_of_every_row_is_reported_in_row_order(ctx_ledger, tmp_path):
    rows = [
        invoice_row(1),
        invoice_row(2, due_date="2023-01-01", currency="XXX", interest_rate="150"),
        invoice_row(3, external_id="", amount="-5"),
        invoice_row(4, external_id="INV-00001"),
        invoice_row(5, issue_date="05/01/2024", debtor=""),
        invoice_row(6),
    ]
    before = counts()
    report = run(tmp_path, "invoices", rows)
    assert errors_of(report) == [
        (3, "currency", "Not an accepted currency."),
        (3, "interest_rate", "A rate is a percentage between 0 and 100 (6 decimals at most)."),
        (4, "external_id", "Missing data for required field."),
        (4, "amount", "The amount must be positive."),
        (5, "external_id", "INV-00001 is already on row 2."),
        (6, "debtor", "Missing data for required field."),
        (6, "issue_date", "Not a valid date."),
    ]
    assert (report.rows, report.created, report.updated, report.rows_with_errors) == (6, 0, 0, 4)
    assert counts() == before


def test_due_date_before_issue_date(ctx_ledger, tmp_path):
    report = run(tmp_path, "invoices", [invoice_row(1, due_date="2023-12-31")])
    assert errors_of(report) == [(2, "due_date", "The due date is before the issue date.")]


def test_external_id_must_be_printable_and_short(ctx_ledger, tmp_path):
    report = run(tmp_path, "invoices", [invoice_row(1, external_id="X" * 65)])
    assert errors_of(report) == [
        (2, "external_id", "The external id must be 1–64 printable characters.")
    ]


def test_empty_cells_are_not_given(ctx_ledger, tmp_path):
    row = invoice_row(3, delivery_date="", contract_ref="", interest_rate="")
    assert run(tmp_path, "invoices", [row]).created == 1
    invoice = db.session.scalar(select(Invoice))
    assert invoice.delivery_date is invoice.contract_ref is invoice.interest_rate is None


@pytest.mark.parametrize(
    ("amount", "delimiter", "expected"),
    [
        ("1,234.50", ",", Decimal("1234.50")),
        ("1234.5", ";", Decimal("1234.5")),
        ("1234,50", ";", None),
        ("1,234.50", ";", None),
        ("12,34", ",", None),
    ],
)
def test_commas_in_amounts(ctx_ledger, tmp_path, amount, delimiter, expected):
    """The ledger's parser drops every comma; a decimal comma would multiply the amount by 100."""
    report = run(tmp_path, "invoices", [invoice_row(1, amount=amount)], delimiter=delimiter)
    if expected is None:
        assert errors_of(report) == [
            (
                2,
                "amount",
                f"{amount!r}: write amounts with a dot for decimals and no other separators "
                "(1234.50).",
            )
        ]
    else:
        assert report.errors == []
        assert db.session.scalar(select(Invoice.amount)) == expected


# Invoices -----------------------------------------------------------------------------------------


def test_creditor_codes(ctx_ledger, tmp_path):
    rows = [invoice_row(1, creditor="NOPE"), invoice_row(2, creditor=""), invoice_row(3)]
    report = run(tmp_path, "invoices", rows)
    assert errors_of(report) == [
        (2, "creditor", "Unknown creditor entity 'NOPE'."),
        (3, "creditor", "Name the creditor entity (code)."),
    ]


def test_creditor_may_be_left_out_when_there_is_only_one(app, tmp_path):
    from ..factories import make_creditor

    with app.app_context():
        make_creditor("ONLY")
        add_debtors(["EW-0002"])
        db.session.commit()
        report = run(tmp_path, "invoices", [invoice_row(1, creditor="")])
        assert report.created == 1
        assert db.session.scalar(select(Invoice)).creditor.code == "ONLY"


def test_invoice_numbers_are_unique_per_creditor(ctx_ledger, tmp_path):
    report = run(tmp_path, "invoices", [invoice_row(1, number="SI-7")])
    assert report.created == 1
    rows = [
        invoice_row(2, number="si-7"),  # INV-00001's number, in another case
        invoice_row(3, number="SI-8"),
        invoice_row(4, number="SI-8 "),
        invoice_row(5, number="SI-7", creditor="DH-CN"),  # another creditor: fine
    ]
    report = run(tmp_path, "invoices", rows)
    assert errors_of(report) == [
        (2, "number", "Invoice number si-7 is already used by invoice INV-00001."),
        (4, "number", "Invoice number SI-8 is also on row 3 (invoice INV-00003)."),
    ]


def test_invoices_may_swap_numbers_in_one_file(ctx_ledger, tmp_path):
    """The numbers are checked as they will be after the import, not one row at a time."""
    run(tmp_path, "invoices", [invoice_row(1, number="A"), invoice_row(2, number="B")])
    report = run(tmp_path, "invoices", [invoice_row(1, number="B"), invoice_row(2, number="A")])
    assert (report.errors, report.updated) == ([], 2)
    numbers = db.session.execute(select(Invoice.external_id, Invoice.number)).all()
    assert sorted(numbers) == [("INV-00001", "B"), ("INV-00002", "A")]


def test_values_equal_to_the_ledger_count_as_unchanged(ctx_ledger, tmp_path):
    """Amounts come back from the database with four places; 100.5 is still 100.50."""
    row = invoice_row(1, amount="100.50", interest_rate="8.5")
    assert run(tmp_path, "invoices", [row]).created == 1
    report = run(tmp_path, "invoices", [{**row, "amount": "100.5", "interest_rate": "8.500"}])
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


def test_moving_an_invoice_to_another_debtor_reallocates_both(ctx_ledger, tmp_path):
    rows = [invoice_row(1, debtor="EW-0001", amount="100.00")]
    run(tmp_path, "invoices", rows)
    payment = {
        "external_id": "P-1",
        "debtor": "EW-0001",
        "date": "2024-06-01",
        "currency": "GBP",
        "amount": "60.00",
    }
    run(tmp_path, "payments", [payment])
    report = run(tmp_path, "invoices", [{**rows[0], "debtor": "EW-0002"}])
    assert report.updated == 1
    invoice = db.session.scalar(select(Invoice))
    assert invoice.debtor.external_id == "EW-0002"
    # The payment of EW-0001 no longer has an invoice of EW-0001 to go to.
    from portal.ledger.models import PaymentAllocation

    assert db.session.scalars(select(PaymentAllocation)).all() == []


def test_import_agrees_with_the_single_row_upsert(ctx_ledger, tmp_path):
    """An invoice created by the API's upsert and imported with the same values is unchanged."""
    data = {
        "debtor": "EW-0003",
        "creditor": "NWC-UK",
        "number": "SI-1",
        "issue_date": dt.date(2024, 5, 1),
        "delivery_date": None,
        "due_date": dt.date(2024, 6, 1),
        "currency": "GBP",
        "amount": Decimal("250.00"),
        "contract_ref": None,
        "interest_rate": Decimal("8"),
    }
    upsert_invoice(ACTOR, "INV-API", data)
    db.session.commit()
    row = {
        "external_id": "INV-API",
        "debtor": "EW-0003",
        "creditor": "NWC-UK",
        "number": "SI-1",
        "issue_date": "2024-05-01",
        "due_date": "2024-06-01",
        "currency": "GBP",
        "amount": "250",
        "interest_rate": "8.0",
    }
    report = run(tmp_path, "invoices", [row])
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


# Payments -----------------------------------------------------------------------------------------


def test_payment_references(ctx_ledger, tmp_path):
    run(
        tmp_path,
        "invoices",
        [
            invoice_row(1, debtor="EW-0001", currency="GBP"),
            invoice_row(2, debtor="EW-0002", currency="GBP"),
        ],
    )

    def payment(external_id, **changes):
        row = {
            "external_id": external_id,
            "debtor": "EW-0001",
            "date": "2024-06-01",
            "currency": "GBP",
            "amount": "10.00",
            "invoice": "INV-00001",
        }
        return {**row, **changes}

    rows = [
        payment("P-1"),
        payment("P-2", invoice="INV-99999"),
        payment("P-3", invoice="INV-00002"),
        payment("P-4", currency="USD"),
        payment("P-5", debtor="EW-9999"),
        payment("P-6", invoice="", amount="10.001"),
        payment("P-7", invoice=""),
    ]
    before = counts()
    report = run(tmp_path, "payments", rows)
    assert errors_of(report) == [
        (3, "invoice", "Unknown invoice 'INV-99999'."),
        (4, "invoice", "Invoice INV-00002 is owed by debtor EW-0002, not EW-0001."),
        (5, "currency", f"Invoice {invoice_row(1)['number']} is in GBP, not USD."),
        (6, "debtor", "Unknown debtor 'EW-9999'."),
        (7, "amount", "GBP amounts have at most 2 decimal places."),
    ]
    assert counts() == before


def test_payments_are_allocated(ctx_ledger, tmp_path):
    run(
        tmp_path,
        "invoices",
        [
            invoice_row(1, debtor="EW-0001", amount="100.00", due_date="2024-02-01"),
            invoice_row(2, debtor="EW-0001", amount="100.00", due_date="2024-03-01"),
        ],
    )
    rows = [
        {
            "external_id": "P-1",
            "debtor": "EW-0001",
            "date": "2024-06-01",
            "currency": "GBP",
            "amount": "30.00",
            "invoice": "INV-00002",
        },
        {
            "external_id": "P-2",
            "debtor": "EW-0001",
            "date": "2024-06-02",
            "currency": "GBP",
            "amount": "120.00",
            "invoice": "",
        },
    ]
    report = run(tmp_path, "payments", rows)
    assert (report.created, report.errors) == (2, [])
    from .test_acceptance import _outstanding

    assert _outstanding() == {"INV-00001": Decimal("0"), "INV-00002": Decimal("50")}
    payment = db.session.scalar(select(Payment).where(Payment.external_id == "P-1"))
    assert payment.invoice.external_id == "INV-00002"
    assert len(import_audits()) == 2


# Debtors ------------------------------------------------------------------------------------------


def debtor(external_id: str, **changes) -> dict[str, str]:
    row = {
        "external_id": external_id,
        "name": f"{external_id} Trading Ltd",
        "kind": "company",
        "registration_id": "01234567",
        "address": "2 Low Road, Leeds LS1 1AA",
        "email": "",
        "phone": "",
        "jurisdiction": "ew",
    }
    return {**row, **changes}


def test_debtors_are_created_updated_or_left_alone(ctx_ledger, tmp_path):
    # EW-0001 as the ledger fixture made it: unchanged; EW-0002 gets an e-mail; NEW-1 is new.
    rows = [
        debtor("EW-0001", name="Debtor EW-0001 Ltd"),
        debtor("EW-0002", name="Debtor EW-0002 Ltd", email="ap@ew2.example"),
        debtor("NEW-1", kind="individual", jurisdiction="us", phone="+1 312 555 0100"),
    ]
    report = run(tmp_path, "debtors", rows)
    assert (report.errors, report.created, report.updated, report.unchanged) == ([], 1, 1, 1)
    new = db.session.scalar(select(Debtor).where(Debtor.external_id == "NEW-1"))
    assert (new.kind, new.jurisdiction, new.email) == (
        DebtorKind.INDIVIDUAL,
        Jurisdiction.US,
        None,
    )
    assert db.session.scalar(select(Debtor.email).where(Debtor.external_id == "EW-0002")) == (
        "ap@ew2.example"
    )
    assert run(tmp_path, "debtors", rows).written is False


def test_debtor_values_are_checked(ctx_ledger, tmp_path):
    rows = [
        debtor("NEW-1", kind="partnership", email="not-an-email", jurisdiction="fr", name=""),
    ]
    report = run(tmp_path, "debtors", rows)
    assert errors_of(report) == [
        (2, "name", "Missing data for required field."),
        (2, "kind", "Must be one of: company, individual."),
        (2, "email", "Not a valid email address."),
        (2, "jurisdiction", "Must be one of: cn, ew, us."),
    ]


def test_dry_run_counts_but_writes_nothing(ctx_ledger, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", [invoice_row(n) for n in range(1, 11)])
    before = counts()
    report = run_import(ACTOR, "invoices", path.read_bytes(), dry_run=True)
    db.session.commit()
    assert (report.created, report.updated, report.written) == (10, 0, False)
    assert counts() == before


def test_rows_written_by_someone_else_meanwhile_are_a_conflict(ctx_ledger, tmp_path, monkeypatch):
    """Checked as new, but created by a concurrent import before the insert: 409, nothing kept."""
    from portal.domain import Conflict
    from portal.imports import services

    run(tmp_path, "invoices", [invoice_row(1)])
    prefetch = services._Invoices.prefetch

    def blind_prefetch(self, rows):
        prefetch(self, rows)
        self.existing.pop("INV-00001")

    monkeypatch.setattr(services._Invoices, "prefetch", blind_prefetch)
    before = counts()
    data = write_csv(tmp_path / "again.csv", [invoice_row(2), invoice_row(1)]).read_bytes()
    with pytest.raises(Conflict) as raised:
        run_import(ACTOR, "invoices", data)
    db.session.rollback()
    assert raised.value.status == 409
    assert counts() == before
