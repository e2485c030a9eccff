"""The dashboard's work queue: overdue next actions, broken promises, reconciliations deemed
confirmed and limitation deadlines, over the open cases the user may see."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.accounts.models import User
from portal.cases.claims import build_claim
from portal.cases.event_schemas import load_event
from portal.cases.events import add_event
from portal.cases.models import Case, CaseStatus, Outcome
from portal.cases.services import open_case, set_next_action, set_status
from portal.extensions import db

from ..conftest import build_app, login
from ..factories import ACTOR, World, build_world, make_debtor, make_invoice
from .conftest import section, text

TODAY = dt.date.today()


def _days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def three_years_ago_plus(days: int) -> dt.date:
    """About three years ago, plus ``days`` (never 29 February)."""
    return dt.date(TODAY.year - 3, TODAY.month, min(TODAY.day, 28)) + dt.timedelta(days=days)


def _expiring_case(world: World) -> tuple[str, str]:
    """A PRC case whose one invoice's limitation (3 years from due) ends in about 30 days, and
    another whose invoice's limitation has passed; their references."""
    legal = db.session.get(User, world.legal)
    due = three_years_ago_plus(30)
    soon = open_case(
        ACTOR,
        debtor=make_debtor("D-7", "cn"),
        owner=legal,
        invoices=[
            make_invoice(
                "SOON",
                "D-7",
                currency="CNY",
                issue=due - dt.timedelta(days=30),
                due=due,
                delivery=None,
            )
        ],
    )
    gone = open_case(
        ACTOR,
        debtor=make_debtor("D-8", "cn"),
        owner=legal,
        invoices=[
            make_invoice(
                "GONE",
                "D-8",
                currency="CNY",
                issue=dt.date(2020, 12, 1),
                due=dt.date(2021, 1, 1),
                delivery=None,
            )
        ],
    )
    return soon.reference, gone.reference


def test_work_queue_lists_what_needs_attention(app, as_role, world: World):
    with app.app_context():
        first = db.session.get(Case, world.assigned_case)
        second = db.session.get(Case, world.other_case)
        # A promise of £500 due ten days ago, nothing paid: broken.
        add_event(
            ACTOR,
            first,
            load_event(
                {
                    "type": "promise",
                    "date": _days(-30),
                    "amount": "500.00",
                    "currency": "GBP",
                    "due": _days(-10),
                }
            ),
        )
        # A balance confirmation whose reply date passed without a reply.
        add_event(
            ACTOR,
            second,
            load_event(
                {
                    "type": "reconciliation_sent",
                    "date": _days(-40),
                    "courier": "EMS",
                    "tracking": "EM1",
                    "reply_by": _days(-25),
                }
            ),
        )
        set_next_action(ACTOR, second, "Chase the reply", TODAY - dt.timedelta(days=4))
        soon, gone = _expiring_case(world)
        db.session.commit()
        first_ref, second_ref = first.reference, second.reference
    page = as_role("legal").get("/")
    assert page.status_code == 200

    promises = section(page, "queue-promises")
    assert f"{first_ref} Debtor D-1 Ltd GBP 500.00 {_days(-10)} 0.00" in promises

    overdue = section(page, "queue-overdue")
    assert f"{second_ref} Debtor D-2 Ltd Chase the reply {_days(-4)} 4" in overdue
    # The broken promise reopened the first case's next action on the day after its date.
    assert f"Follow up the broken promise due {_days(-10)} promise broken {_days(-9)} 9" in overdue

    reconciliations = section(page, "queue-reconciliations")
    assert f"{second_ref} Debtor D-2 Ltd {_days(-40)} {_days(-25)} {_days(-24)}" in reconciliations

    limitation = section(page, "queue-limitation")
    with app.app_context():
        soon_case = db.session.scalar(select(Case).where(Case.reference == soon))
        deadline = build_claim(soon_case).invoices[0].limitation.deadline.isoformat()
    assert f"{soon} Debtor D-7 Ltd INV-SOON {deadline} expires soon" in limitation
    assert f"{gone} Debtor D-8 Ltd INV-GONE 2024-01-01 expired set by due date 2021-01-01" in (
        limitation
    )
    assert "INV-I-1" not in limitation, "deadlines years away are not listed"
    # Every row links to its case.
    html = page.data.decode()
    for case_id in (world.assigned_case, world.other_case):
        assert f'href="/cases/{case_id}#' in html

    # Closed cases leave the queue.
    with app.app_context():
        set_status(
            ACTOR,
            db.session.get(Case, world.assigned_case),
            CaseStatus.CLOSED,
            outcome=Outcome.WRITTEN_OFF,
        )
        db.session.commit()
    after = as_role("admin").get("/")
    assert first_ref not in section(after, "queue-promises")
    assert "No broken promises." in section(after, "queue-promises")


def test_empty_work_queue_explains_each_section(as_role, world: World):
    page = as_role("legal").get("/")
    assert "Nothing overdue. Cases whose next action's due date has passed appear here." in (
        section(page, "queue-overdue")
    )
    assert "No broken promises." in section(page, "queue-promises")
    assert "counts as confirmed" in section(page, "queue-reconciliations")
    assert "falls within the next 90 days" in section(page, "queue-limitation")
    assert "Work queue 0" in text(page)


def test_lawyer_and_finance_dashboards_have_no_work_queue(as_role, world: World):
    lawyer = as_role("lawyer").get("/")
    assert 'id="work-queue"' not in lawyer.data.decode()
    assert "Cases assigned to you" in text(lawyer)
    assert 'id="work-queue"' not in as_role("finance").get("/").data.decode()


def test_the_warning_window_is_configurable(tmp_path):
    for app in build_app(tmp_path, LIMITATION_WARNING_DAYS=10):
        with app.app_context():
            world = build_world()
            soon, _gone = _expiring_case(world)
            db.session.commit()
        client = app.test_client()
        login(client, World.EMAILS["legal"])
        limitation = section(client.get("/"), "queue-limitation")
        assert soon not in limitation, "30 days away is outside a 10-day window"
        assert "INV-GONE" in limitation
        with app.app_context():
            db.session.remove()
