"""The shared simple-interest engine, rate look-up, the EU directive basis and aggregation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.jurisdictions import InterestOptions, MissingRate, aggregate, get_pack
from portal.jurisdictions.interest import (
    half_year_start,
    pct,
    principal_periods,
    rate_in_force,
    simple_interest,
)

from .facts import day, invoice, paid, rate

D = Decimal


def test_simple_interest_is_days_over_365_unrounded():
    # 1,000 at 10 % for 1 day = 1000 × 0.10 / 365 = 0.273972602739726...
    assert simple_interest(D(1000), D(10), 1) == D(100) / D(365)
    # days/365 even in a leap year: 366 days give more than a year's interest.
    assert simple_interest(D(1000), D(10), 366) == D(36600) / D(365)


def test_pct_reads_as_people_write_it():
    assert [pct(D(x)) for x in ("13.25", "5.175", "5.00", "8", "100", "0.00")] == [
        "13.25",
        "5.175",
        "5",
        "8",
        "100",
        "0",
    ]


def test_a_reduction_lowers_the_principal_from_its_own_date():
    # Rule: a reduction dated D reduces the principal from D onwards.
    stretches = principal_periods(
        D(1000), (paid("2024-03-10", "300"),), day("2024-03-01"), day("2024-03-31")
    )
    assert stretches == [
        (day("2024-03-01"), day("2024-03-09"), D(1000)),
        (day("2024-03-10"), day("2024-03-31"), D(700)),
    ]


def test_reductions_before_the_start_and_after_the_end():
    stretches = principal_periods(
        D(1000),
        (paid("2024-02-01", "100"), paid("2024-04-01", "900")),
        day("2024-03-01"),
        day("2024-03-31"),
    )
    assert stretches == [(day("2024-03-01"), day("2024-03-31"), D(900))]


def test_principal_never_goes_below_zero_and_paid_stretches_are_dropped():
    stretches = principal_periods(
        D(1000),
        (paid("2024-03-05", "600"), paid("2024-03-05", "600"), paid("2024-03-20", "10")),
        day("2024-03-01"),
        day("2024-03-31"),
    )
    assert stretches == [(day("2024-03-01"), day("2024-03-04"), D(1000))]


def test_no_interest_until_the_day_after_the_due_date():
    rates = [rate("boe_base", "2023-06-22", "5.00")]
    pack = get_pack("ew")
    on_due = pack.interest(invoice(), day("2023-08-31"), rates, InterestOptions())
    assert (on_due.amount, on_due.daily, on_due.periods, on_due.compensation) == (
        D("0.00"),
        D("0.00"),
        (),
        D("0.00"),
    )
    assert on_due.start == day("2023-09-01")
    # First day of interest: 5,000 × 13 % × 1 / 365 = 1.780821... → 1.78.
    first = pack.interest(invoice(), day("2023-09-01"), rates, InterestOptions())
    assert first.amount == D("1.78")
    assert first.periods[0].days == 1


def test_rate_in_force_takes_the_latest_row_on_or_before_the_day():
    rows = [rate("lpr_1y", "2023-06-20", "3.55"), rate("lpr_1y", "2023-08-21", "3.45")]
    assert rate_in_force(rows, "lpr_1y", day("2023-08-20")).rate == D("3.55")
    assert rate_in_force(rows, "lpr_1y", day("2023-08-21")).rate == D("3.45")
    with pytest.raises(MissingRate, match="No 'lpr_1y' rate"):
        rate_in_force(rows, "lpr_1y", day("2023-06-19"))
    with pytest.raises(MissingRate, match="No 'boe_base' rate"):
        rate_in_force(rows, "boe_base", day("2023-09-01"))


def test_rate_in_force_refuses_conflicting_rows():
    rows = [rate("lpr_1y", "2023-08-21", "3.45"), rate("lpr_1y", "2023-08-21", "3.55")]
    with pytest.raises(ValueError, match="conflicting 'lpr_1y' rows from 2023-08-21"):
        rate_in_force(rows, "lpr_1y", day("2023-09-01"))


def test_half_year_start():
    assert half_year_start(day("2023-06-30")) == day("2023-01-01")
    assert half_year_start(day("2023-07-01")) == day("2023-07-01")


ECB = [
    rate("ecb_ref", "2023-06-21", "4.00"),
    rate("ecb_ref", "2023-08-02", "4.25"),
]


def test_eu_directive_rate_is_fixed_on_the_first_day_of_the_half_year():
    # Directive 2011/7/EU Art. 2(7)(b), Art. 3(2): the ECB rate applicable on the first calendar
    # day of the half-year. Interest starts 2023-09-01 → half-year from 2023-07-01 → ECB rate
    # in force that day 4.00 (not 4.25 from 2023-08-02) → 4.00 + 8 = 12 %.
    # 10,000 × 12 % × 122 days (Sep 30 + Oct 31 + Nov 30 + Dec 31) / 365
    #   = 1,200 × 122 / 365 = 401.0958... → 401.10. Art. 6(1): EUR 40 compensation.
    facts = invoice(currency="EUR", amount=D("10000.00"))
    result = get_pack("ew").interest(
        facts, day("2023-12-31"), ECB, InterestOptions(use_eu_directive=True)
    )
    assert result.basis == "eu_directive"
    assert result.rate == D("12.00")
    assert result.amount_exact == D("10000.00") * D(12) * 122 / D(36500)
    assert result.amount == D("401.10")
    assert result.compensation == D("40.00")
    assert "Directive 2011/7/EU" in result.basis_text
    assert "Art. 6(1)" in result.compensation_text


def test_eu_directive_compensation_only_in_euro():
    facts = invoice(currency="PLN")
    result = get_pack("cn").interest(
        facts, day("2023-12-31"), ECB, InterestOptions(use_eu_directive=True)
    )
    assert result.compensation == D("0.00")
    assert "entered by hand" in result.compensation_text


def test_eu_directive_missing_ecb_rate():
    with pytest.raises(MissingRate) as caught:
        get_pack("us").interest(
            invoice(due_date=day("2023-05-31")),
            day("2023-12-31"),
            ECB,
            InterestOptions(use_eu_directive=True),
        )
    assert (caught.value.kind, caught.value.on) == ("ecb_ref", day("2023-01-01"))


def test_aggregate_sums_rounded_figures_and_names_the_basis():
    rates = [rate("boe_base", "2023-06-22", "5.00")]
    pack = get_pack("ew")
    statutory = pack.interest(invoice(), day("2023-12-31"), rates, InterestOptions())
    agreed = pack.interest(
        invoice(key="INV-2", contract_rate=D("10")), day("2023-12-31"), rates, InterestOptions()
    )
    both = aggregate([statutory, agreed])
    assert both["basis"] == "mixed"
    assert both["rate"] is None
    assert both["amount"] == statutory.amount + agreed.amount
    assert both["amount_exact"] == statutory.amount_exact + agreed.amount_exact
    assert both["daily"] == statutory.daily + agreed.daily
    assert both["compensation"] == D("70.00")  # only the statutory one carries s.5A money
    assert both["periods"] == statutory.periods + agreed.periods
    assert both["start"] == day("2023-09-01")
    assert both["count"] == 2
    same = aggregate([statutory, statutory])
    assert (same["basis"], same["rate"]) == ("late_payment_act", D("13.00"))
    assert aggregate([])["basis"] == "none"


def test_interest_needs_no_rate_table_for_an_agreed_rate():
    result = get_pack("cn").interest(
        invoice(contract_rate=D("12")), date(2023, 9, 30), [], InterestOptions()
    )
    assert result.basis == "contractual"
    assert "Civil Code art. 585" in result.basis_text
