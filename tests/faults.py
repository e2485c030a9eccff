"""Faults the tests make themselves: a TCP proxy on 127.0.0.1 in front of a shared server
(PostgreSQL, Redis) that they can take down and bring back, and a held lock on a SQLite file.
The shared servers themselves are never touched."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``down()`` closes the listener and every
    open connection (the server seems gone), ``up()`` listens on the same port again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._flowing = threading.Event()
        self._flowing.set()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()

    def up(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # port listening until that call returns.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def freeze(self) -> None:
        """Stop passing bytes on, connections left open: what a stopped (SIGSTOP) proxy or a
        hung server looks like from the client — no error, no answer."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update({client, server})
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while not self._flowing.wait(0.2):
                    pass
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite database: other connections can neither read nor
    write it until the block ends (what a stuck writer or a full, locked file looks like)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode")  # opens the file
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@contextmanager
def fault(proxy: TcpProxy | None, sqlite_file: Path, how: str = "down") -> Iterator[None]:
    """While the block runs, the server behind ``proxy`` is gone (``down``) or connected but
    silent (``frozen``); without a proxy (the SQLite run) a lock is held on ``sqlite_file``."""
    if proxy is None:
        with sqlite_locked(sqlite_file):
            yield
        return
    stop, resume = (proxy.down, proxy.up) if how == "down" else (proxy.freeze, proxy.thaw)
    stop()
    try:
        yield
    finally:
        resume()
