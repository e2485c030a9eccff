"""Money helpers: currencies' minor units, parsing and presentation rounding (half-up)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: ISO 4217 currencies whose minor unit is not two digits; all others have two.
_MINOR_UNITS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3,
    "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip
#: Currencies accepted; a short list on purpose (add here when a creditor bills in another).
CURRENCIES = frozenset({"CNY", "GBP", "USD", "EUR", "HKD", "JPY", "CHF", "SGD", "AUD", "CAD"})


_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def minor_units(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit."""
    return _MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (presentation and line totals only)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def parse_amount(raw: object, currency: str | None = None, *, allow_zero: bool = False) -> Decimal:
    """A positive amount with no more decimals than the currency allows (4 without a currency).

    :raises ValueError: with a message fit for a person.
    """
    if isinstance(raw, float):
        raise ValueError("give the amount as a decimal string, not a floating-point number")
    text = str(raw).strip() if raw is not None else ""
    if "," in text:
        # Thousands separators only ("1,234.50"); a decimal comma ("1234,50") is refused, not
        # read as a hundred times the amount.
        if not _GROUPED.fullmatch(text):
            raise ValueError(f"{raw!r} is not an amount (use a point for decimals)")
        text = text.replace(",", "")
    try:
        amount = Decimal(text) if text else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"{raw!r} is not an amount")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError("the amount must be positive")
    places = minor_units(currency) if currency else 4
    if amount != amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise ValueError(f"{currency or 'Money'} amounts have at most {places} decimal places")
    if amount >= Decimal("1e14"):
        raise ValueError("the amount is too large")
    return amount


def parse_currency(raw: object) -> str:
    """An accepted ISO 4217 code, upper-cased.

    :raises ValueError: for anything else.
    """
    code = str(raw or "").strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"{raw!r} is not an accepted currency ({', '.join(sorted(CURRENCIES))})")
    return code


def format_money(amount: Decimal | None, currency: str) -> str:
    """``1,234.50`` style, rounded to the minor unit."""
    if amount is None:
        return ""
    return f"{quantize(amount, currency):,}"
