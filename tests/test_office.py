"""LibreOffice converter: one process per batch, a retry for files without a PDF, errors per file,
timeouts that kill the process group, fresh profiles, a scrubbed environment, no network.

Real LibreOffice runs once for the whole module (a batch of four files beside a second converter
working at the same time); the timeout, crash and environment tests use a fake ``soffice``.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pytest

from portal.office import (
    DOCX,
    ODT,
    XLSX,
    ConversionFailed,
    ConversionResult,
    OfficeConverter,
    OfficeUnavailable,
    office_extension,
)

RESOURCES = Path(__file__).resolve().parent / "resources"
GOOD = RESOURCES / "good"
CORPUS = RESOURCES / "corpus"

#: The converter's tests need LibreOffice; ``make test`` installs it, so it is never skipped.
LIBREOFFICE_MISSING = "LibreOffice is not installed (make sysdeps-test installs it)"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return _run_text(path)


def _run_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def docx_linking_image(url: str) -> bytes:
    """A Word file whose only picture is linked from ``url``, not stored in the file."""
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    drawing = "http://schemas.openxmlformats.org/drawingml/2006"
    document = (
        f'<w:document xmlns:w="{word}" xmlns:r="{relationships}" '
        f'xmlns:wp="{drawing}/wordprocessingDrawing" xmlns:a="{drawing}/main" '
        f'xmlns:pic="{drawing}/picture"><w:body>'
        "<w:p><w:r><w:t>Tracking picture below</w:t></w:r></w:p><w:p><w:r><w:drawing>"
        '<wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr id="1" name="p"/>'
        f'<a:graphic><a:graphicData uri="{drawing}/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="1" name="p"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip r:link="rId5"/></pic:blipFill><pic:spPr><a:xfrm>'
        '<a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>'
        '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r></w:p></w:body></w:document>"
    )
    package = "http://schemas.openxmlformats.org/package/2006"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Target="word/document.xml" Type="{relationships}/officeDocument"/>'
            "</Relationships>"
        ),
        "word/_rels/document.xml.rels": (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId5" '
            f'Type="{relationships}/image" Target="{url}" TargetMode="External"/>'
            "</Relationships>"
        ),
        "word/document.xml": document,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_OPTIONS = do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One real run: three good documents and a damaged one in a batch, while a second
    converter (profile settings only, no network namespace) converts a file that links a
    picture from a local web server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/pixel.png"
    first = OfficeConverter(temp_dir=tmp_path_factory.mktemp("first"))
    second = OfficeConverter(isolate_network=False, temp_dir=tmp_path_factory.mktemp("second"))
    assert first.available, LIBREOFFICE_MISSING
    inputs = [
        ("Delivery note.docx", (GOOD / "letter.docx").read_bytes()),
        ("ledger.xlsx", (GOOD / "ledger.xlsx").read_bytes()),
        ("../reconciliation.odt", (GOOD / "reconciliation.odt").read_bytes()),
        ("damaged.docx", (CORPUS / "truncated.docx").read_bytes()),
    ]
    second_results: list[ConversionResult] = []
    worker = threading.Thread(
        target=lambda: second_results.extend(
            second.convert_many([("linked.docx", docx_linking_image(url))])
        )
    )
    started = time.monotonic()
    worker.start()
    results = first.convert_many(inputs)
    worker.join()
    elapsed = time.monotonic() - started
    server.shutdown()
    server.server_close()
    return {
        "results": results,
        "converter": first,
        "second": second,
        "second_results": second_results,
        "requests": list(_Recorder.requests),
        "elapsed": elapsed,
        "temp_dirs": [first.temp_dir, second.temp_dir],
    }


def test_batch_converts_in_one_process_and_retries_only_the_failure(batch):
    results = batch["results"]
    assert [result.name for result in results] == [
        "Delivery note.docx",
        "ledger.xlsx",
        "../reconciliation.odt",
        "damaged.docx",
    ]
    assert [result.ok for result in results] == [True, True, True, False]
    # the batch (1) and the damaged file alone (2): never one process per file
    assert batch["converter"].launches == 2
    assert [result.attempts for result in results] == [1, 1, 1, 2]
    assert results[3].pdf is None
    assert "could not open" in results[3].error


def test_batch_results_are_the_documents(batch, tmp_path):
    letter, ledger, reconciliation, _damaged = batch["results"]
    for result in (letter, ledger, reconciliation):
        assert result.pdf.startswith(b"%PDF-")
        assert result.error is None
    assert "Received 40 steel brackets" in pdf_text(letter.pdf, tmp_path)
    assert "2024-131" in pdf_text(ledger.pdf, tmp_path)
    assert "balance EUR 12,480.00" in pdf_text(reconciliation.pdf, tmp_path)


def test_concurrent_converters_do_not_collide_and_leave_nothing_behind(batch):
    (linked,) = batch["second_results"]
    assert linked.ok and linked.attempts == 1
    assert batch["second"].launches == 1
    for folder in batch["temp_dirs"]:
        assert os.listdir(folder) == []  # inputs, profiles and outputs are gone


def test_linked_pictures_are_not_fetched(batch, tmp_path):
    # The second converter ran without a network namespace: the profile alone kept it off.
    assert batch["requests"] == []
    assert "Tracking picture below" in pdf_text(batch["second_results"][0].pdf, tmp_path)


def test_office_extension_is_decided_by_content():
    assert office_extension((GOOD / "letter.docx").read_bytes()) == DOCX
    assert office_extension((GOOD / "ledger.xlsx").read_bytes()) == XLSX
    assert office_extension((GOOD / "reconciliation.odt").read_bytes()) == ODT
    # cut in half: no zip directory, still recognised from the first entry
    assert office_extension((CORPUS / "truncated.docx").read_bytes()) == DOCX
    assert office_extension(b"hello, world") is None
    assert office_extension((GOOD / "two-pages.pdf").read_bytes()) is None


def test_not_an_office_file_is_reported_without_running_libreoffice(tmp_path):
    converter = OfficeConverter(soffice=str(fake_soffice(tmp_path, "exit 99")))
    (result,) = converter.convert_many([("notes.docx", b"just some text")])
    assert not result.ok and "not a Word" in result.error
    assert converter.launches == 0


def test_no_libreoffice_raises(tmp_path):
    converter = OfficeConverter(soffice=str(tmp_path / "no-such-soffice"))
    assert not converter.available
    with pytest.raises(OfficeUnavailable):
        converter.convert_many([("letter.docx", (GOOD / "letter.docx").read_bytes())])
    assert converter.convert_many([]) == []


# -- a fake soffice -------------------------------------------------------------------------------


def fake_soffice(tmp_path: Path, body: str) -> Path:
    """An executable ``soffice`` stand-in: Python with ``args`` (the command line), ``outdir``,
    ``inputs`` and ``log`` (a file in ``tmp_path``) defined, then ``body``."""
    script = tmp_path / "soffice"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys, json, time, signal, subprocess\n"
        "args = sys.argv[1:]\n"
        "outdir = args[args.index('--outdir') + 1]\n"
        "inputs = args[args.index('--outdir') + 2:]\n"
        f"log = {str(tmp_path / 'log.jsonl')!r}\n"
        "with open(log, 'a') as handle:\n"
        "    handle.write(json.dumps({'args': args, 'env': dict(os.environ)}) + '\\n')\n"
        + textwrap.dedent(body)
        + "\n"
    )
    script.chmod(0o755)
    return script


WRITE_PDFS = """
for path in inputs:
    stem = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(outdir, stem + '.pdf'), 'wb') as handle:
        handle.write(b'%PDF-1.4\\n% fake\\n%%EOF\\n')
"""


def read_log(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]


def test_environment_is_scrubbed_and_names_are_the_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-libreoffice")
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, WRITE_PDFS)), isolate_network=False
    )
    letter = (GOOD / "letter.docx").read_bytes()
    results = converter.convert_many([("../../etc/passwd.docx", letter), ("b; rm -rf", letter)])
    assert [result.pdf for result in results] == [b"%PDF-1.4\n% fake\n%%EOF\n"] * 2
    (run,) = read_log(tmp_path)
    env, args = run["env"], run["args"]
    assert not {key for key in env if "proxy" in key.lower() or "SECRET" in key}
    assert env["SAL_USE_VCLPLUGIN"] == "svp"
    assert env["HOME"] != os.environ.get("HOME")
    assert [os.path.basename(path) for path in args[-2:]] == ["0001.docx", "0002.docx"]
    for flag in ("--headless", "--norestore", "--nolockcheck", "--nodefault", "--convert-to"):
        assert flag in args
    (profile,) = [arg for arg in args if arg.startswith("-env:UserInstallation=file:///")]
    assert env["HOME"].startswith(str(Path(profile.split("file://")[1]).parent))


def test_each_run_gets_a_fresh_profile(tmp_path):
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, WRITE_PDFS)), isolate_network=False
    )
    letter = (GOOD / "letter.docx").read_bytes()
    converter.convert("a.docx", letter)
    converter.convert("b.docx", letter)
    profiles = [
        next(arg for arg in run["args"] if arg.startswith("-env:UserInstallation"))
        for run in read_log(tmp_path)
    ]
    assert len(profiles) == 2 and profiles[0] != profiles[1]


def test_timeout_kills_the_process_group_and_is_reported_after_one_retry(tmp_path):
    # The fake starts a helper (as soffice starts soffice.bin) and hangs; both must die.
    body = f"""
helper = subprocess.Popen(['sleep', '60'])
with open({str(tmp_path / "helpers")!r}, 'a') as handle:
    handle.write(str(helper.pid) + '\\n')
time.sleep(60)
"""
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, body)), timeout=1, isolate_network=False
    )
    started = time.monotonic()
    (result,) = converter.convert_many([("slow.docx", (GOOD / "letter.docx").read_bytes())])
    assert time.monotonic() - started < 10
    assert not result.ok and result.attempts == 2 and converter.launches == 2
    assert "did not finish within 1 s" in result.error
    for pid in (tmp_path / "helpers").read_text().split():
        assert not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead: it only waits for its parent (gone with the group) to be reaped
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_crash_is_retried_once_then_convert_raises(tmp_path):
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")),
        isolate_network=False,
    )
    with pytest.raises(ConversionFailed) as raised:
        converter.convert("letter.docx", (GOOD / "letter.docx").read_bytes())
    assert raised.value.name == "letter.docx"
    assert "crashed" in raised.value.error
    assert converter.launches == 2


def test_a_crash_in_a_batch_costs_the_others_only_a_retry(tmp_path):
    # The fake "crashes" on the second file of a batch, after writing the first file's PDF;
    # alone, every file converts.
    body = WRITE_PDFS.replace(
        "for path in inputs:",
        "for number, path in enumerate(inputs):\n"
        "    if number == 1 and len(inputs) > 1:\n"
        "        os.kill(os.getpid(), signal.SIGSEGV)",
    )
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, body)), isolate_network=False, batch_size=10
    )
    letter = (GOOD / "letter.docx").read_bytes()
    results = converter.convert_many([(f"{n}.docx", letter) for n in range(3)])
    assert all(result.ok for result in results)
    assert [result.attempts for result in results] == [1, 2, 2]
    assert converter.launches == 3


def test_batches_are_split_by_batch_size(tmp_path):
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, WRITE_PDFS)), isolate_network=False, batch_size=2
    )
    letter = (GOOD / "letter.docx").read_bytes()
    results = converter.convert_many([(f"{n}.docx", letter) for n in range(5)])
    assert all(result.ok for result in results)
    runs = read_log(tmp_path)
    assert [sum(arg.endswith(".docx") for arg in run["args"]) for run in runs] == [2, 2, 1]
    assert converter.launches == 3


WRITE_PDFS_SLOWLY = """
for path in inputs:
    stem = os.path.splitext(os.path.basename(path))[0]
    time.sleep(0.15)
    with open(os.path.join(outdir, stem + '.pdf'), 'wb') as handle:
        handle.write(b'%PDF-1.4\\n% ' + stem.encode() + b'\\n%%EOF\\n')
"""


def test_parallel_processes_split_the_batch_and_progress_only_grows(tmp_path):
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, WRITE_PDFS_SLOWLY)),
        isolate_network=False,
        batch_size=100,
        processes=2,
    )
    letter = (GOOD / "letter.docx").read_bytes()
    seen: list[tuple[int, int]] = []
    threads: set[int] = set()

    def on_progress(done: int, total: int) -> None:
        seen.append((done, total))
        threads.add(threading.get_ident())

    results = converter.convert_many([(f"{n}.docx", letter) for n in range(30)], on_progress)
    # Reported on the caller's thread only (callers touch thread-bound database sessions).
    assert threads == {threading.get_ident()}
    assert converter.launches == 2
    runs = read_log(tmp_path)
    assert sorted(len(run["args"]) for run in runs) == sorted(len(runs[0]["args"]) for _ in runs)
    # Each result is its own file's PDF, whichever process made it.
    assert [result.pdf for result in results] == [
        b"%PDF-1.4\n% " + f"{n + 1:04d}".encode() + b"\n%%EOF\n" for n in range(30)
    ]
    done = [pair[0] for pair in seen]
    assert done == sorted(done) and done[-1] == 30 and len(set(done)) > 2
    assert {pair[1] for pair in seen} == {30}


def test_a_small_input_is_not_split(tmp_path):
    converter = OfficeConverter(
        soffice=str(fake_soffice(tmp_path, WRITE_PDFS)), isolate_network=False, processes=4
    )
    letter = (GOOD / "letter.docx").read_bytes()
    converter.convert_many([(f"{n}.docx", letter) for n in range(12)])
    assert converter.launches == 1  # below two batches of MIN_SHARED_BATCH


def test_two_real_processes_convert_a_batch(tmp_path):
    converter = OfficeConverter(timeout=300, batch_size=100, processes=2)
    letter = (GOOD / "letter.docx").read_bytes()
    results = converter.convert_many([(f"{n}.docx", letter) for n in range(24)])
    assert converter.launches == 2
    assert all(result.ok and result.pdf.startswith(b"%PDF-") for result in results)
