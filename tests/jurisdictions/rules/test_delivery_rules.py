"""R3-R5 delivery notes and R18 invoice delivery proof."""

from __future__ import annotations

from portal.jurisdictions.rules import evaluate

from .builders import add_evidence, check, evidence, facts, only, with_evidence, with_invoice

# --- R3 ---------------------------------------------------------------------------------------


def test_r3_invoice_without_delivery_note():
    case = with_evidence(facts("ew"), 3, remove=True)
    assert check(case, "R3") == [("R3", "blocker", "INV-2", None)]
    finding = only(case, "R3")
    assert finding.message == "No delivery note is linked to invoice 2024/102."
    assert "Upload the delivery note for invoice 2024/102" in finding.remedy


def test_r3_an_unlinked_delivery_note_proves_no_invoice():
    case = with_evidence(facts("cn"), 3, invoices=frozenset())
    assert check(case, "R3") == [("R3", "blocker", "INV-2", None)]


def test_r3_disputed_invoices_are_out_of_the_claim():
    case = with_invoice(with_evidence(facts("us"), 3, remove=True), "INV-2", disputed=True)
    assert check(case, "R3") == []


def test_r3_applies_from_notice():
    case = with_evidence(facts("ew"), 2, remove=True)
    assert evaluate(case, "reconciliation") == []
    assert [f.rule for f in evaluate(case, "notice")] == ["R3"]


# --- R4 ---------------------------------------------------------------------------------------


def test_r4_signed_but_neither_sealed_nor_signer_named():
    case = with_evidence(facts("cn"), 2, sealed=False, signer="")
    assert check(case, "R4") == [("R4", "warning", "INV-1", 2)]
    assert "signer's authority is not shown" in only(case, "R4").message
    case = with_evidence(facts("ew"), 2, sealed=None, signer=None)
    assert check(case, "R4") == [("R4", "warning", "INV-1", 2)]


def test_r4_seal_or_named_signer_is_enough():
    assert check(with_evidence(facts("ew"), 2, sealed=False), "R4") == []  # signer named
    assert check(with_evidence(facts("ew"), 2, signer=None), "R4") == []  # sealed


def test_r4_not_for_unsigned_notes_or_notes_out_of_the_claim():
    unsigned = with_evidence(facts("ew"), 2, sealed=False, signer=None, signed_by_debtor=False)
    assert check(unsigned, "R4") == []  # that is R5
    case = with_evidence(facts("ew"), 2, sealed=False, signer=None)
    assert check(with_invoice(case, "INV-1", disputed=True), "R4") == []


def test_r4_note_for_two_invoices_names_no_single_invoice():
    both = frozenset({"INV-1", "INV-2"})
    case = with_evidence(facts("us"), 2, sealed=False, signer=None, invoices=both)
    assert check(case, "R4") == [("R4", "warning", None, 2)]
    assert "for invoices 2024/101, 2024/102" in only(case, "R4").message


# --- R5 ---------------------------------------------------------------------------------------


def test_r5_delivery_note_not_signed_by_the_debtor():
    for signed in (False, None):
        case = with_evidence(facts("ew"), 3, signed_by_debtor=signed)
        assert check(case, "R5") == [("R5", "blocker", "INV-2", 3)]
    assert "No delivery note for invoice 2024/102 is signed" in only(case, "R5").message


def test_r5_one_signed_note_is_enough():
    case = add_evidence(facts("cn"), evidence(9, "delivery_note", "INV-2", signed_by_debtor=False))
    assert check(case, "R5") == []


def test_r5_two_unsigned_notes_name_no_single_item():
    case = with_evidence(facts("cn"), 3, signed_by_debtor=False)
    case = add_evidence(case, evidence(9, "delivery_note", "INV-2", signed_by_debtor=False))
    assert check(case, "R5") == [("R5", "blocker", "INV-2", None)]
    assert "(#3, #9)" in only(case, "R5").message


def test_r5_leaves_missing_notes_to_r3():
    assert check(with_evidence(facts("ew"), 3, remove=True), "R5") == []


# --- R18 --------------------------------------------------------------------------------------


def test_r18_no_invoice_delivery_proof():
    case = with_evidence(facts("ew"), 6, remove=True)
    assert check(case, "R18") == [
        ("R18", "warning", "INV-1", None),
        ("R18", "warning", "INV-2", None),
    ]
    assert only(with_evidence(facts("ew"), 6, invoices=frozenset({"INV-1"})), "R18").invoice == (
        "INV-2"
    )


def test_r18_proof_must_be_linked():
    case = with_evidence(facts("us"), 6, invoices=frozenset())
    assert [f[2] for f in check(case, "R18")] == ["INV-1", "INV-2"]
