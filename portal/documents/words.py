"""Amounts in words, money and dates as generated documents print them, whatever the locale.

Pure: no Flask, no database. Amounts are ``Decimal`` and are rounded half-up to the cent first.
English follows British legal drafting ("... and forty-five pounds") except for US dollars, which
are written the American way ("three hundred forty-five dollars"). Chinese uses the financial
capitals (大写) of the PBOC rules on filling in bills and settlement vouchers (《正确填写票据和结算
凭证的基本规定》, annexed to 《支付结算办法》).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import cn2an
from num2words import num2words

#: Languages of the documents.
LANGUAGES = ("en", "zh")
#: Date styles of the documents.
DATE_STYLES = ("en-GB", "en-US", "zh")

#: English names of each currency's units: major singular and plural, minor singular and plural.
EN_UNITS: dict[str, tuple[str, str, str, str]] = {
    "GBP": ("pound", "pounds", "penny", "pence"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "USD": ("dollar", "dollars", "cent", "cents"),
    # Jiao (tenths) are folded into fen: 0.67 is "sixty-seven fen".
    "CNY": ("yuan", "yuan", "fen", "fen"),
}
#: Currencies written in American English, without "and" inside the number.
AMERICAN_ENGLISH = frozenset({"USD"})

#: Chinese name written before the 大写 amount of a foreign currency; the units stay 元角分.
#: CNY has none: the templates print 人民币 themselves.
ZH_NAMES: dict[str, str] = {
    "CNY": "",
    "USD": "美元",
    "GBP": "英镑",
    "EUR": "欧元",
    "HKD": "港币",
    "JPY": "日元",
    "CHF": "瑞士法郎",
    "SGD": "新加坡元",
    "AUD": "澳大利亚元",
    "CAD": "加拿大元",
}

_CENT = Decimal("0.01")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_ZH_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_YI = 10**8
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def amount_in_words(amount: Decimal, currency: str, lang: str) -> str:
    """``amount`` of ``currency`` in words, in English ("en") or Chinese financial capitals ("zh").

    :raises ValueError: negative or non-finite amount, malformed currency code, unknown language.
    :raises TypeError: the amount is not a Decimal (or int).
    """
    _require_language(lang)
    cents = _cents(amount)
    if lang == "en":
        return _english(cents, _currency_code(currency))
    return _chinese(cents, _currency_code(currency))


def format_money(amount: Decimal, lang: str) -> str:
    """``amount`` half-up to the cent with thousands separators ("12,345.67"), in either language.

    :raises ValueError: non-finite amount, unknown language.
    :raises TypeError: the amount is not a Decimal (or int).
    """
    _require_language(lang)
    rounded = _rounded(amount)
    # -0.004 rounds to -0.00, which would print as "-0.00".
    return f"{abs(rounded) if rounded == 0 else rounded:,.2f}"


def format_date(day: date, style: str) -> str:
    """``day`` as "23 November 2026" (en-GB), "November 23, 2026" (en-US) or "2026年11月23日" (zh).

    The month names are written here so that the output does not depend on the process's locale.

    :raises ValueError: unknown style.
    :raises TypeError: ``day`` is not a date.
    """
    if not isinstance(day, date):
        raise TypeError(f"day must be a datetime.date, got {day!r}")
    if style == "en-GB":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    if style == "en-US":
        return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    raise ValueError(f"unknown date style {style!r}; expected one of {', '.join(DATE_STYLES)}")


# --- English -----------------------------------------------------------------------------------


def _english(cents: int, currency: str) -> str:
    major, minor = divmod(cents, 100)
    american = currency in AMERICAN_ENGLISH
    units = EN_UNITS.get(currency)
    if units is None:
        # Cheque style for a currency we have no unit names for: "ten CHF and 05/100".
        words = f"{_english_number(major, american)} {currency}"
        return f"{words} and {minor:02d}/100" if minor else words
    pound, pounds, penny, pence = units  # named after sterling's units
    parts = []
    if major or not minor:
        parts.append(f"{_english_number(major, american)} {pound if major == 1 else pounds}")
    if minor:
        parts.append(f"{_english_number(minor, american)} {penny if minor == 1 else pence}")
    return " and ".join(parts)


def _english_number(number: int, american: bool) -> str:
    # num2words writes "twelve thousand, three hundred and forty-five" for "en" and "en_US"
    # alike; legal drafting has no commas, and American English no "and" inside a number.
    words = num2words(number, lang="en").replace(",", "")
    return words.replace(" and ", " ") if american else words


# --- Chinese financial capitals (大写) ---------------------------------------------------------


def _chinese(cents: int, currency: str) -> str:
    prefix = ZH_NAMES.get(currency, currency)
    if cents == 0:
        return f"{prefix}零元整"
    major, minor = divmod(cents, 100)
    jiao, fen = divmod(minor, 10)
    text = f"{_chinese_integer(major)}元" if major else ""
    if jiao:
        text += f"{_ZH_DIGITS[jiao]}角"
    elif fen and major:
        # Rule: when the 角 digit is 0 and the 分 digit is not, write 零 after 元 (¥325.04 is
        # 叁佰贰拾伍元零肆分).
        text += "零"
    # 整 after 元 (required) and after 角 (optional under the PBOC rules, required by the
    # Ministry of Finance's 《会计基础工作规范》 art. 52, and it closes the amount against an
    # added 分); never after 分.
    text += f"{_ZH_DIGITS[fen]}分" if fen else "整"
    return prefix + text


def _chinese_integer(number: int) -> str:
    """Capitals for a whole number of 元, e.g. 壹万贰仟叁佰肆拾伍."""
    if number < _YI:
        return cn2an.an2cn(str(number), "up")
    # cn2an drops the 零 for a zero 万 group after 亿 ("壹亿壹仟" for 100,001,000, which reads as
    # 110,000,000); join the groups around 亿 here, with 零 whenever the next digit after 亿 is 0.
    high, low = divmod(number, _YI)
    words = f"{_chinese_integer(high)}亿"
    if low:
        words += ("零" if low < _YI // 10 else "") + _chinese_integer(low)
    return words


# --- validation --------------------------------------------------------------------------------


def _require_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")


def _currency_code(currency: str) -> str:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not _CURRENCY_CODE.fullmatch(code):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return code


def _rounded(amount: Decimal) -> Decimal:
    # bool is an int, and a float would carry its binary error into the words.
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"amount must be a Decimal, got {amount!r}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _cents(amount: Decimal) -> int:
    rounded = _rounded(amount)
    if amount < 0:
        raise ValueError(f"cannot write a negative amount ({amount}) in words")
    return int(rounded.scaleb(2))


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def dates_in_words(text: str, style: str) -> str:
    """Every ISO date in ``text`` (the packs' sentences) written as prose: 19 December 2025."""

    def spell(match: re.Match[str]) -> str:
        try:
            return format_date(date(*(int(part) for part in match.groups())), style)
        except ValueError:
            return match.group(0)

    return _ISO_DAY.sub(spell, text)
