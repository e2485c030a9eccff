"""R13 PAP-Debt enclosures (E&W individuals) and R14 demand delivered, reply period over."""

from __future__ import annotations

from datetime import date

import pytest

from portal.jurisdictions.rules import evaluate

from .builders import ALL_ENCLOSURES, change, check, demand_letter, facts, only, with_events

# --- R13 --------------------------------------------------------------------------------------


def individual(*letters, **overrides):
    case = facts("ew", debtor_kind="individual", debtor_name="Sam Jones", **overrides)
    return with_events(case, *letters, keep=False) if letters else case


def test_r13_enclosure_missing():
    case = individual(demand_letter(enclosures=["information_sheet", "reply_form"]))
    assert check(case, "R13") == [("R13", "blocker", None, None)]
    assert only(case, "R13").message == (
        "Sam Jones is an individual, and the demand letter delivered on 2025-05-02 did not "
        "enclose the Financial Statement and an up-to-date statement of account."
    )
    assert "allow 30 days" in only(case, "R13").remedy


def test_r13_no_delivered_letter():
    case = individual(demand_letter(delivered=None))
    assert check(case, "R13") == [("R13", "blocker", None, None)]
    assert "none has been delivered" in only(case, "R13").message


def test_r13_any_complete_delivered_letter_will_do():
    complete = demand_letter(20, "2025-04-01", "2025-04-02")
    later = demand_letter(21, "2025-05-01", "2025-05-02", enclosures=[])
    assert check(individual(complete, later), "R13") == []
    assert check(individual(demand_letter(enclosures=ALL_ENCLOSURES[::-1])), "R13") == []


def test_r13_companies_are_not_concerned():
    case = with_events(facts("ew"), demand_letter(enclosures=[]), keep=False)
    assert check(case, "R13") == []


@pytest.mark.parametrize("jurisdiction", ["cn", "us"])
def test_r13_england_and_wales_only(jurisdiction):
    case = facts(jurisdiction, debtor_kind="individual")
    case = with_events(case, demand_letter(enclosures=[]), keep=False)
    assert evaluate(case, "prosecution") == []


# --- R14 --------------------------------------------------------------------------------------


def test_r14_no_demand_letter():
    case = with_events(facts("us"), keep=False)
    assert check(case, "R14") == [("R14", "blocker", None, None)]
    assert only(case, "R14").message == "Northwind Trading Ltd has not been sent a demand letter."


def test_r14_demand_letter_without_a_delivery_date():
    case = with_events(facts("cn"), demand_letter(delivered=None), keep=False)
    assert check(case, "R14") == [("R14", "blocker", None, None)]
    assert only(case, "R14").message == (
        "There is no delivery date for the demand letter sent on 2025-05-01 (event #20)."
    )


def test_r14_other_documents_do_not_count():
    warning = demand_letter(document="warning_letter")
    assert check(with_events(facts("ew"), warning, keep=False), "R14") == [
        ("R14", "blocker", None, None)
    ]


@pytest.mark.parametrize(
    ("as_of", "blocked"),
    [("2025-06-28", True), ("2025-07-04", True), ("2025-07-05", False)],
)
def test_r14_reply_period_runs_to_its_last_day(as_of, blocked):
    """Delivered 2025-06-20 + 14 days: the debtor may reply until 2025-07-04 inclusive."""
    case = with_events(facts("ew"), demand_letter(20, "2025-06-19", "2025-06-20"), keep=False)
    case = change(case, as_of=date.fromisoformat(as_of))
    assert check(case, "R14") == ([("R14", "blocker", None, None)] if blocked else [])
    if blocked:
        finding = only(case, "R14")
        assert finding.message == (
            "The debtor has until 2025-07-04 to reply to the demand letter delivered on "
            "2025-06-20 (14 days)."
        )
        assert finding.remedy == "Record any reply, and prepare the claim on or after 2025-07-05."


@pytest.mark.parametrize(
    ("debtor_kind", "reply_days", "last_day"),
    [
        ("individual", 14, "2025-07-01"),  # PAP-Debt: at least 30 days
        ("company", 7, None),  # PD-PAC: at least 14 days, over by 2025-06-15
        ("company", 45, "2025-07-16"),  # a longer period given in the letter
    ],
)
def test_r14_england_and_wales_minimum_periods(debtor_kind, reply_days, last_day):
    case = facts("ew", debtor_kind=debtor_kind, reply_days=reply_days)
    case = with_events(case, demand_letter(20, "2025-05-30", "2025-06-01"), keep=False)
    found = list(evaluate(case, "prosecution"))
    assert [f.rule for f in found] == (["R14"] if last_day else [])
    if last_day:
        assert f"until {last_day}" in found[0].message


@pytest.mark.parametrize("jurisdiction", ["cn", "us"])
def test_r14_elsewhere_the_letters_own_period(jurisdiction):
    case = facts(jurisdiction, reply_days=7)
    blocked = with_events(case, demand_letter(20, "2025-06-24", "2025-06-25"), keep=False)
    assert check(blocked, "R14") == [("R14", "blocker", None, None)]
    assert "until 2025-07-02" in only(blocked, "R14").message
    over = with_events(case, demand_letter(20, "2025-06-19", "2025-06-20"), keep=False)
    assert check(over, "R14") == []


def test_r14_the_latest_delivered_letter_counts():
    first = demand_letter(20, "2025-04-01", "2025-04-02")
    again = demand_letter(21, "2025-06-24", "2025-06-25")
    case = with_events(facts("cn"), first, again, keep=False)
    assert check(case, "R14") == [("R14", "blocker", None, None)]
    assert "delivered on 2025-06-25" in only(case, "R14").message
