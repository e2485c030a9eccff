"""Every uploaded file is scanned by a real clamd before any view sees it (portal/scanning.py).

The daemon is Debian's clamd, started for this module with a signature database of our own
(tests/clamd.py): it knows the EICAR test file, which it reports as
``Portal.Test.EICAR.UNOFFICIAL``. An infected upload answers 422 naming that signature, stores
nothing and is audited; a scanner that gives no verdict answers 503 with ``Retry-After`` and
stores nothing either (fail closed); with no scanner configured uploads work as before.
"""

from __future__ import annotations

import io
import logging
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Request
from sqlalchemy import func, select

from portal import create_app, scanning
from portal.audit.models import AuditEntry
from portal.config import MAX_CONTENT_LENGTH
from portal.documents.models import Document
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.storage import file_store

from .clamd import (
    EICAR,
    SIGNATURE,
    Clamd,
    babbling_socket,
    dead_socket,
    running_clamd,
    silent_socket,
)
from .conftest import build_app, login, make_config
from .factories import PASSWORD, World, token_for

GOOD = Path(__file__).resolve().parent / "resources" / "good"
PDF = (GOOD / "two-pages.pdf").read_bytes()
#: The test string appended to a real PDF: still a PDF to a reader, caught by the body signature.
INFECTED_PDF = PDF + b"\n" + EICAR + b"\n"
#: An invoice import whose contract reference cell holds the test string.
INFECTED_CSV = (
    b"external_id,debtor,creditor,number,issue_date,delivery_date,due_date,currency,amount,"
    b"contract_ref,interest_rate\n"
    b"X-1,D-1,CRED,INV-X-1,2025-01-02,2025-01-02,2025-02-01,GBP,100.00," + EICAR + b",\n"
)


def infected_docx() -> bytes:
    """The resource letter with one more part in its zip holding the test string: clamd has to
    open the archive to find it."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(GOOD / "letter.docx") as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/media/attachment.bin", EICAR)
    return buffer.getvalue()


# --- the daemon and the app ------------------------------------------------------------------


@pytest.fixture(scope="module")
def clamd(tmp_path_factory) -> Iterator[Clamd]:
    """One clamd for the module, taking streams a little longer than the largest upload (a
    view may let the multipart framing come on top of MAX_CONTENT_LENGTH)."""
    stream_max = f"{MAX_CONTENT_LENGTH // (1024 * 1024) + 2}M"
    with running_clamd(tmp_path_factory.mktemp("clamd"), stream_max=stream_max) as daemon:
        yield daemon


@pytest.fixture
def scanner(request, tmp_path_factory) -> Iterator[dict]:
    """The CLAMD_* settings of the test's app: the module's clamd on its socket unless the test
    asks (indirect parametrisation) for ``tcp``, ``off`` or a scanner that fails."""
    kind = getattr(request, "param", "socket")
    if kind == "off":
        yield {}
    elif kind == "socket":
        yield {"CLAMD_SOCKET": str(request.getfixturevalue("clamd").socket), "CLAMD_TIMEOUT": 10}
    elif kind == "tcp":
        yield {"CLAMD_ADDRESS": request.getfixturevalue("clamd").address, "CLAMD_TIMEOUT": 10}
    elif kind == "small":
        folder = tmp_path_factory.mktemp("small")
        with running_clamd(folder, stream_max="100K") as small:
            yield {"CLAMD_SOCKET": str(small.socket), "CLAMD_TIMEOUT": 10}
    else:
        path = tmp_path_factory.mktemp("fault") / "clamd.sock"
        if kind == "missing":
            yield {"CLAMD_SOCKET": str(path), "CLAMD_TIMEOUT": 1}
            return
        fault = {"dead": dead_socket, "silent": silent_socket, "garbage": babbling_socket}[kind]
        with fault(path):
            # The silent daemon is given half a second before the upload is refused.
            yield {"CLAMD_SOCKET": str(path), "CLAMD_TIMEOUT": 0.5}


@pytest.fixture
def app_config() -> dict:
    """More settings for the test's app (tests parametrise it)."""
    return {}


@pytest.fixture
def app(tmp_path: Path, scanner: dict, app_config: dict) -> Iterator[Flask]:
    yield from build_app(tmp_path, **scanner, **app_config)


def signed_in(app: Flask, role: str):
    client = app.test_client()
    assert login(client, World.EMAILS[role]).status_code == 302
    return client


def signed_in_with_csrf(app: Flask, role: str):
    """Signed in through the login form with its CSRF token, as a browser is."""
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": World.EMAILS[role], "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def bearer(app: Flask, role: str) -> dict[str, str]:
    with app.app_context():
        return {"Authorization": f"Bearer {token_for(World.EMAILS[role])}"}


def stored(app: Flask) -> dict[str, object]:
    """What an upload could leave behind: files, evidence rows, documents."""
    with app.app_context():
        return {
            "files": sorted(file_store().iter_hashes()),
            "evidence": db.session.scalar(select(func.count()).select_from(Evidence)),
            "documents": db.session.scalar(select(func.count()).select_from(Document)),
        }


def infected_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "upload.infected").order_by(AuditEntry.id)
        ).all()


def new_verdicts(clamd: Clamd, before: int) -> list[str]:
    """The verdicts clamd logged after the first ``before`` (its log is written as it answers,
    so wait a moment for the line)."""
    deadline = time.monotonic() + 2
    while len(clamd.verdicts()) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    return clamd.verdicts()[before:]


def evidence_form(name: str, data: bytes) -> dict:
    return {"kind": "delivery_note", "file": (io.BytesIO(data), name)}


# --- infected -----------------------------------------------------------------------------------


def test_eicar_evidence_through_the_api_is_refused_unstored_and_audited(app, world, clamd):
    before, scans = stored(app), len(clamd.verdicts())
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("delivery-note.pdf", INFECTED_PDF),
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "infected"
    assert f"ClamAV found {SIGNATURE}" in error["message"]
    assert "“delivery-note.pdf”" in error["message"] and "nothing" in error["message"]
    assert stored(app) == before
    assert new_verdicts(clamd, scans) == [f"{SIGNATURE} FOUND"]

    [entry] = infected_entries(app)
    assert entry.actor_label == World.EMAILS["finance"]
    assert (entry.object_type, entry.object_id) == ("upload", None)
    after = entry.changes["after"]
    assert after["signature"] == SIGNATURE
    assert after["filename"] == "delivery-note.pdf"
    assert after["path"] == f"/api/v1/cases/{world.assigned_case}/evidence"
    assert after["size"] == len(INFECTED_PDF)


def test_eicar_on_the_evidence_page_refuses_the_whole_upload(app, world, clamd):
    """A form post with a clean and an infected file stores neither; the page's script (which
    asks for JSON) gets the message in the shape it shows."""
    client = signed_in(app, "legal")
    before = stored(app)
    page = client.post(
        f"/cases/{world.assigned_case}/evidence",
        data={
            "kind": "delivery_note",
            "file": [(io.BytesIO(PDF), "clean.pdf"), (io.BytesIO(EICAR), "eicar.com")],
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "Malware found" in page.text and SIGNATURE in page.text
    assert stored(app) == before

    script = client.post(
        f"/cases/{world.assigned_case}/evidence",
        data=evidence_form("eicar.txt", EICAR),
        headers={"Accept": "application/json"},
    )
    assert script.status_code == 422 and script.json["error"]["code"] == "infected"
    assert stored(app) == before
    entries = infected_entries(app)
    assert [entry.changes["after"]["filename"] for entry in entries] == ["eicar.com", "eicar.txt"]
    assert {entry.actor_label for entry in entries} == {World.EMAILS["legal"]}


#: Every route that takes a file, with the role that may use it and the other form fields:
#: (what, role, path, fields, file name, infected bytes). API routes are called with a token.
EVERY_UPLOAD = [
    ("evidence page", "finance", "/cases/{assigned_case}/evidence", {"kind": "contract"},
     "contract.pdf", INFECTED_PDF),
    ("evidence API", "finance", "/api/v1/cases/{assigned_case}/evidence", {"kind": "contract"},
     "contract.pdf", INFECTED_PDF),
    ("document version page", "legal", "/documents/{assigned_document}/upload", {},
     "letter.docx", infected_docx()),
    ("document version API", "legal", "/api/v1/documents/{assigned_document}/docx", {},
     "letter.docx", infected_docx()),
    ("statutory form", "admin", "/admin/forms",
     {"kind": "pap_debt_information_sheet", "edition": "GOV.UK 2017"}, "annex.pdf", INFECTED_PDF),
    ("CSV import page", "finance", "/imports/preview", {"kind": "invoices"}, "invoices.csv",
     INFECTED_CSV),
    ("CSV import API", "finance", "/api/v1/imports", {"kind": "invoices"}, "invoices.csv",
     INFECTED_CSV),
    ("certificate page", "lawyer", "/account/certificate", {"passphrase": "secret"},
     "counsel.p12", EICAR),
    ("certificate API", "lawyer", "/api/v1/users/me/certificate", {"passphrase": "secret"},
     "counsel.p12", EICAR),
    ("verify page", "finance", "/verify", {}, "bundle.pdf", INFECTED_PDF),
    ("verify API", "finance", "/api/v1/verify", {}, "bundle.pdf", INFECTED_PDF),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "role", "path", "fields", "name", "data"),
    EVERY_UPLOAD,
    ids=[row[0] for row in EVERY_UPLOAD],
)
def test_every_upload_is_scanned(app, world, what, role, path, fields, name, data):
    """The same refusal wherever a file arrives: the view never runs, so nothing is kept."""
    url = path.format(**vars(world))
    api = url.startswith("/api/")
    client = app.test_client() if api else signed_in(app, role)
    before = stored(app)
    response = client.post(
        url,
        data={**fields, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=bearer(app, role) if api else {},
    )
    assert response.status_code == 422, response.text
    if api:
        assert response.json["error"]["code"] == "infected"
        assert SIGNATURE in response.json["error"]["message"]
    else:
        assert "Malware found" in response.text and SIGNATURE in response.text
    assert stored(app) == before
    [entry] = infected_entries(app)
    assert entry.changes["after"]["path"] == url
    assert entry.actor_label == World.EMAILS[role]


# --- clean files ----------------------------------------------------------------------------


@pytest.mark.parametrize("scanner", ["socket", "tcp"], indirect=True)
def test_a_clean_file_is_scanned_then_stored(app, world, clamd):
    """Over the unix socket and over TCP: clamd says OK, the view stores the file as always."""
    before, scans = stored(app), len(clamd.verdicts())
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("delivery-note.pdf", PDF),
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 201, response.json
    assert new_verdicts(clamd, scans) == ["OK"]
    after = stored(app)
    assert after["evidence"] == before["evidence"] + 1
    with app.app_context():
        assert file_store().read(response.json["sha256"]) == PDF  # the bytes, unchanged
    assert infected_entries(app) == []


@pytest.mark.parametrize("scanner", ["tcp"], indirect=True)
def test_eicar_over_tcp_is_refused(app, world):
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("eicar.com", EICAR),
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 422
    assert SIGNATURE in response.json["error"]["message"]


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": len(INFECTED_PDF)}])
def test_a_route_with_a_larger_limit_is_scanned_when_it_reads_the_body(app, world, clamd):
    """/verify lets its body exceed the site-wide limit (for the multipart framing around a file
    of the largest size): such a body is parsed only inside the view, and scanned the moment it
    is, before the view reads it. Here the files fit the limit, their bodies do not."""
    client = signed_in(app, "finance")
    scans = len(clamd.verdicts())
    clean = client.post(
        "/verify",
        data={"file": (io.BytesIO(PDF), "two-pages.pdf")},
        content_type="multipart/form-data",
    )
    assert clean.status_code == 200 and 'id="verify-result"' in clean.text
    assert new_verdicts(clamd, scans) == ["OK"]
    infected = client.post(
        "/verify",
        data={"file": (io.BytesIO(INFECTED_PDF), "two-pages.pdf")},
        content_type="multipart/form-data",
    )
    assert infected.status_code == 422 and SIGNATURE in infected.text
    assert [entry.changes["after"]["path"] for entry in infected_entries(app)] == ["/verify"]
    # Any other route refuses such a body as too large, before it is scanned.
    too_large = client.post(
        f"/cases/{world.assigned_case}/evidence",
        data=evidence_form("two-pages.pdf", INFECTED_PDF),
        headers={"Accept": "application/json"},
    )
    assert too_large.status_code == 413
    assert len(infected_entries(app)) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_forged_form_post_is_refused_by_the_csrf_check_before_any_scan(app, world, clamd):
    """The scan runs after the CSRF check: a cross-site post is not scanned nor audited."""
    client = signed_in_with_csrf(app, "finance")
    scans = len(clamd.verdicts())
    response = client.post(
        f"/cases/{world.assigned_case}/evidence", data=evidence_form("eicar.com", EICAR)
    )
    assert response.status_code == 400
    time.sleep(0.2)  # a scan, had there been one, would be logged by now
    assert clamd.verdicts()[scans:] == [] and infected_entries(app) == []


def test_an_anonymous_infected_upload_is_refused_and_logged_not_audited(app, world, caplog):
    """Without a valid token the upload is still refused, but may not write to the audit
    trail (anyone could fill it); the log has it."""
    caplog.set_level(logging.WARNING, logger="portal.scanning")
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence", data=evidence_form("eicar.com", EICAR)
    )
    assert response.status_code == 422 and response.json["error"]["code"] == "infected"
    assert infected_entries(app) == []
    assert f"clamd found {SIGNATURE} in 'eicar.com'" in caplog.text


# --- the scanner does not answer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("scanner", "reason"),
    [
        ("missing", "No such file"),  # clamd never started
        ("dead", "Connection refused"),  # it crashed and left its socket
        ("silent", "timed out"),  # it hangs
        ("garbage", "I am not clamd"),  # something else listens there
    ],
    indirect=["scanner"],
)
def test_no_verdict_means_503_with_retry_after_and_nothing_stored(app, world, caplog, reason):
    caplog.set_level(logging.ERROR, logger="portal.scanning")
    before = stored(app)
    api = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("delivery-note.pdf", PDF),
        headers=bearer(app, "finance"),
    )
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "30"
    assert api.json["error"]["code"] == "scanner_unavailable"
    assert "nothing was stored" in api.json["error"]["message"]
    page = signed_in(app, "finance").post(
        f"/cases/{world.assigned_case}/evidence",
        data=evidence_form("delivery-note.pdf", PDF),
        content_type="multipart/form-data",
    )
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "malware scanner is not answering" in page.text
    assert stored(app) == before
    assert caplog.text.count("gave no verdict on 'delivery-note.pdf'") == 2
    assert reason in caplog.text
    assert infected_entries(app) == []


@pytest.mark.parametrize("scanner", ["small"], indirect=True)
def test_a_file_longer_than_clamds_stream_limit_is_refused_not_passed(app, world):
    """clamd configured below the portal's upload limit (here 100 KB, as Debian's 25 MB default
    is below the portal's 60 MB) hangs up on a longer stream; that is no verdict, so 503 —
    never an unscanned file stored."""
    before = stored(app)
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("scan.pdf", PDF + b"\n%" + b"0" * (300 * 1024)),
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert stored(app) == before


# --- scanning off, settings, the System page ------------------------------------------------


@pytest.mark.parametrize("scanner", ["off"], indirect=True)
def test_without_settings_uploads_work_as_before_and_no_scanner_is_contacted(
    app, world, monkeypatch
):
    contacted: list[tuple] = []
    for name in ("ClamdUnixSocket", "ClamdNetworkSocket"):
        monkeypatch.setattr(scanning, name, lambda *args, **kwargs: contacted.append(args))
    assert app.request_class is Request and scanning.EXTENSION not in app.extensions
    response = app.test_client().post(
        f"/api/v1/cases/{world.assigned_case}/evidence",
        data=evidence_form("delivery-note.pdf", PDF),
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 201
    page = signed_in(app, "admin").get("/admin/system").text
    assert 'id="malware-scanning"' in page and ">off</span>" in page
    assert "uploads are not scanned" in page
    assert contacted == []


def test_the_system_page_shows_the_scanner_and_its_version(app, world, clamd):
    page = signed_in(app, "admin").get("/admin/system")
    assert page.status_code == 200
    row = page.text.split('id="malware-scanning"')[1].split("</tr>")[0]
    assert ">on</span>" in row and str(clamd.socket) in row
    assert clamd.version() in row and clamd.version().startswith("ClamAV ")


@pytest.mark.parametrize("scanner", ["dead"], indirect=True)
def test_the_system_page_says_when_the_scanner_does_not_answer(app, world):
    row = signed_in(app, "admin").get("/admin/system").text.split('id="malware-scanning"')[1]
    row = row.split("</tr>")[0]
    assert "on, not answering" in row and "Connection refused" in row
    assert "Every upload is refused (503)" in row


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"CLAMD_SOCKET": "/run/clamav/clamd.ctl", "CLAMD_ADDRESS": "127.0.0.1:3310"}, "not both"),
        ({"CLAMD_ADDRESS": "clamav.internal"}, "host:port"),
        ({"CLAMD_ADDRESS": "clamav.internal:99999"}, "host:port"),
        ({"CLAMD_SOCKET": "/run/clamav/clamd.ctl", "CLAMD_TIMEOUT": 0}, "number of seconds"),
        ({"CLAMD_SOCKET": "/run/clamav/clamd.ctl", "CLAMD_TIMEOUT": "soon"}, "number of seconds"),
    ],
)
def test_contradictory_or_malformed_settings_stop_the_app_from_starting(
    tmp_path, settings, problem
):
    with pytest.raises(ValueError, match=problem):
        create_app(make_config(tmp_path, **settings))


def test_addresses_and_timeouts_are_read_as_written():
    clamd = scanning.Clamd.from_config({"CLAMD_ADDRESS": "[::1]:3310", "CLAMD_TIMEOUT": "2.5"})
    assert (clamd.address, clamd.timeout, clamd.where) == (("::1", 3310), 2.5, "[::1]:3310")
    assert scanning.Clamd.from_config({"CLAMD_SOCKET": ""}) is None  # empty = off
