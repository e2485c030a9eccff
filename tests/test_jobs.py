"""The job queue: a real consumer thread drains the SQLite queue (Redis in the PostgreSQL run)."""

from __future__ import annotations

import signal

import pytest

from portal import jobs

from .conftest import TEST_REDIS_URL, build_app


@pytest.fixture
def queued_app(tmp_path):
    """Jobs really queued: SQLite in the instance folder, or Redis when the run provides one."""
    overrides = {"JOBS_IMMEDIATE": False}
    if TEST_REDIS_URL:
        overrides["REDIS_URL"] = TEST_REDIS_URL
    yield from build_app(tmp_path, **overrides)
    jobs.huey.storage.flush_all()


def test_consumer_thread_runs_a_queued_task(queued_app, tmp_path):
    huey = jobs.huey
    assert not huey.immediate
    if TEST_REDIS_URL:
        assert jobs.describe_backend().startswith("redis://")
    else:
        assert jobs.describe_backend() == f"sqlite:{tmp_path / 'jobs.db'}"
        assert (tmp_path / "jobs.db").exists()
    huey.storage.flush_all()
    result = jobs.ping("hello")
    assert huey.pending_count() == 1
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = huey.create_consumer(
        workers=1, periodic=False, check_worker_health=False, initial_delay=0.05, max_delay=0.1
    )
    consumer.start()
    try:
        value = result.get(blocking=True, timeout=20)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    with queued_app.app_context():
        from portal.extensions import db

        dialect = db.engine.dialect.name
    assert value == {"echo": "hello", "database": dialect}
    assert huey.pending_count() == 0


def test_immediate_mode_runs_inline(app):
    from portal.extensions import db

    assert jobs.huey.immediate
    with app.app_context():
        dialect = db.engine.dialect.name
    assert jobs.ping("now")() == {"echo": "now", "database": dialect}


def test_health_reports_queue(client):
    body = client.get("/api/v1/health").json
    assert {key: body[key] for key in ("status", "database", "queue", "worker", "store")} == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "worker": "ok",  # jobs run inline in the tests
        "store": "ok",
    }
    assert body["free_bytes"] > 0


def test_a_job_whose_worker_stopped_answering_shows_as_stalled(app, client, world):
    """Running, but no heartbeat for longer than the lease: the API, the jobs page and the
    job's own page say so (the sweeper then runs it again)."""
    import datetime as dt

    from portal.extensions import db
    from portal.jobs.models import Job, JobStatus

    from .conftest import login
    from .documents.test_documents_api import auth
    from .factories import World

    with app.app_context():
        job = db.session.get(Job, world.legal_job)
        job.status = JobStatus.RUNNING
        job.attempts, job.lease_token, job.worker = 1, "f" * 32, "gone-host:4242"
        job.started_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        db.session.commit()
    answer = client.get(f"/api/v1/jobs/{world.legal_job}", headers=auth(app, "legal")).get_json()
    assert answer["status"] == "running" and answer["stalled"] is True
    login(client, World.EMAILS["legal"])
    listing = client.get("/jobs")
    assert listing.status_code == 200
    assert b"1 stalled" in listing.data and b"gone-host:4242" in listing.data
    page = client.get(f"/jobs/{world.legal_job}").data.decode()
    assert "Its worker stopped answering" in page and "data-job-stalled hidden" not in page
