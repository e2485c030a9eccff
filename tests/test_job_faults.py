"""Jobs survive their worker: real ``flask worker`` processes, killed (SIGKILL) or stopped
(SIGTERM) in the middle of a bulk job, on the SQLite queue (Redis in the PostgreSQL run).

The tests make the faults themselves on their own worker processes; the lease is shortened to
seconds (``JOBS_LEASE_SECONDS``) so that a dead worker is noticed quickly."""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import jobs
from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.audit.services import Actor
from portal.cases.models import Case
from portal.documents.bulk import start_bulk
from portal.documents.models import Document, DocumentKind
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.seed import seed_demo

from .conftest import TEST_REDIS_URL, build_app
from .servers import Workers

ON = dt.date(2026, 11, 30)
LEASE_SECONDS = 2


@pytest.fixture
def worker_app(tmp_path: Path) -> Iterator:
    overrides = {
        "JOBS_IMMEDIATE": False,
        "JOBS_LEASE_SECONDS": LEASE_SECONDS,
        "JOBS_HEARTBEAT_SECONDS": 0.25,
        "BULK_COMMIT_BATCH": 2,
        "JOBS_SHUTDOWN_SECONDS": 0,
    }
    if TEST_REDIS_URL:
        overrides["REDIS_URL"] = TEST_REDIS_URL
    yield from build_app(tmp_path, **overrides)
    jobs.huey.storage.flush_all()


@pytest.fixture
def workers(worker_app, tmp_path) -> Iterator[Workers]:
    started = Workers(worker_app, tmp_path)
    yield started
    started.stop_all()


def wait_for(app, job_id: int, ready: Callable[[Job], bool], workers: Workers, timeout=120):
    """Poll the job row until ``ready``; the row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(Job, job_id)
            if ready(job):
                db.session.expunge(job)
                return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not get there in {timeout} s; worker logs:\n{workers.logs()}")


def bulk_job(app) -> tuple[int, int]:
    """The demo data, and a queued bulk job: a draft warning letter for every case; (job id,
    number of cases)."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        cases = list(db.session.scalars(select(Case).order_by(Case.id)))
        user = db.session.get(User, cases[0].owner_id)
        job = start_bulk(Actor(user=user), DocumentKind.WARNING_LETTER, cases, final=False, on=ON)
        return job.id, len(cases)


def assert_complete(app, job: Job, cases: int) -> None:
    """Done, every case generated exactly once, and no letter number lost or used twice."""
    assert job.status is JobStatus.DONE, job.error
    assert job.result["generated"] == cases and job.result["failed"] == 0
    with app.app_context():
        letters = list(
            db.session.scalars(select(Document).where(Document.kind == DocumentKind.WARNING_LETTER))
        )
        assert len(letters) == cases
        assert len({letter.case_id for letter in letters}) == cases
        numbers: dict[str, list[int]] = defaultdict(list)
        for document in db.session.scalars(select(Document)):
            match = re.fullmatch(r"(.+-\d{4})-(\d+)", document.reference or "")
            if match:
                numbers[match.group(1)].append(int(match.group(2)))
        assert numbers
        for prefix, taken in numbers.items():
            # The creditor's sequence for the year has no gap and no number twice: 1 … n.
            assert sorted(taken) == list(range(1, len(taken) + 1)), (prefix, sorted(taken))


def test_a_worker_killed_mid_job_is_replaced_and_the_job_resumes(worker_app, workers):
    """SIGKILL after the first batch committed: the lease stops beating, the next worker's sweep
    queues the job again, and it resumes after the committed batches — every case once, no
    letter number lost."""
    job_id, cases = bulk_job(worker_app)
    assert cases >= 6  # several batches of two
    first = workers.start()
    running = wait_for(
        worker_app, job_id, lambda job: bool(job.checkpoint and job.checkpoint["cases"]), workers
    )
    assert running.status is JobStatus.RUNNING and running.attempts == 1
    first.kill()
    first.wait(timeout=30)
    time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's lease runs out
    workers.start()  # its start-up sweep finds the stalled job
    finished = wait_for(worker_app, job_id, lambda job: job.status is not JobStatus.RUNNING
                        and job.status is not JobStatus.QUEUED, workers)  # fmt: skip
    assert finished.attempts == 2, workers.logs()
    assert_complete(worker_app, finished, cases)
    with worker_app.app_context():
        requeued = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "job.requeued")
        ).all()
        assert len(requeued) == 1 and "stopped answering" in requeued[0].changes["after"]["reason"]


def test_sigterm_hands_the_running_job_back_and_the_next_worker_finishes_it(worker_app, workers):
    """A worker stopped with SIGTERM (no grace period here) hands its job back at once; the
    interrupted run does not count against the job's attempts."""
    job_id, cases = bulk_job(worker_app)
    first = workers.start()
    wait_for(worker_app, job_id, lambda job: job.status is JobStatus.RUNNING, workers)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0, workers.logs()
    handed_back = wait_for(
        worker_app, job_id, lambda job: job.status is not JobStatus.RUNNING, workers
    )
    assert handed_back.status is JobStatus.QUEUED and handed_back.attempts == 0, workers.logs()
    workers.start()
    finished = wait_for(worker_app, job_id, lambda job: job.status is JobStatus.DONE, workers)
    assert finished.attempts == 1
    assert_complete(worker_app, finished, cases)


def test_a_job_whose_worker_keeps_dying_fails_with_a_sentence(worker_app, workers):
    """After its last allowed attempt dies too, the job fails with a message people can act
    on, not a traceback; ``jobs retry`` queues it again."""
    job_id, _cases = bulk_job(worker_app)
    with worker_app.app_context():
        db.session.get(Job, job_id).max_attempts = 1
        db.session.commit()
    first = workers.start()
    wait_for(worker_app, job_id, lambda job: job.status is JobStatus.RUNNING, workers)
    first.kill()
    first.wait(timeout=30)
    time.sleep(LEASE_SECONDS + 0.5)
    runner = worker_app.test_cli_runner()
    swept = runner.invoke(args=["jobs", "sweep"])
    assert swept.exit_code == 0 and "0 stalled job(s) queued again, 1 failed" in swept.output
    with worker_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.FAILED
        assert job.error.startswith("The worker running this job stopped during each of its 1")
    listed = runner.invoke(args=["jobs", "list", "--status", "failed"])
    assert f"{job_id:>6}  failed" in listed.output and "given up" in listed.output
    retried = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0, retried.output
    with worker_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.QUEUED and job.error is None
    cancelled = runner.invoke(args=["jobs", "cancel", str(job_id)])
    assert cancelled.exit_code == 0, cancelled.output
    with worker_app.app_context():
        assert db.session.get(Job, job_id).error == "Cancelled from the command line."


def test_a_bulk_job_succeeds_while_twenty_clients_write(worker_app, workers, tmp_path):
    """A worker's bulk job (committing batch by batch) and twenty clients writing through
    gunicorn at the same time: every write answers 200/201 and the job is done — on SQLite
    the writers and the batches wait their turn for the write lock instead of failing."""
    import threading
    from collections import Counter

    from .factories import token_for
    from .servers import serve
    from .test_races import call

    job_id, cases = bulk_job(worker_app)
    with worker_app.app_context():
        headers = {"Authorization": f"Bearer {token_for('finance@arrears-demo.example')}"}
    statuses: Counter[int] = Counter()
    finished = threading.Event()
    with serve(worker_app, tmp_path) as base:

        def writer(number: int) -> None:
            count = 0
            while not finished.is_set() or count < 3:
                body = {"name": f"Writer {number} Ltd rev {count}", "kind": "company",
                        "jurisdiction": "ew"}  # fmt: skip
                status, _answer = call("PUT", f"{base}/api/v1/debtors/W-{number}", headers, body)
                statuses[status] += 1
                count += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
        workers.start()
        for thread in threads:
            thread.start()
        done = wait_for(worker_app, job_id, lambda job: job.status is JobStatus.DONE
                        or job.status is JobStatus.FAILED, workers, timeout=240)  # fmt: skip
        finished.set()
        for thread in threads:
            thread.join(timeout=120)
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] == 20 and sum(statuses.values()) >= 60
    assert_complete(worker_app, done, cases)


def test_a_worker_killed_mid_bundle_is_replaced_and_one_bundle_is_made(
    app, client, world, tmp_path
):
    """A filing bundle build (one commit at its end) whose worker is killed: the next worker
    builds it from the start, and the case gets exactly one new bundle version."""
    from portal.bundles.models import Bundle

    from .bundles.test_bundle_review import long_pdf, upload_pdf
    from .bundles.test_bundles_api import ready_case
    from .documents.test_documents_api import auth

    case = ready_case(app, client, world)
    # Long enough (two volumes) that the build is still running when its worker is killed.
    for number in range(2):
        upload_pdf(client, app, case, f"ledger-{number}.pdf", long_pdf("Ledger", 300),
                   "invoice", "2025-01-31")  # fmt: skip
    with app.app_context():
        bundles_before = db.session.query(Bundle).filter_by(case_id=case).count()
    app.config.update(JOBS_IMMEDIATE=False, JOBS_LEASE_SECONDS=LEASE_SECONDS,
                      JOBS_HEARTBEAT_SECONDS=0.25)  # fmt: skip
    jobs.huey.immediate = False  # from here on the queue holds the job for a worker
    workers = Workers(app, tmp_path)
    try:
        started = client.post(
            f"/api/v1/cases/{case}/bundles",
            json={"profile": "ew_court"},
            headers=auth(app, "legal"),
        )
        assert started.status_code == 202, started.get_json()
        job_id = started.get_json()["job"]
        first = workers.start()
        wait_for(app, job_id, lambda job: job.status is JobStatus.RUNNING, workers)
        first.kill()
        first.wait(timeout=30)
        time.sleep(LEASE_SECONDS + 0.5)
        workers.start()
        finished = wait_for(app, job_id, lambda job: job.status in (JobStatus.DONE,
                            JobStatus.FAILED), workers, timeout=300)  # fmt: skip
    finally:
        workers.stop_all()
        jobs.huey.immediate = True
    assert finished.status is JobStatus.DONE, finished.error
    assert finished.attempts == 2, workers.logs()
    with app.app_context():
        assert db.session.query(Bundle).filter_by(case_id=case).count() == bundles_before + 1
