"""The completeness check over many cases runs in batches with a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import event

from portal.cases.models import Case
from portal.cases.readiness import readiness_many
from portal.cases.services import open_case
from portal.extensions import db

from ..factories import ACTOR, World, make_invoice


def _queries(app, function) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_checking_many_cases_costs_the_same_queries_as_two(app, world: World):
    with app.app_context():
        base = db.session.get(Case, world.assigned_case)
        two = [base, db.session.get(Case, world.other_case)]
        few = _queries(app, lambda: readiness_many(two))
        for number in range(30):
            open_case(ACTOR, debtor=base.debtor, owner=base.owner,
                      invoices=[make_invoice(f"M-{number}")])  # fmt: skip
        db.session.commit()
        everything = db.session.scalars(db.select(Case)).all()
        assert len(everything) == 32
        many = _queries(app, lambda: readiness_many(everything))
        assert many == few
        results = readiness_many(everything)
        assert set(results) == {case.id for case in everything}
        assert set(results[base.id]) == {
            "reconciliation", "notice", "warning", "demand_letter", "prosecution"
        }  # fmt: skip


def test_cli_summarises_every_open_case(app, world: World):
    result = app.test_cli_runner().invoke(args=["readiness", "--batch", "1", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "2 open cases checked." in result.output
    assert "next notice" in result.output
