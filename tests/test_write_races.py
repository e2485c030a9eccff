"""Write paths under real parallel requests (gunicorn -w 4 on SQLite, or PostgreSQL in the second
run): case references drawn in parallel, and the audit chain after parallel writes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.audit.services import verify_chain
from portal.cases.models import Case
from portal.db import utcnow
from portal.extensions import db

from .factories import make_invoice
from .servers import serve
from .test_races import auth, call


@pytest.fixture
def server(app, tmp_path: Path) -> Iterator[str]:
    app.config["JOBS_IMMEDIATE"] = True
    with serve(app, tmp_path) as base:
        yield base


def test_eight_parallel_case_openings_get_eight_consecutive_references(app, world, server):
    with app.app_context():
        for number in range(8):
            make_invoice(f"R-{number}")
        db.session.commit()
    headers = auth(app, "legal")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda number: call(
                    "POST",
                    f"{server}/api/v1/cases",
                    headers,
                    {"debtor": "D-1", "invoices": [f"R-{number}"]},
                ),
                range(8),
            )
        )
    assert Counter(status for status, _body in answers) == {201: 8}, answers
    year = utcnow().year
    with app.app_context():
        references = db.session.scalars(
            select(Case.reference).where(Case.id.in_([body["id"] for _s, body in answers]))
        ).all()
    # The world opened AC-<year>-0001 and 0002: these eight are 0003 … 0010, each once.
    assert sorted(references) == [f"AC-{year}-{number:04d}" for number in range(3, 11)]


def test_the_chain_verifies_after_parallel_invoice_puts(app, world, server):
    """24 invoices created by 8 clients at once: 24 audit rows, one chain, no fork or gap."""
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    headers = auth(app, "finance")

    def put(number: int) -> tuple[int, dict]:
        due = dt.date(2026, 3, 1) + dt.timedelta(days=number)
        body = {
            "debtor": "D-1" if number % 2 else "D-2",
            "number": f"PAR-{number}",
            "issue_date": "2026-02-01",
            "due_date": due.isoformat(),
            "currency": "GBP" if number % 2 else "CNY",
            "amount": f"{100 + number}.00",
        }
        return call("PUT", f"{server}/api/v1/invoices/PAR-{number}", headers, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(put, range(24)))
    assert Counter(status for status, _body in answers) == {201: 24}, answers
    with app.app_context():
        created = db.session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.action == "invoice.create")
        ).all()
        # Three invoices of the world (I-1 … I-3) and the 24 made here.
        assert len(created) == 3 + 24
        count, broken = verify_chain()
        assert broken is None
        assert count == db.session.scalar(select(func.count()).select_from(AuditEntry))
        assert count >= before + 24
