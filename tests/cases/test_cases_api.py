"""Case routes through the API with a token: open, read the claim, ladder, status, timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from portal.audit.models import AuditEntry
from portal.cases import services
from portal.cases.models import Case, Stage
from portal.extensions import db

from ..factories import ACTOR, World, add_delivery_notes, make_invoice, token_for


@pytest.fixture
def api(app, world: World):
    tokens = {}

    def call(method: str, path: str, body=None, role: str = "legal"):
        if role not in tokens:
            with app.app_context():
                tokens[role] = token_for(World.EMAILS[role])
        return app.test_client().open(
            f"/api/v1{path}",
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )

    return call


@pytest.fixture
def new_invoices(app, world: World):
    with app.app_context():
        make_invoice("N-1", amount="999.99", due=dt.date(2025, 3, 31), delivery=dt.date(2025, 3, 1))
        make_invoice("N-2", amount="12000.00", due=dt.date(2025, 9, 30), rate="12")
        db.session.commit()


def test_open_a_case_and_read_its_claim(api, new_invoices):
    created = api("POST", "/cases", {"debtor": "D-1", "invoices": ["N-1", "N-2"],
                                     "lawyer": World.EMAILS["lawyer"]})  # fmt: skip
    assert created.status_code == 201, created.json
    case = api("GET", f"/cases/{created.json['id']}?as_of=2025-12-31").json
    assert case["stage"] == "reconciliation" and case["status"] == "open"
    assert case["lawyer"] == World.EMAILS["lawyer"] and case["currency"] == "GBP"
    assert case["principal"] == "12999.99" and case["paid"] == "0.00"
    assert case["outstanding"] == "12999.99"
    by_key = {item["external_id"]: item for item in case["invoices"]}
    assert set(by_key) == {"N-1", "N-2"}
    # E&W limitation runs six years from delivery (Limitation Act 1980 s.5; delivery 2025-03-01).
    assert by_key["N-1"]["limitation"]["deadline"] == "2031-03-01"
    assert "delivery" in by_key["N-1"]["limitation"]["set_by"]
    assert set(case["readiness"]) == {stage.value for stage in Stage}
    readiness = case["readiness"]
    assert readiness["reconciliation"]["ready"] is True
    # No delivery notes yet: R3 blocks the notice stage for both invoices, with a remedy.
    r3 = [item for item in readiness["notice"]["findings"] if item["rule"] == "R3"]
    assert readiness["notice"]["ready"] is False
    assert {item["invoice"] for item in r3} == {"N-1", "N-2"} and all(i["remedy"] for i in r3)
    interest = case["interest"]
    assert interest["error"] is None and interest["basis"] == "mixed"
    assert len(interest["basis_text"]) == 2 and interest["periods"]
    # Late Payment Act compensation only on N-1 (no agreed rate): £40 under £1,000 (s.5A).
    assert case["compensation"] == "40.00"


def test_contractual_interest_figures(api, app):
    with app.app_context():
        make_invoice("R-1", amount="10000.00", due=dt.date(2025, 1, 31), rate="8")
        db.session.commit()
    case_id = api("POST", "/cases", {"debtor": "D-1", "invoices": ["R-1"]}).json["id"]
    with app.app_context():
        case = db.session.get(Case, case_id)
        from portal.cases.present import case_payload

        body = case_payload(case, dt.date(2025, 3, 31))
    # Simple interest at the agreed 8 % a year from 2025-02-01 to 2025-03-31 inclusive: 59 days.
    # 10,000 × 8 % × 59 / 365 = 129.3150… → 129.32; daily 10,000 × 8 % / 365 = 2.1918 → 2.19.
    assert body["interest"]["basis"] == "contractual"
    assert body["interest"]["amount"] == "129.32" and body["interest"]["daily"] == "2.19"
    assert body["compensation"] == "0.00"  # an agreed rate replaces the 1998 Act


def test_open_case_errors(api, new_invoices):
    unknown = api("POST", "/cases", {"debtor": "D-1", "invoices": ["NOPE"]})
    assert unknown.status_code == 422 and "invoices" in unknown.json["error"]["fields"]
    foreign = api("POST", "/cases", {"debtor": "D-2", "invoices": ["N-1"]})
    assert foreign.status_code == 422
    claimed = api("POST", "/cases", {"debtor": "D-1", "invoices": ["I-1"]})
    assert claimed.status_code == 409 and "I-1" in claimed.json["error"]["message"]
    by_finance = api("POST", "/cases", {"debtor": "D-1", "invoices": ["N-1"]}, role="finance")
    assert by_finance.status_code == 403


def test_stage_moves_follow_the_ladder_and_can_be_vetoed(api, app, world):
    case = f"/cases/{world.assigned_case}"
    refused = api("PATCH", case, {"stage": "notice"})
    assert refused.status_code == 409, "R3: no delivery notes yet"
    assert {item["rule"] for item in refused.json["error"]["findings"]} == {"R3"}
    with app.app_context():
        add_delivery_notes(world.assigned_case)
        db.session.commit()
    moved = api("PATCH", case, {"stage": "notice"})
    assert moved.status_code == 200 and moved.json["stage"] == "notice"

    def blocks_demand(case_obj, stage):
        if stage is Stage.DEMAND_LETTER:
            return [
                services.Finding(
                    "R3", "blocker", "Invoice I-1 has no delivery note.", invoice="I-1"
                )
            ]
        return []

    services.register_readiness_check(blocks_demand)
    try:
        skipped = api("PATCH", case, {"stage": "prosecution"})
        assert skipped.status_code == 409
        error = skipped.json["error"]
        assert error["code"] == "stage_blocked"
        assert error["findings"] == [{"rule": "R3", "severity": "blocker",
                                      "message": "Invoice I-1 has no delivery note.",
                                      "invoice": "I-1"}]  # fmt: skip
        assert api("GET", case).json["stage"] == "notice", "a refused move changes nothing"
        assert api("PATCH", case, {"stage": "warning"}).status_code == 200
    finally:
        services._readiness_checks.remove(blocks_demand)
    assert api("PATCH", case, {"stage": "reconciliation"}).json["stage"] == "reconciliation"
    with app.app_context():
        stages = db.session.scalars(
            select(AuditEntry.changes).where(AuditEntry.action == "case.stage")
        ).all()
    assert [entry["after"]["stage"] for entry in stages] == ["notice", "warning", "reconciliation"]


def test_closing_needs_an_outcome(api, world):
    case = f"/cases/{world.assigned_case}"
    refused = api("PATCH", case, {"status": "closed"})
    assert refused.status_code == 422 and "outcome" in refused.json["error"]["fields"]
    closed = api("PATCH", case, {"status": "closed", "outcome": "settled",
                                 "recovered_amount": "3000.00", "costs": "250.00"})  # fmt: skip
    assert closed.status_code == 200
    assert (closed.json["status"], closed.json["outcome"]) == ("closed", "settled")
    assert closed.json["recovered_amount"] == "3000.00" and closed.json["costs"] == "250.00"
    assert api("PATCH", case, {"stage": "notice"}).status_code == 409
    reopened = api("PATCH", case, {"status": "open"})
    assert reopened.json["status"] == "open" and reopened.json["outcome"] is None


def test_lawyer_assignment_and_who_may_patch(api, world):
    case = f"/cases/{world.assigned_case}"
    assert api("PATCH", case, {"stage": "notice"}, role="lawyer").status_code == 403
    assert api("PATCH", case, {"lawyer": None}, role="finance").status_code == 403
    changed = api("PATCH", case, {"lawyer": World.EMAILS["other_lawyer"]})
    assert changed.json["lawyer"] == World.EMAILS["other_lawyer"]
    assert api("GET", case, role="lawyer").status_code == 404, "no longer assigned"
    bad = api("PATCH", case, {"lawyer": World.EMAILS["finance"]})
    assert bad.status_code == 422


def test_timeline_events(api, world):
    events = f"/cases/{world.assigned_case}/events"
    today = dt.date.today()
    posted = [
        api("POST", events, {"type": "contact", "date": str(today), "channel": "phone",
                             "summary": "Spoke to the AP clerk"}),
        api("POST", events, {"type": "promise", "date": str(today - dt.timedelta(days=20)),
                             "amount": "500.00", "currency": "GBP",
                             "due": str(today - dt.timedelta(days=5))}),
        api("POST", events, {"type": "dispute", "date": str(today), "invoices": ["I-2"],
                             "reason": "Goods damaged"}),
        api("POST", events, {"type": "reconciliation_sent",
                             "date": str(today - dt.timedelta(days=30)), "courier": "DHL",
                             "tracking": "JD0001", "reply_by": str(today - dt.timedelta(days=1))}),
        api("POST", events, {"type": "note", "date": str(today), "text": "Chase next week"}),
    ]  # fmt: skip
    assert [response.status_code for response in posted] == [201] * 5, [r.json for r in posted]
    listed = api("GET", events).json["items"]
    assert [item["type"] for item in listed][:2] == ["reconciliation_sent", "promise"]
    assert "Promise to pay GBP 500.00" in listed[1]["summary"]
    case = api("GET", f"/cases/{world.assigned_case}").json
    assert [promise["state"] for promise in case["promises"]] == ["broken"]
    # Broken the day after the promised date: the next action reopens on that day.
    assert case["next_action_effective"] == {
        "text": f"Follow up the broken promise due {today - dt.timedelta(days=5)}",
        "due": str(today - dt.timedelta(days=4)),
        "reason": "promise broken",
    }
    assert case["reconciliation"]["state"] == "deemed_confirmed"
    disputed = {item["external_id"]: item["disputed"] for item in case["invoices"]}
    assert disputed == {"I-1": False, "I-2": True}
    assert case["outstanding"] == "1000.00", "the disputed invoice is held out of the claim"
    resolved = api("POST", events, {"type": "dispute_resolved", "date": str(today),
                                    "invoices": ["I-2"], "resolution": "Replaced"})  # fmt: skip
    assert resolved.status_code == 201
    assert api("GET", f"/cases/{world.assigned_case}").json["outstanding"] == "3500.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "promise", "date": "2025-01-01", "currency": "GBP", "due": "2025-02-01"},
         "amount"),
        ({"type": "contact", "date": "2999-01-01", "channel": "phone", "summary": "x"}, "date"),
        ({"type": "dispute", "date": "2025-01-01", "invoices": ["I-3"], "reason": "x"},
         "invoices"),
        ({"type": "teleport", "date": "2025-01-01"}, "type"),
        ({"type": "note", "date": "2025-01-01", "text": "x", "extra": 1}, "extra"),
    ],
)  # fmt: skip
def test_bad_events_are_422_and_change_nothing(api, app, world, body, field):
    response = api("POST", f"/cases/{world.assigned_case}/events", body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert api("GET", f"/cases/{world.assigned_case}/events").json["items"] == []


def test_not_json_is_400(app, world):
    with app.app_context():
        token = token_for(World.EMAILS["legal"])
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/events",
        data="not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_case_list_uses_a_constant_number_of_queries(api, app, world):
    def count() -> int:
        statements = []

        def seen(*_args):
            statements.append(1)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", seen)
            try:
                assert api("GET", "/cases?limit=200").status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", seen)
        return len(statements)

    api("GET", "/me")  # token created and its last use noted before counting
    before = count()
    with app.app_context():
        legal = db.session.get(services.User, world.legal)
        debtor = db.session.get(Case, world.assigned_case).debtor
        for number in range(25):
            services.open_case(
                ACTOR, debtor=debtor, owner=legal, invoices=[make_invoice(f"Q-{number}")]
            )
        db.session.commit()
    assert count() == before
