"""File handling: type by content, CSV dialects, XLSX cells, limits and hostile files."""

from __future__ import annotations

import datetime as dt
import io
import struct
import time
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from defusedxml import EntitiesForbidden
from sqlalchemy import select

from portal.extensions import db
from portal.imports.services import run_import
from portal.imports.tables import FileTooLarge, UnsupportedFile, cell_text
from portal.ledger.models import Invoice

from .conftest import ACTOR, INVOICE_HEADER, counts, invoice_row, write_csv, write_xlsx

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def ctx_ledger(app, ledger):
    with app.app_context():
        yield ledger


def test_csv_with_bom_and_semicolons(ctx_ledger, tmp_path):
    rows = [invoice_row(1, contract_ref="FA; with a semicolon"), invoice_row(2)]
    path = write_csv(tmp_path / "invoices.csv", rows, delimiter=";", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfexternal_id;")
    report = run_import(ACTOR, "invoices", path.read_bytes())
    assert (report.errors, report.created) == ([], 2)
    refs = db.session.scalars(select(Invoice.contract_ref).order_by(Invoice.id)).all()
    assert refs == ["FA; with a semicolon", rows[1]["contract_ref"]]


def test_quoted_cells_and_windows_line_ends(ctx_ledger):
    text = (
        ",".join(INVOICE_HEADER) + "\r\n"
        'INV-1,EW-0001,NWC-UK,"SI-1",2024-01-01,,2024-02-01,GBP,"1,250.00","Order 7,\nline 2",\r\n'
    )
    report = run_import(ACTOR, "invoices", text.encode())
    assert (report.errors, report.created) == ([], 1)
    invoice = db.session.scalar(select(Invoice))
    assert (invoice.amount, invoice.contract_ref) == (Decimal("1250.00"), "Order 7,\nline 2")


def test_blank_rows_are_skipped_but_keep_their_numbers(ctx_ledger):
    line = ",".join(str(value) for value in invoice_row(1).values())
    bad = ",".join(str(value) for value in invoice_row(2, debtor="NOPE").values())
    text = "\n".join([",".join(INVOICE_HEADER), line, "", ",,,,,,,,,,", bad, ""])
    report = run_import(ACTOR, "invoices", text.encode())
    assert report.rows == 2
    assert [(error.row, error.field) for error in report.errors] == [(5, "debtor")]


def test_malformed_csv_is_reported_at_its_row(ctx_ledger):
    text = ",".join(INVOICE_HEADER) + '\nINV-1,EW-0001,NWC-UK,"SI-1\n'
    report = run_import(ACTOR, "invoices", text.encode())
    assert [(error.row, error.field) for error in report.errors] == [(2, None)]
    assert report.errors[0].message.startswith("This row is not valid CSV")


def test_xlsx_with_date_and_number_cells(ctx_ledger, tmp_path):
    rows = [
        # A date cell, a date-time cell at midnight, a float amount, an int rate.
        ["INV-X1", "EW-0001", "NWC-UK", "SI-X1", dt.date(2024, 3, 1), dt.datetime(2024, 3, 2),
         dt.date(2024, 4, 1), "GBP", 1234.5, None, 8],
        # Numbers where text is expected, a float that is binary noise of 0.3, a float rate.
        [20240002, "EW-0002", "NWC-UK", 1002, dt.date(2024, 3, 1), None,
         dt.date(2024, 4, 1), "GBP", 0.1 + 0.2, 778, 5.475],
        # An integer amount, an all-empty row after it (skipped).
        ["INV-X3", "CN-0001", "DH-CN", "DH-1", dt.date(2025, 1, 1), None,
         dt.date(2025, 3, 1), "CNY", 386400, "  padded  ", None],
        [None] * 11,
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "invoices.xlsx", INVOICE_HEADER, rows)
    report = run_import(ACTOR, "invoices", path.read_bytes(), filename="invoices.xlsx")
    db.session.commit()
    assert (report.errors, report.rows, report.created) == ([], 3, 3)
    stored = {
        invoice.external_id: invoice
        for invoice in db.session.scalars(select(Invoice).order_by(Invoice.id))
    }
    first, second, third = stored["INV-X1"], stored["20240002"], stored["INV-X3"]
    assert (first.issue_date, first.delivery_date, first.amount, first.interest_rate) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 2),
        Decimal("1234.5"),
        Decimal("8"),
    )
    assert (second.number, second.amount, second.contract_ref, second.interest_rate) == (
        "1002",
        Decimal("0.3"),
        "778",
        Decimal("5.475"),
    )
    assert (third.amount, third.contract_ref) == (Decimal("386400"), "padded")

    # The same invoices as CSV text are the same values: nothing to change.
    as_csv = [
        invoice_row(0, external_id="INV-X1", debtor="EW-0001", number="SI-X1",
                    issue_date="2024-03-01", delivery_date="2024-03-02", due_date="2024-04-01",
                    amount="1234.50", contract_ref="", interest_rate="8.000"),
        invoice_row(0, external_id="20240002", debtor="EW-0002", number="1002",
                    issue_date="2024-03-01", delivery_date="", due_date="2024-04-01",
                    amount="0.30", contract_ref="778", interest_rate="5.475"),
        invoice_row(0, external_id="INV-X3", debtor="CN-0001", creditor="DH-CN", number="DH-1",
                    issue_date="2025-01-01", delivery_date="", due_date="2025-03-01",
                    currency="CNY", amount="386400.00", contract_ref="padded", interest_rate=""),
    ]  # fmt: skip
    csv_report = run_import(ACTOR, "invoices", write_csv(tmp_path / "i.csv", as_csv).read_bytes())
    assert (csv_report.errors, csv_report.created, csv_report.updated) == ([], 0, 0)
    # And the workbook again: a no-op.
    again = run_import(ACTOR, "invoices", path.read_bytes(), filename="invoices.xlsx")
    assert (again.created, again.updated, again.written) == (0, 0, False)


def test_xlsx_row_numbers_and_bad_cells(ctx_ledger, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(INVOICE_HEADER)
    sheet.append(["INV-1", "EW-0001", "NWC-UK", "SI-1", "not a date", None,
                  dt.date(2024, 4, 1), "GBP", 10, None, None])  # fmt: skip
    # Row 3 left empty; row 4 has a date-time with a time and a value under no header.
    sheet.append([])
    sheet.append(["INV-2", "EW-0001", "NWC-UK", "SI-2", dt.datetime(2024, 3, 1, 10, 30), None,
                  dt.date(2024, 4, 1), "GBP", 10, None, None, None, "stray"])  # fmt: skip
    workbook.worksheets[0].title = "First"
    workbook.create_sheet("Ignored").append(["anything"])
    path = tmp_path / "invoices.xlsx"
    workbook.save(path)
    report = run_import(ACTOR, "invoices", path.read_bytes())
    assert [(error.row, error.field, error.message) for error in report.errors] == [
        (2, "issue_date", "Not a valid date."),
        (4, None, "Column M has a value but no header."),
        (4, "issue_date", "Not a valid date."),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("  x  ", "x"),
        ("   ", None),
        (True, "true"),
        (1234, "1234"),
        (1234.0, "1234"),
        (1234.5, "1234.5"),
        (0.1 + 0.2, "0.3"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "0.00000015"),
        (float("nan"), "nan"),
        (Decimal("12.30"), "12.30"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 2, 29, 8, 15), "2024-02-29T08:15:00"),
        (dt.time(8, 15), "08:15:00"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


# Refused files ------------------------------------------------------------------------------------


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
BROKEN_XLSX = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"garbage"})


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (PNG, "The file is binary"),
        (b"<!DOCTYPE html><html><body>Invoices</body></html>", "The file looks like HTML"),
        (b"\n  <?xml version='1.0'?><Workbook/>", "The file looks like HTML or XML"),
        ("external_id,name\nD-1,Müller GmbH\n".encode("latin-1"), "The file is neither"),
        ("external_id,name\n".encode("utf-16"), "The file is binary (or UTF-16 text)"),
        (b"external_id,name\x07\n", "The file holds control characters"),
        (DOCX, "The file is a ZIP archive but not an XLSX workbook"),
        (b"PK\x03\x04 not really a zip", "The file is a damaged ZIP archive"),
        (BROKEN_XLSX, "The workbook could not be read"),
    ],
)  # fmt: skip
def test_unsupported_files_are_refused(ctx_ledger, data, start):
    before = counts()
    with pytest.raises(UnsupportedFile) as raised:
        run_import(ACTOR, "debtors", data, filename="debtors.csv")
    assert raised.value.status == 415
    assert raised.value.message.startswith(start)
    assert counts() == before


def test_too_large(app, ledger):
    app.config["IMPORT_MAX_BYTES"] = 100
    with app.app_context(), pytest.raises(FileTooLarge) as raised:
        run_import(ACTOR, "debtors", b"external_id,name\n" + b"x" * 100)
    assert raised.value.status == 413
    assert raised.value.message == "The file is larger than 100 bytes; split it into parts."


def test_too_many_rows(app, ledger, tmp_path):
    app.config["IMPORT_MAX_ROWS"] = 5
    path = write_csv(tmp_path / "invoices.csv", [invoice_row(n) for n in range(1, 11)])
    with app.app_context():
        report = run_import(ACTOR, "invoices", path.read_bytes())
    assert report.as_dict() == {
        "rows": 5,
        "created": 0,
        "updated": 0,
        "errors": [
            {
                "row": 7,
                "field": None,
                "message": "The file has more than 5 rows; split it into parts.",
            }
        ],
    }


def bomb(size: int) -> bytes:
    """An XLSX-looking archive whose sheet inflates to ``size`` bytes of spaces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(size >> 20):
                sheet.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_it_is_inflated(ctx_ledger):
    data = bomb(300 << 20)
    assert len(data) < 1 << 20
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UnsupportedFile) as raised:
            run_import(ACTOR, "invoices", data, filename="invoices.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.message.startswith("The workbook unpacks to more than 100 MB")
    assert time.perf_counter() - started < 5
    assert peak < 20 << 20


def test_zip_bomb_that_lies_about_its_size(ctx_ledger):
    """Sizes patched down to 2 kB: zipfile stops at the declared size and fails the CRC."""
    data = bytearray(bomb(64 << 20))
    name = b"xl/worksheets/sheet1.xml"
    # (signature, offset of the uncompressed size, offset of the name) of the local and the
    # central directory headers.
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        header = data.find(signature)
        while data[header + name_at : header + name_at + len(name)] != name:
            header = data.find(signature, header + 4)
        struct.pack_into("<I", data, header + size_at, 2048)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo(name.decode()).file_size == 2048
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedFile) as raised:
            run_import(ACTOR, "invoices", bytes(data))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.message.startswith("The workbook could not be read")
    assert peak < 20 << 20


def test_too_many_zip_entries(ctx_ledger):
    entries = {"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}
    entries |= {f"xl/media/{n}.bin": b"" for n in range(1000)}
    with pytest.raises(UnsupportedFile) as raised:
        run_import(ACTOR, "invoices", zip_bytes(entries))
    assert "more than 1,000 entries" in raised.value.message


def test_xml_entities_are_refused(ctx_ledger, tmp_path):
    """defusedxml refuses entity declarations (billion laughs) inside the workbook's XML."""
    path = write_xlsx(tmp_path / "ok.xlsx", INVOICE_HEADER, [])
    entries = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            entries[name] = archive.read(name)
    sheet = entries["xl/worksheets/sheet1.xml"]
    doctype = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    assert sheet.startswith(b"<worksheet")
    entries["xl/worksheets/sheet1.xml"] = doctype + sheet
    with pytest.raises(UnsupportedFile) as raised:
        run_import(ACTOR, "invoices", zip_bytes(entries))
    assert raised.value.message.startswith("The workbook could not be read")
    causes = []
    error = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, EntitiesForbidden) for cause in causes)
