"""Races with real parallel requests against a real server: gunicorn with four worker
processes on the test's database (SQLite, or PostgreSQL in the second run)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.ledger.models import Debtor
from portal.review.models import Approval
from portal.storage import file_store

from .documents.test_documents_api import auth
from .factories import PASSWORD
from .review.flow import PASSPHRASE, counsel_p12, register, submitted_letter, trusted_ca
from .servers import serve


@pytest.fixture
def server(app, tmp_path: Path) -> Iterator[str]:
    """gunicorn -w 4 serving the test's database and file store (jobs inline)."""
    app.config["JOBS_IMMEDIATE"] = True
    with serve(app, tmp_path) as base:
        yield base


def call(method: str, url: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def in_parallel(count: int, job) -> list[tuple[int, dict]]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _n: job(), range(count)))


def test_ten_parallel_approvals_sign_once_and_refuse_nine(app, client, world, server):
    """1 × 200 and 9 × 409, one approval, and no signed PDF without a row pointing at it."""
    ca_pem, ca_key = trusted_ca(app)
    assert register(client, app, counsel_p12(ca_pem, ca_key)).status_code == 201
    document_id = submitted_letter(app, client, world)
    headers = auth(app, "lawyer")
    with app.app_context():
        files_before = set(file_store().iter_hashes())
    answers = in_parallel(
        10,
        lambda: call(
            "POST",
            f"{server}/api/v1/documents/{document_id}/review",
            headers,
            {"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        ),
    )
    statuses = Counter(status for status, _body in answers)
    assert statuses == {200: 1, 409: 9}, answers
    for status, body in answers:
        if status == 409:
            assert "cannot be approved now" in body["error"]["message"], body
    with app.app_context():
        approvals = db.session.scalars(select(Approval)).all()
        assert len(approvals) == 1
        new_files = set(file_store().iter_hashes()) - files_before
        # The one signed PDF, and nothing else signed by the losers.
        assert new_files == {approvals[0].signed_sha256}


def test_the_app_server_sends_no_banner(server):
    # gunicorn.conf.py drops gunicorn's "Server: gunicorn" header.
    with urllib.request.urlopen(f"{server}/login", timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
        assert answer.headers.get("Server") is None
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_fifty_parallel_puts_creating_one_debtor_answer_201_once_and_200_otherwise(
    app, world, server
):
    headers = auth(app, "finance")
    body = {"name": "Raced Trading Ltd", "kind": "company", "jurisdiction": "ew"}
    answers = in_parallel(50, lambda: call("PUT", f"{server}/api/v1/debtors/RACE-1", headers, body))
    statuses = Counter(status for status, _body in answers)
    assert statuses == {201: 1, 200: 49}, answers
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Debtor).where(Debtor.external_id == "RACE-1")
        )
        assert count == 1


def test_parallel_stage_moves_write_one_audit_entry_and_never_500(app, world, server):
    """Ten parallel moves of one case from the warning back to the notice stage: one real
    change, so one audit entry with the true "before"; the others find it done (200) or the
    case changed since they read it (409 with the current stage) — never 500."""
    from portal.audit.models import AuditEntry
    from portal.cases.models import Case, Stage

    with app.app_context():
        db.session.get(Case, world.assigned_case).stage = Stage.WARNING
        db.session.commit()
    headers = auth(app, "legal")
    answers = in_parallel(
        10,
        lambda: call(
            "PATCH", f"{server}/api/v1/cases/{world.assigned_case}", headers, {"stage": "notice"}
        ),
    )
    statuses = Counter(status for status, _body in answers)
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, answers
    for status, body in answers:
        if status == 409:
            assert body["error"]["code"] == "case_changed"
            assert body["error"]["fields"]["stage"] == ["notice"]
    with app.app_context():
        moves = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.stage", AuditEntry.object_id == str(world.assigned_case)
            )
        ).all()
        assert [move.changes for move in moves] == [
            {"before": {"stage": "warning"}, "after": {"stage": "notice"}}
        ]
        case = db.session.get(Case, world.assigned_case)
        assert case.stage is Stage.NOTICE and case.version == 2
