"""The job queue down at submission: the request still answers honestly (the work is
committed and waits), and once the queue is back the sweeper delivers it — nothing is lost.

The queue is made to fail by the test itself: a TCP proxy on 127.0.0.1 in front of Redis that
it takes down (PostgreSQL run), or an exclusive lock held on the SQLite queue file."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal import jobs
from portal.db import utcnow
from portal.evidence.models import Evidence, RenditionStatus
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.sweep import sweep

from .conftest import TEST_REDIS_URL, build_app
from .documents.test_documents_api import auth
from .factories import build_world
from .faults import TcpProxy, fault

LATER = dt.timedelta(minutes=2)  # past the sweeper's re-delivery delay


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[tuple[object, Callable[[], AbstractContextManager]]]:
    """An app whose queue the test can take down; ``(app, queue_down)``."""
    proxy = None
    overrides: dict[str, object] = {"JOBS_IMMEDIATE": False}
    if TEST_REDIS_URL:
        url = urlsplit(TEST_REDIS_URL)
        proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379).up()
        overrides["REDIS_URL"] = f"redis://127.0.0.1:{proxy.port}{url.path}"

    queue_down = functools.partial(fault, proxy, tmp_path / "jobs.db", "down")

    for app in build_app(tmp_path, **overrides):
        jobs.huey.storage.flush_all()
        with app.app_context():
            world = build_world()
            db.session.commit()
        app.extensions["test_world"] = world
        yield app, queue_down
        jobs.huey.storage.flush_all()
    if proxy is not None:
        proxy.down()


def pending_calls(name: str) -> list[int]:
    """The ids the queue holds calls of the task ``name`` for."""
    return [task.args[0] for task in jobs.huey.pending() if type(task).__name__.endswith(name)]


def test_an_upload_while_the_queue_is_down_is_kept_and_rendered_once_it_is_back(faulty):
    app, queue_down = faulty
    world = app.extensions["test_world"]
    client = app.test_client()
    with queue_down():
        answer = client.post(
            f"/api/v1/cases/{world.assigned_case}/evidence",
            data={
                "kind": "delivery_note",
                "document_date": "2026-03-01",
                "file": (io.BytesIO(b"Delivery note: 40 pallets received.\n"), "note.txt"),
            },
            headers=auth(app, "finance"),
        )
        # Honest: the evidence is stored (201) and says its exhibit PDF is still to come.
        assert answer.status_code == 201, answer.get_json()
        evidence_id = answer.get_json()["id"]
        assert answer.get_json()["rendition_status"] == "pending"
    assert pending_calls("render_evidence") == []  # nothing reached the queue
    with app.app_context():
        # The world's own evidence items are pending too (their files are placeholders).
        assert "rendition(s) handed to the queue again" in str(sweep(now=utcnow() + LATER))
    assert pending_calls("render_evidence").count(evidence_id) == 1
    with app.app_context():
        # A second sweep does not queue anything twice while the queue holds it.
        assert "0 rendition(s) handed" in str(sweep(now=utcnow() + LATER))
    assert pending_calls("render_evidence").count(evidence_id) == 1
    for task in jobs.huey.pending():
        if task.args == (evidence_id,):
            jobs.huey.execute(task)
    with app.app_context():
        evidence = db.session.get(Evidence, evidence_id)
        assert evidence.rendition_status is RenditionStatus.DONE and evidence.pages == 1


def test_a_bulk_job_submitted_while_the_queue_is_down_is_delivered_once_it_is_back(faulty):
    app, queue_down = faulty
    world = app.extensions["test_world"]
    client = app.test_client()
    headers = auth(app, "legal")
    with queue_down():
        answer = client.post(
            "/api/v1/documents/bulk",
            json={"kind": "advance_notice", "cases": [world.assigned_case]},
            headers=headers,
        )
    # 202: the job is committed and queued; the queue had it not yet.
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["job"]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.QUEUED and job.enqueued_at is None
    assert pending_calls("bulk_generate") == []
    with app.app_context():
        assert job_id in sweep(now=utcnow() + LATER).delivered
    assert job_id in pending_calls("bulk_generate")
    for task in jobs.huey.pending():
        if task.args == (job_id,):
            jobs.huey.execute(task)
    done = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert done["status"] == "done" and done["result"]["generated"] == 1, done


def test_a_bundle_requested_while_the_queue_is_down_is_built_once_it_is_back(faulty):
    from .bundles.test_bundles_api import ready_case

    app, queue_down = faulty
    world = app.extensions["test_world"]
    client = app.test_client()
    jobs.huey.immediate = True  # the case's exhibits are rendered inline first
    try:
        case = ready_case(app, client, world)
    finally:
        jobs.huey.immediate = False
    headers = auth(app, "legal")
    with queue_down():
        answer = client.post(f"/api/v1/cases/{case}/bundles", json={}, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["job"]
    assert job_id not in pending_calls("build_bundle_job")
    with app.app_context():
        assert job_id in sweep(now=utcnow() + LATER).delivered
    for task in jobs.huey.pending():
        if task.args == (job_id,):
            jobs.huey.execute(task)
    done = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert done["status"] == "done" and done["result"]["bundle"], done
