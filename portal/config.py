"""Default settings; each key may be overridden in ``instance/config.py`` or ``PORTAL_<KEY>``."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

#: ``None`` means "SQLite file ``portal.db`` in the instance folder".
DATABASE_URL: str | None = None
#: ``None`` means "Huey on SQLite in the instance folder"; a ``redis://`` URL moves the queue.
REDIS_URL: str | None = None
#: Run jobs inline instead of queueing them (tests).
JOBS_IMMEDIATE = False
#: ``None`` means "read or create ``instance/secret_key``".
SECRET_KEY: str | None = None

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "portal_session"
REMEMBER_COOKIE_SECURE = True
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
#: How recent a password entry must be for actions that ask for re-authentication.
FRESH_LOGIN_MAX_AGE = timedelta(minutes=10)

WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = 8 * 3600

#: Failed sign-ins allowed per account (the e-mail typed) before 429 — one user's typos lock
#: only that account, not the colleagues behind the same office address.
LOGIN_RATE_LIMIT = "5 per minute"
#: Failed sign-ins allowed per client address, whatever the account (password spraying).
LOGIN_ADDRESS_RATE_LIMIT = "30 per minute"
RATELIMIT_HEADERS_ENABLED = True
#: ``None`` means "memory://", or Redis when ``REDIS_URL`` is set (shared by gunicorn workers).
RATELIMIT_STORAGE_URI: str | None = None

#: Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none).
#: Client addresses feed the sign-in rate limit and the audit trail, so set it only behind one.
PROXY_FIX = 0

#: Largest request body accepted (uploads arrive in later issues; default 50 MB per file).
MAX_CONTENT_LENGTH = 60 * 1024 * 1024

#: ClamAV's daemon, which scans every uploaded file before the view sees it (portal/scanning.py):
#: its unix socket (Debian: ``/run/clamav/clamd.ctl``) or ``host:port`` of its TCPSocket, not
#: both. Neither: uploads are not scanned. Set, the portal fails closed: while clamd does not
#: answer, uploads are refused with 503. clamd's StreamMaxLength, MaxFileSize and MaxScanSize
#: must be a little above MAX_CONTENT_LENGTH (a longer stream gets no verdict: 503).
CLAMD_SOCKET: str | None = None
CLAMD_ADDRESS: str | None = None
#: Seconds clamd may stay silent (connecting, taking a chunk, giving its verdict) before the
#: upload is refused with 503.
CLAMD_TIMEOUT = 30

#: The business time zone of each jurisdiction's cases ("today" for interest, reply periods,
#: letter dates), and of everything not tied to one case; never the server's own TZ.
BUSINESS_TIMEZONES = {"cn": "Asia/Shanghai", "ew": "Europe/London", "us": "America/Chicago"}
BUSINESS_TIMEZONE = "UTC"
#: Seconds one LibreOffice run (a batch of conversions) may take before it is killed.
OFFICE_TIMEOUT = 120
#: Documents per LibreOffice process in bulk generation (each process costs a start, ~1.3 s).
DOCUMENT_BATCH_SIZE = 100
#: Cases per transaction in bulk generation: a batch's letter numbers, documents and the job's
#: checkpoint commit together (a dead worker loses no number; on SQLite other writers wait for
#: at most one batch's conversion).
BULK_COMMIT_BATCH = 20
#: LibreOffice processes a bulk job runs side by side; None = one per core, at most four.
OFFICE_PROCESSES = None
#: Largest edited DOCX accepted back as a new version.
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
#: Where the templates are; None = ``doc_templates/`` beside the code.
DOC_TEMPLATES_DIR = None
#: An RFC 3161 time-stamping authority (``https://…``) that counts signatures' times; None =
#: no time stamp (the signing time is the signer's claim). The TSA's root must be trusted.
TSA_URL = None
#: A running job's worker writes a heartbeat every JOBS_HEARTBEAT_SECONDS; after
#: JOBS_LEASE_SECONDS of silence the job counts as stalled and the sweeper (every minute) runs it
#: again, up to JOBS_MAX_ATTEMPTS runs in all, then fails it with a message.
JOBS_HEARTBEAT_SECONDS = 5
JOBS_LEASE_SECONDS = 45
JOBS_MAX_ATTEMPTS = 3
#: Seconds a stopping worker (SIGTERM, Ctrl-C) lets running jobs finish before it hands them
#: back to the queue.
JOBS_SHUTDOWN_SECONDS = 30
#: Where ``make run`` serves the demo's time-stamping authority, CRL and OCSP responder (``flask
#: demo-tsa``); the demo certificates name ``<DEMO_PKI_URL>/crl`` as their CRL distribution point
#: and ``<DEMO_PKI_URL>/ocsp`` as their OCSP responder.
DEMO_PKI_URL = "http://127.0.0.1:5001"
#: Where the audit chain's head is checkpointed (outside the database), and the key of the
#: checkpoints' MAC. ``None``: ``instance/audit-checkpoints.jsonl``, and a key made once in
#: ``instance/audit_checkpoint_key``.
AUDIT_CHECKPOINT_PATH = None
AUDIT_CHECKPOINT_KEY = None

SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
#: PostgreSQL: seconds to wait for a connection, and for one statement, before a request
#: gives up with 503 (a partitioned or frozen server must not hang every request).
DATABASE_CONNECT_TIMEOUT = 5
DATABASE_STATEMENT_TIMEOUT = 30
#: SQLite: seconds a request or job waits for another writer's lock before it gives up (503).
SQLITE_BUSY_TIMEOUT = 10
#: Free space below which ``/api/v1/health`` reports the file store's disk as low (bytes).
HEALTH_MIN_FREE_BYTES = 1024**3

API_TITLE = "Arrears Portal API"
API_VERSION = "v1"
OPENAPI_VERSION = "3.1.0"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"


def finalise(app: Flask) -> None:
    """Derive settings that depend on others (database URI, secret key, limiter storage)."""
    instance = Path(app.instance_path)
    url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql"):
        # Server-side prepared statements switch to generic plans after five runs, which makes
        # the chunked IN (...) look-ups scan linearly; plain statements are planned every time.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        statement_ms = int(float(app.config["DATABASE_STATEMENT_TIMEOUT"]) * 1000)
        connect = int(app.config["DATABASE_CONNECT_TIMEOUT"])
        options["connect_args"] = {
            "prepare_threshold": None,
            "connect_timeout": connect,
            "options": f"-c statement_timeout={statement_ms}",
            # A partition that drops packets: unacknowledged data aborts the connection after
            # this long, and idle connections are probed, instead of hanging for minutes.
            "tcp_user_timeout": statement_ms + connect * 1000,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            **options.get("connect_args", {}),
        }
        options.setdefault("pool_timeout", int(app.config["DATABASE_CONNECT_TIMEOUT"]))
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif url.startswith("sqlite"):
        # The driver's timeout is SQLite's busy timeout: how long to wait for a writer's lock.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        busy = float(app.config["SQLITE_BUSY_TIMEOUT"])
        options["connect_args"] = {"timeout": busy, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(instance / "secret_key")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"


def instance_secret(path: Path) -> str:
    """Read the instance's secret key, creating it (mode 0600) on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
