"""The portal's own PDF viewer (PDF.js, vendored) in Debian's Chromium: PDFs are served with
``Content-Security-Policy: default-src 'none'; sandbox``, which leaves Chromium's built-in viewer
blank, so the pages are drawn by ``static/js/pdf-viewer.js`` on one canvas each.

A real filing bundle (exhibits, a statement of claim made by LibreOffice) is built through the
API before the browser comes in; the viewer must show every page of its volume and of the claim,
under the portal's own Content-Security-Policy with not one violation.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import img2pdf
import pikepdf
import pytest
from flask import Flask
from PIL import Image, ImageCms, ImageDraw
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Request,
    Route,
    expect,
)
from sqlalchemy import select

from portal.documents.models import Document, DocumentKind
from portal.extensions import db

from ..conftest import build_app
from ..factories import PASSWORD, World
from .conftest import TIMEOUT_MS, launch_chromium, serve

pytestmark = pytest.mark.browser

log = logging.getLogger(__name__)

#: What Chromium logs when a Content-Security-Policy refuses something (page or worker).
CSP_REFUSALS = ("Content Security Policy", "Refused to")

#: A canvas's pixels: how many are not white, on a grid of at most 200 × 200 samples.
INK = """(canvas) => {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const pixels = context.getImageData(0, 0, width, height).data;
  const stepX = Math.max(1, Math.floor(width / 200));
  const stepY = Math.max(1, Math.floor(height / 200));
  let ink = 0;
  for (let y = 0; y < height; y += stepY) {
    for (let x = 0; x < width; x += stepX) {
      const at = (y * width + x) * 4;
      if (pixels[at] < 250 || pixels[at + 1] < 250 || pixels[at + 2] < 250) ink += 1;
    }
  }
  return ink;
}"""


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = launch_chromium(playwright)
    yield instance
    instance.close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Overrides conftest's ``app`` (so ``world`` uses it): CSRF on, as in production."""
    yield from build_app(tmp_path, WTF_CSRF_ENABLED=True)


def scanned_pdf() -> bytes:
    """Two scanned pages as a copier makes them: a JPEG with an ICC profile (``/ICCBased``) and
    a JPEG 2000 image (``/JPXDecode``). PDF.js decodes both with WebAssembly when it may; under
    the portal's policy it must use its JavaScript decoders, without one refusal."""
    page = Image.new("RGB", (600, 400), "white")
    drawing = ImageDraw.Draw(page)
    drawing.rectangle((50, 50, 550, 350), fill=(200, 30, 30))
    drawing.text((80, 80), "Delivery note, signed and sealed", fill="black")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg, jpeg2000 = io.BytesIO(), io.BytesIO()
    page.save(jpeg, "JPEG", icc_profile=profile, dpi=(150, 150))
    page.save(jpeg2000, "JPEG2000", dpi=(150, 150))
    return img2pdf.convert([jpeg.getvalue(), jpeg2000.getvalue()])


@pytest.fixture
def bundle_id(app: Flask, world: World) -> int:
    """A real filing bundle of the assigned case, built through the API (no CSRF there), with
    a scanned exhibit among the others."""
    from ..bundles.test_bundle_review import build, upload_pdf
    from ..bundles.test_bundles_api import ready_case

    api = app.test_client()
    case = ready_case(app, api, world)
    upload_pdf(api, app, case, "scan.pdf", scanned_pdf(), "delivery_note", "2025-02-01")
    return build(api, app, case, "ew_court")["id"]


@pytest.fixture
def live_server(app: Flask, bundle_id: int) -> Iterator[str]:
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}"


@dataclass
class Visit:
    page: Page
    base_url: str
    console: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def path(self) -> str:
        return urlsplit(self.page.url).path


@pytest.fixture
def visit(browser: Browser, live_server: str) -> Iterator[Visit]:
    """A fresh context that may reach only the test server; every console message (the
    worker's included) is kept, and none may be a Content-Security-Policy refusal."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    state = Visit(page=page, base_url=live_server)

    def only_local(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            state.blocked.append(request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        source = "worker" if message.worker else "page"
        state.console.append(f"[{message.type} {source}] {message.text}")

    context.route("**/*", only_local)
    context.on("console", on_console)
    page.on("pageerror", lambda error: state.js_errors.append(str(error)))
    try:
        yield state
    finally:
        context.close()
        for line in state.console:
            log.info("browser console: %s", line)
    assert state.blocked == [], "the viewer reached beyond 127.0.0.1 (a CDN?)"
    assert state.js_errors == [], "uncaught JavaScript errors"
    refused = [line for line in state.console if any(text in line for text in CSP_REFUSALS)]
    assert refused == [], "the viewer breaks the portal's Content-Security-Policy"


def sign_in(visit: Visit, email: str) -> None:
    page = visit.page
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{visit.base_url}/")


def page_shapes(data: bytes) -> list[float]:
    """Width ÷ height of each page as a viewer shows it (rotation applied), read by pikepdf."""
    shapes = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for item in pdf.pages:
            box = item.cropbox
            width, height = float(box[2] - box[0]), float(box[3] - box[1])
            if int(item.obj.get("/Rotate", 0)) % 180:
                width, height = height, width
            shapes.append(width / height)
    return shapes


def image_kinds(data: bytes) -> set[str]:
    """The colour spaces and filters of the PDF's images."""
    kinds = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for item in pdf.pages:
            for image in item.get_images().values():
                space = image.get("/ColorSpace")
                kinds.add(str(space[0] if isinstance(space, pikepdf.Array) else space))
                kinds.add(str(image.get("/Filter")))
    return kinds


def open_viewer(visit: Visit) -> tuple[Locator, bytes]:
    """The viewer on the current page, once its document is open, and the PDF it shows."""
    viewer = visit.page.locator("[data-pdf-viewer]")
    expect(viewer).to_have_attribute("data-pdf-state", "open")
    src = viewer.get_attribute("data-pdf-src")
    answer = visit.page.request.get(src)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    # Served inline, but sandboxed and never framed: the viewer fetches it, no frame shows it.
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert answer.headers["x-frame-options"] == "DENY"
    return viewer, answer.body()


def drawn(canvas: Locator) -> int:
    """Wait for the page on ``canvas`` to be drawn; how much ink it shows."""
    expect(canvas).to_have_attribute("data-rendered", "true")
    assert canvas.get_attribute("data-render-error") is None
    return canvas.evaluate(INK)


def check_every_page(viewer: Locator, data: bytes) -> None:
    """One canvas per page, shaped like it, each drawn with ink when next brings it up."""
    shapes = page_shapes(data)
    canvases = viewer.locator("canvas")
    expect(canvases).to_have_count(len(shapes))
    assert viewer.get_attribute("data-pdf-page-count") == str(len(shapes))
    expect(viewer.locator("[data-pdf-pages]")).to_have_text(str(len(shapes)))
    # Every canvas has its page's shape before it is drawn (pages further on are not drawn yet).
    # Measured in one go: a canvas is replaced by a new one when its page has been drawn.
    boxes = canvases.evaluate_all(
        "(all) => all.map((canvas) => [canvas.offsetWidth, canvas.offsetHeight])"
    )
    for index, ((width, height), shape) in enumerate(zip(boxes, shapes, strict=True)):
        assert abs(width / height - shape) < 0.01, f"page {index + 1}"
    counter = viewer.locator("[data-pdf-page]")
    expect(counter).to_have_text("1")
    previous = viewer.get_by_role("button", name="Previous page")
    following = viewer.get_by_role("button", name="Next page")
    expect(previous).to_be_disabled()
    for number in range(1, len(shapes) + 1):
        assert drawn(canvases.nth(number - 1)) > 0, f"page {number} is blank"
        if number < len(shapes):
            following.click()
            expect(counter).to_have_text(str(number + 1))
    expect(following).to_be_disabled()
    previous.click()
    expect(counter).to_have_text(str(len(shapes) - 1))


def check_zoom(viewer: Locator) -> None:
    """Fit-width fills the frame; zoom in and out changes the canvas's width, and each time the
    page is drawn again at its new size."""
    canvas = viewer.locator('canvas[data-page-number="1"]')
    previous = viewer.get_by_role("button", name="Previous page")
    while previous.is_enabled():
        previous.click()
    expect(viewer.locator("[data-pdf-page]")).to_have_text("1")
    # At first a page is as wide as the frame, but no wider than 125 %.
    zoom = viewer.locator("[data-pdf-zoom]")
    assert int(zoom.inner_text().rstrip("%")) <= 125
    frame = viewer.locator("[data-pdf-frame]").evaluate("(frame) => frame.clientWidth")

    def click(name: str) -> tuple[float, int]:
        """Click, wait for the page to be drawn again; its width on screen and in pixels."""
        viewer.get_by_role("button", name=name).click()
        assert drawn(canvas) > 0, f"page 1 is blank after {name}"
        width, pixels = canvas.evaluate(
            "(canvas) => [canvas.getBoundingClientRect().width, canvas.width]"
        )
        return width, pixels

    fit, pixels = click("Fit to width")
    # The widest page fills the frame's width, less the margins (the first page is as wide).
    assert frame - 2 * 16 - 10 < fit <= frame - 2 * 16
    wider, more = click("Zoom in")
    assert wider == pytest.approx(fit * 1.25, abs=2) and more > pixels
    click("Zoom out")
    narrower, fewer = click("Zoom out")
    assert narrower == pytest.approx(fit / 1.25, abs=2) and fewer < pixels
    assert click("Fit to width") == (fit, pixels)


def test_a_bundle_volume_in_the_viewer(visit: Visit, app: Flask, bundle_id: int):
    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    page.goto(f"/bundles/{bundle_id}")
    with page.expect_navigation():
        page.locator("#bundle-volumes").get_by_role("link", name="Open PDF").first.click()
    assert visit.path() == f"/bundles/{bundle_id}/volumes/1/view"
    expect(page.get_by_role("heading", level=1)).to_contain_text("volume 1")

    viewer, data = open_viewer(visit)
    assert len(page_shapes(data)) > 3, "a real bundle: cover, index, claim, exhibits"
    assert {"/ICCBased", "/JPXDecode"} <= image_kinds(data), "the scanned exhibit is bound in"
    check_every_page(viewer, data)
    check_zoom(viewer)
    download = viewer.get_by_role("link", name="Download")
    saved = page.request.get(download.get_attribute("href"))
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert saved.body() == data
    # Every file the viewer used came from the vendored copy of PDF.js.
    statics = page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname)"
    )
    assert "/static/vendor/pdfjs/pdf.min.mjs" in statics
    assert "/static/vendor/pdfjs/pdf.worker.min.mjs" in statics


def test_a_document_page_shows_the_pdf_and_says_when_it_cannot(
    visit: Visit, app: Flask, world: World
):
    """The statement of claim that ``bundle_id``'s case was given (LibreOffice made it)."""
    with app.app_context():
        claim = db.session.scalar(
            select(Document.id).where(
                Document.case_id == world.assigned_case,
                Document.kind == DocumentKind.STATEMENT_OF_CLAIM,
            )
        )
        db.session.remove()
    page = visit.page
    sign_in(visit, World.EMAILS["legal"])
    # The case page's PDF button leads to the document's page, not to the bare PDF.
    page.goto(f"/cases/{world.assigned_case}")
    row = page.locator("#documents tbody tr", has_text="Statement of claim")
    with page.expect_navigation():
        row.get_by_role("link", name="PDF").click()
    assert visit.path() == f"/documents/{claim}"

    viewer, data = open_viewer(visit)
    check_every_page(viewer, data)

    # A PDF that cannot be had: the viewer says so in words and offers the download.
    page.route(f"**/documents/{claim}/pdf", lambda route: route.fulfill(status=409, body="no"))
    page.reload()
    alert = page.locator("[data-pdf-viewer] [role=alert]")
    expect(alert).to_contain_text("The PDF could not be shown")
    expect(alert).to_contain_text("409")
    assert page.locator("[data-pdf-viewer]").get_attribute("data-pdf-state") == "error"
    assert alert.get_by_role("link", name="Download it").get_attribute("href") == (
        f"/documents/{claim}/pdf?download=1"
    )
