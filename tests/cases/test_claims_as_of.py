"""A claim as of a date knows only the invoices issued and the payments made by then, and a
statement of account lists only the payments applied to the case's own invoices.

Debtor D-1 owes on two cases of its own: case A (invoices I-10, issued 10 January 2025, and I-11,
issued 1 August 2025) and case B (I-12). Payments: P-10 GBP 300.00 on 1 March 2025 and P-11
GBP 200.00 on 1 September 2025 for I-10; P-12 GBP 500.00 on 1 April 2025 for I-12 (case B).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.accounts.models import User
from portal.cases.claims import build_claim
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.extensions import db
from portal.ledger.upserts import upsert_payment

from ..documents.test_documents_api import auth, text_of
from ..factories import ACTOR, World, make_invoice

BACK_THEN = dt.date(2025, 5, 1)


def pay(external_id: str, invoice: str, on: dt.date, amount: str) -> None:
    upsert_payment(
        ACTOR,
        external_id,
        {"debtor": "D-1", "invoice": invoice, "date": on, "currency": "GBP",
         "amount": Decimal(amount)},
    )  # fmt: skip


@pytest.fixture
def two_cases(app, world: World) -> tuple[int, int]:
    with app.app_context():
        legal = db.session.get(User, world.legal)
        debtor = db.session.get(Case, world.assigned_case).debtor
        first = open_case(
            ACTOR,
            debtor=debtor,
            owner=legal,
            invoices=[
                make_invoice("I-10", amount="1000.00", issue=dt.date(2025, 1, 10),
                             due=dt.date(2025, 2, 9)),
                make_invoice("I-11", amount="400.00", issue=dt.date(2025, 8, 1),
                             due=dt.date(2025, 8, 31)),
            ],
        )  # fmt: skip
        second = open_case(
            ACTOR, debtor=debtor, owner=legal, invoices=[make_invoice("I-12", amount="800.00")]
        )
        pay("P-10", "I-10", dt.date(2025, 3, 1), "300.00")
        pay("P-11", "I-10", dt.date(2025, 9, 1), "200.00")
        pay("P-12", "I-12", dt.date(2025, 4, 1), "500.00")
        db.session.commit()
        return first.id, second.id


def test_a_back_dated_claim_has_only_what_existed_then(app, two_cases):
    first, _second = two_cases
    with app.app_context():
        case = db.session.get(Case, first)
        then = build_claim(case, BACK_THEN)
        assert [item.invoice.number for item in then.invoices] == ["INV-I-10"]
        # 1,000.00 less P-10's 300.00; P-11 (September) had not been made.
        assert then.outstanding == Decimal("700.00")
        assert then.allocated == [(dt.date(2025, 3, 1), Decimal("300.00"))]

        now = build_claim(case)
        assert [item.invoice.number for item in now.invoices] == ["INV-I-10", "INV-I-11"]
        # 1,000.00 - 300.00 - 200.00 + 400.00 = 900.00
        assert now.outstanding == Decimal("900.00")
        # Case B's P-12 (applied to I-12) is the debtor's payment, never this case's.
        assert now.allocated == [
            (dt.date(2025, 3, 1), Decimal("300.00")),
            (dt.date(2025, 9, 1), Decimal("200.00")),
        ]


def test_the_statement_of_account_lists_only_this_cases_payments(app, client, two_cases):
    first, _second = two_cases
    made = client.post(
        f"/api/v1/cases/{first}/documents",
        json={"kind": "reconciliation_letter", "mode": "draft", "as_of": BACK_THEN.isoformat()},
        headers=auth(app, "legal"),
    )
    assert made.status_code == 201, made.get_json()
    pdf = client.get(f"/api/v1/documents/{made.get_json()['id']}/pdf", headers=auth(app, "legal"))
    text = text_of(pdf.data)
    assert "INV-I-10" in text and "INV-I-11" not in text, "issued after the letter's date"
    assert "1 March 2025" in text and "300.00" in text
    assert "1 April 2025" not in text and "500.00" not in text, "case B's payment"
    assert "1 September 2025" not in text, "made after the letter's date"
