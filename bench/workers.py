"""The job worker: pickup after a quiet spell, and memory after heavy jobs (issue 17, item 7).

    .venv/bin/python bench/workers.py [--idle 30] [--samples 5] [--letters 50] [--jobs 3]
                                      [--redis redis://127.0.0.1:6379/15]

A real ``flask --app portal worker`` process on a temporary instance (SQLite database and
queue; the queue on Redis with ``--redis`` or ``PORTAL_REDIS_URL``):

* **pickup** — the worker sits idle for ``--idle`` seconds (≥ 30), then a ``ping`` task is queued
  and the time until its result is there is taken; ``--samples`` times, median and max.
  Target: ≤ 1 s.
* **memory** — the worker's RSS (and with the processes it started: the fork server) once warm,
  then after each of ``--jobs`` bulk letter jobs of ``--letters`` cases. Target: after each job
  within the baseline + 50 MB.

Figures are printed (``name  measured  target  OK/MISSED``), never asserted; ``measure(...)``
returns them for other scripts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ON = dt.date(2026, 11, 23)
PICKUP_TARGET = 1.0  # seconds
MEMORY_MARGIN = 50.0  # MB over the baseline


@dataclass(frozen=True)
class Target:
    """One measured figure against its target."""

    name: str
    measured: float
    target: float
    unit: str
    ok: bool

    def __str__(self) -> str:
        measured = f"{self.measured:.2f} {self.unit}"
        target = f"≤ {self.target:.2f} {self.unit}"
        return f"{self.name:<44} {measured:>12}  {target:>12}  {'OK' if self.ok else 'MISSED'}"


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; the parent pid is the second field after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def tree_mb(pid: int) -> float:
    """RSS of the worker and every process under it (fork server, resource tracker, children)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        todo.extend(children(current))
    return total


def _letters_module():
    spec = importlib.util.spec_from_file_location("bench_letters", ROOT / "bench" / "letters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait_result(result, timeout: float = 60.0):
    """Poll a task's result every 5 ms (Huey's own blocking get backs off up to a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = result.get()
        if value is not None:
            return value
        time.sleep(0.005)
    raise TimeoutError("the worker did not answer")


def measure(
    *,
    idle: float = 30.0,
    samples: int = 5,
    letters: int = 50,
    jobs: int = 3,
    redis_url: str | None = None,
    log=print,
) -> list[Target]:
    """Start a worker on a fresh instance and measure pickup and memory; the targets."""
    from portal import create_app

    work = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    settings = {
        "SECRET_KEY": "bench",
        "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "JOBS_SQLITE_PATH": str(work / "jobs.db"),
        "FILE_STORE_PATH": str(work / "files"),
        "OFFICE_TIMEOUT": 600,
    }
    if redis_url:
        settings["REDIS_URL"] = redis_url
    os.environ["PORTAL_INSTANCE_PATH"] = str(work / "instance")
    app = create_app({**settings, "JOBS_IMMEDIATE": False})

    from portal import jobs as queue
    from portal.accounts.models import User
    from portal.audit.services import Actor
    from portal.cases.models import Case
    from portal.documents.bulk import start_bulk
    from portal.documents.models import DocumentKind
    from portal.extensions import db
    from portal.jobs.models import Job, JobStatus

    with app.app_context():
        db.create_all()
    queue.huey.storage.flush_all()
    log(f"bench/workers: {letters} cases in {work} …")
    ids = _letters_module().build(app, letters)

    env = dict(os.environ)
    env.update({f"PORTAL_{key}": str(value) for key, value in settings.items()})
    worker_log = (work / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "worker"],
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker_log.close()
    targets: list[Target] = []
    backend = "Redis" if redis_url else "SQLite"
    try:
        with app.app_context():
            _wait_result(queue.ping("warm-up"), timeout=120)
        log(f"bench/workers: worker pid {worker.pid} answers; {samples} pickups after {idle:.0f} s")
        pickups = []
        for n in range(samples):
            time.sleep(idle)
            with app.app_context():
                started = time.perf_counter()
                _wait_result(queue.ping(f"sample {n}"))
                pickups.append(time.perf_counter() - started)
            log(f"  pickup {n + 1}: {pickups[-1]:.3f} s")
        median, worst = statistics.median(pickups), max(pickups)
        targets += [
            Target(f"pickup after {idle:.0f} s idle, {backend}, median", median,
                   PICKUP_TARGET, "s", median <= PICKUP_TARGET),
            Target(f"pickup after {idle:.0f} s idle, {backend}, max", worst,
                   PICKUP_TARGET, "s", worst <= PICKUP_TARGET),
        ]  # fmt: skip

        time.sleep(2)
        baseline, baseline_tree = rss_mb(worker.pid), tree_mb(worker.pid)
        log(f"bench/workers: RSS baseline worker {baseline:.0f} MB, with its processes "
            f"{baseline_tree:.0f} MB")  # fmt: skip
        for n in range(jobs):
            with app.app_context():
                user = db.session.scalar(
                    db.select(User).where(User.email == "legal@arrears-demo.example")
                )
                cases = list(db.session.scalars(db.select(Case).where(Case.id.in_(ids))))
                started = time.perf_counter()
                job = start_bulk(
                    Actor(user=user), DocumentKind.DEMAND_LETTER, cases, final=False, on=ON
                )
                job_id = job.id
            while True:
                with app.app_context():
                    job = db.session.get(Job, job_id)
                    if job.status in (JobStatus.DONE, JobStatus.FAILED):
                        status, error, ran_by = job.status.value, job.error, job.worker
                        break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            time.sleep(2)  # the child has exited; what the worker keeps is what is left
            after, after_tree = rss_mb(worker.pid), tree_mb(worker.pid)
            log(f"  job {n + 1}: {status} in {seconds:.1f} s (run by {ran_by or '-'}) "
                f"{error or ''}; RSS worker {after:.0f} MB, with its processes "
                f"{after_tree:.0f} MB")  # fmt: skip
            targets += [
                Target(f"worker RSS over baseline after job {n + 1}", after - baseline,
                       MEMORY_MARGIN, "MB", after - baseline <= MEMORY_MARGIN),
                Target(f"worker+children RSS over baseline after job {n + 1}",
                       after_tree - baseline_tree, MEMORY_MARGIN, "MB",
                       after_tree - baseline_tree <= MEMORY_MARGIN),
            ]  # fmt: skip
        log(f"bench/workers: RSS baseline {baseline:.0f} MB (worker), "
            f"{baseline_tree:.0f} MB (with its processes)")  # fmt: skip
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        queue.huey.storage.flush_all()
        shutil.rmtree(work, ignore_errors=True)
    return targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=30.0, help="seconds idle before a pickup")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--letters", type=int, default=50, help="cases in each bulk job")
    parser.add_argument("--jobs", type=int, default=3, help="heavy jobs in a row")
    parser.add_argument("--redis", default=os.environ.get("PORTAL_REDIS_URL"),
                        help="queue on this Redis (default: SQLite)")  # fmt: skip
    args = parser.parse_args()
    targets = measure(idle=args.idle, samples=args.samples, letters=args.letters, jobs=args.jobs)
    if args.redis:  # pickup on Redis too (memory does not depend on the queue)
        targets += measure(idle=args.idle, samples=args.samples, letters=1, jobs=0,
                           redis_url=args.redis)  # fmt: skip
    print()
    for target in targets:
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
