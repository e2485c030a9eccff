"""Real server processes on the test's database: gunicorn (``serve``) and job workers
(``Workers``), configured through the same ``PORTAL_*`` settings as the test's app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: Settings the server processes share with the test's app.
SHARED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "JOBS_SQLITE_PATH",
    "FILE_STORE_PATH",
    "REDIS_URL",
    "JOBS_LEASE_SECONDS",
    "JOBS_HEARTBEAT_SECONDS",
    "BULK_COMMIT_BATCH",
    "JOBS_SHUTDOWN_SECONDS",
    "JOBS_IMMEDIATE",
)


def shared_env(app) -> dict[str, str]:
    """The environment that gives a subprocess the test app's settings."""
    env = dict(os.environ)
    for key in SHARED:
        value = app.config.get(key)
        if value is not None:
            env[f"PORTAL_{key}"] = value if isinstance(value, str) else json.dumps(value)
    env["PORTAL_SESSION_COOKIE_SECURE"] = "false"
    return env


#: The settings production uses (no Server banner, request timeout).
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@contextmanager
def serve(app, folder: Path, workers: int = 4) -> Iterator[str]:
    """gunicorn -w ``workers`` on the test's database and store; yields its base URL."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(GUNICORN_CONF),
         "-w", str(workers), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
        env=shared_env(app), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=5):  # noqa: S310
                break
        except urllib.error.HTTPError:
            break  # it answers (a 503 health only means no worker is running yet)
        except (OSError, urllib.error.URLError):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((folder / "gunicorn.log").read_text())
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


class Workers:
    """``flask --app portal worker`` processes on the test's database and queue."""

    def __init__(self, app, folder: Path) -> None:
        self.env = shared_env(app)
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = (self.folder / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portal", "worker", "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
