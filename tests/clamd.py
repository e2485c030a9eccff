"""A real ClamAV daemon for the tests, with a signature database they write themselves (no
signatures can be downloaded here), and the ways a scanner fails: a dead socket, a daemon that
never answers, one that answers nonsense.

The database is one body signature (``test.ndb``) for the EICAR test string anywhere in a file:
on its own, in a CSV cell, appended to a PDF, in a part of a .docx (clamd unzips it). A hash
signature (``.hdb``) would catch only the exact 68-byte file. clamd reports it as
``Portal.Test.EICAR.UNOFFICIAL``.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from clamav_client.clamd import ClamdError, ClamdUnixSocket

#: The anti-malware industry's harmless test file (eicar.org; 68 bytes, MD5 44d88612…b02f).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: What our database calls it, and what clamd reports (it marks signatures not from ClamAV).
SIGNATURE_NAME = "Portal.Test.EICAR"
SIGNATURE = f"{SIGNATURE_NAME}.UNOFFICIAL"
#: Seconds clamd gets to load its signature and answer PING (it takes about 0.3 s).
START_TIMEOUT = 30


def clamd_binary() -> str:
    """Debian's clamd (package clamav-daemon, which `make sysdeps-test` installs)."""
    found = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("clamd is not installed: apt-get install clamav-daemon (make sysdeps-test)")
    return found


def write_database(folder: Path) -> None:
    """The EICAR body signature, as ``name:target type (0: any file):offset (*: anywhere):hex``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.ndb").write_text(f"{SIGNATURE_NAME}:0:*:{EICAR.hex()}\n")


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@dataclass
class Clamd:
    """A running clamd: its unix socket, its TCP address and its log."""

    socket: Path
    address: str
    log: Path
    process: subprocess.Popen

    def version(self) -> str:
        """clamd's own VERSION answer, asked directly."""
        client = ClamdUnixSocket(str(self.socket), timeout=5)
        try:
            return client.version()
        finally:
            client.clamd_socket.close()

    def verdicts(self) -> list[str]:
        """clamd's verdict on each stream so far (``OK``, ``<signature> FOUND``), from its log
        (``LogClean yes``), oldest first."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.partition("): ")[2] for line in lines if "instream(" in line]


def _answers(path: Path) -> bool:
    client = ClamdUnixSocket(str(path), timeout=2)
    try:
        return client.ping() == "PONG"
    except (ClamdError, OSError):
        return False
    finally:
        sock = getattr(client, "clamd_socket", None)
        if sock is not None:
            sock.close()


@contextmanager
def running_clamd(folder: Path, *, stream_max: str) -> Iterator[Clamd]:
    """clamd in the foreground on ``folder/clamd.sock`` and a free port on 127.0.0.1, reading
    only the test database; stopped (SIGTERM) afterwards.

    ``stream_max`` (``"100K"``, ``"70M"``) sets StreamMaxLength, MaxFileSize and MaxScanSize
    alike: the longest stream clamd accepts over INSTREAM, and the largest file it scans whole.
    """
    database = folder / "db"
    write_database(database)
    (folder / "tmp").mkdir(exist_ok=True)
    sock, log, port = folder / "clamd.sock", folder / "clamd.log", free_port()
    config = folder / "clamd.conf"
    config.write_text(
        f"LocalSocket {sock}\n"
        "LocalSocketMode 600\n"
        "FixStaleSocket yes\n"
        "TCPAddr 127.0.0.1\n"
        f"TCPSocket {port}\n"
        f"DatabaseDirectory {database}\n"
        f"TemporaryDirectory {folder / 'tmp'}\n"
        "Foreground yes\n"
        f"LogFile {log}\n"
        "LogClean yes\n"
        f"StreamMaxLength {stream_max}\n"
        f"MaxFileSize {stream_max}\n"
        f"MaxScanSize {stream_max}\n"
    )
    output = (folder / "clamd.out").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [clamd_binary(), "--foreground", f"--config-file={config}"],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (sock.exists() and _answers(sock)):
            if process.poll() is not None or time.monotonic() > deadline:
                output.flush()
                pytest.fail(
                    "clamd did not start:\n"
                    + (folder / "clamd.out").read_text(errors="replace")
                    + (log.read_text(errors="replace") if log.exists() else "")
                )
            time.sleep(0.05)
        yield Clamd(socket=sock, address=f"127.0.0.1:{port}", log=log, process=process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


@contextmanager
def dead_socket(path: Path) -> Iterator[Path]:
    """The socket file a crashed clamd leaves behind: it exists, nobody listens (refused)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    yield path


@contextmanager
def silent_socket(path: Path) -> Iterator[Path]:
    """A daemon that accepts connections (the kernel queues them) and never answers: hung."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(16)
    try:
        yield path
    finally:
        sock.close()


@contextmanager
def babbling_socket(path: Path, answer: bytes = b"I am not clamd\n") -> Iterator[Path]:
    """A daemon that takes the whole INSTREAM like clamd, then answers ``answer``."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()

    def read_exactly(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = conn.recv(size - len(data))
            if not part:
                raise ConnectionError("client went away")
            data += part
        return data

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    command = b""
                    while not command.endswith(b"\n"):
                        command += read_exactly(conn, 1)
                    if command.strip() == b"nINSTREAM":
                        while size := struct.unpack("!L", read_exactly(conn, 4))[0]:
                            read_exactly(conn, size)
                    conn.sendall(answer)
                except OSError:  # the client gave up: the test sees its side
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join(5)
        listener.close()
