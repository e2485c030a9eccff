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


def test_the_worker_looks_at_an_idle_queue_at_least_every_poll_interval(queued_app):
    """Huey backs off to 10 s between looks at an empty queue; the consumer the worker command
    builds (same options as ``flask worker``) waits at most ``JOBS_POLL_SECONDS`` (0.25 s by
    default, or the setting), so a job queued after a quiet spell starts within a second. Redis
    needs no polling: the worker blocks on the list until a job comes."""
    huey = jobs.huey
    options = dict(workers=2, worker_type="thread", periodic=True, graceful_signal="TERM",
                   shutdown_timeout=0)  # fmt: skip
    consumer = huey.create_consumer(**options)
    assert consumer.max_delay == jobs.POLL_SECONDS == 0.25
    assert consumer.default_delay <= 0.1
    assert [worker.max_delay for worker, _thread in consumer.worker_threads] == [0.25, 0.25]
    queued_app.config["JOBS_POLL_SECONDS"] = 0.1
    assert huey.create_consumer(**options).max_delay == 0.1
    # A caller asking for a longer wait still gets the setting's ceiling.
    assert huey.create_consumer(**options, max_delay=10.0).max_delay == 0.1
    if TEST_REDIS_URL:
        assert huey.storage.blocking and huey.storage.read_timeout <= 1


def test_every_job_kind_runs_in_a_child_process():
    """Bulk letters and bundle builds (every ``Job`` kind) are heavy: a worker runs them in a
    child process, whose memory goes back to the system when it exits."""
    from portal.jobs import RUNNERS, isolation

    heavy = set(isolation.HEAVY)
    assert {"documents.bulk", "bundles.build"} <= set(RUNNERS)
    for runner in RUNNERS.values():
        assert runner.task_class.__name__ in heavy or runner.name in heavy


def _pid_job(app, **params) -> int:
    from portal.audit.services import Actor
    from portal.extensions import db
    from portal.jobs.services import create_job

    from .factories import build_world

    with app.app_context():
        world = build_world()
        user = db.session.get(__import__("portal").accounts.models.User, world.legal)
        job = create_job(Actor(user=user), "tests.pid", "pid test", params, total=1)
        job.max_attempts = 2
        db.session.commit()
        return job.id


def test_a_heavy_job_runs_in_its_own_process(queued_app):
    """Run by a worker (not inline), the job is claimed, run and finished by a child process:
    the row names the child as its worker, and the result carries a pid that is not ours."""
    import os

    from portal.extensions import db
    from portal.jobs.lease import worker_name
    from portal.jobs.models import Job, JobStatus

    from .jobs_helpers import pid_job

    job_id = _pid_job(queued_app)
    assert pid_job.call_local(job_id) == "done"
    with queued_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.DONE, job.error
        child = job.result["pid"]
        assert child != os.getpid()
        assert job.worker == worker_name(child) and job.attempts == 1


def _run_and_kill(app, job_id: int, attempt: int) -> None:
    """Run the waiting job as a worker thread would, and SIGKILL its child once it committed
    its first step of ``attempt``."""
    import os
    import threading
    import time

    from portal.extensions import db
    from portal.jobs.models import Job

    from .jobs_helpers import pid_job

    answer: list[str] = []
    runner = threading.Thread(target=lambda: answer.append(pid_job.call_local(job_id)))
    runner.start()
    deadline = time.monotonic() + 60
    child = None
    while child is None and time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(Job, job_id)
            if job.checkpoint and job.checkpoint["attempt"] == attempt:
                child = job.checkpoint["pid"]
        time.sleep(0.05)
    assert child is not None and child != os.getpid()
    os.kill(child, signal.SIGKILL)
    runner.join(timeout=60)
    assert answer and answer[0].startswith("crashed: was killed (SIGKILL"), answer


def test_a_killed_child_queues_its_job_again_then_fails_it_with_a_sentence(queued_app):
    """The child running a job is killed (as the kernel does when memory runs out): the worker
    waiting on it queues the job again while attempts remain (attempt 1 of 2), and fails it with
    a sentence after the last (attempt 2 of 2); nothing is lost silently."""
    from sqlalchemy import select

    from portal.audit.models import AuditEntry
    from portal.extensions import db
    from portal.jobs.models import Job, JobStatus

    job_id = _pid_job(queued_app, wait=True)
    _run_and_kill(queued_app, job_id, attempt=1)
    with queued_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.QUEUED and job.attempts == 1 and job.error is None
        reasons = [entry.changes["after"]["reason"] for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "job.requeued"))]  # fmt: skip
        assert len(reasons) == 1
        assert reasons[0].startswith("the process running it (pid ")
        assert reasons[0].endswith(
            "was killed (SIGKILL; often the machine running out of memory) during attempt 1"
        )
    _run_and_kill(queued_app, job_id, attempt=2)
    with queued_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.FAILED and job.attempts == 2
        assert job.error.startswith(
            "The process running this job was killed (SIGKILL; often the machine running out "
            "of memory) during attempt 2 of 2, the last allowed, so the job was given up"
        )
        assert jobs.lease.read(jobs.huey.storage, job_id) is None
