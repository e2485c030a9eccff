"""The case list: owner and next-action filters, balance and limitation columns, and a constant
number of queries whatever the number of cases listed."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event

from portal.accounts.models import User
from portal.cases.event_schemas import load_event
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.cases.services import open_case, set_next_action
from portal.extensions import db
from portal.security import Role

from ..factories import ACTOR, World, make_debtor, make_invoice, make_user
from .conftest import text

TODAY = dt.date.today()


def _references(app, *case_ids: int) -> list[str]:
    with app.app_context():
        return [db.session.get(Case, case_id).reference for case_id in case_ids]


def _rows(response) -> dict[str, str]:
    """Row text of the case table by reference."""
    rows = {}
    for row in re.findall(
        r"<tr>\s*<td><a href=\"/cases/\d+\">.*?</tr>", response.data.decode(), flags=re.S
    ):
        plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        rows[plain.split()[0]] = plain
    return rows


def test_columns_show_balance_limitation_and_next_action(app, as_role, world: World):
    first, second = _references(app, world.assigned_case, world.other_case)
    with app.app_context():
        set_next_action(
            ACTOR,
            db.session.get(Case, world.assigned_case),
            "Send the notice",
            TODAY - dt.timedelta(days=2),
        )
        db.session.commit()
    rows = _rows(as_role("legal").get("/cases/"))
    assert "GBP 3,500.00 2031-01-08 Send the notice" in rows[first]
    assert f"due {(TODAY - dt.timedelta(days=2)).isoformat()}" in rows[first]
    assert "CNY 88,000.00 2028-02-09 —" in rows[second]
    assert "expired" not in rows[first] + rows[second]


def test_limitation_badge_and_broken_promise(app, as_role, world: World):
    with app.app_context():
        debtor = make_debtor("D-9", "cn")
        old = make_invoice(
            "OLD",
            "D-9",
            currency="CNY",
            issue=dt.date(2020, 12, 1),
            due=dt.date(2021, 1, 1),
            delivery=None,
        )
        case = open_case(
            ACTOR, debtor=debtor, owner=db.session.get(User, world.legal), invoices=[old]
        )
        add_event(
            ACTOR,
            case,
            load_event(
                {
                    "type": "promise",
                    "date": (TODAY - dt.timedelta(days=9)).isoformat(),
                    "amount": "100.00",
                    "currency": "CNY",
                    "due": (TODAY - dt.timedelta(days=3)).isoformat(),
                }
            ),
        )
        db.session.commit()
        reference = case.reference
    row = _rows(as_role("legal").get("/cases/"))[reference]
    assert "2024-01-01 expired" in row
    assert f"promise broken follow up {(TODAY - dt.timedelta(days=2)).isoformat()}" in row


def test_owner_and_next_action_filters(app, as_role, world: World):
    first, second = _references(app, world.assigned_case, world.other_case)
    with app.app_context():
        other = make_user(Role.LEGAL, "second.legal@tests.example", name="Second Legal")
        seventh = make_invoice("I-7", amount="70.00")
        third = open_case(ACTOR, debtor=seventh.debtor, owner=other, invoices=[seventh])
        set_next_action(
            ACTOR,
            db.session.get(Case, world.assigned_case),
            "overdue one",
            TODAY - dt.timedelta(days=1),
        )
        set_next_action(
            ACTOR, db.session.get(Case, world.other_case), "this week", TODAY + dt.timedelta(days=7)
        )
        set_next_action(ACTOR, third, "later", TODAY + dt.timedelta(days=30))
        db.session.commit()
        other_id, third_ref = other.id, third.reference
    client = as_role("legal")
    page = client.get("/cases/")
    assert f'<option value="{other_id}" >Second Legal</option>' in page.data.decode()
    assert set(_rows(client.get(f"/cases/?owner={other_id}"))) == {third_ref}
    assert set(_rows(client.get(f"/cases/?owner={world.legal}"))) == {first, second}
    assert set(_rows(client.get("/cases/?due=overdue"))) == {first}
    assert set(_rows(client.get("/cases/?due=week"))) == {second}
    assert set(_rows(client.get("/cases/?due=any"))) == {first, second, third_ref}
    assert "No case matches these filters" in text(
        client.get(f"/cases/?due=overdue&owner={other_id}")
    )
    # Lawyers get neither filter (they see their own cases only).
    lawyer = as_role("lawyer").get("/cases/").data.decode()
    assert 'name="owner"' not in lawyer and 'name="due"' in lawyer


def _count_queries(app, client, path: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_case_list_queries_do_not_grow_with_the_cases(app, as_role, world: World):
    client = as_role("legal")
    client.get("/cases/")  # warm up (first-request work is not the list's)
    with_two = _count_queries(app, client, "/cases/")
    with app.app_context():
        # Several owners and lawyers, so a lazy load per row could not hide in the identity map.
        owners = [make_user(Role.LEGAL, f"legal{n}@tests.example") for n in range(4)]
        lawyers = [make_user(Role.LAWYER, f"lawyer{n}@tests.example") for n in range(4)]
        for number in range(28):
            debtor = make_debtor(f"Q-{number}", "cn" if number % 2 else "ew")
            invoice = make_invoice(
                f"Q-{number}", debtor.external_id, currency="CNY" if number % 2 else "GBP"
            )
            case = open_case(
                ACTOR,
                debtor=debtor,
                owner=owners[number % 4],
                invoices=[invoice],
                lawyer=lawyers[number % 4] if number % 3 else None,
            )
            add_event(
                ACTOR,
                case,
                load_event({"type": "note", "date": "2025-03-01", "text": f"note {number}"}),
            )
        db.session.commit()
    page = client.get("/cases/")
    assert len(_rows(page)) == 30
    assert _count_queries(app, client, "/cases/") == with_two
