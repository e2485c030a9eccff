"""Stored case figures and aging: kept current by the transactions that change a case or its
ledger, refreshed for what time changes, and read by the pages with a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from decimal import Decimal

from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.business_time import today as business_today
from portal.cases import figures
from portal.cases.event_schemas import load_event
from portal.cases.events import add_event
from portal.cases.models import Case, CaseDeadline, CaseFigures, CaseStatus, Outcome
from portal.cases.services import open_case, set_next_action, set_status
from portal.extensions import db
from portal.ledger import aging as aging_service
from portal.ledger.models import DebtorAging
from portal.ledger.upserts import upsert_payment

from ..factories import ACTOR, World, make_debtor, make_invoice
from .conftest import section, text
from .test_case_list import _count_queries

TODAY = business_today()


def _figures(case_id: int) -> CaseFigures:
    db.session.expire_all()
    return db.session.get(CaseFigures, case_id)


def test_figures_follow_the_case_and_its_ledger(app, world: World):
    with app.app_context():
        case = db.session.get(Case, world.assigned_case)
        stored = _figures(case.id)
        # Opened with I-1 (1,000.00) and I-2 (2,500.00): 1,000 + 2,500 = 3,500.00 outstanding.
        assert stored.outstanding == Decimal("3500.00")
        assert stored.currency == "GBP" and stored.computed_on == TODAY
        assert stored.basis == figures.basis()
        # A payment of 600.00 by the debtor is allocated to the oldest invoice: 3,500 − 600.
        upsert_payment(
            ACTOR,
            "P-FIG",
            {"debtor": "D-1", "date": TODAY, "currency": "GBP", "amount": Decimal("600.00")},
        )
        db.session.commit()
        assert _figures(case.id).outstanding == Decimal("2900.00")
        # A next action is stored with its due date, and as a deadline row.
        set_next_action(ACTOR, case, "Call the debtor", TODAY + dt.timedelta(days=3))
        db.session.commit()
        assert _figures(case.id).next_due == TODAY + dt.timedelta(days=3)
        kinds = db.session.scalars(
            select(CaseDeadline.kind).where(CaseDeadline.case_id == case.id)
        ).all()
        assert "next_action" in kinds and "limitation" in kinds
        # A promise: amount 100.00, nothing paid towards it between its date and its due date.
        add_event(
            ACTOR,
            case,
            load_event(
                {
                    "type": "promise",
                    "date": (TODAY - dt.timedelta(days=20)).isoformat(),
                    "amount": "100.00",
                    "currency": "GBP",
                    "due": (TODAY - dt.timedelta(days=2)).isoformat(),
                }
            ),
        )
        db.session.commit()
        promise = db.session.scalar(
            select(CaseDeadline).where(
                CaseDeadline.case_id == case.id, CaseDeadline.kind == "promise"
            )
        )
        assert (promise.amount, promise.paid) == (Decimal("100.00"), Decimal("0.00"))
        # Broken (its day passed unpaid), it reopens the next action the day after its due date,
        # TODAY − 2 + 1, earlier than the planned TODAY + 3.
        reopened = _figures(case.id)
        assert (reopened.next_due, reopened.next_reason) == (
            TODAY - dt.timedelta(days=1),
            "promise broken",
        )
        # A rolled-back change leaves the stored figures as they were.
        set_next_action(ACTOR, case, "Never saved", TODAY - dt.timedelta(days=40))
        db.session.rollback()
        assert _figures(case.id).next_due == TODAY - dt.timedelta(days=1)


def test_the_worker_refreshes_what_time_or_a_rate_changed(app, world: World):
    with app.app_context():
        yesterday = TODAY - dt.timedelta(days=1)
        db.session.execute(
            update(CaseFigures)
            .where(CaseFigures.case_id == world.assigned_case)
            .values(computed_on=yesterday)
        )
        db.session.execute(
            CaseFigures.__table__.delete().where(CaseFigures.case_id == world.other_case)
        )
        db.session.commit()
        assert set(figures.due_for_refresh(TODAY)) == {world.assigned_case, world.other_case}
        assert figures.refresh_due(TODAY) == 2
        assert figures.due_for_refresh(TODAY) == []
        assert _figures(world.assigned_case).computed_on == TODAY
        # A closed case is not refreshed each day: its figures no longer move.
        set_status(
            ACTOR,
            db.session.get(Case, world.other_case),
            CaseStatus.CLOSED,
            outcome=Outcome.WRITTEN_OFF,
        )
        db.session.execute(update(CaseFigures).values(computed_on=yesterday))
        db.session.commit()
        assert figures.due_for_refresh(TODAY) == [world.assigned_case]
        # Figures on another basis (a deploy changed the rules) are due again.
        db.session.execute(update(CaseFigures).values(computed_on=TODAY, basis="0" * 16))
        db.session.commit()
        assert set(figures.due_for_refresh(TODAY)) == {world.assigned_case, world.other_case}


def test_dashboard_statements_do_not_grow_with_the_cases(app, as_role, world: World):
    client = as_role("legal")
    client.get("/")  # warm up
    few = _count_queries(app, client, "/")
    with app.app_context():
        legal = db.session.get(User, world.legal)
        for number in range(25):
            case = open_case(
                ACTOR,
                debtor=make_debtor(f"W-{number}", "cn" if number % 2 else "ew"),
                owner=legal,
                invoices=[make_invoice(f"W-{number}", f"W-{number}")],
            )
            # Each one overdue: 25 more rows in the work queue's first section.
            set_next_action(ACTOR, case, f"Chase {number}", TODAY - dt.timedelta(days=1 + number))
        db.session.commit()
    page = client.get("/")
    overdue = section(page, "queue-overdue")
    # Ten rows on the dashboard, the oldest first (W-24 is 25 days late), and a link to all 25.
    assert overdue.count("Chase ") == 10
    assert "Chase 24" in overdue and "All 25 →" in overdue
    assert _count_queries(app, client, "/") == few

    second = client.get("/queue/overdue?page=2")
    assert second.status_code == 200
    # 25 rows at 50 a page: one page holding all of them (page 2 asked → the last page).
    assert text(second).count("Chase ") == 25
    assert as_role("lawyer").get("/queue/overdue").status_code == 403
    assert client.get("/queue/nonsense").status_code == 404


def test_case_list_sorts_every_row_on_the_server(app, as_role, world: World):
    with app.app_context():
        legal = db.session.get(User, world.legal)
        for number, amount in enumerate(("50.00", "7000.00", "300.00")):
            open_case(
                ACTOR,
                debtor=make_debtor(f"S-{number}"),
                owner=legal,
                invoices=[make_invoice(f"S-{number}", f"S-{number}", amount=amount)],
            )
        db.session.commit()
    client = as_role("legal")
    page = client.get("/cases/?sort=outstanding&dir=asc").data.decode()
    # Outstanding ascending over every case: GBP 50 < 300 < 3,500 (world) < 7,000 < CNY 88,000.
    order = [int(value) for value in re.findall(r'data-value="(\d+)\.\d+"', page)]
    assert order[:5] == [50, 300, 3500, 7000, 88000]
    assert 'aria-sort="ascending"' in page
    descending = client.get("/cases/?sort=outstanding&dir=desc").data.decode()
    assert [int(v) for v in re.findall(r'data-value="(\d+)\.\d+"', descending)][:2] == [88000, 7000]
    # An unknown key falls back to the default order (most recently updated first).
    assert client.get("/cases/?sort=nope").status_code == 200


def test_aging_reads_the_stored_rows_with_totals_over_every_page(app, as_role, world: World):
    with app.app_context():
        for number in range(60):
            make_invoice(f"A-{number}", make_debtor(f"A-{number:02d}").external_id)
        db.session.commit()
        live = aging_service.report(TODAY, per_page=50)
        assert not live.stored
        assert aging_service.refresh_if_due(TODAY)
        db.session.commit()
        stored = aging_service.report(TODAY, per_page=50)
        assert stored.stored
        # 60 new debtors with one 1,000.00 GBP invoice each, plus D-1 (3,500.00 GBP) and D-2
        # (88,000.00 CNY): 62 rows; both ways give the same totals.
        assert (live.count, stored.count) == (62, 62)
        assert stored.totals == live.totals
        gbp = sum(stored.totals["GBP"].values(), Decimal(0))
        assert gbp == Decimal("63500.00")  # 60 × 1,000 + 3,500
        # A payment changes the stored row of its debtor in the same transaction.
        upsert_payment(
            ACTOR,
            "P-AGE",
            {"debtor": "A-00", "date": TODAY, "currency": "GBP", "amount": Decimal("250.00")},
        )
        db.session.commit()
        after = aging_service.report(TODAY, per_page=50)
        assert after.stored
        assert sum(after.totals["GBP"].values(), Decimal(0)) == Decimal("63250.00")  # − 250
        assert db.session.scalar(select(func.count()).select_from(DebtorAging)) == 62
    client = as_role("finance")
    page = client.get(f"/ledger/aging?as_of={TODAY.isoformat()}")
    assert "62 rows · page 1 of 2" in text(page)
    assert client.get(f"/ledger/aging?as_of={TODAY.isoformat()}&page=2").status_code == 200
    china = text(client.get(f"/ledger/aging?as_of={TODAY.isoformat()}&jurisdiction=cn"))
    assert "1 row" in china and "Debtor D-2 Ltd" in china
    # The CSV holds every row of the filter, not one page: a header and 62 rows.
    response = client.get(f"/ledger/aging.csv?as_of={TODAY.isoformat()}")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 63 and rows[0][0] == "as_of"


def test_debtor_list_sorts_by_figures_live_and_stored(app, as_role, world: World):
    with app.app_context():
        for number, amount in enumerate(("400.00", "9000.00")):
            make_invoice(f"B-{number}", make_debtor(f"B-{number}").external_id, amount=amount)
        db.session.commit()
    client = as_role("finance")

    def order(path: str) -> list[str]:
        page = client.get(path).data.decode()
        return re.findall(r"<code>([A-Z]-[0-9A-Z]+)</code>", page)

    # Outstanding, every currency added up: D-2 88,000 CNY > B-1 9,000 > D-1 3,500 > B-0 400.
    expected = ["D-2", "B-1", "D-1", "B-0"]
    assert order("/ledger/debtors?sort=outstanding&dir=desc") == expected  # computed live
    with app.app_context():
        aging_service.refresh_if_due(TODAY)
        db.session.commit()
    assert order("/ledger/debtors?sort=outstanding&dir=desc") == expected  # stored aging
    assert order("/ledger/debtors?sort=outstanding&dir=asc") == expected[::-1]
    # Open cases: D-1 and D-2 have one each, the B debtors none; ties are broken by id in the
    # same direction, so D-2 (created second) comes first.
    assert order("/ledger/debtors?sort=open_cases&dir=desc")[:2] == ["D-2", "D-1"]
    assert order("/ledger/debtors?sort=name")[:2] == ["B-0", "B-1"]


def test_the_basis_is_the_same_in_every_process(app, tmp_path):
    """Figures stored by the worker must count as current in the web processes: the rules'
    fingerprint may not depend on anything a process chooses (memory addresses, hash seeds)."""
    script = (
        "from portal import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/b.db', 'SECRET_KEY': 'x'}})\n"
        "from portal.cases.figures import basis\n"
        "print(basis())\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PORTAL_INSTANCE_PATH": str(tmp_path)},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    with app.app_context():
        assert seen == {figures.basis()}


def test_a_case_that_cannot_be_computed_does_not_hold_back_the_others(
    app, world: World, monkeypatch, caplog
):
    with app.app_context():
        db.session.execute(CaseFigures.__table__.delete())
        db.session.commit()
        real = figures._rows

        def broken_for_one(case, claim, states, current_basis):
            if case.id == world.assigned_case:
                raise ValueError("a claim that cannot be computed")
            return real(case, claim, states, current_basis)

        monkeypatch.setattr(figures, "_rows", broken_for_one)
        # Two cases due; the assigned one fails, the other is stored all the same.
        assert figures.refresh_due(TODAY) == 1
        assert _figures(world.other_case) is not None
        assert _figures(world.assigned_case) is None
        assert f"case figures of case {world.assigned_case} could not be computed" in caplog.text
        # Mended, the next refresh computes it.
        monkeypatch.setattr(figures, "_rows", real)
        assert figures.refresh_due(TODAY) == 1
        assert _figures(world.assigned_case) is not None
