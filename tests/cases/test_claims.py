"""The claim adapter: timeline events and ledger payments reach the jurisdiction packs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.cases.claims import build_claim, build_claims
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.extensions import db
from portal.ledger.upserts import upsert_payment

from ..factories import ACTOR, World, make_invoice


def _case(world: World, case_id: int) -> Case:
    return db.session.get(Case, case_id)


def test_prc_delivered_demand_restarts_and_undelivered_does_not(app, world: World):
    with app.app_context():
        case = _case(world, world.other_case)  # PRC debtor D-2, invoice I-3 due 2025-02-09
        # PRC: 3 years from the due date (Civil Code art. 188) → 2028-02-09.
        assert build_claim(case, dt.date(2026, 1, 1)).invoices[0].limitation.deadline == dt.date(
            2028, 2, 9
        )
        add_event(ACTOR, case, {"type": "dispatch", "date": dt.date(2025, 6, 1),
                                "document": "demand_letter", "courier": "EMS",
                                "tracking": "E1"})  # fmt: skip
        # Not proven delivered: no restart (art. 195 needs the demand to reach the debtor).
        claim = build_claim(case, dt.date(2026, 1, 1))
        assert claim.invoices[0].limitation.deadline == dt.date(2028, 2, 9)
        add_event(ACTOR, case, {"type": "dispatch", "date": dt.date(2025, 9, 1),
                                "document": "demand_letter", "courier": "EMS", "tracking": "E2",
                                "delivered_on": dt.date(2025, 9, 3)})  # fmt: skip
        # Delivered 2025-09-03: the period runs afresh (art. 195(1)) → 2028-09-03.
        limitation = build_claim(case, dt.date(2026, 1, 1)).invoices[0].limitation
        assert limitation.deadline == dt.date(2028, 9, 3)
        assert limitation.set_by_kind == "demand_delivered"


def test_ew_creditor_demand_does_not_restart_but_part_payment_does(app, world: World):
    with app.app_context():
        case = _case(world, world.assigned_case)  # E&W; I-1 delivered 2025-01-08
        add_event(ACTOR, case, {"type": "dispatch", "date": dt.date(2025, 6, 1),
                                "document": "demand_letter", "courier": "DX", "tracking": "D1",
                                "delivered_on": dt.date(2025, 6, 2)})  # fmt: skip
        # Limitation Act 1980 s.5: six years from delivery (2025-01-08); a creditor's demand
        # never restarts time in England & Wales → 2031-01-08.
        first = build_claim(case, dt.date(2026, 1, 1)).invoices[0]
        assert first.invoice.external_id == "I-1"
        assert first.limitation.deadline == dt.date(2031, 1, 8)
        upsert_payment(ACTOR, "PP-1", {"debtor": "D-1", "date": dt.date(2025, 7, 1),
                                       "currency": "GBP", "amount": Decimal("100.00"),
                                       "invoice": "I-1"})  # fmt: skip
        # s.29(5): a payment on account restarts time from the payment → 2031-07-01.
        paid = build_claim(case, dt.date(2026, 1, 1)).invoices[0]
        assert paid.limitation.deadline == dt.date(2031, 7, 1)
        assert paid.paid == Decimal("100.00") and paid.outstanding == Decimal("900.00")
        # The untouched invoice keeps its own deadline (I-2 delivered 2025-01-08 too).
        assert build_claim(case, dt.date(2026, 1, 1)).invoices[1].limitation.deadline == dt.date(
            2031, 1, 8
        )


def test_ew_oral_acknowledgment_does_not_restart_signed_does(app, world: World):
    with app.app_context():
        case = _case(world, world.assigned_case)
        add_event(ACTOR, case, {"type": "acknowledgment", "date": dt.date(2025, 8, 1),
                                "signed": False})  # fmt: skip
        # s.30(1): an acknowledgment must be in writing and signed.
        assert build_claim(case, dt.date(2026, 1, 1)).invoices[0].limitation.deadline == dt.date(
            2031, 1, 8
        )
        add_event(ACTOR, case, {"type": "acknowledgment", "date": dt.date(2025, 9, 1),
                                "signed": True})  # fmt: skip
        # s.29(5)(a): a signed written acknowledgment restarts time → 2031-09-01.
        assert build_claim(case, dt.date(2026, 1, 1)).invoices[0].limitation.deadline == dt.date(
            2031, 9, 1
        )


def test_batched_claims_match_single_claims(app, world: World):
    with app.app_context():
        legal = db.session.get(Case, world.assigned_case).owner
        extra = open_case(
            ACTOR,
            debtor=db.session.get(Case, world.assigned_case).debtor,
            owner=legal,
            invoices=[make_invoice("B-1", amount="500.00", rate="10")],
        )
        cases = [_case(world, world.assigned_case), _case(world, world.other_case), extra]
        batched = build_claims(cases, dt.date(2026, 1, 1))
        for case in cases:
            single = build_claim(case, dt.date(2026, 1, 1))
            assert batched[case.id].outstanding == single.outstanding
            assert batched[case.id].interest == single.interest
            assert [item.limitation for item in batched[case.id].invoices] == [
                item.limitation for item in single.invoices
            ]


def test_missing_rate_is_reported_not_raised(app, world: World):
    from sqlalchemy import delete

    from portal.ledger.models import InterestRate

    with app.app_context():
        db.session.execute(delete(InterestRate).where(InterestRate.kind == "lpr_1y"))
        claim = build_claim(_case(world, world.other_case), dt.date(2026, 1, 1))
        assert claim.interest == {} and "lpr_1y" in claim.interest_error
