"""Business-day calendars and the days each pack gives the debtor, checked against real holidays.

Holiday sources:
- PRC: 国务院办公厅关于2026年部分节假日安排的通知 (the State Council's notice for 2026) — 元旦 1-3
  January off, Sunday 4 January worked; 春节 15-23 February off, Saturdays 14 and 28 February
  worked; 国庆节 1-7 October off, Sunday 20 September and Saturday 10 October worked.
- England & Wales: GOV.UK "UK bank holidays" — 2026: Friday 25 December (Christmas Day), Monday
  28 December (Boxing Day, substitute day); 2027: Friday 1 January (New Year's Day).
- United States: 5 U.S.C. 6103(a) — Thanksgiving Day, the fourth Thursday in November; Christmas
  Day, 25 December; New Year's Day, 1 January; 6103(b) and Executive Order 11582 — a holiday on a
  Saturday is observed on the Friday before.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest

from portal.jurisdictions.deadlines import (
    DEADLINE_DAYS,
    BusinessCalendar,
    calendar_for,
    deadline_days,
)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- weekends ------------------------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["cn", "ew", "us"])
def test_a_deadline_across_a_weekend(jurisdiction):
    calendar = calendar_for(jurisdiction)
    friday = date(2026, 11, 13)
    assert calendar.add_business_days(friday, 1) == date(2026, 11, 16)  # Monday
    assert calendar.add_business_days(friday, 5) == date(2026, 11, 20)
    assert calendar.add_business_days(friday, 6) == date(2026, 11, 23)
    assert not calendar.is_business_day(date(2026, 11, 14))
    assert not calendar.is_business_day(date(2026, 11, 15))
    assert calendar.is_business_day(date(2026, 11, 16))


@pytest.mark.parametrize("jurisdiction", ["cn", "ew", "us"])
def test_the_start_is_not_counted_and_zero_days_is_the_start(jurisdiction):
    calendar = calendar_for(jurisdiction)
    assert calendar.add_business_days(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert calendar.add_business_days(date(2026, 11, 21), 0) == date(2026, 11, 21)


# --- England & Wales -----------------------------------------------------------------------------


def test_england_and_wales_across_christmas_and_new_year():
    # A calendar of its own, so that 2026 and 2027 are loaded as the count reaches them.
    calendar = BusinessCalendar("ew")
    start = date(2026, 12, 23)  # Wednesday
    assert calendar.add_business_days(start, 1) == date(2026, 12, 24)
    # Christmas Day (Fri 25th), the weekend and the Boxing Day substitute (Mon 28th) are skipped.
    assert calendar.add_business_days(start, 2) == date(2026, 12, 29)
    assert calendar.add_business_days(start, 4) == date(2026, 12, 31)
    # New Year's Day 2027 (Fri 1st) and the weekend are skipped.
    assert calendar.add_business_days(start, 5) == date(2027, 1, 4)
    assert not calendar.is_business_day(date(2026, 12, 25))
    assert not calendar.is_business_day(date(2026, 12, 28))
    assert not calendar.is_business_day(date(2027, 1, 1))


# --- Illinois ------------------------------------------------------------------------------------


def test_illinois_across_thanksgiving():
    calendar = calendar_for("us")
    tuesday = date(2026, 11, 24)
    assert calendar.add_business_days(tuesday, 1) == date(2026, 11, 25)
    # Thanksgiving (Thu 26th) is skipped; the Friday after is not a public holiday.
    assert calendar.add_business_days(tuesday, 2) == date(2026, 11, 27)
    assert calendar.add_business_days(tuesday, 3) == date(2026, 11, 30)
    assert not calendar.is_business_day(date(2026, 11, 26))
    assert calendar.is_business_day(date(2026, 11, 27))


def test_illinois_observed_holidays_across_the_year_end():
    # Christmas 2027 and New Year's Day 2028 fall on Saturdays: observed Fri 24 and Fri 31 Dec.
    calendar = BusinessCalendar("us")
    thursday = date(2027, 12, 23)
    assert calendar.add_business_days(thursday, 1) == date(2027, 12, 27)
    assert calendar.add_business_days(thursday, 4) == date(2027, 12, 30)
    assert calendar.add_business_days(thursday, 5) == date(2028, 1, 3)
    assert not calendar.is_business_day(date(2027, 12, 24))
    assert not calendar.is_business_day(date(2027, 12, 31))


# --- PRC -----------------------------------------------------------------------------------------


def test_prc_national_day_2026_with_its_make_up_days():
    calendar = calendar_for("cn")
    assert not any(
        calendar.is_business_day(d) for d in days_between(date(2026, 10, 1), date(2026, 10, 7))
    )
    wednesday = date(2026, 9, 30)
    assert calendar.add_business_days(wednesday, 1) == date(2026, 10, 8)
    # Saturday 10 October is a working day (调休) and counts.
    assert calendar.add_business_days(wednesday, 3) == date(2026, 10, 10)
    assert calendar.add_business_days(wednesday, 4) == date(2026, 10, 12)
    # So is Sunday 20 September.
    assert calendar.add_business_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert not calendar.is_business_day(date(2026, 10, 11))  # an ordinary Sunday


def test_prc_spring_festival_2026_with_its_make_up_saturdays():
    calendar = calendar_for("cn")
    assert not any(
        calendar.is_business_day(d) for d in days_between(date(2026, 2, 15), date(2026, 2, 23))
    )
    friday = date(2026, 2, 13)
    # Saturday 14 February is a working day and is the first business day after Friday 13th.
    assert calendar.add_business_days(friday, 1) == date(2026, 2, 14)
    assert calendar.add_business_days(friday, 2) == date(2026, 2, 24)
    assert calendar.add_business_days(friday, 5) == date(2026, 2, 27)
    # Saturday 28 February is a working day too.
    assert calendar.add_business_days(friday, 6) == date(2026, 2, 28)
    assert calendar.add_business_days(friday, 7) == date(2026, 3, 2)


def test_prc_new_year_make_up_sunday_in_the_next_year():
    calendar = BusinessCalendar("cn")
    # 1-3 January 2026 off; Sunday 4 January worked.
    assert calendar.add_business_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert calendar.add_business_days(date(2025, 12, 31), 2) == date(2026, 1, 5)


def test_a_shared_calendar_loads_years_safely_from_many_threads():
    calendar = BusinessCalendar("cn")
    starts = [date(year, 9, 30) for year in range(2000, 2030)]
    expected = {start: BusinessCalendar("cn").add_business_days(start, 3) for start in starts}
    results: dict[date, date] = {}

    def work(start: date) -> None:
        results[start] = calendar.add_business_days(start, 3)

    threads = [threading.Thread(target=work, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


# --- arguments -----------------------------------------------------------------------------------


def test_calendar_for_is_shared_and_case_insensitive():
    assert calendar_for("EW") is calendar_for("ew")
    assert calendar_for("ew").jurisdiction == "ew"


@pytest.mark.parametrize("jurisdiction", ["fr", "", None])
def test_unknown_jurisdiction_is_refused(jurisdiction):
    with pytest.raises(ValueError, match="unknown jurisdiction .*expected one of cn, ew, us"):
        calendar_for(jurisdiction)
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        deadline_days(jurisdiction, "demand_letter", "company")


def test_bad_days_and_dates_are_refused():
    calendar = calendar_for("ew")
    with pytest.raises(ValueError, match="negative"):
        calendar.add_business_days(date(2026, 11, 23), -1)
    with pytest.raises(TypeError):
        calendar.add_business_days(datetime(2026, 11, 23, 9, 0), 1)
    with pytest.raises(TypeError):
        calendar.is_business_day("2026-11-23")
    with pytest.raises(TypeError):
        calendar.add_business_days(date(2026, 11, 23), 1.5)


# --- the days each pack gives --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "kind", "company", "individual"),
    [
        ("ew", "reconciliation_letter", 10, 10),
        ("ew", "advance_notice", 10, 10),
        ("ew", "warning_letter", 7, 7),
        ("ew", "demand_letter", 14, 22),
        ("ew", "statement_of_claim", 14, 22),
        ("ew", "evidence_list", 14, 22),
        ("us", "reconciliation_letter", 10, 10),
        ("us", "advance_notice", 10, 10),
        ("us", "warning_letter", 7, 7),
        ("us", "demand_letter", 10, 30),
        ("us", "statement_of_claim", 10, 30),
        ("us", "evidence_list", 10, 30),
        ("cn", "reconciliation_letter", 10, 10),
        ("cn", "advance_notice", 10, 10),
        ("cn", "warning_letter", 7, 7),
        ("cn", "demand_letter", 7, 7),
        ("cn", "statement_of_claim", 7, 7),
        ("cn", "evidence_list", 7, 7),
    ],
)
def test_deadline_days(jurisdiction, kind, company, individual):
    assert deadline_days(jurisdiction, kind, "company") == company
    assert deadline_days(jurisdiction, kind, "individual") == individual


def test_every_entry_gives_its_reason():
    for kinds in DEADLINE_DAYS.values():
        for by_debtor in kinds.values():
            for days, reason in by_debtor.values():
                assert days > 0 and reason.strip()


def test_unknown_kind_or_debtor_kind_is_refused():
    with pytest.raises(ValueError, match="no deadline for document kind 'invoice'"):
        deadline_days("ew", "invoice", "company")
    with pytest.raises(ValueError, match="unknown debtor kind 'partnership'"):
        deadline_days("ew", "demand_letter", "partnership")


def test_ew_individuals_get_at_least_the_protocols_30_days():
    # PAP-Debt: 30 days from the date of the letter of claim, whatever day it is dated.
    calendar = calendar_for("ew")
    days = deadline_days("ew", "demand_letter", "individual")
    for start in days_between(date(2026, 1, 1), date(2027, 12, 31)):
        assert calendar.add_business_days(start, days) - start >= timedelta(days=30)
    # 21 would not do: from a Monday it ends on day 29.
    assert calendar.add_business_days(date(2026, 6, 1), 21) - date(2026, 6, 1) == timedelta(29)


def test_us_individuals_deadline_is_after_the_validation_period():
    # Reg F: receipt assumed 5 business days after sending; validation ends 30 days after receipt.
    calendar = calendar_for("us")
    days = deadline_days("us", "demand_letter", "individual")
    for start in days_between(date(2026, 1, 1), date(2027, 12, 31)):
        received = calendar.add_business_days(start, 5)
        assert calendar.add_business_days(start, days) > received + timedelta(days=30)


def test_ew_companies_get_at_least_14_days():
    calendar = calendar_for("ew")
    for start in days_between(date(2026, 1, 1), date(2026, 12, 31)):
        assert calendar.add_business_days(start, 14) - start >= timedelta(days=14)
