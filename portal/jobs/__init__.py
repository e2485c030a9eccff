"""The job queue (Huey): SQLite in ``instance/`` by default, Redis with ``PORTAL_REDIS_URL``.

Tasks are declared at import time on one ``Huey`` object whose storage is chosen when the app is
created, so the same task functions run in tests (immediate mode), the worker and the web process.
Heavy tasks (every ``Job`` kind) run in a child process of the worker (``jobs.isolation``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from . import isolation

#: The longest a worker waits between two looks at an empty SQLite queue (``JOBS_POLL_SECONDS``).
#: Huey backs off up to 10 s by default, so a job queued after a quiet spell waited that long; a
#: look is one indexed SELECT on a small local file. Redis needs none: the worker blocks on it.
POLL_SECONDS = 0.25


class PortalHuey(Huey):
    """``Huey`` whose consumer looks at an idle queue at least every ``JOBS_POLL_SECONDS`` and
    has the fork server of heavy jobs ready before its threads start."""

    def create_consumer(self, **options: Any) -> Consumer:
        app = _state.get("app")
        poll = float(app.config.get("JOBS_POLL_SECONDS", POLL_SECONDS)) if app else POLL_SECONDS
        options["max_delay"] = min(float(options.get("max_delay", poll)), poll)
        options["initial_delay"] = min(float(options.get("initial_delay", 0.1)), poll)
        if isolation.HEAVY and not self.immediate:
            isolation.start_server()
        return super().create_consumer(**options)


huey = PortalHuey("portal", storage_class=MemoryStorage, results=True, utc=True)

#: The app whose context tasks run in; set by ``init_app``.
_state: dict[str, Flask] = {}

#: The task that runs each kind of job (``Job.kind``), for delivery and re-delivery.
RUNNERS: dict[str, Any] = {}


def init_app(app: Flask) -> None:
    """Point the queue at the configured storage and remember the app for task contexts."""
    huey.immediate = False
    huey.immediate_use_memory = True
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": redis_url}
    else:
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {
            "filename": app.config.get("JOBS_SQLITE_PATH")
            or str(Path(app.instance_path) / "jobs.db")
        }
    huey.storage = huey.create_storage()
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    _state["app"] = app
    app.extensions["huey"] = huey
    from . import sweep  # noqa: F401 - registers the sweeper and the interruption handler


def task(
    *, heavy: bool = False, crashed: isolation.Crashed | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """``huey.task`` whose function runs inside the application context; a ``heavy`` one runs
    in a child process when a worker runs it (inline in immediate mode), ``crashed`` being
    called in the worker if that process dies."""

    def decorator(function: Callable[..., Any]) -> Any:
        name = f"{function.__module__}.{function.__name__}"
        if heavy:
            isolation.HEAVY[name] = (function, crashed)

        @functools.wraps(function)
        def in_app_context(*args: Any, **kwargs: Any) -> Any:
            app = _state["app"]
            with app.app_context():
                if heavy and not huey.immediate and not isolation.in_child():
                    return isolation.run(app, name, args, kwargs)
                return function(*args, **kwargs)

        return huey.task(name=name, **options)(in_app_context)

    return decorator


def job_task(kind: str) -> Callable[[Callable[..., Any]], Any]:
    """``task`` for the runner of one kind of ``Job`` (called with the job's id), registered
    so that the sweeper can deliver the job again. It runs in a child process of the worker,
    so the memory it takes is given back when it ends."""

    def decorator(function: Callable[..., Any]) -> Any:
        runner = task(heavy=True, crashed=isolation.job_crashed)(function)
        RUNNERS[kind] = runner
        return runner

    return decorator


def periodic(schedule: Callable[..., bool]) -> Callable[[Callable[..., Any]], Any]:
    """``huey.periodic_task`` (run by the worker, UTC) whose function runs in the app context."""

    def decorator(function: Callable[..., Any]) -> Any:
        @functools.wraps(function)
        def in_app_context() -> Any:
            with _state["app"].app_context():
                return function()

        return huey.periodic_task(schedule, name=f"{function.__module__}.{function.__name__}")(
            in_app_context
        )

    return decorator


def queue_health() -> str:
    """``"ok"`` when the queue's storage answers, else a short reason."""
    try:
        huey.storage.queue_size()
    except Exception as error:  # any failure means the queue is down
        return f"error: {type(error).__name__}"
    return "ok"


def describe_backend() -> str:
    """Where the queue lives, without credentials."""
    if isinstance(huey.storage, RedisStorage):
        url = urlsplit(huey.storage_kwargs.get("url", ""))
        return f"redis://{url.hostname}:{url.port or 6379}{url.path}"
    if isinstance(huey.storage, SqliteStorage):
        return f"sqlite:{huey.storage.filename}"
    return type(huey.storage).__name__


@task()
def ping(value: str) -> dict[str, str]:
    """A trivial job proving the wiring: echoes ``value`` and the database it saw."""
    from ..extensions import db

    return {"echo": value, "database": db.engine.dialect.name}
