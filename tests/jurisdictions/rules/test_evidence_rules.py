"""R2 contract, R6 originals, R8 evidence described for the list, R20 duplicates."""

from __future__ import annotations

from datetime import date

from portal.jurisdictions.rules import evaluate

from .builders import add_evidence, check, evidence, facts, only, with_evidence, with_invoice

# --- R2 ---------------------------------------------------------------------------------------


def test_r2_no_contract_or_purchase_order():
    case = with_evidence(facts("ew"), 1, remove=True)
    assert check(case, "R2") == [("R2", "warning", "INV-1", None), ("R2", "warning", "INV-2", None)]
    assert "course of dealing" in only(with_invoice(case, "INV-2", disputed=True), "R2").remedy


def test_r2_linked_agreements_cover_only_their_invoices():
    case = with_evidence(facts("cn"), 1, invoices=frozenset({"INV-1"}))
    assert check(case, "R2") == [("R2", "warning", "INV-2", None)]
    case = add_evidence(case, evidence(9, "purchase_order", "INV-2"))
    assert check(case, "R2") == []


def test_r2_applies_from_demand_letter_and_does_not_block():
    case = with_evidence(facts("us"), 1, remove=True)
    assert evaluate(case, "warning") == []
    stages = [f.severity for f in evaluate(case, "demand_letter")]
    assert stages == ["warning", "warning"]


# --- R6 ---------------------------------------------------------------------------------------


def test_r6_only_a_copy_held():
    case = with_evidence(facts("cn"), 2, original_held=False)
    assert check(case, "R6") == [("R6", "warning", "INV-1", 2)]
    assert only(case, "R6").message == (
        "Only a copy of the delivery note #2 (delivery_note-2.pdf) for invoice 2024/101 is held."
    )
    case = with_evidence(facts("cn"), 1, original_held=False)  # the framework contract
    assert check(case, "R6") == [("R6", "warning", None, 1)]


def test_r6_not_for_unknown_other_kinds_or_items_out_of_the_claim():
    assert check(with_evidence(facts("ew"), 2, original_held=None), "R6") == []
    assert check(with_evidence(facts("ew"), 4, original_held=False), "R6") == []  # invoice
    case = with_invoice(with_evidence(facts("ew"), 2, original_held=False), "INV-1", disputed=True)
    assert check(case, "R6") == []


# --- R8 ---------------------------------------------------------------------------------------


def test_r8_missing_source():
    case = with_evidence(facts("ew"), 6, source=" ")
    assert check(case, "R8") == [("R8", "blocker", None, 6)]
    assert only(case, "R8").message == (
        "The invoice delivery proof #6 (invoice_delivery_proof-6.pdf) lacks its source."
    )


def test_r8_one_finding_per_item_listing_everything_missing():
    item = evidence(
        9, "other", "INV-1", description=None, document_date=None, source=None, proves=""
    )
    case = add_evidence(facts("us"), item)
    assert check(case, "R8") == [("R8", "blocker", "INV-1", 9)]
    assert only(case, "R8").message.endswith(
        "lacks a description of what it is, the document date, its source and what it proves."
    )


def test_r8_kind_other_with_a_description_is_fine():
    item = evidence(9, "other", "INV-1", description="WeChat chat log of 2024-10-02")
    assert check(add_evidence(facts("cn"), item), "R8") == []
    plain = evidence(9, "delivery_note", "INV-1", description=None)
    assert check(add_evidence(facts("cn"), plain), "R8") == []


def test_r8_prosecution_only_and_only_items_of_the_claim():
    case = with_evidence(facts("ew"), 3, document_date=None)
    assert evaluate(case, "demand_letter") == []
    assert [f.rule for f in evaluate(case, "prosecution")] == ["R8"]
    assert check(with_invoice(case, "INV-2", disputed=True), "R8") == []


# --- R20 --------------------------------------------------------------------------------------


def test_r20_same_file_twice():
    case = add_evidence(facts("ew"), evidence(9, "delivery_note", "INV-1", duplicate_of=2))
    assert check(case, "R20") == [("R20", "warning", "INV-1", 9)]
    finding = only(case, "R20")
    assert "the same file (same SHA-256) as item #2" in finding.message
    assert finding.remedy.startswith("Delete item #9")
    assert [f.rule for f in evaluate(case, "reconciliation")] == ["R20"]


def test_r20_an_unlinked_duplicate():
    copy = evidence(9, "other", duplicate_of=8, document_date=date(2025, 5, 2))
    case = add_evidence(facts("cn"), copy)
    assert check(case, "R20") == [("R20", "warning", None, 9)]
