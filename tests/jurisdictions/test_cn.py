"""PRC: LPR-based overdue-payment loss and Civil Code limitation, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.jurisdictions import EVENT_KINDS, InterestOptions, MissingRate, get_pack
from portal.jurisdictions.cn import RULES

from .facts import day, event, invoice, paid, rate

D = Decimal
CN = get_pack("cn")
LPR = [
    rate("lpr_1y", "2023-06-20", "3.55"),
    rate("lpr_1y", "2023-08-21", "3.45"),
]


def cny(**overrides):
    values = {"currency": "CNY", "amount": D("100000.00")}
    values.update(overrides)
    return invoice(**values)


# --- interest ----------------------------------------------------------------------------------


def test_lpr_times_one_and_a_half():
    # SPC sales-contracts interpretation (2020 rev.) Art. 18(4): one-year LPR in force when the
    # breach occurs, plus 30–50 %. Due 2023-08-31 → breach from 2023-09-01 → LPR 3.45 (published
    # 2023-08-21) → 3.45 × 1.5 = 5.175 %.
    # To 2023-12-31: 122 days. 100,000 × 5.175 % × 122 / 365 = 5,175 × 122 / 365
    #   = 631,350 / 365 = 1,729.726027... → 1,729.73. Daily 5,175 / 365 = 14.178... → 14.18.
    result = CN.interest(cny(), day("2023-12-31"), LPR, InterestOptions())
    assert result.basis == "prc_lpr"
    assert result.rate == D("5.175")
    assert result.amount_exact == D(631350) / D(365)
    assert result.amount == D("1729.73")
    assert result.daily == D("14.18")
    assert result.compensation == D("0.00")
    assert "Art. 18(4)" in result.basis_text
    assert "3.45% (published 2023-08-21)" in result.basis_text
    assert "increased by 50%" in result.basis_text


def test_lpr_uplift_of_30_percent():
    # 3.45 × 1.3 = 4.485 %.
    result = CN.interest(cny(), day("2023-12-31"), LPR, InterestOptions(prc_lpr_uplift=D("0.3")))
    assert result.rate == D("4.485")
    assert "increased by 30%" in result.basis_text


def test_lpr_without_uplift():
    result = CN.interest(cny(), day("2023-12-31"), LPR, InterestOptions(prc_lpr_uplift=D(0)))
    assert result.rate == D("3.45")
    assert "without increase" in result.basis_text


def test_lpr_published_on_the_breach_day_applies():
    # Due 2023-08-20 → breach from 2023-08-21, the day the 3.45 LPR was published.
    result = CN.interest(cny(due_date=day("2023-08-20")), day("2023-12-31"), LPR, InterestOptions())
    assert result.rate == D("5.175")
    earlier = CN.interest(
        cny(due_date=day("2023-08-19")), day("2023-12-31"), LPR, InterestOptions()
    )
    assert earlier.rate == D("3.55") * D("1.5")


def test_missing_lpr_raises():
    with pytest.raises(MissingRate) as caught:
        CN.interest(cny(due_date=day("2023-05-31")), day("2023-12-31"), LPR, InterestOptions())
    assert (caught.value.kind, caught.value.on) == ("lpr_1y", day("2023-06-01"))


def test_breach_before_the_lpr_reform_is_not_measured_on_the_lpr():
    # Art. 18(4): breaches before 2019-08-20 use the PBOC benchmark lending rate instead.
    rows = [rate("lpr_1y", "2019-01-01", "4.31")]  # even a (wrong) earlier row is not used
    with pytest.raises(MissingRate, match="benchmark lending rate"):
        CN.interest(cny(due_date=day("2019-08-18")), day("2019-12-31"), rows, InterestOptions())


def test_contractual_interest_with_a_part_payment_splitting_periods():
    # Any agreed rate → contractual. 100,000 at 10 % p.a., due 2024-01-31, ¥40,000 paid
    # 2024-03-01, which lowers the principal from that day on:
    #   02-01..02-29: 29 days × 100,000 × 10 % / 365 = 290,000 / 365 = 794.520547… → 794.52
    #   03-01..03-31: 31 days ×  60,000 × 10 % / 365 = 186,000 / 365 = 509.589041… → 509.59
    #   total exact 476,000 / 365 = 1,304.109589… → 1,304.11 (days/365 even in leap 2024)
    #   daily on 60,000: 6,000 / 365 = 16.438… → 16.44
    facts = cny(
        due_date=day("2024-01-31"),
        contract_rate=D("10"),
        reductions=(paid("2024-03-01", "40000.00"),),
    )
    result = CN.interest(facts, day("2024-03-31"), [], InterestOptions())
    assert result.basis == "contractual"
    assert [(p.start, p.end, p.days, p.principal, p.amount) for p in result.periods] == [
        (day("2024-02-01"), day("2024-02-29"), 29, D("100000.00"), D("794.52")),
        (day("2024-03-01"), day("2024-03-31"), 31, D("60000.00"), D("509.59")),
    ]
    assert result.amount_exact == D(476000) / D(365)
    assert result.amount == D("1304.11")
    assert result.daily == D("16.44")
    assert result.compensation == D("0.00")


# --- limitation (Civil Code) -------------------------------------------------------------------

#: Due 2022-06-30 → art. 188: three years → 2025-06-30.
DUE = cny(due_date=day("2022-06-30"))


def test_three_years_from_the_due_date():
    result = CN.limitation(DUE, [], day("2024-01-01"))
    assert (result.deadline, result.set_by, result.set_by_kind) == (
        day("2025-06-30"),
        "due date 2022-06-30",
        "due_date",
    )
    assert result.period_years == 3


def test_a_delivered_demand_restarts():
    # art. 195(1): the creditor's demand that reached the debtor → new 3 years from 2024-01-15.
    events = [event("demand_delivered", "2024-01-15", description="EMS EA123456789CN")]
    result = CN.limitation(DUE, events, day("2024-02-01"))
    assert result.deadline == day("2027-01-15")
    assert result.set_by == "demand delivered to the debtor on 2024-01-15 (EMS EA123456789CN)"


def test_an_undelivered_creditor_demand_does_not_restart():
    events = [event("creditor_demand", "2024-01-15")]
    result = CN.limitation(DUE, events, day("2024-02-01"))
    assert result.deadline == day("2025-06-30")
    (ignored,) = result.ignored
    assert ignored.startswith("creditor's demand on 2024-01-15 does not restart limitation")
    assert "no proof that it reached the debtor" in ignored


def test_an_oral_acknowledgment_restarts_in_the_prc():
    # art. 195(2): the debtor agrees to perform; no form required.
    events = [event("acknowledgment_oral", "2024-05-20")]
    assert CN.limitation(DUE, events, day("2024-06-01")).deadline == day("2027-05-20")


def test_an_acknowledgment_after_expiry_does_not_revive():
    events = [event("acknowledgment_signed", "2025-07-01")]
    result = CN.limitation(DUE, events, day("2025-08-01"))
    assert result.deadline == day("2025-06-30")
    assert result.expired is True
    assert "art. 192" in result.ignored[0]


def test_restarts_chain_in_date_order():
    # 2022-06-30 + 3 = 2025-06-30; part payment 2025-06-01 → 2028-06-01; a payment plan
    # 2027-09-01 (before 2028-06-01) → 2030-09-01; given out of order on purpose.
    events = [event("payment_plan", "2027-09-01"), event("part_payment", "2025-06-01")]
    result = CN.limitation(DUE, events, day("2027-10-01"))
    assert (result.deadline, result.set_by_kind) == (day("2030-09-01"), "payment_plan")


def test_a_leap_day_due_date():
    # 2024-02-29 + 3 years: no 29 February in 2027 → 2027-02-28 (Civil Code art. 202: no
    # corresponding day → last day of the month).
    result = CN.limitation(cny(due_date=day("2024-02-29")), [], day("2026-12-31"))
    assert result.deadline == day("2027-02-28")
    assert result.warning is True  # 59 days ahead, inside the default 90


@pytest.mark.parametrize("kind", ["suit", "payment_order", "preservation"])
def test_proceedings_restart(kind):
    # art. 195(3)-(4).
    assert CN.limitation(DUE, [event(kind, "2025-01-10")], day("2025-02-01")).deadline == day(
        "2028-01-10"
    )


def test_every_event_kind_has_a_rule():
    assert set(RULES.restarts) | set(RULES.never) == set(EVENT_KINDS)
