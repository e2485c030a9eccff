"""The import pages: upload → preview → confirm, stale tokens, access, CSRF."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path

import pytest

from ..conftest import login
from ..factories import World
from .conftest import counts, import_audits, invoice_row, write_csv
from .test_files import PNG


@pytest.fixture
def finance(client, world, ledger):
    assert login(client, World.EMAILS["finance"]).status_code == 302
    return client


def upload(client, data: bytes, kind="invoices", filename="invoices.csv"):
    return client.post(
        "/imports/preview",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def pending_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.glob("*.bin")) if folder.exists() else []


def token_of(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)


def state(app) -> dict[str, int]:
    with app.app_context():
        return counts()


def test_form(finance):
    page = finance.get("/imports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert '<option value="invoices">Invoices</option>' in html
    assert 'accept=".csv,.xlsx"' in html
    assert "<strong>external_id</strong>" in html
    assert "style=" not in html and "<script>" not in html


def test_preview_then_confirm(app, finance, tmp_path):
    data = write_csv(tmp_path / "i.csv", [invoice_row(n) for n in range(1, 21)]).read_bytes()
    before = state(app)
    preview = upload(finance, data)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Ready: 20 to create, 0 to update." in html
    assert state(app) == before
    (kept,) = pending_files(app)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_bytes() == data
    token = token_of(html)
    assert kept.name == f"{token}.bin"

    confirmed = finance.post("/imports/confirm", data={"token": token})
    assert confirmed.status_code == 303
    assert pending_files(app) == []
    assert state(app)["invoices"] == before["invoices"] + 20
    with app.app_context():
        (audit,) = import_audits()
        assert audit.actor_label == World.EMAILS["finance"]
        assert audit.changes["after"]["filename"] == "invoices.csv"
    page = finance.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "Imported 20 invoices: 20 created, 0 updated." in page

    # The same token again: nothing waits any more.
    again = finance.post("/imports/confirm", data={"token": token}, follow_redirects=True)
    assert "no longer waiting for confirmation" in again.get_data(as_text=True)
    assert state(app)["invoices"] == before["invoices"] + 20

    # The same file again: nothing to import, no confirm button, nothing kept.
    same = upload(finance, data).get_data(as_text=True)
    assert "Nothing to import: all 20 rows already match the ledger." in same
    assert 'name="token"' not in same
    assert pending_files(app) == []


def test_errors_are_listed_and_nothing_is_kept(app, finance, tmp_path):
    rows = [invoice_row(1), invoice_row(2, debtor="NOPE"), invoice_row(3, due_date="soon")]
    preview = upload(finance, write_csv(tmp_path / "i.csv", rows).read_bytes())
    assert preview.status_code == 422
    html = preview.get_data(as_text=True)
    assert "2 errors: nothing will be imported." in html
    assert "<td>3</td>" in html and "Unknown debtor &#39;NOPE&#39;." in html
    assert "<td>4</td>" in html and "<code>due_date</code>" in html
    assert 'name="token"' not in html
    assert pending_files(app) == []


def test_forged_or_stale_tokens(app, finance, tmp_path):
    data = write_csv(tmp_path / "i.csv", [invoice_row(1)]).read_bytes()
    token = token_of(upload(finance, data).get_data(as_text=True))
    before = state(app)
    for forged in ("../../secret_key", "A" * 43, ""):
        page = finance.post("/imports/confirm", data={"token": forged}, follow_redirects=True)
        assert "no longer waiting for confirmation" in page.get_data(as_text=True)
    assert state(app) == before
    # A second upload replaces the first: its token is stale and its file gone.
    second = token_of(upload(finance, data).get_data(as_text=True))
    assert [path.stem for path in pending_files(app)] == [second]
    page = finance.post("/imports/confirm", data={"token": token}, follow_redirects=True)
    assert "no longer waiting for confirmation" in page.get_data(as_text=True)
    # A file changed on disk since the preview is not imported.
    pending_files(app)[0].write_bytes(data + b"\n")
    page = finance.post("/imports/confirm", data={"token": second}, follow_redirects=True)
    assert "no longer waiting for confirmation" in page.get_data(as_text=True)
    assert state(app) == before


def test_cancel(app, finance, tmp_path):
    data = write_csv(tmp_path / "i.csv", [invoice_row(1)]).read_bytes()
    token = token_of(upload(finance, data).get_data(as_text=True))
    assert len(pending_files(app)) == 1
    response = finance.post("/imports/cancel", follow_redirects=True)
    assert "Import cancelled; nothing was imported." in response.get_data(as_text=True)
    assert pending_files(app) == []
    page = finance.post("/imports/confirm", data={"token": token}, follow_redirects=True)
    assert "no longer waiting for confirmation" in page.get_data(as_text=True)


def test_ledger_changed_between_preview_and_confirm(app, finance, tmp_path):
    """Confirm checks again: a row that became bad is reported and nothing is written."""
    from portal.extensions import db
    from portal.ledger.models import Debtor

    data = write_csv(tmp_path / "i.csv", [invoice_row(1, debtor="EW-0049")]).read_bytes()
    token = token_of(upload(finance, data).get_data(as_text=True))
    with app.app_context():
        debtor = db.session.scalar(db.select(Debtor).where(Debtor.external_id == "EW-0049"))
        debtor.external_id = "EW-0049-OLD"
        db.session.commit()
    before = state(app)
    response = finance.post("/imports/confirm", data={"token": token})
    assert response.status_code == 422
    assert "Unknown debtor &#39;EW-0049&#39;." in response.get_data(as_text=True)
    assert state(app) == before
    assert pending_files(app) == []


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (PNG, 415, "The file is binary"),
        (b"<html><body>Export</body></html>", 415, "The file looks like HTML"),
    ],
)
def test_refused_files_are_shown_on_the_form(app, finance, data, status, message):
    response = upload(finance, data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert pending_files(app) == []


def test_too_large_upload(app, finance, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 200
    data = write_csv(tmp_path / "i.csv", [invoice_row(n) for n in range(1, 5)]).read_bytes()
    response = upload(finance, data)
    assert response.status_code == 413
    assert "The file is larger than 200 bytes" in response.get_data(as_text=True)


def test_missing_file(finance):
    response = finance.post("/imports/preview", data={"kind": "debtors"})
    assert response.status_code == 422
    assert "Choose a file." in response.get_data(as_text=True)


def test_access(app, client, world, ledger):
    for path, method in (("/imports/", "GET"), ("/imports/preview", "POST")):
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, World.EMAILS["lawyer"])
    assert client.get("/imports/").status_code == 403
    assert client.post("/imports/confirm", data={"token": "x"}).status_code == 403
    client.post("/logout")
    login(client, World.EMAILS["legal"])
    assert client.get("/imports/").status_code == 200


def test_flow_with_csrf_protection(csrf_app, tmp_path):
    from portal.extensions import db

    from ..factories import PASSWORD, build_world, make_creditor
    from .conftest import add_debtors

    with csrf_app.app_context():
        build_world()
        make_creditor("NWC-UK")
        add_debtors(["EW-0002"])
        db.session.commit()
        before = counts()["invoices"]
    client = csrf_app.test_client()

    def csrf_token(html: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    login_page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={
            "email": World.EMAILS["finance"],
            "password": PASSWORD,
            "csrf_token": csrf_token(login_page),
        },
    )
    form = client.get("/imports/").get_data(as_text=True)
    data = write_csv(tmp_path / "i.csv", [invoice_row(1)]).read_bytes()
    without = client.post(
        "/imports/preview",
        data={"kind": "invoices", "file": (io.BytesIO(data), "i.csv")},
        content_type="multipart/form-data",
    )
    assert without.status_code == 400
    preview = client.post(
        "/imports/preview",
        data={
            "kind": "invoices",
            "file": (io.BytesIO(data), "i.csv"),
            "csrf_token": csrf_token(form),
        },
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    token = token_of(html)
    assert client.post("/imports/confirm", data={"token": token}).status_code == 400
    assert client.post("/imports/cancel").status_code == 400
    done = client.post("/imports/confirm", data={"token": token, "csrf_token": csrf_token(html)})
    assert done.status_code == 303
    with csrf_app.app_context():
        assert counts()["invoices"] == before + 1


@pytest.mark.parametrize("role", ["finance", "legal"])
def test_import_page_is_in_the_navigation_with_the_creditor_codes(client, world, role):
    assert login(client, World.EMAILS[role]).status_code == 302
    dashboard = client.get("/").get_data(as_text=True)
    nav = dashboard[dashboard.index("<nav") : dashboard.index("</nav>")]
    assert re.search(r'<a class="nav-link[^"]*" href="/imports/">.*Import</a>', nav)

    page = client.get("/imports/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="nav-link active" href="/imports/"' in html, "the link is marked as the page"
    # The world's one creditor entity, with the code an invoice row's creditor column takes.
    codes = html[html.index('id="creditor-codes"') :]
    assert re.search(r"<td><code>CRED</code></td><td>Creditor Trading Ltd</td>", codes)
    assert "(with one entity the column may stay empty)" in codes


def test_lawyers_have_no_import_link(client, world):
    assert login(client, World.EMAILS["lawyer"]).status_code == 302
    assert 'href="/imports/"' not in client.get("/").get_data(as_text=True)
    assert client.get("/imports/").status_code == 403
