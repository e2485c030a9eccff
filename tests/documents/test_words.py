"""Amounts in words (English legal style; Chinese financial capitals), money and date formats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.documents.words import amount_in_words, dates_in_words, format_date, format_money

D = Decimal


# --- acceptance values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "gbp", "usd"),
    [
        ("0.01", "one penny", "one cent"),
        ("10.00", "ten pounds", "ten dollars"),
        ("1000000.05", "one million pounds and five pence", "one million dollars and five cents"),
        (
            "12345.67",
            "twelve thousand three hundred and forty-five pounds and sixty-seven pence",
            # American English has no "and" inside the number.
            "twelve thousand three hundred forty-five dollars and sixty-seven cents",
        ),
    ],
)
def test_english_acceptance_values(amount, gbp, usd):
    assert amount_in_words(D(amount), "GBP", "en") == gbp
    assert amount_in_words(D(amount), "USD", "en") == usd


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.01", "壹分"),
        ("10.00", "壹拾元整"),
        ("1000000.05", "壹佰万元零伍分"),
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ],
)
def test_chinese_acceptance_values(amount, words):
    assert amount_in_words(D(amount), "CNY", "zh") == words


# --- English -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("1.00", "GBP", "one pound"),
        ("1.00", "USD", "one dollar"),
        ("0.02", "GBP", "two pence"),
        ("0.67", "GBP", "sixty-seven pence"),
        ("0.00", "GBP", "zero pounds"),
        ("101.00", "GBP", "one hundred and one pounds"),
        ("101.00", "USD", "one hundred one dollars"),
        (
            "1010.10",
            "GBP",
            "one thousand and ten pounds and ten pence",
        ),
        ("1010.10", "USD", "one thousand ten dollars and ten cents"),
        (
            "123456789.01",
            "USD",
            "one hundred twenty-three million four hundred fifty-six thousand seven hundred "
            "eighty-nine dollars and one cent",
        ),
        ("1.00", "EUR", "one euro"),
        ("2500.01", "EUR", "two thousand five hundred euros and one cent"),
        (
            "12345.67",
            "EUR",
            "twelve thousand three hundred and forty-five euros and sixty-seven cents",
        ),
        # Jiao are folded into fen.
        ("0.67", "CNY", "sixty-seven fen"),
        (
            "12345.67",
            "CNY",
            "twelve thousand three hundred and forty-five yuan and sixty-seven fen",
        ),
        ("1.00", "CNY", "one yuan"),
        # No unit names for the currency: its code, and the cents as a fraction.
        ("10.00", "CHF", "ten CHF"),
        ("12345.67", "CHF", "twelve thousand three hundred and forty-five CHF and 67/100"),
        ("1000000.05", "CHF", "one million CHF and 05/100"),
    ],
)
def test_english_words(amount, currency, words):
    assert amount_in_words(D(amount), currency, "en") == words


def test_rounds_half_up_to_the_cent_first():
    assert amount_in_words(D("2.005"), "GBP", "en") == "two pounds and one penny"
    assert amount_in_words(D("0.994"), "USD", "en") == "ninety-nine cents"
    assert amount_in_words(D("0.995"), "USD", "en") == "one dollar"
    assert amount_in_words(D("9.995"), "CNY", "zh") == "壹拾元整"


def test_currency_code_is_case_insensitive():
    assert amount_in_words(D("1.00"), "gbp", "en") == "one pound"


# --- Chinese financial capitals (大写) ------------------------------------------------------------
# The PBOC rules (《正确填写票据和结算凭证的基本规定》) and their own examples.


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        # 整 after 元; after 角 optional under the PBOC rules, written here; never after 分.
        ("10.50", "壹拾元伍角整"),
        ("0.50", "伍角整"),
        ("1010.10", "壹仟零壹拾元壹角整"),
        ("100000.00", "壹拾万元整"),
        ("0.00", "零元整"),
        ("0.05", "伍分"),
        ("123456789.01", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元零壹分"),
        # The rules' examples.
        ("1409.50", "壹仟肆佰零玖元伍角整"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        # 拾 at the head is written 壹拾.
        ("15.00", "壹拾伍元整"),
        ("100700.00", "壹拾万零柒佰元整"),
        ("1000010.00", "壹佰万零壹拾元整"),
        # A zero 万 group after 亿 needs its 零 (cn2an alone writes 壹亿壹仟元整).
        ("100001000.00", "壹亿零壹仟元整"),
        ("100000001.00", "壹亿零壹元整"),
        ("101000000.00", "壹亿零壹佰万元整"),
        ("110000000.00", "壹亿壹仟万元整"),
        ("100100100.00", "壹亿零壹拾万零壹佰元整"),
        ("1000000000000.00", "壹万亿元整"),
    ],
)
def test_chinese_capitals(amount, words):
    assert amount_in_words(D(amount), "CNY", "zh") == words


@pytest.mark.parametrize(
    ("currency", "words"),
    [
        ("USD", "美元壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("GBP", "英镑壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("EUR", "欧元壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("HKD", "港币壹万贰仟叁佰肆拾伍元陆角柒分"),
    ],
)
def test_chinese_prefixes_a_foreign_currency(currency, words):
    assert amount_in_words(D("12345.67"), currency, "zh") == words


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_negative_amounts_are_refused(lang):
    with pytest.raises(ValueError, match="negative"):
        amount_in_words(D("-0.01"), "GBP", lang)
    with pytest.raises(ValueError, match="negative"):
        amount_in_words(D("-0.001"), "GBP", lang)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError):
        amount_in_words(10.5, "GBP", "en")
    with pytest.raises(ValueError, match="not an amount"):
        amount_in_words(D("NaN"), "GBP", "en")
    with pytest.raises(ValueError, match="currency code"):
        amount_in_words(D("1"), "pounds", "en")
    with pytest.raises(ValueError, match="unknown language"):
        amount_in_words(D("1"), "GBP", "fr")


# --- money and dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_format_money(lang):
    assert format_money(D("12345.67"), lang) == "12,345.67"
    assert format_money(D("12345.675"), lang) == "12,345.68"
    assert format_money(D("1234567"), lang) == "1,234,567.00"
    assert format_money(D("0.5"), lang) == "0.50"
    assert format_money(D("-1234.5"), lang) == "-1,234.50"
    assert format_money(D("-0.004"), lang) == "0.00"


def test_format_money_refuses_unknown_language():
    with pytest.raises(ValueError, match="unknown language"):
        format_money(D("1"), "de")


@pytest.mark.parametrize(
    ("style", "text"),
    [("en-GB", "23 November 2026"), ("en-US", "November 23, 2026"), ("zh", "2026年11月23日")],
)
def test_format_date(style, text):
    assert format_date(date(2026, 11, 23), style) == text


def test_format_date_single_digits_and_every_month():
    assert format_date(date(2027, 1, 5), "en-GB") == "5 January 2027"
    assert format_date(date(2027, 1, 5), "en-US") == "January 5, 2027"
    assert format_date(date(2027, 1, 5), "zh") == "2027年1月5日"
    months = [format_date(date(2026, month, 1), "en-GB").split()[1] for month in range(1, 13)]
    assert months == [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]  # fmt: skip


def test_format_date_refuses_unknown_style_and_non_dates():
    with pytest.raises(ValueError, match="unknown date style"):
        format_date(date(2026, 11, 23), "fr")
    with pytest.raises(TypeError):
        format_date("2026-11-23", "zh")
    # A datetime is a date: it prints as its day.
    assert format_date(datetime(2026, 11, 23, 9, 30), "zh") == "2026年11月23日"


def test_iso_dates_in_pack_sentences_are_written_as_prose():
    sentence = "base rate of 4.75% on 2024-12-31 plus 8%, from 2025-02-10 (the day after)"
    assert dates_in_words(sentence, "en-GB") == (
        "base rate of 4.75% on 31 December 2024 plus 8%, from 10 February 2025 (the day after)"
    )
    assert dates_in_words(sentence, "en-US").endswith("from February 10, 2025 (the day after)")
    # Not a date: left as it is.
    assert dates_in_words("ref 2024-13-45", "en-GB") == "ref 2024-13-45"
