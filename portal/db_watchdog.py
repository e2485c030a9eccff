"""A PostgreSQL statement that never comes back is cut off, so the request answers 503.

The server's ``statement_timeout`` ends a slow statement, and ``tcp_user_timeout`` a link that
drops packets; neither helps when the path to the server is up but silent (a frozen proxy or a
hung server): the driver waits on its socket for ever and so does every request that reaches the
database. The watchdog notes each statement as it starts; one that is still running
``DATABASE_STATEMENT_TIMEOUT`` + ``WATCHDOG_GRACE`` seconds later has its socket shut down, the
driver raises ``OperationalError``, the request rolls back and the error handler answers 503. The
connection is discarded by the pool.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: Seconds past the statement timeout before a silent connection is cut.
WATCHDOG_GRACE = 3.0

_lock = threading.Lock()
#: Connections with a statement under way: id → (socket descriptor, deadline).
_running: dict[int, tuple[int, float]] = {}
_started = threading.Event()


def _descriptor(dbapi_connection: Any) -> int | None:
    try:
        return int(dbapi_connection.pgconn.socket)
    except Exception:  # not psycopg, or already closed
        return None


def _watch() -> None:
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        with _lock:
            overdue = [(key, fd) for key, (fd, deadline) in _running.items() if deadline < now]
            for key, _fd in overdue:
                _running.pop(key, None)
        for _key, fd in overdue:
            log.error("A database statement got no answer in time; cutting its connection")
            try:
                duplicate = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            try:
                duplicate.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                duplicate.close()


def install(engine: Engine, limit: float) -> None:
    """Watch every wait of ``engine`` on its server (PostgreSQL only): statements, commits,
    rollbacks and the pool's liveness ping; cut a connection silent for ``limit`` seconds plus
    the grace."""
    if engine.dialect.name != "postgresql" or getattr(engine.dialect, "_watched", False):
        return
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_watch, name="db-watchdog", daemon=True).start()
    dialect = engine.dialect
    budget = limit + WATCHDOG_GRACE

    def watched(method: Callable[..., Any], connection_of: Callable[..., Any]):
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            dbapi_connection = connection_of(*args)
            fd = _descriptor(dbapi_connection)
            key = id(dbapi_connection)
            if fd is not None:
                with _lock:
                    _running[key] = (fd, time.monotonic() + budget)
            try:
                return method(*args, **kwargs)
            finally:
                with _lock:
                    _running.pop(key, None)

        return wrapper

    for name in ("do_execute", "do_executemany", "do_execute_no_params"):
        setattr(
            dialect, name, watched(getattr(dialect, name), lambda cursor, *_: cursor.connection)
        )
    for name in ("do_ping", "do_commit", "do_rollback"):
        setattr(dialect, name, watched(getattr(dialect, name), lambda connection, *_: connection))
    dialect._watched = True
