"""Shared types of the jurisdiction packs: facts in, results out, options, the rate table.

Pure Python: no Flask, no database. Money and rates are ``Decimal``, days are ``date``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol, runtime_checkable

#: Kinds of row in the rate table and what each one is.
RATE_KINDS: dict[str, str] = {
    "boe_base": "Bank of England base rate (Bank Rate)",
    "ecb_ref": "ECB main refinancing operations rate (Directive 2011/7/EU reference rate)",
    "lpr_1y": "PRC one-year Loan Prime Rate (LPR)",
    "us_il_statutory": "Illinois statutory interest rate (815 ILCS 205/2)",
}

#: Kinds of limitation event and how they read in a sentence.
EVENT_KINDS: dict[str, str] = {
    "creditor_demand": "creditor's demand",
    "demand_delivered": "demand delivered to the debtor",
    "acknowledgment_signed": "signed acknowledgment",
    "acknowledgment_oral": "oral or unsigned acknowledgment",
    "part_payment": "part payment",
    "payment_plan": "payment plan",
    "suit": "suit",
    "payment_order": "payment order application",
    "preservation": "preservation application",
}

#: The rate table shipped with the code; admins load it once and edit it in the database.
SHIPPED_RATES_CSV = Path(__file__).with_name("rates.csv")
#: Per kind, the day through which the shipped table was checked against its publications.
SHIPPED_CONFIRMATIONS_CSV = Path(__file__).with_name("rates_confirmed.csv")

RATE_CSV_COLUMNS = ("kind", "valid_from", "rate", "source")
#: UCC § 2-725(1): four years, which the original agreement may reduce to one but not extend.
UCC_LIMITATION_YEARS = 4
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CENT = Decimal("0.01")


class MissingRate(LookupError):
    """The rate table has no row of ``kind`` in force on ``on``; an admin has to add one."""

    def __init__(self, kind: str, on: date, hint: str = "") -> None:
        self.kind = kind
        self.on = on
        label = RATE_KINDS.get(kind, kind)
        message = (
            f"No {kind!r} rate ({label}) in force on {on.isoformat()}: an admin must add a row "
            f"to the rate table with kind {kind!r}, valid_from on or before {on.isoformat()}, "
            f"the rate and its source."
        )
        super().__init__(f"{message} {hint}".strip())


class UnconfirmedRate(MissingRate):
    """The figure needs a rate of ``kind`` on a day after the table is confirmed through.

    The last row of a kind says nothing about whether a newer figure was published since: only
    an admin's confirmation ("checked through D") does. Without it the figure is not computed.
    """

    def __init__(self, kind: str, on: date, confirmed: date | None) -> None:
        label = RATE_KINDS.get(kind, kind)
        since = (
            f"are confirmed only through {confirmed.isoformat()}"
            if confirmed
            else "have never been confirmed as complete"
        )
        super().__init__(kind, on)
        self.confirmed = confirmed
        self.args = (
            f"The {kind!r} rates ({label}) {since}, and this figure needs the rate in force on "
            f"{on.isoformat()}: an admin must add any {kind!r} rate published since"
            f"{' ' + confirmed.isoformat() if confirmed else ''} and confirm the table through "
            f"{on.isoformat()} or later on the rates page.",
        )


class RateTable(tuple):
    """The rate rows, and per kind the last day the table is confirmed complete through.

    :func:`~portal.jurisdictions.interest.rate_in_force` refuses a day after a kind's
    confirmation. A plain sequence of rows (pack unit tests) carries no confirmations.
    """

    confirmed: dict[str, date]

    def __new__(cls, rows: Sequence[RateRow] = (), confirmed: dict[str, date] | None = None):
        table = super().__new__(cls, rows)
        table.confirmed = dict(confirmed or {})
        return table

    def check_confirmed(self, kind: str, on: date) -> None:
        """:raises UnconfirmedRate: ``on`` is after the day ``kind`` is confirmed through."""
        through = self.confirmed.get(kind)
        if through is None or on > through:
            raise UnconfirmedRate(kind, on, through)


def round_money(amount: Decimal) -> Decimal:
    """Round half-up to 2 places; only for presentation fields, never inside a calculation."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, got {value!r}")


def _require_date(name: str, value: object) -> None:
    # datetime is a subclass of date but cannot be compared with one.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime.date, got {value!r}")


# --- facts passed in -------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """One row of the admin-editable rate table; applies from ``valid_from`` to the next row."""

    kind: str
    valid_from: date
    rate: Decimal  #: percent per annum, e.g. Decimal("5.25")
    source: str  #: where the figure comes from (publication, URL, statute)

    def __post_init__(self) -> None:
        if self.kind not in RATE_KINDS:
            raise ValueError(
                f"unknown rate kind {self.kind!r}; expected one of {sorted(RATE_KINDS)}"
            )
        _require_date("valid_from", self.valid_from)
        _require_decimal("rate", self.rate)
        if not Decimal(0) <= self.rate <= Decimal(100):
            raise ValueError(f"rate {self.rate} is not a percentage per annum between 0 and 100")
        if not self.source.strip():
            raise ValueError("source is empty; say where the figure comes from")


@dataclass(frozen=True)
class Reduction:
    """A payment or credit note applied to the invoice; lowers the principal from ``on``."""

    on: date
    amount: Decimal

    def __post_init__(self) -> None:
        _require_date("on", self.on)
        _require_decimal("amount", self.amount)
        if self.amount < 0:
            raise ValueError(f"a reduction cannot be negative: {self.amount}")


@dataclass(frozen=True)
class InvoiceFacts:
    """What the packs need to know about one invoice."""

    key: str  #: invoice external id
    number: str
    currency: str  #: ISO 4217
    amount: Decimal
    issue_date: date
    delivery_date: date | None
    due_date: date
    contract_rate: Decimal | None  #: agreed rate, percent p.a.; None = no agreed rate
    reductions: tuple[Reduction, ...] = ()

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)
        _require_date("issue_date", self.issue_date)
        _require_date("due_date", self.due_date)
        if self.delivery_date is not None:
            _require_date("delivery_date", self.delivery_date)
        if self.contract_rate is not None:
            _require_decimal("contract_rate", self.contract_rate)
            if self.contract_rate < 0:
                raise ValueError(f"contract_rate cannot be negative: {self.contract_rate}")


@dataclass(frozen=True)
class LimitationEvent:
    """Something that may restart the limitation clock (see each pack for which kinds do)."""

    kind: str
    on: date
    invoice_keys: frozenset[str] | None = None  #: None = every invoice of the case
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(
                f"unknown limitation event kind {self.kind!r}; "
                f"expected one of {sorted(EVENT_KINDS)}"
            )
        _require_date("on", self.on)

    def covers(self, invoice_key: str) -> bool:
        """Whether the event concerns the invoice (``invoice_keys`` None = all of the case)."""
        return self.invoice_keys is None or invoice_key in self.invoice_keys

    def label(self) -> str:
        """E.g. "signed acknowledgment on 2025-01-10 (letter of 8 January)"."""
        text = f"{EVENT_KINDS[self.kind]} on {self.on.isoformat()}"
        return f"{text} ({self.description})" if self.description else text


# --- options ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterestOptions:
    """Choices a user makes per case; the defaults are the conservative ones."""

    #: PRC: uplift on the one-year LPR (SPC sales-contracts interpretation Art. 18(4): 30–50 %).
    prc_lpr_uplift: Decimal = Decimal("0.5")
    #: For EU-based parties: Directive 2011/7/EU in place of the national statutory basis.
    use_eu_directive: bool = False
    #: US pack: whose statutory rate applies (only "il" so far).
    us_state: str = "il"

    def __post_init__(self) -> None:
        _require_decimal("prc_lpr_uplift", self.prc_lpr_uplift)
        if not Decimal(0) <= self.prc_lpr_uplift <= Decimal("0.5"):
            raise ValueError(f"prc_lpr_uplift must be between 0 and 0.5, got {self.prc_lpr_uplift}")


@dataclass(frozen=True)
class LimitationOptions:
    """Per-case limitation settings."""

    #: US: period agreed in the contract (UCC § 2-725(1): may be reduced, not below 1 year).
    us_contract_years: int | None = None
    #: US: whether state law lets a part payment restart the period.
    us_part_payment_restarts: bool = True

    def __post_init__(self) -> None:
        years = self.us_contract_years
        if years is None:
            return
        if not isinstance(years, int) or isinstance(years, bool):
            raise TypeError(f"us_contract_years must be an int, got {years!r}")
        if years < 1:
            raise ValueError(
                f"us_contract_years={years}: UCC § 2-725(1) does not allow a contract to reduce "
                "the limitation period below one year"
            )
        if years > UCC_LIMITATION_YEARS:
            raise ValueError(
                f"us_contract_years={years}: UCC § 2-725(1) lets a contract reduce the "
                f"{UCC_LIMITATION_YEARS}-year period but not extend it"
            )


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterestPeriod:
    """A stretch of days with one principal and one rate."""

    start: date
    end: date  #: inclusive
    days: int
    principal: Decimal
    rate: Decimal  #: percent p.a.
    amount_exact: Decimal
    amount: Decimal  #: rounded half-up to 2 places


@dataclass(frozen=True)
class InterestResult:
    """Interest on one invoice up to ``as_of``, with the sentence that justifies it."""

    basis: str  #: "contractual", "late_payment_act", "eu_directive", "prc_lpr", "us_statutory"
    basis_text: str  #: one sentence for a letter, citing the statute or the contract
    rate: Decimal  #: percent p.a.
    amount_exact: Decimal
    amount: Decimal
    daily: Decimal  #: interest per day on the principal outstanding at as_of (2 places)
    periods: tuple[InterestPeriod, ...]
    compensation: Decimal  #: fixed sum (E&W Act s.5A / Directive Art. 6), 0 otherwise
    compensation_text: str
    start: date  #: day interest starts (the day after the due date)


@dataclass(frozen=True)
class LimitationResult:
    """The limitation deadline of one invoice and the event that set it."""

    deadline: date  #: last day on which proceedings can be brought
    set_by: str  #: e.g. "due date 2024-03-31" or "signed acknowledgment on 2025-01-10"
    set_by_kind: str  #: "due_date" | "delivery_date" | "issue_date" | a LimitationEvent kind
    period_years: int
    expired: bool  #: as_of > deadline
    warning: bool  #: not expired and the deadline is within warning_days of as_of
    ignored: tuple[str, ...]  #: events that did not restart the clock, each with the reason


@runtime_checkable
class Pack(Protocol):
    """One jurisdiction: its interest basis and its limitation rules."""

    code: str
    name: str
    currency: str
    limitation_years: int

    def interest(
        self,
        invoice: InvoiceFacts,
        as_of: date,
        rates: Sequence[RateRow],
        options: InterestOptions,
    ) -> InterestResult: ...

    def limitation(
        self,
        invoice: InvoiceFacts,
        events: Sequence[LimitationEvent],
        as_of: date,
        *,
        warning_days: int = 90,
        options: LimitationOptions | None = None,
    ) -> LimitationResult: ...


# --- the rate table as CSV -------------------------------------------------------------------


def _parse_rate_line(values: dict[str, str | None], where: str) -> RateRow:
    """One CSV record → RateRow; ``where`` names the line in error messages."""
    kind = (values.get("kind") or "").strip()
    if kind not in RATE_KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; expected one of {sorted(RATE_KINDS)}")
    raw_date = (values.get("valid_from") or "").strip()
    if not _ISO_DATE.fullmatch(raw_date):
        raise ValueError(f"{where}: valid_from {raw_date!r} is not a date (YYYY-MM-DD)")
    try:
        valid_from = date.fromisoformat(raw_date)
    except ValueError:
        raise ValueError(f"{where}: valid_from {raw_date!r} is not a real date") from None
    raw_rate = (values.get("rate") or "").strip()
    try:
        rate = Decimal(raw_rate)
    except InvalidOperation:
        raise ValueError(f"{where}: rate {raw_rate!r} is not a number") from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
        raise ValueError(f"{where}: rate {raw_rate!r} is not a percentage per annum")
    source = (values.get("source") or "").strip()
    if not source:
        raise ValueError(f"{where}: source is empty; say where the figure comes from")
    return RateRow(kind=kind, valid_from=valid_from, rate=rate, source=source)


def load_rates_csv(path_or_text: str | os.PathLike[str]) -> list[RateRow]:
    """Read a rate table with the columns kind,valid_from,rate,source.

    A ``PathLike``, or a ``str`` without a comma or line break, is a file path; any other
    ``str`` is the CSV text itself.

    :raises ValueError: naming the line of the first bad row (unknown kind, bad date, rate
        that is not a number, empty source, wrong columns, the same kind and date twice).
    """
    if isinstance(path_or_text, os.PathLike) or (
        "\n" not in path_or_text and "," not in path_or_text
    ):
        path = Path(path_or_text)
        text = path.read_text(encoding="utf-8-sig")
        name = path.name
    else:
        text = path_or_text.removeprefix("\ufeff")
        name = "rates CSV"
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = tuple(field.strip() for field in reader.fieldnames or ())
    except csv.Error as error:
        raise ValueError(f"{name} line 1: {error}") from None
    if header != RATE_CSV_COLUMNS:
        raise ValueError(
            f"{name} line 1: the header must be {','.join(RATE_CSV_COLUMNS)}, "
            f"got {','.join(header)}"
        )
    reader.fieldnames = list(header)
    rows: list[RateRow] = []
    seen: dict[tuple[str, date], int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ValueError(f"{name} line {reader.line_num}: {error}") from None
        where = f"{name} line {reader.line_num}"
        if None in values:
            raise ValueError(f"{where}: more than {len(RATE_CSV_COLUMNS)} columns")
        if any(value is None for value in values.values()):
            raise ValueError(f"{where}: fewer than {len(RATE_CSV_COLUMNS)} columns")
        row = _parse_rate_line(values, where)
        first = seen.setdefault((row.kind, row.valid_from), reader.line_num)
        if first != reader.line_num:
            raise ValueError(
                f"{where}: {row.kind} from {row.valid_from.isoformat()} is already on line {first}"
            )
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Confirmation:
    """The rate table holds every ``kind`` rate in force up to and including ``through``."""

    kind: str
    through: date
    source: str  #: who checked which publication


CONFIRMATION_CSV_COLUMNS = ("kind", "confirmed_through", "source")


def load_confirmations_csv(path: str | os.PathLike[str]) -> list[Confirmation]:
    """Read ``kind,confirmed_through,source`` lines (one per kind).

    :raises ValueError: naming the line of a bad row (unknown kind, bad date, empty source,
        the same kind twice, wrong header).
    """
    path = Path(path)
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    if tuple(reader.fieldnames or ()) != CONFIRMATION_CSV_COLUMNS:
        raise ValueError(f"{path.name} line 1: the header must be kind,confirmed_through,source")
    result: dict[str, Confirmation] = {}
    for values in reader:
        where = f"{path.name} line {reader.line_num}"
        kind = (values.get("kind") or "").strip()
        if kind not in RATE_KINDS:
            raise ValueError(f"{where}: unknown rate kind {kind!r}")
        if kind in result:
            raise ValueError(f"{where}: {kind} is confirmed twice")
        try:
            through = date.fromisoformat((values.get("confirmed_through") or "").strip())
        except ValueError:
            raise ValueError(f"{where}: confirmed_through must be a date (YYYY-MM-DD)") from None
        source = (values.get("source") or "").strip()
        if not source:
            raise ValueError(f"{where}: the source is empty")
        result[kind] = Confirmation(kind, through, source)
    return list(result.values())
