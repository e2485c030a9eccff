"""Debtor list and page, opening a case from the ledger, aging with chart, drill-down and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.cases.models import Case
from portal.extensions import db
from portal.ledger.models import Invoice
from portal.ledger.upserts import upsert_credit_note, upsert_payment

from ..factories import ACTOR, World, case_count, make_debtor, make_invoice
from .conftest import section, text

TODAY = dt.date.today()
AS_OF = "2025-06-30"


@pytest.fixture
def ledger(app, world: World) -> dict[str, int]:
    """The world plus: an open GBP and a EUR invoice of D-1, a payment, a credit note, a debtor
    who owes nothing. Returns invoice ids by external id."""
    with app.app_context():
        make_invoice(
            "I-4",
            amount="400.00",
            issue=TODAY - dt.timedelta(days=75),
            due=TODAY - dt.timedelta(days=45),
            delivery=None,
        )
        make_invoice(
            "I-5",
            amount="300.00",
            currency="EUR",
            issue=TODAY - dt.timedelta(days=5),
            due=TODAY + dt.timedelta(days=10),
            delivery=None,
        )
        make_invoice("I-6", amount="250.00", issue=dt.date(2025, 5, 1), due=dt.date(2025, 6, 15))
        upsert_payment(
            ACTOR,
            "P-1",
            {
                "debtor": "D-1",
                "date": dt.date(2025, 3, 1),
                "currency": "GBP",
                "amount": Decimal("300.00"),
            },
        )
        upsert_credit_note(
            ACTOR,
            "C-1",
            {
                "debtor": "D-1",
                "invoice": "I-2",
                "date": dt.date(2025, 3, 1),
                "currency": "GBP",
                "amount": Decimal("100.00"),
            },
        )
        make_debtor("D-3")
        db.session.commit()
        return dict(db.session.execute(select(Invoice.external_id, Invoice.id)).all())


def _row(response, needle: str) -> str:
    """The text of the table row that contains ``needle``."""
    html = response.data.decode()
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if needle in row:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    raise AssertionError(f"no row with {needle!r}")


def test_debtor_list_shows_balances_per_currency(as_role, ledger):
    client = as_role("finance")
    page = client.get("/ledger/debtors")
    assert page.status_code == 200
    # D-1: 1,000 − 300 paid + 2,500 − 100 credited + 400 + 250 = 3,750 GBP; and 300 EUR.
    d1 = _row(page, "Debtor D-1 Ltd")
    assert "GBP 3,750.00" in d1 and "EUR 300.00" in d1
    # Five open invoices, the oldest overdue due on 2025-02-09, one open case.
    assert d1.endswith("GBP 3,750.00 5 2025-02-09 1")
    assert "CNY 88,000.00" in _row(page, "Debtor D-2 Ltd")
    assert "—" in _row(page, "Debtor D-3 Ltd")
    assert "3 debtors" in text(page)

    only_cn = text(client.get("/ledger/debtors?jurisdiction=cn"))
    assert "Debtor D-2 Ltd" in only_cn and "Debtor D-1 Ltd" not in only_cn
    searched = text(client.get("/ledger/debtors?q=d-1"))
    assert "Debtor D-1 Ltd" in searched and "Debtor D-2 Ltd" not in searched
    owing = text(client.get("/ledger/debtors?owing=1"))
    assert "Debtor D-3 Ltd" not in owing and "Debtor D-2 Ltd" in owing
    assert "No debtor matches these filters" in text(client.get("/ledger/debtors?q=zzz"))


def test_debtor_page_lists_invoices_payments_and_credit_notes(app, as_role, ledger, world):
    page = as_role("finance").get("/ledger/debtors/D-1")
    assert page.status_code == 200
    with app.app_context():
        reference = db.session.get(Case, world.assigned_case).reference
    # I-1: paid 300 (the payment went to the oldest invoice); I-2: credited 100.
    first = _row(page, "INV-I-1")
    assert "2025-01-10" in first and "2025-02-09" in first
    assert "1,000.00 0.00 300.00 700.00" in first and reference in first
    assert "2,500.00 100.00 0.00 2,400.00" in _row(page, "INV-I-2")
    assert "400.00 0.00 0.00 400.00" in _row(page, "INV-I-4")
    payments = section(page, "payments-table")
    assert "P-1" in payments and "GBP 300.00" in payments and "INV-I-1: 300.00" in payments
    assert "C-1" in section(page, "credit-notes-table")
    assert "GBP 3,750.00" in text(page) and "EUR 300.00" in text(page)
    # Finance does not open cases.
    assert 'id="open-case"' not in page.data.decode()
    assert as_role("finance").post("/ledger/debtors/D-1", data={}).status_code == 403
    assert as_role("finance").get("/ledger/debtors/NOPE").status_code == 404


def test_opening_a_case_from_the_debtor_page(app, as_role, ledger, world):
    client = as_role("legal")
    page = client.get("/ledger/debtors/D-1")
    html = page.data.decode()
    assert 'id="open-case"' in html
    # Claimed invoices cannot be ticked; open unclaimed ones can.
    assert f'name="invoices" value="{ledger["I-1"]}"' not in html
    assert f'name="invoices" value="{ledger["I-4"]}"' in html

    response = client.post(
        "/ledger/debtors/D-1",
        data={"invoices": [str(ledger["I-4"]), str(ledger["I-6"])], "lawyer": str(world.lawyer)},
    )
    assert response.status_code == 303
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert [invoice.external_id for invoice in case.invoices] == ["I-6", "I-4"]
        assert (case.owner_id, case.lawyer_id, case.currency) == (world.legal, world.lawyer, "GBP")
        reference = case.reference
    shown = client.get(f"/cases/{case_id}")
    assert f"Case {reference} opened for 2 invoice(s)." in text(shown)
    assert "INV-I-4" in section(shown, "claim-invoices")
    # Back on the debtor page the invoice names its case and cannot be ticked again.
    again = client.get("/ledger/debtors/D-1")
    assert reference in _row(again, "INV-I-4")
    assert f'name="invoices" value="{ledger["I-4"]}"' not in again.data.decode()


def test_opening_a_case_refuses_mixed_currencies_and_nothing_ticked(app, as_role, ledger):
    client = as_role("legal")
    with app.app_context():
        before = case_count()
    mixed = client.post("/ledger/debtors/D-1", data={"invoices": [ledger["I-4"], ledger["I-5"]]})
    assert mixed.status_code == 422
    assert "Open one case per creditor entity and currency." in text(mixed)
    nothing = client.post("/ledger/debtors/D-1", data={})
    assert nothing.status_code == 422 and "Tick at least one open invoice." in text(nothing)
    claimed = client.post("/ledger/debtors/D-1", data={"invoices": [ledger["I-1"]]})
    assert claimed.status_code == 422 and "not a valid choice" in text(claimed)
    with app.app_context():
        assert case_count() == before


def test_admin_opens_a_case_for_a_legal_owner(app, as_role, ledger, world):
    client = as_role("admin")
    page = client.get("/ledger/debtors/D-1")
    assert "Case owner (in-house legal)" in text(page)
    response = client.post(
        "/ledger/debtors/D-1", data={"invoices": [ledger["I-5"]], "owner": str(world.legal)}
    )
    assert response.status_code == 303
    with app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case.owner_id == world.legal and case.currency == "EUR" and case.lawyer_id is None
    # The admin cannot make themself the owner (not a choice).
    refused = client.post(
        "/ledger/debtors/D-1", data={"invoices": [ledger["I-4"]], "owner": str(world.admin)}
    )
    assert refused.status_code == 422


def test_aging_page_table_totals_and_chart(as_role, ledger):
    page = as_role("finance").get(f"/ledger/aging?as_of={AS_OF}")
    assert page.status_code == 200
    assert f"as of {AS_OF}" in text(page)
    # As of 2025-06-30: I-1 (700) and I-2 (2,400) are 141 days overdue, I-6 (250) 15 days; the
    # invoices issued later do not count yet.
    d1 = _row(page, "Debtor D-1 Ltd")
    buckets = ["–", "250.00", "–", "–", "3,100.00", "–", "–", "3,350.00"]
    assert d1.split("GBP", 1)[1].split() == buckets
    table = page.data.decode()
    totals = re.findall(
        r'<tr class="fw-semibold aging-total" data-currency="(\w+)">(.*?)</tr>', table, flags=re.S
    )
    cells = {currency: re.findall(r">([^<>]+)</td>", row) for currency, row in totals}
    assert cells["GBP"][-1] == "3,350.00" and cells["GBP"][3] == "250.00"
    assert cells["CNY"][-1] == "88,000.00"
    # One stacked bar per currency, segments in proportion to the bucket totals.
    svg = re.search(r'<svg[^>]*id="aging-chart-GBP".*?</svg>', table, flags=re.S).group(0)
    widths = dict(re.findall(r'data-bucket="(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', svg))
    assert widths == {"d1_30": "7.463", "d91_180": "92.537"}
    assert "91–180 days: GBP 3,100.00" in svg
    # Each amount drills down to the invoices behind it.
    assert (
        f"/ledger/aging/invoices?debtor=D-1&amp;bucket=d91_180&amp;as_of={AS_OF}&amp;currency=GBP"
        in table
    )
    by_creditor = as_role("finance").get(f"/ledger/aging?as_of={AS_OF}&by_creditor=1")
    assert "Creditor" in section(by_creditor, "aging-table") and "CRED" in _row(
        by_creditor, "Debtor D-1 Ltd"
    )


def test_aging_drill_down_lists_the_bucket_invoices(as_role, ledger):
    page = as_role("legal").get(
        f"/ledger/aging/invoices?debtor=D-1&bucket=d91_180&as_of={AS_OF}&currency=GBP"
    )
    assert page.status_code == 200
    rows = section(page, "bucket-invoices")
    assert "INV-I-1" in rows and "INV-I-2" in rows and "INV-I-6" not in rows
    assert "141" in _row(page, "INV-I-1") and "700.00" in _row(page, "INV-I-1")
    assert "Total GBP 3,100.00" in rows
    everything = text(as_role("legal").get(f"/ledger/aging/invoices?debtor=D-1&as_of={AS_OF}"))
    assert "INV-I-6" in everything and "Total GBP 3,350.00" in everything


def test_aging_csv_export(as_role, ledger):
    response = as_role("finance").get(f"/ledger/aging.csv?as_of={AS_OF}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (f'attachment; filename="aging-{AS_OF}.csv"')
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    by_key = {(row["debtor"], row["currency"]): row for row in rows}
    assert set(by_key) == {("D-1", "GBP"), ("D-2", "CNY")}
    gbp = by_key[("D-1", "GBP")]
    assert (gbp["as_of"], gbp["debtor_name"]) == (AS_OF, "Debtor D-1 Ltd")
    assert (gbp["current"], gbp["d1_30"], gbp["d91_180"], gbp["total"]) == (
        "0.00",
        "250.00",
        "3100.00",
        "3350.00",
    )
    assert by_key[("D-2", "CNY")]["total"] == "88000.00"
    assert "creditor" not in rows[0]
    with_creditor = as_role("finance").get(f"/ledger/aging.csv?as_of={AS_OF}&by_creditor=1")
    header = with_creditor.data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("as_of,debtor,debtor_name,creditor,currency,current")


def test_aging_with_a_bad_date_falls_back_to_today(as_role, ledger):
    page = as_role("finance").get("/ledger/aging?as_of=2025-13-45")
    assert page.status_code == 200
    assert "is not a date (YYYY-MM-DD); showing today." in text(page)
    assert f"as of {TODAY.isoformat()}" in text(page)
