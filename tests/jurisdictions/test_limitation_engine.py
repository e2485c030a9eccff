"""The shared limitation engine: year arithmetic and how events are walked."""

from __future__ import annotations

import pytest

from portal.jurisdictions import EVENT_KINDS
from portal.jurisdictions.ew import RULES as EW_RULES
from portal.jurisdictions.limitation import Accrual, add_years, limitation_deadline

from .facts import day, event

START = Accrual(day("2020-01-15"), "due_date", "due date 2020-01-15")


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        ("2020-01-15", 3, "2023-01-15"),
        ("2024-02-29", 3, "2027-02-28"),  # no 29 February in 2027
        ("2024-02-29", 4, "2028-02-29"),  # leap year again
        ("2023-02-28", 1, "2024-02-28"),
    ],
)
def test_add_years(start, years, expected):
    assert add_years(day(start), years) == day(expected)


def test_events_after_the_calculation_date_are_not_counted():
    events = [event("part_payment", "2021-06-01")]
    result = limitation_deadline("INV-1", START, 6, events, day("2021-01-01"), EW_RULES)
    assert result.deadline == day("2026-01-15")
    assert result.ignored == (
        "part payment on 2021-06-01 is after 2021-01-01, the date of this calculation",
    )


def test_an_event_before_the_period_starts_does_not_shorten_it():
    events = [event("part_payment", "2019-12-01")]
    result = limitation_deadline("INV-1", START, 6, events, day("2021-01-01"), EW_RULES)
    assert result.deadline == day("2026-01-15")
    assert "before the period began to run on 2020-01-15" in result.ignored[0]


def test_negative_warning_days_are_refused():
    with pytest.raises(ValueError, match="warning_days"):
        limitation_deadline("INV-1", START, 6, [], day("2021-01-01"), EW_RULES, warning_days=-1)


def test_every_event_kind_has_a_rule_in_england_and_wales():
    assert set(EW_RULES.restarts) | set(EW_RULES.never) == set(EVENT_KINDS)
