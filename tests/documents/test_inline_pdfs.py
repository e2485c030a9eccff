"""Every PDF the portal serves inline is for its own viewer (PDF.js, ``_pdf_viewer.html``):
``inline`` but sandboxed and never framed, so nothing in a hostile PDF runs as script in our
origin even when it is opened directly; ``?download=1`` makes it an attachment. The pages that
show a PDF use the viewer, never a frame, and the viewer's files are served from our own copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.cases.models import Case
from portal.evidence.jobs import render_evidence
from portal.evidence.models import EvidenceKind
from portal.evidence.services import add_evidence
from portal.extensions import db

from ..conftest import login
from ..factories import ACTOR, World

SANDBOX = "default-src 'none'; sandbox"
TWO_PAGES = Path(__file__).resolve().parents[1] / "resources" / "good" / "two-pages.pdf"

#: Every route that answers a PDF inline, by endpoint.
INLINE_PDFS = {
    "documents.pdf": "/documents/{document}/pdf",
    "bundles.volume": "/bundles/{bundle}/volumes/1",
    "evidence.exhibit": "/evidence/{exhibit}/pdf",
}


def signed_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, World.EMAILS[role]).status_code == 302
    return client


@pytest.fixture
def ids(app: Flask, world: World) -> dict[str, int]:
    """The world's document and bundle, and an uploaded PDF with its exhibit rendition made."""
    with app.app_context():
        case = db.session.get(Case, world.assigned_case)
        fields = {"kind": EvidenceKind.CONTRACT}
        exhibit = add_evidence(ACTOR, case, TWO_PAGES.read_bytes(), "contract.pdf", fields).id
        db.session.commit()
        render_evidence(exhibit)
    return {
        "document": world.assigned_document,
        "bundle": world.assigned_bundle,
        "exhibit": exhibit,
    }


@pytest.mark.parametrize("endpoint", sorted(INLINE_PDFS))
def test_inline_pdfs_are_sandboxed_and_downloads_are_attachments(
    app: Flask, ids: dict[str, int], endpoint: str
):
    client = signed_in(app, "legal")
    url = INLINE_PDFS[endpoint].format(**ids)

    shown = client.get(url)
    assert shown.status_code == 200 and shown.data.startswith(b"%PDF-")
    assert shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith("inline; filename=")
    assert shown.headers["Content-Security-Policy"] == SANDBOX
    assert shown.headers["X-Frame-Options"] == "DENY"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"

    saved = client.get(f"{url}?download=1")
    assert saved.status_code == 200 and saved.data == shown.data
    assert saved.headers["Content-Disposition"].startswith("attachment; filename=")
    assert saved.headers["Content-Security-Policy"] == SANDBOX


@pytest.mark.parametrize(
    ("role", "page", "pdf"),
    [
        ("legal", "/documents/{document}", "/documents/{document}/pdf"),
        ("lawyer", "/documents/{document}/review", "/documents/{document}/pdf"),
        ("finance", "/bundles/{bundle}/volumes/1/view", "/bundles/{bundle}/volumes/1"),
        ("lawyer", "/evidence/{exhibit}/view", "/evidence/{exhibit}/pdf"),
    ],
)
def test_pages_show_pdfs_in_the_viewer_not_in_a_frame(
    app: Flask, ids: dict[str, int], role: str, page: str, pdf: str
):
    html = signed_in(app, role).get(page.format(**ids)).get_data(as_text=True)
    pdf = pdf.format(**ids)
    assert "<iframe" not in html
    assert f'data-pdf-src="{pdf}"' in html
    assert f'href="{pdf}?download=1" data-pdf-download' in html
    assert '<script type="module" src="/static/js/pdf-viewer.js"></script>' in html
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs", "standard_fonts/", "cmaps/", "wasm/"):
        assert f'="/static/vendor/pdfjs/{name}"' in html, name


def test_the_bundle_page_opens_volumes_in_the_viewer(app: Flask, ids: dict[str, int]):
    client = signed_in(app, "legal")
    html = client.get(f"/bundles/{ids['bundle']}").get_data(as_text=True)
    assert f'href="/bundles/{ids["bundle"]}/volumes/1/view"' in html
    assert f'href="/bundles/{ids["bundle"]}/volumes/1"' not in html, "no raw inline PDF link"
    assert client.get(f"/bundles/{ids['bundle']}/volumes/2/view").status_code == 404
    # The case page's PDF button leads to the document page (with the viewer).
    case = client.get(f"/cases/{_case_of(app, ids)}").get_data(as_text=True)
    buttons = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>\s*<i class="bi bi-file-earmark-pdf"', case)
    assert f"/documents/{ids['document']}" in buttons
    assert f"/documents/{ids['document']}/pdf" not in buttons


def _case_of(app: Flask, ids: dict[str, int]) -> int:
    from portal.documents.models import Document

    with app.app_context():
        return db.session.get(Document, ids["document"]).case_id


@pytest.mark.parametrize(
    ("path", "media_types"),
    [
        ("js/pdf-viewer.js", {"text/javascript", "application/javascript"}),
        ("vendor/pdfjs/pdf.min.mjs", {"text/javascript", "application/javascript"}),
        ("vendor/pdfjs/pdf.worker.min.mjs", {"text/javascript", "application/javascript"}),
        ("vendor/pdfjs/wasm/openjpeg_nowasm_fallback.js", {"text/javascript"}),
        ("vendor/pdfjs/wasm/qcms_bg.wasm", {"application/wasm"}),
        ("vendor/pdfjs/cmaps/UniGB-UCS2-H.bcmap", {"application/octet-stream"}),
        ("vendor/pdfjs/standard_fonts/FoxitSerif.pfb", None),
        ("vendor/pdfjs/LICENSE", None),
    ],
)
def test_the_viewer_is_served_from_our_own_copy_of_pdfjs(
    client: FlaskClient, path: str, media_types: set[str] | None
):
    """Module scripts and workers load only with a JavaScript media type."""
    answer = client.get(f"/static/{path}")
    assert answer.status_code == 200 and answer.data
    if media_types:
        assert answer.mimetype in media_types
    answer.close()
