"""Honest faults: ``/api/v1/health`` names what is down, and a request that meets a database
that does not answer gets 503 with ``Retry-After`` and changes nothing.

The faults are the tests' own: a TCP proxy on 127.0.0.1 in front of PostgreSQL that they take
down (PostgreSQL run), an exclusive lock they hold on the SQLite file, a file store path that
cannot be a folder."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from portal.extensions import db
from portal.jobs.sweep import note_worker_alive
from portal.ledger.models import Debtor

from .conftest import TEST_DATABASE_URL, build_app
from .documents.test_documents_api import auth
from .factories import build_world
from .faults import TcpProxy, fault


def test_health_names_a_missing_worker_and_an_unwritable_store(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's parent folder should be")
    for app in build_app(tmp_path, JOBS_IMMEDIATE=False, FILE_STORE_PATH=str(blocker / "files")):
        client = app.test_client()
        answer = client.get("/api/v1/health")
        assert answer.status_code == 503
        body = answer.get_json()
        assert body["status"] == "degraded" and body["database"] == "ok"
        assert body["worker"] == "no worker has been seen"
        assert body["store"].startswith("not writable")
        with app.app_context():
            note_worker_alive()  # what a worker does at start and every minute
        assert client.get("/api/v1/health").get_json()["worker"] == "ok"


@pytest.fixture
def database_fault(
    tmp_path: Path,
) -> Iterator[tuple[object, AbstractContextManager, AbstractContextManager]]:
    """An app whose database the test can make stop answering; ``(app, database_down,
    database_frozen)`` — frozen: connected, but no answer (PostgreSQL behind a frozen proxy;
    on SQLite, a writer that holds the lock)."""
    proxy = None
    overrides: dict[str, object] = {
        "DATABASE_CONNECT_TIMEOUT": 2,
        "DATABASE_STATEMENT_TIMEOUT": 2,
        "SQLITE_BUSY_TIMEOUT": 2,
    }
    if TEST_DATABASE_URL:
        url = make_url(TEST_DATABASE_URL)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).up()
        overrides["DATABASE_URL"] = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )

    database = tmp_path / "portal.db"
    database_down = functools.partial(fault, proxy, database, "down")
    database_frozen = functools.partial(fault, proxy, database, "frozen")

    for app in build_app(tmp_path, **overrides):
        with app.app_context():
            build_world()
            db.session.commit()
        if proxy is not None:
            with app.app_context():
                db.engine.dispose()  # every pooled connection goes through the proxy anew
        yield app, database_down, database_frozen
    if proxy is not None:
        proxy.down()


def put_debtor(client, headers: dict[str, str], external_id: str):
    """A creating ledger write, timed by the caller."""
    body = {"name": f"{external_id} Ltd", "kind": "company", "jurisdiction": "ew"}
    return client.put(f"/api/v1/debtors/{external_id}", json=body, headers=headers)


def test_a_database_that_does_not_answer_gives_503_and_nothing_is_kept(database_fault):
    app, database_down, _frozen = database_fault
    client = app.test_client()
    headers = auth(app, "finance")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Debtor))
    with database_down():
        started = time.monotonic()
        answer = put_debtor(client, headers, "NEW-1")
        elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "30"
        message = answer.get_json()["error"]["message"]
        assert "database is not answering" in message and "nothing was changed" in message
        assert elapsed < 30  # the busy timeout (SQLite) or connect timeout (PostgreSQL)
    with app.app_context():
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Debtor)) == before
    # Once it answers again, so does the portal.
    assert client.get("/api/v1/health").status_code == 200


def test_a_database_that_goes_silent_answers_503_within_the_timeout(database_fault):
    """Connected but silent (a frozen proxy, a hung server): the statement is cut after the
    statement timeout plus a grace, the request answers 503 and nothing hangs; the health
    check says so too, and all is well again once the link thaws."""
    app, _down, database_frozen = database_fault
    client = app.test_client()
    headers = auth(app, "finance")
    assert client.get("/api/v1/health").status_code == 200  # connections are pooled now
    with database_frozen():
        started = time.monotonic()
        answer = put_debtor(client, headers, "FROZEN-1")
        elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "30"
        # statement timeout 2 s + grace 3 s (PostgreSQL); busy timeout 2 s (SQLite)
        assert elapsed < 20
        if TEST_DATABASE_URL:
            started = time.monotonic()
            health = client.get("/api/v1/health")
            assert health.status_code == 503 and health.get_json()["database"] != "ok"
            assert time.monotonic() - started < 20
    assert client.get("/api/v1/health").status_code == 200


FULL_DISK_SCRIPT = """
import io, json, sys
from portal import create_app

app = create_app()
client = app.test_client()
answer = client.post(
    f"/api/v1/cases/{sys.argv[1]}/evidence",
    data={"kind": "delivery_note", "document_date": "2026-03-01",
          "file": (io.BytesIO(b"Delivery note line.\\n" * 20000), "note.txt")},
    headers={"Authorization": sys.argv[2]},
)
print(json.dumps({"status": answer.status_code, "retry_after": answer.headers.get("Retry-After"),
                  "body": answer.get_json()}))
"""


def test_a_full_file_store_gives_503_and_keeps_nothing(app, world, tmp_path: Path):
    """The file store on a 64 KB file system of its own (a tmpfs in a private mount namespace,
    made by the test with unshare): an upload of 400 KB meets ENOSPC, the request answers 503
    with Retry-After, and no evidence row is kept."""
    import json
    import subprocess
    import sys

    from portal.evidence.models import Evidence

    from .servers import shared_env

    headers = auth(app, "finance")
    mount = tmp_path / "small-store"
    mount.mkdir()
    env = shared_env(app)
    env["PORTAL_FILE_STORE_PATH"] = str(mount)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Evidence))
    command = (
        f"mount -t tmpfs -o size=64k tmpfs {mount} && "
        f"exec {sys.executable} -c '{FULL_DISK_SCRIPT}' {world.assigned_case} "
        f"'{headers['Authorization']}'"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", command],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503, answer
    assert answer["retry_after"] == "30"
    assert "disk is full or read-only" in answer["body"]["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == before
