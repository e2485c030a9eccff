"""A running job's lease: who runs it, that it is still alive, and how far it got.

The lease lives in the queue's own key-value store (Huey's, SQLite or Redis), never in the
portal's database, so a heartbeat never waits on the job's own database transaction and never
commits any of it. A worker that dies stops beating; once ``JOBS_LEASE_SECONDS`` pass in silence
the sweeper (``jobs.sweep``) hands the job to another worker or fails it. The database row
carries the lease's token, which every commit of the job's work checks (a fencing token): a
worker that lost its lease cannot commit.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from huey.constants import EmptyData

log = logging.getLogger(__name__)


def worker_name(pid: int | None = None) -> str:
    """This process (or process ``pid`` on this host), as people read it in job lists:
    ``host:pid``."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def _key(job_id: int, kind: str = "job") -> str:
    return f"portal-{kind}-lease:{job_id}"


@dataclass(frozen=True)
class Beat:
    """The latest heartbeat of a job's lease."""

    token: str
    worker: str
    at: float  #: seconds since the epoch
    done: int
    total: int

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.at)


class Lease:
    """Beats for one running job until stopped; ``progress`` is kept in memory and written
    with the next beat."""

    def __init__(
        self,
        storage: Any,
        job_id: int,
        token: str,
        done: int,
        total: int,
        *,
        heartbeat: float = 5.0,
        kind: str = "job",
    ) -> None:
        self.storage, self.job_id, self.token, self.kind = storage, job_id, token, kind
        self.heartbeat = heartbeat
        self.worker = worker_name()
        self.done, self.total = done, total
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, thread: bool = True) -> Lease:
        self.beat()
        if thread:
            self._thread = threading.Thread(
                target=self._run, name=f"lease-{self.job_id}", daemon=True
            )
            self._thread.start()
        return self

    def progress(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total

    def beat(self) -> None:
        """Write the heartbeat; a queue store that does not answer is logged, not raised (the
        job goes on; the sweeper decides once the store answers again)."""
        value = {
            "token": self.token,
            "worker": self.worker,
            "at": time.time(),
            "done": self.done,
            "total": self.total,
        }
        try:
            self.storage.put_data(_key(self.job_id, self.kind), json.dumps(value).encode())
        except Exception:  # the queue's store is down: nothing to do but try again
            log.warning("Heartbeat of job %s not written", self.job_id, exc_info=True)

    def stop(self) -> None:
        """Stop beating and remove the lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat * 2)
        release(self.storage, self.job_id, self.kind)

    def _run(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self.beat()


def read(storage: Any, job_id: int, kind: str = "job") -> Beat | None:
    """The latest heartbeat of a job (or of another ``kind`` of work, e.g. a rendition), or
    None (none written, or the store does not answer)."""
    try:
        raw = storage.peek_data(_key(job_id, kind))
    except Exception:
        log.warning("Lease of job %s not readable", job_id, exc_info=True)
        return None
    if raw is None or raw is EmptyData:
        return None
    try:
        value = json.loads(raw)
        return Beat(
            token=str(value["token"]),
            worker=str(value["worker"]),
            at=float(value["at"]),
            done=int(value["done"]),
            total=int(value["total"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def release(storage: Any, job_id: int, kind: str = "job") -> None:
    """Forget the lease (the work finished, or it is handed on)."""
    try:
        storage.pop_data(_key(job_id, kind))
    except Exception:
        log.warning("Lease of job %s not removed", job_id, exc_info=True)
