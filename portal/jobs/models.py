"""A long-running piece of work the UI and the API can follow: status, progress, result."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import UTCDateTime, str_enum, utcnow
from ..extensions import db


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """One queued task as people see it; the queue itself (Huey) keeps no history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the job does, e.g. ``documents.bulk``, ``bundles.build``.
    kind: Mapped[str] = mapped_column(String(64))
    #: A line for lists: "demand_letter for 12 cases".
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"))
    #: Units of work done out of ``total`` (progress = done / total).
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: What the job was asked to do (JSON-ready).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: What it produced (JSON-ready), set when it finishes.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    #: A zip or other file the job produced, in the file store.
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    output_name: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When it was last handed to the queue (None: not yet, e.g. the queue was down).
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Runs started, and how many are allowed before a job whose worker keeps dying fails.
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    #: The running attempt's fencing token (see ``jobs.lease``) and its worker (``host:pid``).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(120))
    #: What a job that works in steps has committed so far, so a retry resumes from there.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    created_by: Mapped[User] = relationship()

    def progress(self, done: int, total: int) -> float:
        """0..1 for ``done`` of ``total`` units (the row's, or the running lease's); a finished
        job is 1 whatever its counts."""
        if self.status in (JobStatus.DONE, JobStatus.FAILED):
            return 1.0
        return round(min(done / total, 1.0), 4) if total else 0.0
