"""N1-N3: what the stages need before any evidence is looked at."""

from __future__ import annotations

import pytest

from portal.jurisdictions.rules import readiness

from .builders import change, check, facts, only, with_invoice


@pytest.mark.parametrize("address", [None, "", "   "])
def test_n1_debtor_without_address(address):
    case = facts("ew", debtor_address=address)
    assert check(case, "N1") == [("N1", "blocker", None, None)]
    assert "Northwind Trading Ltd" in only(case, "N1").message


def test_n1_blocks_the_first_stage():
    stages = readiness(facts("cn", debtor_address=None))
    assert not stages["reconciliation"]["ready"]
    assert [f.rule for f in stages["reconciliation"]["findings"]] == ["N1"]


def test_n2_case_without_invoices():
    case = facts("us", invoices=())
    assert check(case, "N2") == [("N2", "blocker", None, None)]
    assert only(case, "N2").message == "The case has no invoices."


def test_n2_every_invoice_disputed():
    case = with_invoice(facts("ew"), "INV-1", disputed=True)
    assert check(case, "N2") == []
    case = with_invoice(case, "INV-2", disputed=True)
    assert check(case, "N2") == [("N2", "blocker", None, None)]
    assert "2024/101, 2024/102" in only(case, "N2").message


def test_n3_no_lawyer():
    case = change(facts("ew"), lawyer=None)
    assert check(case, "N3") == [("N3", "blocker", None, None)]
    stages = readiness(case)
    assert stages["warning"]["ready"] and not stages["demand_letter"]["ready"]
