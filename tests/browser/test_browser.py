"""The real pages in a real browser: Debian's Chromium, driven by Playwright, against the app
served over HTTP on 127.0.0.1 with CSRF protection on and the production cookie settings
(``SESSION_COOKIE_SECURE`` stays True: Chromium treats http://127.0.0.1 as a secure context).

One Chromium per module, a fresh browser context (cookies, storage) per test. The browser may
only talk to the test server: every other request is aborted and fails the test.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    expect,
)

from portal.cases.models import Case
from portal.extensions import db

from ..conftest import build_app
from ..factories import PASSWORD, World
from .conftest import TIMEOUT_MS, launch_chromium, serve

pytestmark = pytest.mark.browser

log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole module (starting it is the slow part)."""
    instance = launch_chromium(playwright)
    yield instance
    instance.close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Overrides conftest's ``app`` (so ``world`` uses it): CSRF on, Secure cookies as default."""
    yield from build_app(tmp_path, WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(app: Flask, world: World) -> Iterator[str]:
    """The app (with the ``world`` objects committed) on 127.0.0.1:<free port>; its base URL."""
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


# --- one browser context per test ------------------------------------------------------------


@dataclass
class Visit:
    """A page in a fresh browser context, and what went wrong in it."""

    page: Page
    base_url: str
    responses: list[Response] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def path(self) -> str:
        return urlsplit(self.page.url).path

    def statuses(self, path: str) -> list[int]:
        """Statuses of the responses the page got for ``path`` (a static file, a page)."""
        return [r.status for r in self.responses if urlsplit(r.url).path == path]


@pytest.fixture
def visit(browser: Browser, live_server: str) -> Iterator[Visit]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    state = Visit(page=page, base_url=live_server)

    def only_local(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        # Chromium's own PDF viewer (the document preview) loads chrome:// resources.
        if url.hostname == "127.0.0.1" or url.scheme in ("chrome", "chrome-extension"):
            route.continue_()
        else:
            state.blocked.append(request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            state.console_errors.append(message.text)

    context.route("**/*", only_local)
    page.on("response", lambda response: state.responses.append(response))
    page.on("pageerror", lambda error: state.js_errors.append(str(error)))
    page.on("console", on_console)
    try:
        yield state
    finally:
        context.close()
        for message in state.console_errors:
            log.info("browser console error: %s", message)
    assert state.blocked == [], "the pages tried to reach the network beyond 127.0.0.1"
    assert state.js_errors == [], "uncaught JavaScript errors"
    refused = [text for text in state.console_errors if "Content Security Policy" in text]
    assert refused == [], "the pages break their own Content-Security-Policy"


def forget_session(visit: Visit) -> None:
    """Drop the browser's session, as a user on another machine would start.

    First let every request of the page finish (the PDF viewer's worker script can still be
    loading): a response still in flight would set the session cookie again after it was
    cleared, since a permanent session is refreshed on every response.
    """
    visit.page.wait_for_load_state("networkidle")
    visit.page.goto("about:blank")
    visit.page.context.clear_cookies()


def sign_in(visit: Visit, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form (CSRF token included) and land on the dashboard."""
    page = visit.page
    if visit.path() != "/login":
        page.goto("/login")
    # Landing elsewhere means the browser still holds a session cookie.
    assert visit.path() == "/login", f"expected the sign-in page, got {page.url}"
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/login"
    ) as posted:
        page.get_by_role("button", name="Sign in").click()
    # 400 here would mean the CSRF check failed, e.g. the browser dropped the session cookie.
    assert posted.value.status == 302, (
        f"sign-in as {email} answered {posted.value.status}, cookies: {page.context.cookies()}"
    )
    page.wait_for_url(f"{visit.base_url}/")


def references(app: Flask, *case_ids: int) -> list[str]:
    with app.app_context():
        refs = [db.session.get(Case, case_id).reference for case_id in case_ids]
        db.session.remove()
    return refs


def column(visit: Visit, table: str, index: int) -> list[str]:
    """Text of one column in the table's visible body rows, top to bottom."""
    return visit.page.locator(
        f"#{table} tbody tr:not([hidden]) td:nth-child({index})"
    ).all_inner_texts()


# --- tests -----------------------------------------------------------------------------------


def test_sign_in_lands_on_styled_dashboard(visit: Visit, tmp_path: Path):
    page = visit.page
    page.goto("/")
    assert visit.path() == "/login", "an anonymous visitor is sent to sign in"
    assert urlsplit(page.url).query == "next=/"
    assert page.get_by_role("heading", name="Sign in").is_visible()

    sign_in(visit, World.EMAILS["legal"])

    assert page.get_by_role("heading", name="Open cases by stage").is_visible()
    assert page.get_by_role("heading", name="Good to see you, Legal User").is_visible()
    navbar = page.locator("nav.navbar")
    assert "Legal User" in navbar.inner_text()
    assert navbar.locator(".badge").inner_text() == "legal"
    assert page.locator(".card .display-6").first.inner_text() == "2", "two open cases"
    # The stage chart draws: both open cases are at reconciliation, so that bar is full width.
    bar = page.get_by_role("progressbar", name="Reconciliation").locator(".progress-bar")
    track = page.get_by_role("progressbar", name="Reconciliation")
    assert bar.bounding_box()["width"] == track.bounding_box()["width"] > 0
    empty = page.get_by_role("progressbar", name="Prosecution").locator(".progress-bar")
    assert empty.bounding_box()["width"] == 0

    # The session cookie is the production one: Secure, HttpOnly, SameSite=Lax.
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")

    # Bootstrap is loaded from /static and applied.
    sheets = page.evaluate("Array.from(document.styleSheets, (sheet) => sheet.href)")
    css = "/static/vendor/bootstrap/bootstrap.min.css"
    assert any(urlsplit(href).path == css for href in sheets if href)
    for path in (css, "/static/js/tables.js", "/static/vendor/bootstrap/bootstrap.bundle.min.js"):
        assert 200 in visit.statuses(path) and set(visit.statuses(path)) <= {200, 304}, path
    background = navbar.evaluate("(el) => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    assert page.evaluate("typeof bootstrap === 'object' && typeof bootstrap.Dropdown"), (
        "bootstrap.bundle.min.js ran"
    )

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, f"a screenshot of a rendered page, not a blank one ({len(data)} B)"
    width = int.from_bytes(data[16:20], "big")
    assert width == 1280


def test_case_list_sorts_and_users_list_filters(visit: Visit, app: Flask, world: World):
    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.goto("/cases/")
    assert page.get_by_role("heading", name="Cases", exact=True).is_visible()
    first, second = references(app, world.assigned_case, world.other_case)
    pairs = dict(zip(column(visit, "cases-table", 1), column(visit, "cases-table", 2), strict=True))
    assert set(pairs) == {first, second}

    # Headers sort the whole list on the server: a link flips the order, the page says which.
    reference = page.locator("#cases-table th", has_text="Reference")
    debtor = page.locator("#cases-table th", has_text="Debtor")
    assert reference.get_attribute("aria-sort") is None
    updated = page.locator("#cases-table th", has_text="Updated")
    assert updated.get_attribute("aria-sort") == "descending"  # the default order

    reference.get_by_role("link").click()
    page.wait_for_url("**/cases/?*sort=reference*dir=asc*")
    assert reference.get_attribute("aria-sort") == "ascending"
    assert column(visit, "cases-table", 1) == sorted([first, second])
    reference.get_by_role("link").click()
    page.wait_for_url("**/cases/?*sort=reference*dir=desc*")
    assert reference.get_attribute("aria-sort") == "descending"
    assert column(visit, "cases-table", 1) == sorted([first, second], reverse=True)

    # Another column takes over the sort; the keyboard works too.
    debtor.get_by_role("link").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/?*sort=debtor*dir=asc*")
    assert debtor.get_attribute("aria-sort") == "ascending"
    assert reference.get_attribute("aria-sort") is None
    debtors = column(visit, "cases-table", 2)
    assert debtors == sorted(debtors, key=str.lower)
    assert debtors[0].startswith("Debtor D-1 Ltd") and debtors[1].startswith("Debtor D-2 Ltd")
    # Rows move whole: each reference stays with its debtor.
    after = dict(zip(column(visit, "cases-table", 1), debtors, strict=True))
    assert after == pairs

    # The server-side search form (GET) narrows the list and keeps the order.
    page.get_by_label("Search").fill("D-2")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/cases/?*q=D-2*")
    assert column(visit, "cases-table", 1) == [second]
    assert debtor.get_attribute("aria-sort") == "ascending"

    # Users page (admin): the filter box hides rows as one types.
    forget_session(visit)
    sign_in(visit, World.EMAILS["admin"])
    page.goto("/admin/users")
    assert page.get_by_role("heading", name="Users", exact=True).is_visible()
    counter = page.locator('[data-count-for="users-table"]')
    rows = page.locator("#users-table tbody tr")
    assert rows.count() == 5 and counter.inner_text() == "5"

    box = page.locator('input[data-filter-for="users-table"]')
    box.fill("lawyer")
    assert sorted(column(visit, "users-table", 2)) == [
        "lawyer@tests.example",
        "other.lawyer@tests.example",
    ]
    assert counter.inner_text() == "2"
    assert rows.filter(has_text="admin@tests.example").is_hidden()
    box.fill("OTHER")
    assert column(visit, "users-table", 1) == ["Other Lawyer"]
    assert counter.inner_text() == "1"
    box.fill("nobody-matches-this")
    assert column(visit, "users-table", 1) == [] and counter.inner_text() == "0"
    box.fill("")
    assert len(column(visit, "users-table", 2)) == 5 and counter.inner_text() == "5"

    # Disabling asks first: dismissing changes nothing, accepting disables.
    finance_row = rows.filter(has_text="finance@tests.example")
    page.once("dialog", lambda dialog: dialog.dismiss())
    finance_row.get_by_role("button", name="Disable").click()
    assert finance_row.locator(".badge", has_text="active").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    finance_row.get_by_role("button", name="Disable").click()
    page.wait_for_load_state()
    assert page.get_by_text("finance@tests.example disabled.").is_visible()
    assert (
        rows.filter(has_text="finance@tests.example")
        .locator(".badge", has_text="disabled")
        .is_visible()
    )

    # Sorting the users table by e-mail, then back.
    email = page.locator("#users-table th[data-sort]", has_text="E-mail")
    email.click()
    emails = column(visit, "users-table", 2)
    assert email.get_attribute("aria-sort") == "ascending" and emails == sorted(emails)
    email.click()
    assert column(visit, "users-table", 2) == sorted(emails, reverse=True)


def test_wrong_password_csrf_and_sign_out(visit: Visit):
    page = visit.page
    page.goto("/login")
    token = page.locator('form input[name="csrf_token"]')
    assert token.get_attribute("type") == "hidden"
    assert len(token.get_attribute("value") or "") > 20

    page.get_by_label("E-mail").fill(World.EMAILS["legal"])
    page.get_by_label("Password").fill("not the password")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 401
    page.wait_for_load_state()
    assert visit.path() == "/login"
    assert page.get_by_role("alert").inner_text().strip() == (
        "The e-mail or the password is wrong, or the account is disabled."
    )
    assert page.get_by_label("E-mail").input_value() == World.EMAILS["legal"]
    assert page.get_by_label("Password").input_value() == "", "the password is not echoed"

    # A POST without the token is refused (CSRF is really on in this app).
    refused = page.request.post(
        "/login", form={"email": World.EMAILS["legal"], "password": PASSWORD}, max_redirects=0
    )
    assert refused.status == 400
    assert "the form may have expired" in refused.text()

    # The real form, with its token, signs in.
    sign_in(visit, World.EMAILS["legal"])
    assert "Legal User" in page.locator("nav.navbar").inner_text()

    # Sign out: the navbar button posts a form that carries the CSRF token.
    sign_out = page.locator("nav form").filter(has=page.get_by_role("button", name="Sign out"))
    assert sign_out.get_attribute("method") == "post"
    assert len(sign_out.locator('input[name="csrf_token"]').get_attribute("value") or "") > 20
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{visit.base_url}/login")
    assert "You are signed out on every device." in page.get_by_role("alert").inner_text()
    assert page.locator("nav.navbar").get_by_text("Legal User").count() == 0

    page.goto("/")
    assert visit.path() == "/login", "signed out for real: the dashboard asks to sign in again"


def test_lawyer_sees_only_assigned_case(visit: Visit, app: Flask, world: World):
    page = visit.page
    assigned, other = references(app, world.assigned_case, world.other_case)
    sign_in(visit, World.EMAILS["lawyer"])
    assert page.locator("nav.navbar").get_by_role("link", name="My cases").is_visible()

    page.goto("/cases/")
    assert page.get_by_role("heading", name="Cases assigned to you").is_visible()
    assert column(visit, "cases-table", 1) == [assigned]
    assert other not in page.content()

    response = page.goto(f"/cases/{world.assigned_case}")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", name=assigned).is_visible()

    response = page.goto(f"/cases/{world.other_case}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "404 Not Found"
    assert page.get_by_text("There is nothing here, or you do not have access to it.").is_visible()
    assert other not in page.content() and "Debtor D-2" not in page.content()


def test_aging_chart_draws_and_the_event_form_shows_the_chosen_fields(
    visit: Visit, app: Flask, world: World
):
    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.get_by_role("link", name="Aging").click()
    page.wait_for_url("**/ledger/aging")
    assert page.get_by_role("heading", name="Aging of receivables").is_visible()
    # One stacked bar per currency (GBP and CNY in the world), drawn with non-zero segments
    # that together span the bar.
    for currency in ("CNY", "GBP"):
        chart = page.locator(f"svg#aging-chart-{currency}")
        assert chart.is_visible()
        track = chart.locator("rect.aging-track").bounding_box()
        rects = chart.locator("rect[data-bucket]").all()
        segments = [box for box in (rect.bounding_box() for rect in rects) if box]
        assert segments and all(box["width"] > 0 and box["height"] > 0 for box in segments)
        assert abs(sum(box["width"] for box in segments) - track["width"]) < 1.5
        colour = chart.locator("rect[data-bucket]").first.evaluate(
            "(el) => getComputedStyle(el).fill"
        )
        assert colour not in ("none", "rgb(0, 0, 0)"), colour
    gbp = page.locator("#aging-table tfoot tr[data-currency=GBP] td").all_inner_texts()
    assert gbp[-1] == "3,500.00"

    # The case page's event form: the type select shows that type's fields only.
    (assigned,) = references(app, world.assigned_case)
    page.goto(f"/cases/{world.assigned_case}")
    contact = page.locator('fieldset[data-event-type="contact"]')
    promise = page.locator('fieldset[data-event-type="promise"]')
    assert contact.is_visible() and promise.is_hidden()
    assert page.locator("fieldset[data-event-type]:visible").count() == 1
    page.get_by_label("What happened").select_option("promise")
    assert promise.is_visible() and contact.is_hidden()
    assert contact.evaluate("(el) => el.disabled") and not promise.evaluate("(el) => el.disabled")
    assert page.locator("fieldset[data-event-type]:visible").count() == 1
    promise.get_by_label("Amount promised").fill("750.00")
    promise.get_by_label("To be paid by").fill("2099-01-31")
    page.locator("#event-form").get_by_role("button", name="Record").click()
    page.wait_for_url(f"**/cases/{world.assigned_case}#timeline")
    timeline = page.locator("#timeline .timeline-item")
    assert timeline.count() == 1
    assert "Promise to pay GBP 750.00 by 2099-01-31" in timeline.inner_text()
    assert timeline.locator(".badge", has_text="pending").is_visible()
    assert f"recorded on {assigned}" in page.get_by_role("alert").first.inner_text()


RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def test_evidence_upload_reports_each_file_and_the_table_shows_them(
    visit: Visit, app: Flask, world: World, tmp_path: Path
):
    page = visit.page
    sign_in(visit, World.EMAILS["finance"])
    page.goto(f"/cases/{world.assigned_case}")
    form = page.locator("#evidence-upload")
    assert form.is_visible()
    form.get_by_label("Kind of document").select_option("delivery_note")
    form.get_by_label("INV-I-1", exact=True).check()
    form.get_by_label("Document date").fill("2025-01-08")
    form.get_by_label("Signed by the debtor").select_option("yes")
    form.get_by_label("Source").fill("debtor")

    # A file dropped on the zone lands in the file input.
    dropped = page.evaluate(
        """() => {
          const zone = document.querySelector("[data-dropzone]");
          const transfer = new DataTransfer();
          transfer.items.add(new File(["dropped"], "dropped.txt", { type: "text/plain" }));
          zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true,
                                                         cancelable: true }));
          const active = zone.classList.contains("dropzone-active");
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true,
                                                     cancelable: true }));
          const input = document.getElementById("evidence-file");
          return [active, zone.classList.contains("dropzone-active"),
                  Array.from(input.files, (file) => file.name)];
        }"""
    )
    assert dropped == [True, False, ["dropped.txt"]]

    # Two good files and one that is HTML named .pdf, chosen in the input (replacing the drop).
    page.set_input_files(
        "#evidence-file",
        [
            RESOURCES / "good" / "two-pages.pdf",
            RESOURCES / "good" / "scan.png",
            RESOURCES / "corpus" / "delivery.pdf",
        ],
    )
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path.endswith("/evidence")
            and "delivery.pdf" in (r.request.post_data_buffer or b"").decode("latin-1")
        )
    ) as refused:
        form.get_by_role("button", name="Upload", exact=True).click()
    # One request per file, answered in JSON.
    assert 400 <= refused.value.status < 500
    assert refused.value.json()["error"]["name"] == "delivery.pdf"
    results = form.locator(".upload-item[data-result]")
    expect(results).to_have_count(3, timeout=TIMEOUT_MS)
    expect(form.locator("[data-upload-done]")).to_be_visible()

    rows = {item.locator(".upload-name").inner_text(): item for item in results.all()}
    assert set(rows) == {"two-pages.pdf", "scan.png", "delivery.pdf"}
    for name in ("two-pages.pdf", "scan.png"):
        assert rows[name].get_attribute("data-result") == "stored"
        assert re.fullmatch(r"stored as #\d+", rows[name].locator(".upload-status").inner_text())
    refusal = rows["delivery.pdf"].locator(".upload-status")
    assert rows["delivery.pdf"].get_attribute("data-result") == "refused"
    assert "web page or other markup" in refusal.inner_text()
    assert refusal.evaluate("(el) => getComputedStyle(el).color") == "rgb(220, 53, 69)", "red"
    # Every bar reached 100 %: the request body was sent in full (the bars animate their width).
    for item in rows.values():
        assert item.locator(".progress").get_attribute("aria-valuenow") == "100"
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll(".upload-item .progress")).every(
             (track) => Math.abs(track.firstElementChild.getBoundingClientRect().width
                                 - track.getBoundingClientRect().width) < 1)"""
    )
    colour = (
        rows["delivery.pdf"]
        .locator(".progress-bar")
        .evaluate("(el) => getComputedStyle(el).backgroundColor")
    )
    assert colour == "rgb(220, 53, 69)"

    shot = tmp_path / "evidence-upload.png"
    form.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The page reloads on request and the table lists the two stored files with their fields.
    with page.expect_navigation():
        page.get_by_role("button", name="Reload to see the checklist").click()
    assert form.locator("[data-upload-done]").is_hidden()
    assert form.locator(".upload-item").count() == 0
    table = page.locator("#evidence-table")
    names = [name.strip() for name in table.locator("tbody .evidence-name").all_inner_texts()]
    assert any(name.startswith("two-pages.pdf") for name in names)
    assert any(name.startswith("scan.png") for name in names)
    assert not any(name.startswith("delivery.pdf") for name in names)
    stored = table.locator("tbody tr", has_text="two-pages.pdf")
    assert "2025-01-08" in stored.inner_text() and "INV-I-1" in stored.inner_text()
    assert stored.locator(".rendition-status").inner_text() == "done"
    assert stored.get_by_role("link", name=re.compile("Download the original")).is_visible()
    # The checklist is on the page, with the next stage's findings or its green light.
    assert page.locator("#checklist-next").inner_text().startswith("Before notice:")
    page.screenshot(path=str(tmp_path / "case-page.png"), full_page=True)


def test_generate_a_letter_then_bulk_generate_with_a_progress_bar(
    visit: Visit, app: Flask, world: World
):
    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.goto(f"/cases/{world.assigned_case}")
    form = page.locator("#generate-form")
    form.get_by_label("Document").select_option("advance_notice")
    form.get_by_label("Mode").select_option("draft")
    with page.expect_navigation():
        form.get_by_role("button", name="Generate").click()
    # The new version's page: status, the PDF in the portal's viewer, its hashes.
    assert re.fullmatch(r"/documents/\d+", visit.path())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Advance notice")
    viewer = page.locator("[data-pdf-viewer]")
    expect(viewer).to_have_attribute("data-pdf-state", "open")
    pdf_path = viewer.get_attribute("data-pdf-src")
    assert visit.statuses(pdf_path) == [200]
    answer = page.request.get(pdf_path)
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body()[:5] == b"%PDF-"
    page.goto(f"/cases/{world.assigned_case}")
    documents = page.locator("#documents table tbody tr")
    expect(documents.filter(has_text="Advance notice")).to_have_count(1)

    # Bulk: tick every case with the box in the header, start, and watch the bar fill.
    page.goto("/documents/bulk")
    page.get_by_label("Select all").check()
    assert page.locator('input[name="cases"]:checked').count() == 2
    page.get_by_label("Document").select_option("warning_letter")
    with page.expect_navigation():
        page.get_by_role("button", name="Start").click()
    assert re.fullmatch(r"/jobs/\d+", visit.path())
    bar = page.locator("[data-job-bar]")
    expect(bar).to_have_text("100%", timeout=TIMEOUT_MS)
    expect(page.locator("[data-job-badge]")).to_have_text("done")
    expect(page.locator("[data-job-summary]")).to_have_text("2 generated, 0 failed")
    link = page.get_by_role("link", name="Download the zip")
    expect(link).to_be_visible()
    archive = page.request.get(link.get_attribute("href"))
    assert archive.status == 200 and archive.body()[:2] == b"PK"


def test_counsel_signs_a_demand_letter_on_the_review_page(visit: Visit, app: Flask, world: World):
    from portal.accounts.models import User
    from portal.audit.services import Actor
    from portal.review.certificates import register_certificate

    from ..documents.test_documents_api import complete_the_lawyer
    from ..review.flow import PASSPHRASE, trusted_pki

    complete_the_lawyer(app)
    pki = trusted_pki(app)
    with app.app_context():
        lawyer = db.session.get(User, world.lawyer)
        register_certificate(Actor.cli(), lawyer, pki["p12"], PASSPHRASE)
        db.session.commit()
        db.session.remove()

    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.goto(f"/cases/{world.assigned_case}")
    form = page.locator("#generate-form")
    form.get_by_label("Document").select_option("demand_letter")
    form.get_by_label("Mode").select_option("final")
    with page.expect_navigation():
        form.get_by_role("button", name="Generate").click()
    document_path = visit.path()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".badge", has_text="in review").first).to_be_visible()
    forget_session(visit)

    sign_in(visit, World.EMAILS["lawyer"])
    # The navigation counts the letter waiting; the queue leads to the review page.
    expect(page.get_by_role("link", name=re.compile("Review queue"))).to_contain_text("1")
    page.goto("/review")
    with page.expect_navigation():
        page.locator("#queue-table a", has_text="Review").first.click()
    assert visit.path() == f"{document_path}/review"
    expect(page.locator("#statement")).to_contain_text("have reviewed demand letter version 1")
    approve = page.locator("#approve-form")
    approve.get_by_label("Your portal password").fill(PASSWORD)
    approve.get_by_label("Certificate passphrase").fill(PASSPHRASE)
    approve.get_by_role("checkbox").check()
    with page.expect_navigation():
        approve.get_by_role("button", name="Approve and sign").click()
    assert visit.path() == document_path
    expect(page.locator("#signature-check")).to_contain_text("Signature verified")
    signed = page.request.get(f"{document_path}/pdf?download=1")
    assert signed.status == 200 and b"/ByteRange" in signed.body()


def test_counsel_signs_a_filing_bundle_on_its_page(
    visit: Visit, app: Flask, world: World, tmp_path: Path
):
    from portal.accounts.models import User
    from portal.audit.services import Actor
    from portal.review.certificates import register_certificate

    from ..bundles.test_bundle_review import build
    from ..bundles.test_bundles_api import ready_case
    from ..review.flow import PASSPHRASE, trusted_pki

    # The case is made ready through the API (tokens, no CSRF) before the browser comes in.
    api = app.test_client()
    bundle_id = build(api, app, ready_case(app, api, world), "ew_court")["id"]
    pki = trusted_pki(app)
    with app.app_context():
        lawyer = db.session.get(User, world.lawyer)
        register_certificate(Actor.cli(), lawyer, pki["p12"], PASSPHRASE)
        db.session.commit()
        db.session.remove()

    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.goto(f"/bundles/{bundle_id}")
    review = page.locator("#review")
    review.get_by_label("Note for counsel (optional)").fill("For filing at the County Court.")
    with page.expect_navigation():
        review.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#review-status")).to_have_text("in review")
    forget_session(visit)

    sign_in(visit, World.EMAILS["lawyer"])
    page.goto("/review")
    row = page.locator("#queue-table tbody tr", has_text="Filing bundle")
    with page.expect_navigation():
        row.get_by_role("link", name="Review").click()
    assert visit.path() == f"/bundles/{bundle_id}"
    expect(page.locator("#statement")).to_contain_text("have reviewed filing bundle version")
    approve = page.locator("#approve-form")
    approve.get_by_label("Your portal password").fill(PASSWORD)
    approve.get_by_label("Certificate passphrase").fill(PASSPHRASE)
    approve.get_by_role("checkbox").check()
    with page.expect_navigation():
        approve.get_by_role("button", name="Approve and sign").click()
    expect(page.locator("#review-status")).to_have_text("signed")
    expect(page.locator("#signature-check")).to_contain_text("Volume 1 verified")
    expect(page.locator("#bundle-zip")).to_contain_text("Download signed zip")
    page.screenshot(path=str(tmp_path / "bundle-signed.png"), full_page=True)
    signed = page.request.get(f"/bundles/{bundle_id}/volumes/1?download=1")
    assert signed.status == 200 and b"/ByteRange" in signed.body()


def test_admin_uploads_a_statutory_form_and_confirms_rates_legal_records_the_agreement(
    visit: Visit, app: Flask, world: World, tmp_path: Path
):
    """What the documents state, kept where it belongs, through the real forms (CSRF on)."""
    from reportlab.pdfgen import canvas

    form = tmp_path / "reply-form.pdf"
    drawing = canvas.Canvas(str(form))
    drawing.drawString(72, 720, "Reply Form")
    drawing.save()
    page = visit.page
    sign_in(visit, World.EMAILS["admin"])

    page.goto("/admin/forms")
    card = page.locator('[data-form-kind="pap_debt_reply_form"]')
    expect(card).to_contain_text("not uploaded")
    page.get_by_label("Form").select_option("pap_debt_reply_form")
    page.get_by_label("Publication").fill("PAP-Debt Annex 1, GOV.UK, 1 October 2017")
    page.get_by_label("Official PDF").set_input_files(str(form))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".alert-success")).to_contain_text("Reply Form version 1 saved")
    expect(card).to_contain_text("version 1")
    # Let the page finish loading (its stylesheet too) before leaving it: a request cut off
    # mid-answer leaves the test server with an unclosed file.
    page.wait_for_load_state("load")

    page.goto("/admin/rates")
    confirm = page.locator("#confirm-form")
    confirm.get_by_label("Kind").select_option("boe_base")
    confirm.get_by_label("What you checked").fill("Bank of England, Bank Rate page")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("boe_base confirmed through")
    page.wait_for_load_state("load")

    forget_session(visit)
    sign_in(visit, World.EMAILS["legal"])
    page.goto(f"/cases/{world.assigned_case}")
    agreement = page.locator("#agreement")
    agreement.get_by_label("Form").select_option("written")
    agreement.get_by_label("Date made").fill("2024-11-01")
    agreement.get_by_label("Parties").fill("Creditor Trading Ltd and Debtor D-1 Ltd")
    agreement.get_by_label("The contract lets the creditor recover its lawyer's fees").check()
    agreement.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("agreement saved")
    expect(page.locator("#agreement")).to_contain_text("recoverable under the contract")
    expect(page.locator("#agreement")).to_contain_text("Creditor Trading Ltd and Debtor D-1 Ltd")
    page.wait_for_load_state("load")
