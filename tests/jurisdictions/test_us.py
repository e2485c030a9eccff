"""US: Illinois statutory interest and UCC § 2-725 limitation, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.jurisdictions import (
    EVENT_KINDS,
    InterestOptions,
    LimitationOptions,
    MissingRate,
    get_pack,
)
from portal.jurisdictions.us import STATES, restart_rules

from .facts import day, event, invoice, rate

D = Decimal
US = get_pack("us")
IL = [rate("us_il_statutory", "2016-01-01", "5.00")]


def usd(**overrides):
    values = {"currency": "USD", "amount": D("10000.00"), "due_date": day("2024-06-30")}
    values.update(overrides)
    return invoice(**values)


# --- interest ----------------------------------------------------------------------------------


def test_illinois_statutory_rate():
    # 815 ILCS 205/2: 5 % p.a. on money after it becomes due. Due 2024-06-30 → from 2024-07-01
    # to 2024-12-31: 31+31+30+31+30+31 = 184 days.
    # 10,000 × 5 % × 184 / 365 = 500 × 184 / 365 = 92,000 / 365 = 252.054794... → 252.05.
    # Daily 500 / 365 = 1.369863... → 1.37. No fixed compensation.
    result = US.interest(usd(), day("2024-12-31"), IL, InterestOptions())
    assert result.basis == "us_statutory"
    assert result.rate == D("5.00")
    assert result.amount_exact == D(92000) / D(365)
    assert result.amount == D("252.05")
    assert result.daily == D("1.37")
    assert result.compensation == D("0.00")
    assert "815 ILCS 205/2" in result.basis_text


def test_missing_statutory_rate_raises():
    with pytest.raises(MissingRate) as caught:
        US.interest(usd(due_date=day("2015-06-30")), day("2016-12-31"), IL, InterestOptions())
    assert (caught.value.kind, caught.value.on) == ("us_il_statutory", day("2015-07-01"))


def test_an_unsupported_state_is_refused():
    with pytest.raises(ValueError, match="US state 'ny' is not supported"):
        US.interest(usd(), day("2024-12-31"), IL, InterestOptions(us_state="ny"))


def test_agreed_rate():
    # 10,000 × 18 % × 184 / 365 = 331,200 / 365 = 907.397260... → 907.40
    result = US.interest(usd(contract_rate=D("18")), day("2024-12-31"), IL, InterestOptions())
    assert (result.basis, result.amount) == ("contractual", D("907.40"))


# --- limitation (UCC § 2-725, 810 ILCS 5/2-725) --------------------------------------------------

#: Due 2021-03-31 → four years → 2025-03-31.
DUE = usd(due_date=day("2021-03-31"))


def test_four_years_from_the_due_date():
    result = US.limitation(DUE, [], day("2024-01-01"))
    assert (result.deadline, result.set_by_kind, result.period_years) == (
        day("2025-03-31"),
        "due_date",
        4,
    )


def test_contract_shortens_to_two_years():
    # UCC § 2-725(1): the original agreement may reduce the period to not less than one year.
    # 2021-03-31 + 2 years = 2023-03-31.
    options = LimitationOptions(us_contract_years=2)
    result = US.limitation(DUE, [], day("2024-01-01"), options=options)
    assert (result.deadline, result.period_years, result.expired) == (
        day("2023-03-31"),
        2,
        True,
    )


def test_contract_cannot_shorten_to_zero():
    with pytest.raises(ValueError, match="below one year"):
        US.limitation(DUE, [], day("2024-01-01"), options=LimitationOptions(us_contract_years=0))


def test_leap_day_with_a_one_year_period():
    # 2020-02-29 + 1 year: no 29 February in 2021 → 2021-02-28.
    options = LimitationOptions(us_contract_years=1)
    result = US.limitation(usd(due_date=day("2020-02-29")), [], day("2020-06-01"), options=options)
    assert result.deadline == day("2021-02-28")
    # With the full four years the anniversary exists: 2024-02-29.
    assert US.limitation(usd(due_date=day("2020-02-29")), [], day("2020-06-01")).deadline == day(
        "2024-02-29"
    )


def test_signed_acknowledgment_and_part_payment_restart():
    events = [event("part_payment", "2023-01-10"), event("acknowledgment_signed", "2024-02-01")]
    result = US.limitation(DUE, events, day("2024-03-01"))
    assert (result.deadline, result.set_by_kind) == (day("2028-02-01"), "acknowledgment_signed")


def test_part_payment_restarts_only_when_state_law_says_so():
    events = [event("part_payment", "2023-01-10")]
    assert US.limitation(DUE, events, day("2024-01-01")).deadline == day("2027-01-10")
    options = LimitationOptions(us_part_payment_restarts=False)
    result = US.limitation(DUE, events, day("2024-01-01"), options=options)
    assert result.deadline == day("2025-03-31")
    assert "part payment on 2023-01-10 does not restart limitation in Illinois" in result.ignored[0]


def test_creditor_demand_and_oral_acknowledgment_never_restart():
    events = [
        event("creditor_demand", "2023-01-10"),
        event("demand_delivered", "2023-02-10"),
        event("acknowledgment_oral", "2023-03-10"),
    ]
    result = US.limitation(DUE, events, day("2024-01-01"))
    assert result.deadline == day("2025-03-31")
    assert len(result.ignored) == 3
    assert "UCC § 2-725 (810 ILCS 5/2-725)" in result.ignored[0]


def test_an_acknowledgment_after_expiry_does_not_revive():
    result = US.limitation(DUE, [event("acknowledgment_signed", "2025-04-01")], day("2025-05-01"))
    assert (result.deadline, result.expired) == (day("2025-03-31"), True)
    assert "not revived" in result.ignored[0]


@pytest.mark.parametrize("part_payment_restarts", [True, False])
def test_every_event_kind_has_a_rule(part_payment_restarts):
    rules = restart_rules(STATES["il"], part_payment_restarts)
    assert set(rules.restarts) | set(rules.never) == set(EVENT_KINDS)
    assert not set(rules.restarts) & set(rules.never)
