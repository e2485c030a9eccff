"""The case page: claim, interest, limitation, ladder, status, next action and the timeline."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, func, select

from portal.cases import services
from portal.cases.claims import build_claim
from portal.cases.event_schemas import load_event
from portal.cases.events import add_event
from portal.cases.models import Case, CaseEvent, CaseStatus, Outcome, Stage
from portal.cases.present import case_payload
from portal.cases.services import Finding, open_case
from portal.extensions import db
from portal.ledger.models import Debtor, InterestRate

from ..factories import ACTOR, World, add_delivery_notes, make_invoice
from .conftest import section, text

TODAY = dt.date.today()
AS_OF = dt.date(2025, 12, 31)


def _events(app, case_id: int) -> list[CaseEvent]:
    with app.app_context():
        return db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()


def test_case_page_shows_interest_basis_and_limitation(app, as_role, world: World):
    client = as_role("legal")
    page = client.get(f"/cases/{world.assigned_case}?as_of={AS_OF}")
    assert page.status_code == 200
    with app.app_context():
        payload = case_payload(db.session.get(Case, world.assigned_case), AS_OF)
    interest = section(page, "interest")
    # Late Payment Act: base rate 4.75 % on 31 December 2024 + 8 points, from the day after due.
    assert "under the Late Payment of Commercial Debts (Interest) Act 1998 at 12.75% per annum" in (
        interest
    )
    assert "Rate 12.75 % per annum" in interest
    assert f"Daily amount GBP {payload['interest']['daily']}" in interest
    assert f"Interest to {AS_OF} GBP {payload['interest']['amount']}" in interest
    periods = section(page, "interest-periods")
    for period in payload["interest"]["periods"]:
        number = f"INV-{period['invoice']}"
        assert f"{number} {period['start']} {period['end']} {period['days']}" in periods
    assert "INV-I-1 2025-02-10 2025-12-31 325 1,000.00 12.75 113.53" in periods
    assert f"Total {payload['interest']['amount']}" in periods
    assert "Fixed compensation GBP 140.00" in interest  # £40 + £70 (Act s.5A)
    # Limitation per invoice: six years from delivery in England & Wales, and what set it.
    claim = section(page, "claim-invoices")
    assert claim.count("2031-01-08 set by delivery date 2025-01-08") == 2
    assert "expired" not in claim and "expires soon" not in claim
    summary = section(page, "claim")
    assert "Outstanding 3,500.00" in summary and "Principal GBP 3,500.00" in summary

    china = section(client.get(f"/cases/{world.other_case}?as_of={AS_OF}"), "interest")
    assert "one-year Loan Prime Rate" in china and "Rate 4.65 % per annum" in china


def test_limitation_badges_expired_and_within_window(app, as_role, world: World):
    with app.app_context():
        debtor = db.session.scalar(select(Debtor).where(Debtor.external_id == "D-2"))
        old = make_invoice(
            "OLD",
            "D-2",
            currency="CNY",
            issue=dt.date(2020, 12, 1),
            due=dt.date(2021, 1, 1),
            delivery=None,
        )
        soon_due = dt.date(TODAY.year - 3, TODAY.month, min(TODAY.day, 28)) + dt.timedelta(30)
        soon = make_invoice(
            "SOON",
            "D-2",
            currency="CNY",
            issue=soon_due - dt.timedelta(days=30),
            due=soon_due,
            delivery=None,
        )
        case = open_case(
            ACTOR,
            debtor=debtor,
            owner=db.session.get(services.User, world.legal),
            invoices=[old, soon],
        )
        db.session.commit()
        case_id = case.id
    page = as_role("legal").get(f"/cases/{case_id}")
    rows = re.findall(r"<tr class=\"(table-\w+)\">.*?INV-(\w+)", page.data.decode(), flags=re.S)
    assert rows == [("table-danger", "OLD"), ("table-warning", "SOON")]
    claim = section(page, "claim-invoices")
    assert "2024-01-01 expired set by due date 2021-01-01" in claim
    with app.app_context():
        deadline = build_claim(db.session.get(Case, case_id)).invoices[1].limitation.deadline
    assert (deadline - TODAY).days in range(25, 35)
    assert f"{deadline.isoformat()} expires soon set by due date {soon_due}" in claim


def test_missing_rate_shows_a_warning_and_the_rates_link_for_admins(app, as_role, world):
    with app.app_context():
        db.session.execute(delete(InterestRate))
        db.session.commit()
    admin = as_role("admin").get(f"/cases/{world.assigned_case}")
    interest = section(admin, "interest")
    assert "Interest cannot be calculated: the rate table needs a row." in interest
    assert "No 'boe_base' rate" in interest
    assert 'href="/admin/rates"' in admin.data.decode()
    legal = as_role("legal").get(f"/cases/{world.assigned_case}")
    assert "An administrator keeps the rate table." in section(legal, "interest")
    assert 'href="/admin/rates"' not in legal.data.decode()


def test_recording_a_promise_through_the_form(app, as_role, world: World):
    client = as_role("legal")
    form = client.get(f"/cases/{world.assigned_case}").data.decode()
    # One form, a fieldset per type; only the default type's fieldset is shown.
    assert re.findall(r'<fieldset data-event-type="(\w+)"\s*>', form) == ["contact"]
    assert form.count("<fieldset data-event-type=") == 10
    due = TODAY + dt.timedelta(days=14)
    response = client.post(
        f"/cases/{world.assigned_case}/events",
        data={
            "type": "promise",
            "date": (TODAY - dt.timedelta(days=1)).isoformat(),
            "promise_amount": "1500.00",
            "promise_currency": "GBP",
            "promise_due": due.isoformat(),
            # Fields of other types are ignored.
            "contact_summary": "not this one",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{world.assigned_case}#timeline")
    [event] = _events(app, world.assigned_case)
    assert (event.type.value, str(event.amount), event.due) == ("promise", "1500.0000", due)
    assert "summary" not in event.details
    page = client.get(f"/cases/{world.assigned_case}")
    timeline = section(page, "timeline")
    assert f"Promise to pay GBP 1,500.00 by {due.isoformat()} pending" in timeline
    assert "recorded by Legal User" in timeline
    assert "Promise recorded on" in text(page)
    assert f"pending GBP 1,500.00 by {due.isoformat()}" in section(page, "promises")


def test_a_bad_event_shows_the_error_and_saves_nothing(app, as_role, world: World):
    client = as_role("legal")
    missing = client.post(
        f"/cases/{world.assigned_case}/events",
        data={
            "type": "promise",
            "date": TODAY.isoformat(),
            "promise_currency": "GBP",
            "promise_due": (TODAY + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert missing.status_code == 422
    html = missing.data.decode()
    amount = re.search(r'<input[^>]*name="promise_amount"[^>]*>\s*(.*?)</div>', html, flags=re.S)
    assert "is-invalid" in amount.group(0) and "Required." in amount.group(1)
    # The chosen type's fieldset stays open with what was typed.
    assert re.findall(r'<fieldset data-event-type="(\w+)"\s*>', html) == ["promise"]
    assert 'option selected value="promise"' in html

    future = client.post(
        f"/cases/{world.assigned_case}/events",
        data={
            "type": "note",
            "date": (TODAY + dt.timedelta(days=5)).isoformat(),
            "note_text": "later",
        },
    )
    assert future.status_code == 422
    assert "The date is in the future." in text(future)

    foreign = client.post(
        f"/cases/{world.assigned_case}/events",
        data={
            "type": "promise",
            "date": TODAY.isoformat(),
            "promise_amount": "10.00",
            "promise_currency": "USD",
            "promise_due": TODAY.isoformat(),
        },
    )
    assert foreign.status_code == 422 and "Use GBP." in text(foreign)
    assert _events(app, world.assigned_case) == []


def test_dispute_holds_an_invoice_out_of_the_claim(app, as_role, world: World):
    client = as_role("legal")
    response = client.post(
        f"/cases/{world.assigned_case}/events",
        data={
            "type": "dispute",
            "date": TODAY.isoformat(),
            "dispute_invoices": ["I-2"],
            "dispute_reason": "Goods arrived damaged",
        },
    )
    assert response.status_code == 303
    page = client.get(f"/cases/{world.assigned_case}")
    assert "INV-I-2 disputed" in section(page, "claim-invoices")
    assert "Outstanding 1,000.00" in section(page, "claim")
    assert "Dispute of I-2: Goods arrived damaged" in section(page, "timeline")


def test_timeline_badges_for_broken_promise_and_deemed_reconciliation(app, as_role, world):
    with app.app_context():
        case = db.session.get(Case, world.assigned_case)
        add_event(
            ACTOR,
            case,
            load_event(
                {
                    "type": "promise",
                    "date": (TODAY - dt.timedelta(days=30)).isoformat(),
                    "amount": "500.00",
                    "currency": "GBP",
                    "due": (TODAY - dt.timedelta(days=10)).isoformat(),
                }
            ),
        )
        add_event(
            ACTOR,
            case,
            load_event(
                {
                    "type": "reconciliation_sent",
                    "date": (TODAY - dt.timedelta(days=40)).isoformat(),
                    "courier": "SF Express",
                    "tracking": "SF123",
                    "reply_by": (TODAY - dt.timedelta(days=20)).isoformat(),
                }
            ),
        )
        db.session.commit()
    page = as_role("finance").get(f"/cases/{world.assigned_case}")
    timeline = section(page, "timeline")
    assert "Promise to pay GBP 500.00" in timeline and " broken " in f"{timeline} "
    assert "Balance confirmation sent by SF Express (SF123)" in timeline
    assert "deemed confirmed" in timeline
    assert "deemed confirmed sent" in section(page, "reconciliation")
    assert "Follow up the broken promise" in section(page, "reopened-action")


def test_stage_moves_forward_and_back(app, as_role, world: World):
    with app.app_context():
        add_delivery_notes(world.assigned_case)  # what the notice stage needs (R3, R5)
        db.session.commit()
    client = as_role("legal")
    page = client.get(f"/cases/{world.assigned_case}")
    assert "Move to notice" in text(page) and "Back to" not in text(page)
    moved = client.post(f"/cases/{world.assigned_case}/stage", data={"stage": "notice"})
    assert moved.status_code == 303
    page = client.get(f"/cases/{world.assigned_case}")
    assert "is now at the stage notice" in text(page)
    assert "Back to reconciliation" in text(page) and "Move to warning" in text(page)
    back = re.search(
        r'<form[^>]*data-confirm="([^"]+)"[^>]*>\s*(?:<input[^>]*>\s*)?'
        r'<input type="hidden" name="stage" value="reconciliation">',
        page.data.decode(),
    )
    assert back and "back to reconciliation" in back.group(1)
    client.post(f"/cases/{world.assigned_case}/stage", data={"stage": "reconciliation"})
    with app.app_context():
        assert db.session.get(Case, world.assigned_case).stage is Stage.RECONCILIATION
    nowhere = client.post(f"/cases/{world.assigned_case}/stage", data={"stage": "nope"})
    assert nowhere.status_code == 303
    assert "Choose a stage of the ladder." in text(client.get(nowhere.headers["Location"]))


@pytest.fixture
def blocker():
    """A readiness check that refuses the notice stage (as the completeness rules will)."""

    def check(case, stage):
        if stage is Stage.NOTICE:
            return [
                Finding("R3", "blocker", "No delivery note <signed>.", invoice="I-1"),
                Finding("R2", "warning", "No contract."),
            ]
        return []

    services.register_readiness_check(check)
    yield check
    services._readiness_checks.remove(check)


def test_a_blocked_stage_move_lists_the_findings(app, as_role, world: World, blocker):
    client = as_role("legal")
    page = client.get(f"/cases/{world.assigned_case}")
    assert "Before notice:" in text(page) and "R3 blocker No delivery note <signed>." in text(page)
    response = client.post(
        f"/cases/{world.assigned_case}/stage", data={"stage": "notice"}, follow_redirects=True
    )
    html = response.data.decode()
    alert = re.search(r'<div class="alert alert-danger.*?</div>', html, flags=re.S).group(0)
    assert "The case is not ready for notice." in alert
    assert "<li><strong>R3</strong> No delivery note &lt;signed&gt;. (invoice I-1)</li>" in alert
    assert "R2" not in alert, "warnings do not block"
    with app.app_context():
        assert db.session.get(Case, world.assigned_case).stage is Stage.RECONCILIATION


def test_closing_needs_an_outcome(app, as_role, world: World):
    client = as_role("legal")
    refused = client.post(
        f"/cases/{world.assigned_case}/status",
        data={"status": "closed", "outcome": "", "recovered_amount": "", "costs": ""},
    )
    assert refused.status_code == 422
    assert "Required to close." in section(refused, "status-form")
    bad_amount = client.post(
        f"/cases/{world.assigned_case}/status",
        data={"status": "closed", "outcome": "paid", "recovered_amount": "10.005"},
    )
    assert bad_amount.status_code == 422
    assert "GBP amounts have at most 2 decimal places." in section(bad_amount, "status-form")
    with app.app_context():
        assert db.session.get(Case, world.assigned_case).status is CaseStatus.OPEN

    closed = client.post(
        f"/cases/{world.assigned_case}/status",
        data={
            "status": "closed",
            "outcome": "settled",
            "recovered_amount": "3000.00",
            "costs": "120.50",
            "closed_on": "2026-01-15",
        },
    )
    assert closed.status_code == 303
    with app.app_context():
        case = db.session.get(Case, world.assigned_case)
        assert (case.status, case.outcome, str(case.recovered_amount), case.closed_on) == (
            CaseStatus.CLOSED,
            Outcome.SETTLED,
            "3000.0000",
            dt.date(2026, 1, 15),
        )
    page = client.get(f"/cases/{world.assigned_case}")
    assert "Move to notice" not in text(page)
    assert "Reopen the case to move it along the ladder." in text(page)
    assert 'value="120.50"' in page.data.decode()


def test_next_action(app, as_role, world: World):
    client = as_role("legal")
    due = TODAY + dt.timedelta(days=3)
    response = client.post(
        f"/cases/{world.assigned_case}/next-action",
        data={"next_action": "Call the finance director", "next_action_due": due.isoformat()},
    )
    assert response.status_code == 303
    assert f"Call the finance director by {due.isoformat()}" in section(
        client.get(f"/cases/{world.assigned_case}"), "next-action"
    )
    bad = client.post(
        f"/cases/{world.assigned_case}/next-action",
        data={"next_action": "x", "next_action_due": "soon"},
    )
    assert bad.status_code == 422 and "Not a valid date value." in section(bad, "next-action")


@pytest.mark.parametrize("role", ["lawyer", "finance"])
def test_read_only_roles_see_no_forms(app, as_role, world: World, role: str):
    client = as_role(role)
    page = client.get(f"/cases/{world.assigned_case}")
    assert page.status_code == 200
    html = page.data.decode()
    main = html.split("<main", 1)[1]
    # Finance uploads evidence (tests/ui/test_evidence_pages.py); that is its only form here.
    upload = re.compile(r'<form[^>]*id="evidence-upload".*?</form>', flags=re.S)
    assert bool(upload.search(main)) is (role == "finance")
    main = upload.sub("", main)
    assert 'method="post"' not in main, "no forms on the page"
    assert "Record an event" not in main and "Move to notice" not in main
    assert "read-only" in text(page)
    # The claim is there all the same.
    assert "Late Payment of Commercial Debts" in section(page, "interest")
    for path, data in [
        ("events", {"type": "note", "date": TODAY.isoformat(), "note_text": "x"}),
        ("stage", {"stage": "notice"}),
        ("status", {"status": "on_hold"}),
        ("next-action", {"next_action": "x"}),
    ]:
        assert client.post(f"/cases/{world.assigned_case}/{path}", data=data).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0
