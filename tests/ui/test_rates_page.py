"""The rate table page (admins): how current each kind is, add, correct, delete, load."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.jurisdictions import SHIPPED_RATES_CSV, load_rates_csv
from portal.ledger.models import InterestRate

from ..factories import TEST_RATES, World
from .conftest import section, text

TODAY = dt.date.today()


def _rates(app) -> list[tuple[str, dt.date, Decimal, str]]:
    with app.app_context():
        return [
            (row.kind, row.valid_from, row.rate, row.source)
            for row in db.session.scalars(
                select(InterestRate).order_by(InterestRate.kind, InterestRate.valid_from)
            )
        ]


def test_rates_page_lists_rows_and_how_current_each_kind_is(as_role, world: World):
    page = as_role("admin").get("/admin/rates")
    assert page.status_code == 200
    table = section(page, "rates-table")
    assert "boe_base 2024-11-07 4.75 test figure" in table
    assert "boe_base 2024-08-01 5 test figure" in table
    assert "lpr_1y 2024-10-21 3.1 test figure" in table
    html = page.data.decode()
    cards = dict(re.findall(r'data-kind="(\w+)">(.*?)</div></div>', html, flags=re.S))
    # The synthetic rows are old, but the world confirms every kind through today: current.
    assert "current" in cards["boe_base"] and "2024-11-07" in cards["boe_base"]
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cards["us_il_statutory"]))
    assert "Newest row from: 1990-01-01" in plain
    assert f"Confirmed through: {TODAY.isoformat()}" in plain
    assert "No row newer than a year" not in plain
    only_boe = section(as_role("admin").get("/admin/rates?kind=boe_base"), "rates-table")
    assert "boe_base" in only_boe and "lpr_1y" not in only_boe
    assert 'data-confirm="Delete the boe_base row from 2024-11-07 (4.75 %)?' in html


def test_add_correct_and_delete_a_row(app, as_role, world: World):
    client = as_role("admin")
    recent = (TODAY - dt.timedelta(days=10)).isoformat()
    added = client.post(
        "/admin/rates",
        data={"kind": "boe_base", "valid_from": recent, "rate": "4.00", "source": "BoE, MPC"},
    )
    assert added.status_code == 303 and added.headers["Location"].endswith("kind=boe_base")
    page = client.get("/admin/rates?kind=boe_base")
    assert f"boe_base from {recent} saved: 4.00 %." in text(page)
    card = re.search(r'data-kind="boe_base">(.*?)</div></div>', page.data.decode(), re.S).group(1)
    assert "current" in card and recent in card

    corrected = client.post(
        "/admin/rates",
        data={"kind": "boe_base", "valid_from": recent, "rate": "4.25", "source": "BoE, MPC"},
    )
    assert corrected.status_code == 303
    same = client.post(
        "/admin/rates",
        data={"kind": "boe_base", "valid_from": recent, "rate": "4.250", "source": "BoE, MPC"},
        follow_redirects=True,
    )
    assert "already says that; nothing changed." in text(same)
    rows = [row for row in _rates(app) if row[1] == dt.date.fromisoformat(recent)]
    assert rows == [("boe_base", dt.date.fromisoformat(recent), Decimal("4.25"), "BoE, MPC")]

    with app.app_context():
        rate_id = db.session.scalar(
            select(InterestRate.id).where(InterestRate.valid_from == dt.date.fromisoformat(recent))
        )
    editing = client.get(f"/admin/rates?edit={rate_id}")
    assert re.search(r'<input[^>]*name="rate"[^>]*value="4.25"', editing.data.decode())
    assert "Correct a row" in text(editing)

    deleted = client.post(f"/admin/rates/{rate_id}/delete", data={}, follow_redirects=True)
    assert f"boe_base from {recent} deleted." in text(deleted)
    assert len(_rates(app)) == len(TEST_RATES)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "interest_rate")
        ).all()
        assert actions.count("rate.delete") == 1 and "rate.update" in actions
    assert client.post("/admin/rates/99999/delete", data={}).status_code == 404


def test_rate_form_errors(app, as_role, world: World):
    client = as_role("admin")
    for data, message in [
        (
            {"kind": "boe_base", "valid_from": "2025-01-01", "rate": "101", "source": "x"},
            "A percentage per annum between 0 and 100.",
        ),
        (
            {"kind": "boe_base", "valid_from": "2025-01-01", "rate": "abc", "source": "x"},
            "Not a valid decimal value.",
        ),
        (
            {"kind": "boe_base", "valid_from": "2025-01-01", "rate": "1.1234567", "source": "x"},
            "At most 6 decimal places.",
        ),
        (
            {"kind": "boe_base", "valid_from": "2025-01-01", "rate": "4", "source": ""},
            "Say where the figure comes from.",
        ),
        (
            {"kind": "nope", "valid_from": "2025-01-01", "rate": "4", "source": "x"},
            "Not a valid choice.",
        ),
        ({"kind": "boe_base", "valid_from": "", "rate": "4", "source": "x"}, "Give the first day."),
    ]:
        response = client.post("/admin/rates", data=data)
        assert response.status_code == 422, data
        assert message in section(response, "rate-form"), data
    assert len(_rates(app)) == len(TEST_RATES)
    zero = client.post(
        "/admin/rates",
        data={"kind": "ecb_ref", "valid_from": "2016-03-16", "rate": "0", "source": "ECB"},
    )
    assert zero.status_code == 303, "a zero rate is a rate"


def test_load_the_shipped_table(app, as_role, world: World):
    client = as_role("admin")
    page = client.get("/admin/rates").data.decode()
    assert re.search(r'action="/admin/rates/load" data-confirm="Load the rate table', page)
    response = client.post("/admin/rates/load", data={}, follow_redirects=True)
    shipped = load_rates_csv(SHIPPED_RATES_CSV)
    assert f"Shipped table loaded: {len(shipped)} rows read" in text(response)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(InterestRate))
    synthetic_only = {(kind, day) for kind, day, _rate in TEST_RATES} - {
        (row.kind, row.valid_from) for row in shipped
    }
    assert count == len(shipped) + len(synthetic_only)
