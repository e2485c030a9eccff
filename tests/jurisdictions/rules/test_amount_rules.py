"""R7 amounts, R11 partial acknowledgment, R12 balance confirmation, R16 interest basis."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.jurisdictions.rules import evaluate

from .builders import change, check, event, facts, only, with_events, with_evidence, with_invoice

# --- R7 ---------------------------------------------------------------------------------------


def test_r7_invoice_document_differs_from_the_ledger_by_a_cent():
    case = with_evidence(facts("ew"), 4, amount=Decimal("1200.01"))
    assert check(case, "R7") == [("R7", "blocker", "INV-1", 4)]
    assert only(case, "R7").message == (
        "The invoice copy #4 (invoice-4.pdf) shows GBP 1,200.01 for invoice 2024/101; the ledger "
        "has GBP 1,200.00."
    )


def test_r7_compares_to_the_cent_in_the_same_currency():
    assert check(with_evidence(facts("ew"), 4, amount=Decimal("1200.004")), "R7") == []
    assert check(with_evidence(facts("ew"), 4, amount=Decimal("1400"), currency="EUR"), "R7") == []
    # No currency recorded on the item: read as the invoice's.
    case = with_evidence(facts("ew"), 4, amount=Decimal("1400"), currency=None)
    assert check(case, "R7") == [("R7", "blocker", "INV-1", 4)]


def test_r7_only_documents_of_exactly_that_invoice():
    both = frozenset({"INV-1", "INV-2"})
    case = with_evidence(facts("us"), 4, amount=Decimal("2000"), invoices=both)
    assert check(case, "R7") == []
    assert check(with_evidence(facts("us"), 4, amount=None), "R7") == []


def test_r7_balance_does_not_add_up():
    case = with_invoice(facts("cn"), "INV-1", outstanding=Decimal("900.00"))
    assert check(case, "R7") == [("R7", "blocker", "INV-1", None)]
    assert "(CNY 1,000.00)" in only(case, "R7").message


def test_r7_overpaid_invoice():
    case = with_invoice(facts("ew"), "INV-2", paid=Decimal("850.00"), outstanding=Decimal("-50"))
    assert check(case, "R7") == [("R7", "blocker", "INV-2", None)]
    assert only(case, "R7").message == "Invoice 2024/102 is overpaid by GBP 50.00."


def test_r7_disputed_invoices_are_not_checked():
    case = with_invoice(facts("ew"), "INV-1", outstanding=Decimal("1"), disputed=True)
    assert check(case, "R7") == []


# --- R11 --------------------------------------------------------------------------------------


def acknowledgment(amount: str | None, currency: str = "GBP", *, column: bool = True):
    details = {"signed": True, "currency": currency}
    if amount is not None:
        details["amount"] = amount
    value = Decimal(amount) if amount is not None and column else None
    return event(31, "acknowledgment", "2025-04-01", amount=value, details=details)


def test_r11_acknowledgment_of_part_of_the_debt():
    case = with_events(facts("ew"), acknowledgment("1500.00"))
    assert check(case, "R11") == [("R11", "warning", None, None)]
    assert only(case, "R11").message == (
        "The debtor's acknowledgment of 2025-04-01 (event #31) covers GBP 1,500.00, less than "
        "the GBP 1,800.00 claimed."
    )
    assert check(with_events(facts("ew"), acknowledgment("1500.00", column=False)), "R11") == [
        ("R11", "warning", None, None)
    ]


def test_r11_not_for_the_whole_debt_other_currencies_or_no_amount():
    assert check(with_events(facts("ew"), acknowledgment("1800")), "R11") == []
    assert check(with_events(facts("ew"), acknowledgment("10", "EUR")), "R11") == []
    assert check(with_events(facts("ew"), acknowledgment(None)), "R11") == []


def test_r11_from_demand_letter():
    case = with_events(facts("us"), acknowledgment("10", "USD"))
    assert evaluate(case, "warning") == []
    assert [f.rule for f in evaluate(case, "demand_letter")] == ["R11"]


# --- R12 --------------------------------------------------------------------------------------


def test_r12_unsealed_confirmation_in_the_prc():
    case = with_evidence(facts("cn"), 7, sealed=False)
    assert check(case, "R12") == [("R12", "warning", None, 7)]
    assert only(case, "R12").message.endswith("does not bear Northwind Trading Ltd's seal.")


@pytest.mark.parametrize("jurisdiction", ["ew", "us"])
def test_r12_outside_the_prc_a_signature_will_do(jurisdiction):
    assert check(with_evidence(facts(jurisdiction), 7, sealed=False), "R12") == []
    case = with_evidence(facts(jurisdiction), 7, sealed=False, signed_by_debtor=None)
    assert check(case, "R12") == [("R12", "warning", None, 7)]


def test_r12_balance_differs_from_the_ledger_at_its_date():
    case = with_evidence(facts("ew"), 7, amount=Decimal("1700.00"))
    assert check(case, "R12") == [("R12", "warning", None, 7)]
    assert "the ledger balance of invoices 2024/101, 2024/102 on that date was GBP 1,800.00" in (
        only(case, "R12").message
    )


def test_r12_counts_only_reductions_up_to_its_date():
    """Before the payment of 2024-11-15 the balance was 2,000.00."""
    before = with_evidence(facts("ew"), 7, document_date=date(2024, 11, 10))
    assert check(before, "R12") == [("R12", "warning", None, 7)]
    assert check(with_evidence(before, 7, amount=Decimal("2000.00")), "R12") == []


def test_r12_linked_confirmation_covers_its_invoices():
    case = with_evidence(facts("us"), 7, invoices=frozenset({"INV-1"}), amount=Decimal("1000"))
    assert check(case, "R12") == []


def test_r12_skips_the_amount_check_without_amount_or_date():
    assert check(with_evidence(facts("ew"), 7, amount=None), "R12") == []
    assert check(with_evidence(facts("ew"), 7, amount=Decimal(1), document_date=None), "R12") == []


def test_r12_both_defects_give_two_findings():
    case = with_evidence(facts("cn"), 7, sealed=False, amount=Decimal("1"))
    assert check(case, "R12") == [("R12", "warning", None, 7), ("R12", "warning", None, 7)]


# --- R16 --------------------------------------------------------------------------------------


def test_r16_interest_could_not_be_calculated():
    error = "No 'boe_base' rate in force on 2024-11-01: an admin must add a row to the rate table."
    case = change(facts("ew"), interest_error=error)
    assert check(case, "R16") == [("R16", "blocker", None, None)]
    assert only(case, "R16").message == f"Interest cannot be calculated: {error}"
    # The case side has no basis when the calculation failed: one finding, not two.
    assert check(change(case, interest_basis=None), "R16") == [("R16", "blocker", None, None)]


def test_r16_overdue_invoices_without_an_interest_basis():
    case = change(facts("cn"), interest_basis=None)
    assert check(case, "R16") == [("R16", "blocker", None, None)]
    assert "Invoices 2024/101, 2024/102 are overdue" in only(case, "R16").message
    paid = with_invoice(case, "INV-1", paid=Decimal("1200"), outstanding=Decimal("0"))
    assert check(paid, "R16") == [("R16", "blocker", "INV-2", None)]
    assert only(paid, "R16").message.startswith("Invoice 2024/102 is overdue")


def test_r16_nothing_overdue_needs_no_basis():
    case = change(facts("us"), interest_basis="", as_of=date(2024, 10, 31))
    assert check(case, "R16") == []
