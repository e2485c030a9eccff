"""England & Wales: the Late Payment Act 1998 and the Limitation Act 1980, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.jurisdictions import InterestOptions, LimitationOptions, MissingRate, get_pack
from portal.jurisdictions.ew import late_payment_compensation, reference_date

from .facts import day, event, invoice, paid, rate

D = Decimal
EW = get_pack("ew")
OPTIONS = InterestOptions()
#: Synthetic Bank Rate history (the figures happen to be the real 2022-23 ones).
BOE = [
    rate("boe_base", "2022-12-15", "3.50"),
    rate("boe_base", "2023-02-02", "4.00"),
    rate("boe_base", "2023-06-22", "5.00"),
    rate("boe_base", "2023-08-03", "5.25"),
]


# --- Late Payment of Commercial Debts (Interest) Act 1998 --------------------------------------


def test_reference_date_is_31_december_or_30_june_before():
    # SI 2002/1675: 31 Dec for interest starting Jan–Jun, 30 Jun for Jul–Dec.
    assert reference_date(day("2023-01-01")) == day("2022-12-31")
    assert reference_date(day("2023-06-30")) == day("2022-12-31")
    assert reference_date(day("2023-07-01")) == day("2023-06-30")
    assert reference_date(day("2023-12-31")) == day("2023-06-30")


def test_interest_starting_in_march_takes_the_31_december_base_rate():
    # Due 2023-02-28 → interest starts 2023-03-01 (Jan–Jun) → reference date 2022-12-31 →
    # Bank Rate then 3.50 (the 4.00 from 2023-02-02 is ignored) → 3.50 + 8 = 11.50 %,
    # fixed for the debt (SI 2002/1675), even though Bank Rate rose later.
    # 5,000 × 11.50 % × 31 days (March) / 365 = 575 × 31 / 365 = 48.835616... → 48.84.
    result = EW.interest(invoice(due_date=day("2023-02-28")), day("2023-03-31"), BOE, OPTIONS)
    assert result.basis == "late_payment_act"
    assert result.rate == D("11.50")
    assert result.amount == D("48.84")
    assert "base rate of 3.5% in force on 2022-12-31 plus 8%" in result.basis_text
    assert "SI 2002/1675" in result.basis_text


def test_interest_starting_in_september_takes_the_30_june_base_rate():
    # Due 2023-08-31 → interest starts 2023-09-01 (Jul–Dec) → reference date 2023-06-30 →
    # Bank Rate then 5.00 (5.25 from 2023-08-03 was in force on 1 Sep, but is not the
    # reference rate) → 5.00 + 8 = 13 %.
    # To 2023-12-31: 122 days (Sep 30 + Oct 31 + Nov 30 + Dec 31).
    # 5,000 × 13 % × 122 / 365 = 650 × 122 / 365 = 79,300 / 365 = 217.260273... → 217.26.
    # Daily: 650 / 365 = 1.780821... → 1.78. s.5A: 5,000 is in the £1,000–£9,999.99 band → £70.
    result = EW.interest(invoice(), day("2023-12-31"), BOE, OPTIONS)
    assert result.rate == D("13.00")
    assert result.amount_exact == D(79300) / D(365)
    assert result.amount == D("217.26")
    assert result.daily == D("1.78")
    assert result.compensation == D("70.00")
    assert result.start == day("2023-09-01")
    (period,) = result.periods
    assert (period.start, period.end, period.days) == (day("2023-09-01"), day("2023-12-31"), 122)
    assert "in force on 2023-06-30" in result.basis_text


def test_statutory_rate_with_a_part_payment():
    # 13 % as above. Payment of 2,000 on 2023-11-01 lowers the principal from that day:
    #   2023-09-01..2023-10-31: 61 days × 5,000 × 13 % / 365 = 39,650 / 365 = 108.630136… → 108.63
    #   2023-11-01..2023-12-31: 61 days × 3,000 × 13 % / 365 = 23,790 / 365 = 65.178082… → 65.18
    #   total exact 63,440 / 365 = 173.808219… → 173.81; daily 390 / 365 = 1.068493… → 1.07.
    facts = invoice(reductions=(paid("2023-11-01", "2000.00"),))
    result = EW.interest(facts, day("2023-12-31"), BOE, OPTIONS)
    assert [(p.days, p.principal, p.amount) for p in result.periods] == [
        (61, D("5000.00"), D("108.63")),
        (61, D("3000.00"), D("65.18")),
    ]
    assert result.amount == D("173.81")
    assert result.daily == D("1.07")
    # s.5A looks at the debt, not what is left of it: still £70.
    assert result.compensation == D("70.00")


@pytest.mark.parametrize(
    ("amount", "compensation"),
    [
        # s.5A(2)(a): less than £1,000 → £40
        ("999.99", "40.00"),
        # s.5A(2)(b): £1,000 or more but less than £10,000 → £70
        ("1000.00", "70.00"),
        ("9999.99", "70.00"),
        # s.5A(2)(c): £10,000 or more → £100
        ("10000.00", "100.00"),
    ],
)
def test_compensation_bands(amount, compensation):
    result = EW.interest(invoice(amount=D(amount)), day("2023-12-31"), BOE, OPTIONS)
    assert result.compensation == D(compensation)
    assert "s.5A" in result.compensation_text


def test_compensation_band_function_names_the_band():
    assert late_payment_compensation(D("999.99")) == (D(40), "a debt of less than £1,000")
    assert late_payment_compensation(D("10000")) == (D(100), "a debt of £10,000 or more")


def test_no_sterling_compensation_on_a_foreign_currency_invoice():
    result = EW.interest(invoice(currency="USD"), day("2023-12-31"), BOE, OPTIONS)
    assert result.compensation == D("0.00")
    assert "entered by hand" in result.compensation_text


def test_an_agreed_rate_displaces_the_act_and_its_compensation():
    result = EW.interest(invoice(contract_rate=D("4")), day("2023-12-31"), BOE, OPTIONS)
    assert (result.basis, result.rate, result.compensation) == ("contractual", D(4), D("0.00"))
    # 5,000 × 4 % × 122 / 365 = 24,400 / 365 = 66.849315... → 66.85
    assert result.amount == D("66.85")


def test_missing_base_rate_raises():
    # Interest starts 2022-03-01 → reference date 2021-12-31; the table starts 2022-12-15.
    with pytest.raises(MissingRate) as caught:
        EW.interest(invoice(due_date=day("2022-02-28")), day("2022-12-31"), BOE, OPTIONS)
    assert (caught.value.kind, caught.value.on) == ("boe_base", day("2021-12-31"))
    assert "an admin must add" in str(caught.value)


# --- Limitation Act 1980 -----------------------------------------------------------------------

#: Delivered 2018-03-10 → s.5: six years from accrual → 2024-03-10.
DELIVERED = invoice(delivery_date=day("2018-03-10"), due_date=day("2018-04-09"))


def test_six_years_from_delivery_not_the_due_date():
    result = EW.limitation(DELIVERED, [], day("2023-01-01"))
    assert result.deadline == day("2024-03-10")
    assert (result.set_by, result.set_by_kind) == ("delivery date 2018-03-10", "delivery_date")
    assert result.period_years == 6
    assert (result.expired, result.warning, result.ignored) == (False, False, ())


def test_issue_date_stands_in_for_a_missing_delivery_date_and_says_so():
    facts = invoice(delivery_date=None, issue_date=day("2018-03-12"))
    result = EW.limitation(facts, [], day("2023-01-01"))
    assert result.deadline == day("2024-03-12")
    assert result.set_by_kind == "issue_date"
    assert result.set_by.startswith("issue date 2018-03-12 (no delivery date recorded")


def test_a_creditor_demand_does_not_restart():
    # s.29(5): only the debtor's acknowledgment or payment restarts time.
    events = [event("creditor_demand", "2023-05-01"), event("demand_delivered", "2023-06-01")]
    result = EW.limitation(DELIVERED, events, day("2023-07-01"))
    assert result.deadline == day("2024-03-10")
    assert result.ignored[0] == (
        "creditor's demand on 2023-05-01 does not restart limitation in England & Wales "
        "(Limitation Act 1980 s.29(5): only the debtor's acknowledgment or payment restarts "
        "the period, never the creditor's own demand)"
    )
    assert "delivered or not" in result.ignored[1]


def test_a_part_payment_restarts():
    # s.29(5)(b): a payment → the right accrues afresh on 2023-05-01 → + 6 years = 2029-05-01.
    events = [event("part_payment", "2023-05-01", description="GBP 500 by transfer")]
    result = EW.limitation(DELIVERED, events, day("2023-07-01"))
    assert result.deadline == day("2029-05-01")
    assert result.set_by == "part payment on 2023-05-01 (GBP 500 by transfer)"
    assert result.set_by_kind == "part_payment"


def test_a_signed_acknowledgment_restarts_but_an_oral_one_does_not():
    # s.30(1): an acknowledgment must be in writing and signed → the oral one of 2023-03-01 is
    # ignored; the signed one of 2023-09-15 restarts: 2023-09-15 + 6 years = 2029-09-15.
    events = [
        event("acknowledgment_signed", "2023-09-15"),
        event("acknowledgment_oral", "2023-03-01"),
    ]
    result = EW.limitation(DELIVERED, events, day("2023-12-31"))
    assert result.deadline == day("2029-09-15")
    assert result.set_by_kind == "acknowledgment_signed"
    (ignored,) = result.ignored
    assert ignored.startswith("oral or unsigned acknowledgment on 2023-03-01 does not restart")
    assert "s.30(1)" in ignored


def test_an_acknowledgment_after_expiry_does_not_revive():
    # Deadline 2024-03-10 passed; s.29(7): a later acknowledgment does not revive the right.
    events = [event("acknowledgment_signed", "2024-06-01")]
    result = EW.limitation(DELIVERED, events, day("2024-07-01"))
    assert result.deadline == day("2024-03-10")
    assert result.expired is True
    assert result.warning is False
    assert "had passed" in result.ignored[0]
    assert "s.29(7)" in result.ignored[0]


def test_an_acknowledgment_on_the_deadline_day_still_counts():
    events = [event("acknowledgment_signed", "2024-03-10")]
    assert EW.limitation(DELIVERED, events, day("2024-07-01")).deadline == day("2030-03-10")


def test_events_for_other_invoices_are_skipped():
    events = [event("part_payment", "2023-05-01", "INV-2")]
    result = EW.limitation(DELIVERED, events, day("2023-07-01"))
    assert (result.deadline, result.ignored) == (day("2024-03-10"), ())
    mine = [event("part_payment", "2023-05-01", "INV-1", "INV-2")]
    assert EW.limitation(DELIVERED, mine, day("2023-07-01")).deadline == day("2029-05-01")


def test_suit_payment_plan_and_prc_procedures_do_not_restart():
    kinds = ["suit", "payment_plan", "payment_order", "preservation"]
    events = [event(kind, "2023-05-01") for kind in kinds]
    result = EW.limitation(DELIVERED, events, day("2023-07-01"))
    assert result.deadline == day("2024-03-10")
    assert len(result.ignored) == 4


def test_warning_window():
    # 2024-03-10 − 90 days = 2023-12-11: warning from then until the deadline, inclusive.
    assert EW.limitation(DELIVERED, [], day("2023-12-10")).warning is False
    assert EW.limitation(DELIVERED, [], day("2023-12-11")).warning is True
    assert EW.limitation(DELIVERED, [], day("2024-03-10")).warning is True
    assert EW.limitation(DELIVERED, [], day("2023-12-10"), warning_days=91).warning is True
    after = EW.limitation(DELIVERED, [], day("2024-03-11"))
    assert (after.expired, after.warning) == (True, False)


def test_limitation_options_are_accepted_and_do_not_matter_here():
    options = LimitationOptions(us_contract_years=1)
    result = EW.limitation(DELIVERED, [], day("2023-01-01"), options=options)
    assert result.deadline == day("2024-03-10")
