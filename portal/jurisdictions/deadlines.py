"""Payment deadlines in documents: business-day calendars and the days each pack gives the debtor.

Pure: no Flask, no database. A deadline is the n-th business day after the document's date (the
date itself not counted). Business days are Monday to Friday less the jurisdiction's public
holidays, plus, in the PRC, the weekend days the State Council makes working days (调休). Holidays
come from the ``holidays`` package, which loads each year the first time a day in it is asked
about, so a deadline running into the next year needs nothing special.

The periods are business days everywhere, for one rule in every template ("within N business
days"); where a rule or the practice states calendar days, the number here is at least as long.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from functools import cache

import holidays

#: Kinds of debtor (``DebtorKind`` values).
DEBTOR_KINDS = ("company", "individual")
#: Document kinds that restate the demand letter's deadline rather than set their own.
SAME_AS_DEMAND = frozenset({"statement_of_claim", "evidence_list"})
#: An entry for every kind of debtor.
ANY = "any"

#: Business days the debtor is given to act on each kind of document: (days, why).
DEADLINE_DAYS: dict[str, dict[str, dict[str, tuple[int, str]]]] = {
    "ew": {
        "reconciliation_letter": {
            ANY: (10, "practice: two working weeks to check a statement of account and answer"),
        },
        "advance_notice": {
            ANY: (10, "practice: two working weeks to pay before the matter is escalated"),
        },
        "warning_letter": {
            ANY: (7, "practice: a shorter last call before the letter of claim"),
        },
        "demand_letter": {
            "company": (
                14,
                "PD Pre-Action Conduct para 6(b): a reply within a reasonable time, 14 days in a "
                "straightforward case; 14 business days are never fewer than 14 days",
            ),
            "individual": (
                22,
                "Pre-Action Protocol for Debt Claims s. 4: 30 days from the date of the letter of "
                "claim; 22 business days span at least 30 calendar days from any start date",
            ),
        },
    },
    "us": {
        "reconciliation_letter": {
            ANY: (10, "practice: two working weeks to check a statement of account and answer"),
        },
        "advance_notice": {
            ANY: (10, "practice: two working weeks to pay before the matter is escalated"),
        },
        "warning_letter": {
            ANY: (7, "practice: a shorter last call before the demand letter"),
        },
        "demand_letter": {
            "company": (10, "practice: no statutory period for a commercial demand"),
            "individual": (
                30,
                "FDCPA 15 U.S.C. 1692g(a)-(b), Reg F 12 CFR 1006.34(b)(5): no demand inside the "
                "30-day validation period, receipt assumed 5 business days after sending; 5 + 22 "
                "covers it, 30 leaves 3 business days for posting after the letter's date",
            ),
        },
    },
    "cn": {
        "reconciliation_letter": {
            ANY: (
                10,
                "practice: two working weeks to check a statement of account (对账函) and answer",
            ),
        },
        "advance_notice": {
            ANY: (10, "practice: two working weeks to pay before the matter is escalated"),
        },
        "warning_letter": {
            ANY: (7, "practice: a shorter last call before the lawyer's letter"),
        },
        "demand_letter": {
            ANY: (
                7,
                "practice: a lawyer's letter (律师函) commonly gives 7 days; no statutory period",
            ),
        },
    },
}

#: The ``holidays`` calendar of each pack: country and subdivision.
HOLIDAY_CALENDARS: dict[str, tuple[str, str | None]] = {
    # The State Council's annual notice on holiday arrangements, with its make-up working days.
    # A year the installed ``holidays`` release has no notice for (each is published around
    # November for the next year) gets the statutory holidays only: upgrade ``holidays`` yearly.
    "cn": ("CN", None),
    # Bank holidays in England and Wales (Banking and Financial Dealings Act 1971, proclamations).
    "ew": ("GB", "ENG"),
    # Federal legal public holidays (5 U.S.C. 6103, observed on Friday/Monday) and Illinois ones.
    "us": ("US", "IL"),
}


class BusinessCalendar:
    """The business days of one pack; :func:`calendar_for` gives a shared one."""

    def __init__(self, jurisdiction: str) -> None:
        """:raises ValueError: unknown jurisdiction."""
        self.jurisdiction = _jurisdiction(jurisdiction)
        country, subdivision = HOLIDAY_CALENDARS[self.jurisdiction]
        # No years given: each year is loaded the first time a day in it is looked up.
        self._holidays = holidays.country_holidays(country, subdiv=subdivision)
        # Loading a year fills in the holidays object; a shared calendar serves many threads.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.jurisdiction!r})"

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a working day: not a public holiday, and not a weekend day unless
        it is a make-up working day (PRC)."""
        _require_date("day", day)
        with self._lock:
            return self._holidays.is_working_day(day)

    def add_business_days(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (``start`` not counted; 0 gives ``start``).

        :raises ValueError: ``days`` is negative.
        """
        _require_date("start", start)
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {days!r}")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_business_day(day):
                days -= 1
        return day


def calendar_for(jurisdiction: str) -> BusinessCalendar:
    """The business-day calendar of a pack ("cn", "ew", "us"; case-insensitive).

    :raises ValueError: unknown jurisdiction.
    """
    return _shared_calendar(_jurisdiction(jurisdiction))


def deadline_days(jurisdiction: str, kind: str, debtor_kind: str) -> int:
    """Business days a document of ``kind`` gives a debtor of ``debtor_kind`` in a pack.

    :raises ValueError: unknown jurisdiction, document kind or debtor kind.
    """
    table = DEADLINE_DAYS[_jurisdiction(jurisdiction)]
    if debtor_kind not in DEBTOR_KINDS:
        raise ValueError(
            f"unknown debtor kind {debtor_kind!r}; expected one of {', '.join(DEBTOR_KINDS)}"
        )
    by_debtor = table.get("demand_letter" if kind in SAME_AS_DEMAND else kind)
    if by_debtor is None:
        kinds = sorted({*table, *SAME_AS_DEMAND})
        raise ValueError(f"no deadline for document kind {kind!r}; expected one of {kinds}")
    days, _reason = by_debtor.get(debtor_kind) or by_debtor[ANY]
    return days


@cache
def _shared_calendar(code: str) -> BusinessCalendar:
    return BusinessCalendar(code)


def _jurisdiction(jurisdiction: str) -> str:
    code = jurisdiction.lower() if isinstance(jurisdiction, str) else jurisdiction
    if code not in HOLIDAY_CALENDARS:
        raise ValueError(
            f"unknown jurisdiction {jurisdiction!r}; expected one of "
            f"{', '.join(sorted(HOLIDAY_CALENDARS))}"
        )
    return code


def _require_date(name: str, value: object) -> None:
    # datetime is a subclass of date; adding days to one would give a datetime deadline.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime.date, got {value!r}")
