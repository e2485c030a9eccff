"""Shared types: validation of the facts, options, the rate CSV and get_pack."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.jurisdictions import (
    EVENT_KINDS,
    RATE_KINDS,
    SHIPPED_RATES_CSV,
    InterestOptions,
    LimitationEvent,
    LimitationOptions,
    MissingRate,
    Pack,
    RateRow,
    Reduction,
    get_pack,
    load_rates_csv,
)

from .facts import invoice

GOOD_CSV = (
    "kind,valid_from,rate,source\n"
    "boe_base,2023-08-03,5.25,Bank of England\n"
    'lpr_1y,2023-08-21,3.45,"NIFC, LPR announcement"\n'
)


# --- load_rates_csv --------------------------------------------------------------------------


def test_load_rates_csv_reads_text():
    rows = load_rates_csv(GOOD_CSV)
    assert rows == [
        RateRow("boe_base", date(2023, 8, 3), Decimal("5.25"), "Bank of England"),
        RateRow("lpr_1y", date(2023, 8, 21), Decimal("3.45"), "NIFC, LPR announcement"),
    ]


def test_load_rates_csv_reads_a_path(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("\ufeff" + GOOD_CSV, encoding="utf-8")  # Excel's byte-order mark
    assert len(load_rates_csv(path)) == 2
    assert len(load_rates_csv(str(path))) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("boe,2023-08-03,5.25,BoE", "line 3: unknown kind 'boe'"),
        ("boe_base,03/08/2023,5.25,BoE", "line 3: valid_from '03/08/2023' is not a date"),
        ("boe_base,2023-02-30,5.25,BoE", "line 3: valid_from '2023-02-30' is not a real date"),
        ("boe_base,2023-08-03,5,25,BoE", "line 3: more than 4 columns"),
        ("boe_base,2023-08-03,five,BoE", "line 3: rate 'five' is not a number"),
        ("boe_base,2023-08-03,NaN,BoE", "line 3: rate 'NaN' is not a percentage"),
        ("boe_base,2023-08-03,-0.1,BoE", "line 3: rate '-0.1' is not a percentage"),
        ("boe_base,2023-08-03,5.25,  ", "line 3: source is empty"),
        ("boe_base,2023-08-03,5.25", "line 3: fewer than 4 columns"),
        ("lpr_1y,2023-08-21,3.55,again", "line 3: lpr_1y from 2023-08-21 is already on line 2"),
    ],
)
def test_load_rates_csv_rejects_a_bad_line_naming_it(line, message):
    text = "kind,valid_from,rate,source\nlpr_1y,2023-08-21,3.45,NIFC\n" + line + "\n"
    with pytest.raises(ValueError, match=message):
        load_rates_csv(text)


def test_load_rates_csv_rejects_a_wrong_header():
    with pytest.raises(ValueError, match="line 1: the header must be kind,valid_from,rate,source"):
        load_rates_csv("kind,date,rate,source\nboe_base,2023-08-03,5.25,BoE\n")


def test_shipped_csv_parses_and_has_rows_of_every_kind():
    rows = load_rates_csv(SHIPPED_RATES_CSV)
    for kind in RATE_KINDS:
        of_kind = [row for row in rows if row.kind == kind]
        assert of_kind, kind
        days = [row.valid_from for row in of_kind]
        assert days == sorted(days), f"{kind} rows out of date order"
        # One row per change: consecutive rows of a kind never repeat the rate.
        assert all(a.rate != b.rate for a, b in zip(of_kind, of_kind[1:], strict=False)), kind
    # Spot checks against the publications named in `source`.
    table = {(row.kind, row.valid_from): row.rate for row in rows}
    assert table["boe_base", date(2023, 8, 3)] == Decimal("5.25")
    assert table["ecb_ref", date(2016, 3, 16)] == Decimal("0.00")
    assert table["lpr_1y", date(2019, 8, 20)] == Decimal("4.25")
    assert {row.rate for row in rows if row.kind == "us_il_statutory"} == {Decimal("5.00")}


# --- facts and options -----------------------------------------------------------------------


def test_money_and_rates_must_be_decimal_never_float():
    with pytest.raises(TypeError, match="rate must be a finite Decimal"):
        RateRow("boe_base", date(2023, 8, 3), 5.25, "BoE")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="amount must be a finite Decimal"):
        invoice(amount=5000.0)
    with pytest.raises(TypeError, match="amount must be a finite Decimal"):
        Reduction(date(2023, 9, 1), 10)  # type: ignore[arg-type]


def test_dates_must_be_dates_not_datetimes():
    with pytest.raises(TypeError, match="due_date must be a datetime.date"):
        invoice(due_date=datetime(2023, 8, 31, 12, 0))


def test_a_rate_row_needs_a_percentage_and_a_source():
    with pytest.raises(ValueError, match="between 0 and 100"):
        RateRow("boe_base", date(2023, 8, 3), Decimal("100.01"), "BoE")
    with pytest.raises(ValueError, match="source is empty"):
        RateRow("boe_base", date(2023, 8, 3), Decimal("5.25"), " ")


def test_unknown_kinds_are_rejected():
    with pytest.raises(ValueError, match="unknown rate kind 'bank_rate'"):
        RateRow("bank_rate", date(2023, 8, 3), Decimal("5.25"), "BoE")
    with pytest.raises(ValueError, match="unknown limitation event kind 'phone_call'"):
        LimitationEvent("phone_call", date(2024, 1, 1))
    assert "acknowledgment_signed" in EVENT_KINDS


def test_a_reduction_cannot_be_negative():
    with pytest.raises(ValueError, match="cannot be negative"):
        Reduction(date(2023, 9, 1), Decimal("-1"))


@pytest.mark.parametrize("uplift", ["-0.01", "0.51"])
def test_prc_uplift_is_between_0_and_50_percent(uplift):
    with pytest.raises(ValueError, match="prc_lpr_uplift must be between 0 and 0.5"):
        InterestOptions(prc_lpr_uplift=Decimal(uplift))


def test_us_contract_years_between_1_and_4():
    # UCC § 2-725(1): "may reduce the period of limitation to not less than one year but may
    # not extend it".
    assert LimitationOptions(us_contract_years=1).us_contract_years == 1
    with pytest.raises(ValueError, match="below one year"):
        LimitationOptions(us_contract_years=0)
    with pytest.raises(ValueError, match="not extend it"):
        LimitationOptions(us_contract_years=5)


def test_missing_rate_tells_an_admin_what_to_add():
    error = MissingRate("boe_base", date(2015, 12, 31))
    assert error.kind == "boe_base"
    assert error.on == date(2015, 12, 31)
    assert "an admin must add a row" in str(error)
    assert "valid_from on or before 2015-12-31" in str(error)


# --- get_pack --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "currency", "years"), [("cn", "CNY", 3), ("ew", "GBP", 6), ("us", "USD", 4)]
)
def test_get_pack(code, currency, years):
    pack = get_pack(code)
    assert isinstance(pack, Pack)
    assert (pack.code, pack.currency, pack.limitation_years) == (code, currency, years)
    assert get_pack(code.upper()) is pack


def test_get_pack_rejects_an_unknown_code():
    with pytest.raises(ValueError, match="unknown jurisdiction 'de'; expected one of cn, ew, us"):
        get_pack("de")
