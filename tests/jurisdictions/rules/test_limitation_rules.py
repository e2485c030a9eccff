"""R1 limitation, R9 PRC demand delivery proof, R10 E&W/US unsigned acknowledgment."""

from __future__ import annotations

import pytest

from portal.jurisdictions.rules import evaluate

from .builders import (
    add_evidence,
    check,
    day,
    demand_letter,
    event,
    evidence,
    facts,
    limitation,
    only,
    with_events,
    with_evidence,
    with_invoice,
)

EXPIRED = limitation("2025-03-31", set_by="due date 2022-03-31")
IN_WINDOW = limitation("2025-08-31", set_by="due date 2022-08-31")

# --- R1 ---------------------------------------------------------------------------------------


def test_r1_expired_is_a_blocker_naming_deadline_and_cause():
    case = with_invoice(facts("cn"), "INV-1", limitation=EXPIRED)
    assert check(case, "R1") == [("R1", "blocker", "INV-1", None)]
    finding = only(case, "R1")
    assert finding.message == (
        "Limitation for invoice 2024/101 expired on 2025-03-31 (set by due date 2022-03-31)."
    )
    assert "proof of delivery" in finding.remedy  # what restarts it in the PRC


def test_r1_inside_the_window_is_a_warning():
    case = with_invoice(facts("ew"), "INV-2", limitation=IN_WINDOW)
    assert check(case, "R1") == [("R1", "warning", "INV-2", None)]
    finding = only(case, "R1")
    assert "ends on 2025-08-31, in 62 days" in finding.message
    assert "signed by the debtor" in finding.remedy
    assert evaluate(case, "reconciliation") == [finding]


def test_r1_ignores_disputed_invoices_and_unknown_limitation():
    case = with_invoice(facts("us"), "INV-1", limitation=EXPIRED, disputed=True)
    case = with_invoice(case, "INV-2", limitation=None)
    assert check(case, "R1") == []


# --- R9 (PRC) ---------------------------------------------------------------------------------


def notice_sent(on: str = "2024-06-01", **changes):
    """An advance notice sent by post with no delivery recorded."""
    details = {"document": "advance_notice", "courier": "EMS", "tracking": "EA1"}
    return event(21, "dispatch", on, details=details, **changes)


def test_r9_undelivered_demand_while_limitation_expired():
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=EXPIRED), notice_sent())
    assert check(case, "R9") == [("R9", "blocker", "INV-1", None)]
    finding = only(case, "R9")
    assert finding.message == (
        "Limitation for invoice 2024/101 expired on 2025-03-31; the advance notice sent on "
        "2024-06-01 (event #21) would interrupt it, but there is no proof that it reached the "
        "debtor."
    )
    assert "remove invoice 2024/101" in finding.remedy


def test_r9_inside_the_window_suggests_a_new_demand():
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=IN_WINDOW), notice_sent())
    assert check(case, "R9") == [("R9", "blocker", "INV-1", None)]
    assert "before 2025-08-31" in only(case, "R9").remedy


def test_r9_courier_proof_dated_after_the_dispatch_is_enough():
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=EXPIRED), notice_sent())
    case = add_evidence(case, evidence(9, "dispatch_proof", document_date=day("2024-06-03")))
    assert check(case, "R9") == []


def test_r9_a_later_letters_proof_does_not_prove_an_earlier_one():
    """The demand letter's courier receipt (2025-05-02) belongs to the demand letter."""
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=EXPIRED), notice_sent())
    assert [e.document_date for e in case.evidence if e.kind == "dispatch_proof"] == [
        day("2025-05-02")
    ]
    assert check(case, "R9") == [("R9", "blocker", "INV-1", None)]


def test_r9_a_proof_belongs_to_the_latest_sending_before_it():
    """A courier receipt of 2024-06-03 after a reconciliation letter of 2024-06-02 is its own."""
    reconciliation = event(
        22,
        "reconciliation_sent",
        "2024-06-02",
        details={"courier": "EMS", "tracking": "EB2", "reply_by": "2024-06-30"},
    )
    case = with_invoice(facts("cn"), "INV-1", limitation=EXPIRED)
    case = with_events(case, notice_sent(), reconciliation)
    case = add_evidence(case, evidence(9, "dispatch_proof", document_date=day("2024-06-03")))
    assert check(case, "R9") == [("R9", "blocker", "INV-1", None)]


def test_r9_not_when_limitation_is_safe_or_the_demand_came_after_expiry():
    assert check(with_events(facts("cn"), notice_sent()), "R9") == []
    case = with_invoice(facts("cn"), "INV-1", limitation=EXPIRED)
    assert check(with_events(case, notice_sent("2025-04-15")), "R9") == []


def test_r9_deadline_resting_on_a_delivered_demand_without_proof():
    resting = limitation(
        "2028-05-02",
        set_by="demand delivered to the debtor on 2025-05-02 (demand_letter)",
        set_by_kind="demand_delivered",
    )
    case = with_invoice(facts("cn"), "INV-1", limitation=resting)
    assert check(case, "R9") == []  # the courier receipt #8 is on file
    case = with_evidence(case, 8, remove=True)
    assert check(case, "R9") == [("R9", "blocker", "INV-1", None)]
    assert "runs to 2028-05-02 only because of the demand letter sent on 2025-05-01" in (
        only(case, "R9").message
    )


@pytest.mark.parametrize("jurisdiction", ["ew", "us"])
def test_r9_is_prc_only(jurisdiction):
    case = with_invoice(facts(jurisdiction), "INV-1", limitation=EXPIRED)
    case = with_events(case, notice_sent())
    assert "R9" not in {f.rule for f in evaluate(case, "prosecution")}


def test_r9_only_at_prosecution():
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=EXPIRED), notice_sent())
    assert "R9" not in {f.rule for f in evaluate(case, "demand_letter")}
    assert "R9" in {f.rule for f in evaluate(case, "prosecution")}


def test_r9_undelivered_demand_letter_itself():
    case = with_invoice(facts("cn"), "INV-2", limitation=IN_WINDOW)
    case = with_events(case, demand_letter(20, delivered=None), keep=False)
    case = with_evidence(case, 8, remove=True)
    assert check(case, "R9") == [("R9", "blocker", "INV-2", None)]


# --- R10 (E&W, US) ----------------------------------------------------------------------------


def oral(on: str = "2025-02-01"):
    return event(30, "acknowledgment", on, details={"signed": False})


@pytest.mark.parametrize(("jurisdiction", "law"), [("ew", "s.30(1)"), ("us", "state law")])
def test_r10_unsigned_acknowledgment_while_limitation_runs_out(jurisdiction, law):
    case = with_invoice(facts(jurisdiction), "INV-1", limitation=IN_WINDOW)
    case = with_events(case, oral())
    assert check(case, "R10") == [("R10", "blocker", "INV-1", None)]
    finding = only(case, "R10")
    assert "acknowledgment of 2025-02-01 (event #30) is oral or unsigned" in finding.message
    assert law in finding.message
    assert "before 2025-08-31" in finding.remedy


def test_r10_expired_invoice():
    case = with_events(with_invoice(facts("ew"), "INV-2", limitation=EXPIRED), oral())
    assert check(case, "R10") == [("R10", "blocker", "INV-2", None)]
    assert "remove invoice 2024/102" in only(case, "R10").remedy


def test_r10_not_for_signed_acknowledgments_safe_invoices_or_after_expiry():
    safe = with_events(facts("ew"), oral())
    assert check(safe, "R10") == []
    at_risk = with_invoice(facts("ew"), "INV-1", limitation=EXPIRED)
    signed = event(30, "acknowledgment", "2025-02-01", details={"signed": True})
    assert check(with_events(at_risk, signed), "R10") == []
    assert check(with_events(at_risk, oral("2025-04-10")), "R10") == []


def test_r10_not_in_the_prc():
    case = with_events(with_invoice(facts("cn"), "INV-1", limitation=IN_WINDOW), oral())
    assert "R10" not in {f.rule for f in evaluate(case, "prosecution")}
