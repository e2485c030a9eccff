"""Ledger routes through the API with a token: idempotent PUTs, balances, allocation, aging."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.ledger.models import Invoice, PaymentAllocation

from ..factories import World, token_for

DEBTOR = {
    "name": "Acme Widgets Ltd",
    "kind": "company",
    "registration_id": "01234567",
    "address": "1 Road, Leeds",
    "email": "ap@acme.example",
    "phone": "+44 113 000 0000",
    "jurisdiction": "ew",
}


def invoice(number: str, amount: str, due: str, **extra) -> dict:
    return {
        "debtor": "ACME",
        "number": number,
        "issue_date": "2025-01-01",
        "delivery_date": "2024-12-30",
        "due_date": due,
        "currency": "GBP",
        "amount": amount,
        **extra,
    }


@pytest.fixture
def api(app, world: World):
    with app.app_context():
        token = token_for(World.EMAILS["finance"])
    client = app.test_client()

    def call(method: str, path: str, body=None):
        return client.open(
            f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    return call


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_put_debtor_is_idempotent(app, api):
    created = api("PUT", "/debtors/ACME", DEBTOR)
    assert created.status_code == 201 and created.json["created"] is True
    entries = audit_count(app)
    again = api("PUT", "/debtors/ACME", DEBTOR)
    assert again.status_code == 200 and again.json["created"] is False
    assert audit_count(app) == entries, "an identical PUT changes nothing and audits nothing"
    changed = api("PUT", "/debtors/ACME", {**DEBTOR, "phone": "+44 113 999 9999"})
    assert changed.status_code == 200
    assert audit_count(app) == entries + 1
    got = api("GET", "/debtors/ACME").json
    assert got["phone"] == "+44 113 999 9999" and got["balance"] == {}


def test_invalid_values_are_422_with_fields_and_change_nothing(app, api):
    api("PUT", "/debtors/ACME", DEBTOR)
    bad = api("PUT", "/invoices/X1", invoice("A-1", "10.005", "2024-12-01"))
    assert bad.status_code == 422
    fields = bad.json["error"]["fields"]
    assert "amount" in fields and "due_date" in fields
    floats = api("PUT", "/invoices/X1", {**invoice("A-1", "1", "2025-02-01"), "amount": 10.5})
    assert floats.status_code == 422 and "amount" in floats.json["error"]["fields"]
    unknown = api("PUT", "/invoices/X1", {**invoice("A-1", "10", "2025-02-01"), "debtor": "NOPE"})
    assert unknown.status_code == 422
    assert unknown.json["error"]["fields"] == {"debtor": ["Unknown debtor 'NOPE'."]}
    malformed = api("PUT", "/debtors/ACME", None)
    assert malformed.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3  # the world's


def test_payments_go_to_the_named_invoice_then_the_oldest(app, api):
    api("PUT", "/debtors/ACME", DEBTOR)
    assert api("PUT", "/invoices/A1", invoice("A-1", "100.00", "2025-01-31")).status_code == 201
    assert api("PUT", "/invoices/A2", invoice("A-2", "200.00", "2025-02-28")).status_code == 201
    assert api("PUT", "/invoices/A3", invoice("A-3", "300.00", "2025-03-31")).status_code == 201
    # 250 naming A-3 fills A-3 only up to... it has 300 open: all 250 go there.
    api("PUT", "/payments/P1", {"debtor": "ACME", "date": "2025-03-01", "currency": "GBP",
                                "amount": "250.00", "invoice": "A3"})  # fmt: skip
    # 150 unallocated: oldest first — A-1 (100) then 50 to A-2.
    api("PUT", "/payments/P2", {"debtor": "ACME", "date": "2025-03-02", "currency": "GBP",
                                "amount": "150.00"})  # fmt: skip
    api("PUT", "/credit-notes/C1", {"debtor": "ACME", "invoice": "A2", "date": "2025-03-03",
                                    "currency": "GBP", "amount": "20.00"})  # fmt: skip
    with app.app_context():
        allocated = dict(
            db.session.execute(
                select(Invoice.external_id, func.sum(PaymentAllocation.amount))
                .join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
                .group_by(Invoice.external_id)
            ).all()
        )
    assert allocated == {"A1": Decimal("100"), "A2": Decimal("50"), "A3": Decimal("250")}
    # Balance = 600 − 20 − 400 = 180.
    assert api("GET", "/debtors/ACME").json["balance"] == {"GBP": "180.00"}
    too_much = api("PUT", "/credit-notes/C2", {"debtor": "ACME", "invoice": "A2",
                                               "date": "2025-03-03", "currency": "GBP",
                                               "amount": "190.00"})  # fmt: skip
    assert too_much.status_code == 422 and "amount" in too_much.json["error"]["fields"]
    other_currency = api("PUT", "/payments/P3", {"debtor": "ACME", "date": "2025-03-02",
                                                 "currency": "USD", "amount": "1.00",
                                                 "invoice": "A1"})  # fmt: skip
    assert other_currency.status_code == 422


def test_invoice_number_is_unique_per_creditor(api):
    api("PUT", "/debtors/ACME", DEBTOR)
    api("PUT", "/invoices/A1", invoice("A-1", "100.00", "2025-01-31"))
    clash = api("PUT", "/invoices/A9", invoice("a-1", "1.00", "2025-01-31"))
    assert clash.status_code == 422
    assert clash.json["error"]["fields"] == {"number": ["Already used by invoice A1."]}


def test_aging_buckets_as_of_a_date(api):
    api("PUT", "/debtors/ACME", DEBTOR)
    # as of 2025-06-30: due 2025-07-15 current; 2025-06-10 → 20 days (1–30);
    # 2025-04-15 → 76 days (61–90); 2024-05-01 → 425 days (> 365).
    for key, amount, due in (
        ("B1", "10.00", "2025-07-15"),
        ("B2", "20.00", "2025-06-10"),
        ("B3", "30.00", "2025-04-15"),
        ("B4", "40.00", "2024-05-01"),
    ):
        body = invoice(key, amount, due, issue_date="2024-04-01")
        assert api("PUT", f"/invoices/{key}", body).status_code == 201  # fmt: skip
    api("PUT", "/payments/P1", {"debtor": "ACME", "date": "2025-06-01", "currency": "GBP",
                                "amount": "15.00"})  # fmt: skip
    # A payment after the date does not count.
    api("PUT", "/payments/P2", {"debtor": "ACME", "date": "2025-07-01", "currency": "GBP",
                                "amount": "5.00"})  # fmt: skip
    body = api("GET", "/aging?as_of=2025-06-30").json
    row = next(item for item in body["items"] if item["debtor"] == "ACME")
    assert {key: row[key] for key in ("current", "d1_30", "d31_60", "d61_90", "d91_180",
                                      "d181_365", "over_365", "total")} == {
        "current": "10.00", "d1_30": "20.00", "d31_60": "0.00", "d61_90": "30.00",
        "d91_180": "0.00", "d181_365": "0.00", "over_365": "25.00", "total": "85.00",
    }  # fmt: skip
    assert row["currency"] == "GBP" and body["next"] is None


def test_aging_uses_a_constant_number_of_queries(app, api):
    api("PUT", "/debtors/ACME", DEBTOR)

    def queries_for_aging() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                api("GET", "/aging?as_of=2026-01-01")
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_aging()
    for number in range(40):
        api("PUT", f"/invoices/N{number}", invoice(f"N-{number}", "1.00", "2025-03-01"))
        api("PUT", f"/payments/Q{number}", {"debtor": "ACME", "date": "2025-03-02",
                                            "currency": "GBP", "amount": "0.50"})  # fmt: skip
    assert queries_for_aging() == few


def test_lawyer_cannot_touch_the_ledger(app, world: World):
    with app.app_context():
        token = token_for(World.EMAILS["lawyer"])
    client = app.test_client()
    response = client.put(
        "/api/v1/debtors/ACME", json=DEBTOR, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_amount_parsing_refuses_decimal_commas():
    from portal.money import parse_amount

    assert parse_amount("1,234.50", "GBP") == Decimal("1234.50")
    assert parse_amount("1234.50", "GBP") == Decimal("1234.50")
    for bad in ("1234,50", "1,2,3", "12,34.5", "abc", "", "-5"):
        with pytest.raises(ValueError):
            parse_amount(bad, "GBP")
