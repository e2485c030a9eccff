"""LibreOffice headless: office documents (DOCX, XLSX, PPTX, ODT, ODS, ODP) to PDF, many per run.

Pure Python over ``subprocess``, no Flask and no database: settings come in as arguments, so the
evidence renditions and the document generator share one converter.

One ``soffice`` process converts a whole batch (``--convert-to pdf`` with many files); starting
LibreOffice is most of the cost. Every run gets

* a fresh profile directory (``-env:UserInstallation``), so runs never share state and two
  converters — threads, workers, tests — can run at the same time without colliding;
* a fresh temporary directory holding the inputs under server-made names (``0001.docx``: the
  index and the extension detected from the content, never the client's name);
* a scrubbed environment (``HOME`` inside the run, no proxy variables, ``SAL_USE_VCLPLUGIN=svp``);
* no network: the profile blocks linked content, macros and link updates and points every proxy
  at a closed local port, and where ``unshare`` can make a network namespace (auto-detected) the
  process gets one of its own, with no way out;
* a timeout, after which the whole process group is killed.

Files that produced no PDF are tried once more, each alone in a fresh profile (a crash or a
timeout in a batch costs the files after the bad one their first try); what still fails is
reported in its ``ConversionResult`` — one bad file never raises.

Timing on the development machine (2 cores, LibreOffice 7.4, files in the page cache): every run
is a first start, since its profile is new — about 1.5 s for one small document, of which
creating the profile and starting is about 1.3 s; a batch of three takes about 1.7 s, against
about 4.5 s for three runs. The very first run after boot reads LibreOffice from disk and takes
longer. See ``docs/renditions.md``.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DOCX = ".docx"
XLSX = ".xlsx"
PPTX = ".pptx"
ODT = ".odt"
ODS = ".ods"
ODP = ".odp"

#: OOXML main parts, as named in a package's ``[Content_Types].xml`` and zip directory.
_OOXML_PARTS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
)
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}

#: Written into every fresh profile before LibreOffice first reads it. Macros off; linked
#: images and other referer-less links blocked; Writer (0) and Calc (1) never update links;
#: every proxy is a closed local port, so whatever still tries the network fails at once.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_SETTINGS = (
    ("org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("org.openoffice.Inet/Settings", "ooInetProxyType", "2"),
    ("org.openoffice.Inet/Settings", "ooInetHTTPProxyName", "127.0.0.1"),
    ("org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", "9"),
    ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", "127.0.0.1"),
    ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", "9"),
    ("org.openoffice.Inet/Settings", "ooInetFTPProxyName", "127.0.0.1"),
    ("org.openoffice.Inet/Settings", "ooInetFTPProxyPort", "9"),
    ("org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
)

#: Variables passed through to LibreOffice; everything else (proxies, credentials, display,
#: the caller's HOME and TMPDIR) stays behind.
#: Fewest files a parallel run is given: below this, one process converts them faster than
#: two starts would.
MIN_SHARED_BATCH = 10
#: How often a running batch is looked at for new PDFs (progress) and its timeout.
_POLL_SECONDS = 0.5
_PASSED_ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "TZ")

_UNSHARE = ("unshare", "--net", "--map-root-user")


class OfficeUnavailable(RuntimeError):
    """No LibreOffice (``soffice``/``libreoffice``) to run, or none at the configured path."""


class ConversionFailed(RuntimeError):
    """One document could not be converted, even on the retry; ``error`` says why."""

    def __init__(self, name: str, error: str) -> None:
        super().__init__(f"{name}: {error}")
        self.name = name
        self.error = error


@dataclass(frozen=True)
class ConversionResult:
    """The outcome for one input, in input order: either ``pdf`` or ``error`` is set."""

    name: str
    pdf: bytes | None
    error: str | None
    #: LibreOffice runs this file took part in: 1, or 2 when it was retried.
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.pdf is not None


def office_extension(data: bytes) -> str | None:
    """The extension LibreOffice should see for ``data`` (``.docx`` …), from the content alone.

    A package whose directory cannot be read (cut short, damaged) is still recognised from its
    first entries, so that LibreOffice is asked — and reports it as damaged — rather than
    guessing from a wrong extension that it is text. ``None``: not a format this converter takes.
    """
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = {info.filename: info for info in archive.infolist()}
            first = archive.infolist()[0].filename if entries else None
            if first == "mimetype":
                return _ODF_TYPES.get(archive.read("mimetype").strip())
            content_types = (
                archive.open("[Content_Types].xml").read(_SNIFF_BYTES)
                if "[Content_Types].xml" in entries
                else b""
            )
            return _ooxml_extension(content_types, entries)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        ValueError,
        EOFError,
        OSError,
        KeyError,
    ):
        pass
    # No readable central directory (cut short, damaged): walk the local entry headers.
    names: list[str] = []
    for name, method, body in _local_entries(data):
        names.append(name)
        if name == "mimetype" and not names[:-1]:
            return _ODF_TYPES.get(body.strip())
        if name == "[Content_Types].xml":
            try:
                content_types = (
                    zlib.decompressobj(-15).decompress(body, _SNIFF_BYTES) if method == 8 else body
                )
            except zlib.error:
                content_types = b""
            extension = _ooxml_extension(content_types, names)
            if extension:
                return extension
    return _ooxml_extension(b"", names)


#: Bytes of ``[Content_Types].xml`` read to tell Word, Excel and PowerPoint packages apart.
_SNIFF_BYTES = 256 * 1024

_OOXML_MAIN_TYPES = (
    (b"wordprocessingml.document.main", DOCX),
    (b"spreadsheetml.sheet.main", XLSX),
    (b"presentationml.presentation.main", PPTX),
)


def _ooxml_extension(content_types: bytes, names) -> str | None:
    lowered = content_types.lower()
    for main_type, extension in _OOXML_MAIN_TYPES:
        if main_type in lowered:
            return extension
    for part, extension in _OOXML_PARTS:
        if part in names:
            return extension
    return None


def _local_entries(data: bytes):
    """(name, method, stored bytes) of each intact local entry header, from the start."""
    position = 0
    while data.startswith(b"PK\x03\x04", position) and position + 30 <= len(data):
        (_, _, flags, method, _, _, _, packed, _, name_length, extra_length) = struct.unpack_from(
            "<IHHHHHIIIHH", data, position
        )
        name_start = position + 30
        body_start = name_start + name_length + extra_length
        name = data[name_start : name_start + name_length].decode("utf-8", "replace")
        if flags & 0x8 and not packed:  # size only after the data: take what is there
            yield name, method, data[body_start : body_start + _SNIFF_BYTES]
            return
        yield name, method, data[body_start : body_start + packed]
        position = body_start + packed


class OfficeConverter:
    """Converts office documents to PDF with LibreOffice headless, batched.

    :param soffice: path of the ``soffice`` program; by default the first of ``soffice`` and
        ``libreoffice`` on ``PATH``.
    :param timeout: seconds one LibreOffice run (a batch, or one retried file) may take before
        its process group is killed.
    :param batch_size: files per LibreOffice process at most; more inputs make more runs.
    :param processes: LibreOffice processes run at the same time (each with its own profile);
        with more than one, a large input is split evenly among them (never into batches of
        fewer than ``MIN_SHARED_BATCH`` files, since each start costs about a second).
    :param isolate_network: run LibreOffice in a new network namespace (``unshare``). ``None``:
        when ``unshare`` works on this machine; ``True``: always (``OfficeUnavailable`` if it
        cannot); ``False``: never (the profile settings still keep it off the network).
    :param temp_dir: where the per-run directories go (default: the system's temporary dir).
    """

    def __init__(
        self,
        soffice: str | None = None,
        timeout: float = 120,
        *,
        batch_size: int = 20,
        processes: int = 1,
        isolate_network: bool | None = None,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.soffice = (
            shutil.which(soffice)
            if soffice
            else shutil.which("soffice") or shutil.which("libreoffice")
        )
        self._configured = soffice
        self.timeout = float(timeout)
        self.batch_size = batch_size
        self.processes = max(1, processes)
        self.isolate_network = isolate_network
        self.temp_dir = os.fspath(temp_dir) if temp_dir is not None else None
        #: LibreOffice processes started by this converter (tests and metrics read it).
        self.launches = 0
        self._launch_lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether there is an ``soffice`` to run."""
        return self.soffice is not None

    # -- public API ------------------------------------------------------------------------------

    def convert(self, name: str, data: bytes) -> bytes:
        """One document's PDF.

        :raises OfficeUnavailable: no LibreOffice.
        :raises ConversionFailed: not an office document, or LibreOffice made no PDF of it
            (after one retry).
        """
        (result,) = self.convert_many([(name, data)])
        if result.pdf is None:
            raise ConversionFailed(name, result.error or "no PDF was produced")
        return result.pdf

    def convert_many(
        self,
        inputs: Sequence[tuple[str, bytes]],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[ConversionResult]:
        """PDFs of many documents, one result per input in the same order.

        ``name`` is only echoed back (for messages); files are written under server-made names.
        ``on_progress(done, total)`` is called as PDFs appear (about twice a second while a
        batch runs) and once at the end.

        :raises OfficeUnavailable: no LibreOffice.
        """
        if not inputs:
            return []
        soffice = self._require_soffice()
        prefix = self._isolation_prefix()
        results: dict[int, ConversionResult] = {}
        with tempfile.TemporaryDirectory(prefix="portal-office-", dir=self.temp_dir) as work:
            root = Path(work)
            files: dict[int, Path] = {}
            in_dir = root / "in"
            in_dir.mkdir()
            for index, (name, data) in enumerate(inputs):
                extension = office_extension(data)
                if extension is None:
                    results[index] = ConversionResult(
                        name, None, "not a Word, Excel, PowerPoint or OpenDocument file", 0
                    )
                    continue
                path = in_dir / f"{index + 1:04d}{extension}"
                path.write_bytes(data)
                files[index] = path

            pending = list(files)
            failures: dict[int, str] = {}
            total = len(inputs)
            lock = threading.Lock()
            # Files finished (converted or not) before the running batches, and what each
            # running batch has produced so far.
            progress = {"finished": len(inputs) - len(pending), "running": {}}

            def done_so_far() -> int:
                with lock:
                    return min(progress["finished"] + sum(progress["running"].values()), total)

            def reporter(key: int, *, call: bool) -> Callable[[int], None]:
                def report(produced: int) -> None:
                    with lock:
                        progress["running"][key] = produced
                    if call and on_progress is not None:
                        on_progress(done_so_far(), total)

                return report

            def run_batch(key: int, batch: list[int], *, call: bool) -> None:
                outcome = self._run(
                    soffice, prefix, root, [files[i] for i in batch], reporter(key, call=call)
                )
                with lock:
                    progress["running"].pop(key, None)
                    progress["finished"] += len(batch)
                    for index in batch:
                        pdf = outcome.pdfs.get(files[index].stem)
                        if pdf is not None:
                            results[index] = ConversionResult(inputs[index][0], pdf, None, 1)
                        else:
                            failures[index] = outcome.error

            size = self._batch_size(len(pending))
            batches = [pending[start : start + size] for start in range(0, len(pending), size)]
            if self.processes == 1 or len(batches) == 1:
                for key, batch in enumerate(batches):
                    run_batch(key, batch, call=True)
            else:
                # Progress is reported from this thread only: callers may touch their own
                # thread-bound state (a database session) in the callback.
                with ThreadPoolExecutor(self.processes, thread_name_prefix="soffice") as pool:
                    futures = [
                        pool.submit(run_batch, key, batch, call=False)
                        for key, batch in enumerate(batches)
                    ]
                    pending_futures = set(futures)
                    while pending_futures:
                        _, pending_futures = wait(pending_futures, timeout=_POLL_SECONDS)
                        if on_progress is not None and pending_futures:
                            on_progress(done_so_far(), total)
                    for future in futures:
                        future.result()
            for index, first_error in failures.items():
                outcome = self._run(soffice, prefix, root, [files[index]])
                pdf = outcome.pdfs.get(files[index].stem)
                if pdf is not None:
                    log.info("office: %s converted on retry (%s)", files[index].name, first_error)
                    results[index] = ConversionResult(inputs[index][0], pdf, None, 2)
                else:
                    error = outcome.error
                    log.warning("office: %s failed twice: %s", files[index].name, error)
                    results[index] = ConversionResult(inputs[index][0], None, error, 2)
        if on_progress is not None:
            on_progress(total, total)
        return [results[index] for index in range(len(inputs))]

    def _batch_size(self, count: int) -> int:
        """Files per run: at most ``batch_size``; spread over the processes when there are
        enough files for each to be worth a start."""
        used = max(1, min(self.processes, count // MIN_SHARED_BATCH))
        share = -(-count // used)  # ceiling
        return max(1, min(self.batch_size, share))

    # -- one LibreOffice run ---------------------------------------------------------------------

    def _require_soffice(self) -> str:
        if self.soffice is None:
            where = f" at {self._configured!r}" if self._configured else " on PATH"
            raise OfficeUnavailable(f"LibreOffice (soffice) was not found{where}.")
        return self.soffice

    def _isolation_prefix(self) -> tuple[str, ...]:
        if self.isolate_network is False:
            return ()
        if _unshare_works():
            return _UNSHARE
        if self.isolate_network:
            raise OfficeUnavailable(
                "Network isolation was required but 'unshare --net --map-root-user' does not "
                "work here (user namespaces disabled?)."
            )
        return ()

    def _run(
        self,
        soffice: str,
        prefix: tuple[str, ...],
        root: Path,
        files: list[Path],
        report: Callable[[int], None] | None = None,
    ) -> _RunOutcome:
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=root))
        profile, home, out_dir = run_dir / "profile", run_dir / "home", run_dir / "out"
        for folder in (profile / "user", home, out_dir):
            folder.mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_profile_settings())
        command = [
            *prefix,
            soffice,
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--nofirststartwizard",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *(str(path) for path in files),
        ]
        environment = {key: os.environ[key] for key in _PASSED_ENVIRONMENT if key in os.environ}
        environment.update(
            HOME=str(home),
            TMPDIR=str(home),
            LANG="C.UTF-8",
            LC_ALL="C.UTF-8",
            SAL_USE_VCLPLUGIN="svp",
        )
        environment.setdefault("PATH", os.defpath)
        with self._launch_lock:
            self.launches += 1
        started = time.monotonic()
        # Output goes to a file, not a pipe: a long batch must never block on a full pipe while
        # we poll the output folder for progress.
        log_path = run_dir / "soffice.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=run_dir,
                start_new_session=True,
            )
        timed_out = False
        deadline = started + self.timeout
        try:
            while True:
                try:
                    process.wait(timeout=_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        timed_out = True
                        _kill_group(process.pid)
                        process.wait()
                        break
                    if report is not None:
                        report(sum(1 for _ in out_dir.glob("*.pdf")))
        finally:
            _kill_group(process.pid)  # helpers LibreOffice left behind
        output = log_path.read_bytes()
        elapsed = time.monotonic() - started
        log.info(
            "office: %d file(s) in %.2f s, exit %s%s",
            len(files),
            elapsed,
            process.returncode,
            " (timed out)" if timed_out else "",
        )
        pdfs = {}
        for path in files:
            produced = out_dir / f"{path.stem}.pdf"
            if produced.is_file():
                data = produced.read_bytes()
                if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
                    pdfs[path.stem] = data
        shutil.rmtree(run_dir, ignore_errors=True)
        return _RunOutcome(
            pdfs=pdfs,
            output=output.decode("utf-8", "replace") if output else "",
            returncode=process.returncode,
            timed_out=timed_out,
            timeout=self.timeout,
        )


@dataclass(frozen=True)
class _RunOutcome:
    pdfs: dict[str, bytes]
    output: str
    returncode: int | None
    timed_out: bool
    timeout: float

    @property
    def error(self) -> str:
        """Why a file of this run has no PDF, in words for a log and a status line."""
        if self.timed_out:
            return f"LibreOffice did not finish within {self.timeout:g} s and was stopped"
        if self.returncode and self.returncode < 0:
            return f"LibreOffice crashed (signal {-self.returncode})"
        if self.returncode:
            return f"LibreOffice stopped with exit code {self.returncode}"
        lines = self.output.splitlines()
        # LibreOffice prints "convert <in> -> <out>" per success and an "Error: …" line per
        # failure, without naming the file: exact for a run of one file (the retry).
        errors = [line.strip() for line in lines if line.startswith("Error")]
        if any("could not be loaded" in line for line in errors):
            return "LibreOffice could not open the file (damaged, or not what it claims to be)"
        if errors:
            return f"LibreOffice reported: {errors[0][:200]}"
        return "LibreOffice produced no PDF"


def _profile_settings() -> str:
    items = "\n".join(
        f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>"
        for path, name, value in _SETTINGS
    )
    return _PROFILE_SETTINGS.format(items=items)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_unshare_result: bool | None = None
_unshare_lock = threading.Lock()


def _unshare_works() -> bool:
    """Whether ``unshare`` can give a process its own network namespace here (checked once)."""
    global _unshare_result
    with _unshare_lock:
        if _unshare_result is None:
            program = shutil.which(_UNSHARE[0])
            try:
                _unshare_result = (
                    program is not None
                    and subprocess.run(  # noqa: S603 - fixed argument list, no shell
                        [program, *_UNSHARE[1:], "true"],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        timeout=10,
                        check=False,
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.SubprocessError):
                _unshare_result = False
        return _unshare_result
