"""R17 payment-order route and R19 the PRC law firm and licence number."""

from __future__ import annotations

import pytest

from portal.jurisdictions.rules import evaluate

from .builders import change, check, event, facts, only, with_events, with_invoice

# --- R17 --------------------------------------------------------------------------------------


def payment_order(**overrides):
    return facts("cn", route="payment_order", **overrides)


def test_r17_payment_order_with_a_disputed_invoice():
    case = with_invoice(payment_order(), "INV-2", disputed=True)
    assert check(case, "R17") == [("R17", "blocker", "INV-2", None)]
    assert "no other debt dispute" in only(case, "R17").message


def test_r17_payment_order_after_preservation():
    case = with_events(payment_order(), event(40, "preservation", "2025-06-01"))
    assert check(case, "R17") == [("R17", "blocker", None, None)]
    assert only(case, "R17").message.startswith(
        "A preservation application was made on 2025-06-01 (event #40)"
    )


def test_r17_clean_payment_order_or_another_route():
    assert check(payment_order(), "R17") == []
    case = with_invoice(facts("cn", route="suit"), "INV-2", disputed=True)
    assert check(case, "R17") == []
    assert check(change(case, route=None), "R17") == []


@pytest.mark.parametrize("jurisdiction", ["ew", "us"])
def test_r17_prc_only(jurisdiction):
    case = with_invoice(facts(jurisdiction, route="payment_order"), "INV-2", disputed=True)
    assert "R17" not in {f.rule for f in evaluate(case, "prosecution")}


# --- R19 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lawyer", "missing"),
    [
        (("Wei Li", None, "13101201510000001"), "the law firm"),
        (("Wei Li", "Harbour Law LLP", " "), "the practising licence number"),
        (("Wei Li", "", None), "the law firm and the practising licence number"),
    ],
)
def test_r19_firm_or_licence_missing(lawyer, missing):
    case = facts("cn", lawyer=lawyer)
    assert check(case, "R19") == [("R19", "blocker", None, None)]
    finding = only(case, "R19")
    assert finding.message.endswith(f"Wei Li's record lacks {missing}.")
    assert finding.remedy == f"Enter {missing} on Wei Li's lawyer record."


def test_r19_leaves_no_lawyer_to_n3():
    case = facts("cn", lawyer=None)
    assert check(case, "R19") == []
    assert [f.rule for f in evaluate(case, "demand_letter")] == ["N3"]


def test_r19_from_demand_letter_in_the_prc_only():
    case = facts("cn", lawyer=("Wei Li", None, None))
    assert evaluate(case, "warning") == []
    assert [f.rule for f in evaluate(case, "demand_letter")] == ["R19"]
    assert evaluate(facts("ew", lawyer=("Jo Bloggs", None, None)), "prosecution") == []
