"""Sign-in over plain http on a host name: the page explains a dropped Secure cookie.

Browsers keep a cookie marked Secure only for HTTPS pages and for localhost/loopback, so over
http://portal.lan the session cookie never comes back and every form fails its CSRF check. The
test client keeps every cookie, so a browser that dropped it is a client without cookies here;
tests/browser/test_plain_http.py shows the real Chromium doing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db

from ..conftest import build_app
from ..factories import PASSWORD, World

WARNING = 'id="secure-cookie-warning"'


def _token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()


def _audit_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def insecure_app(tmp_path: Path) -> Iterator[Flask]:
    """CSRF on and Secure cookies off, as ``make run`` starts the demo."""
    yield from build_app(
        tmp_path,
        WTF_CSRF_ENABLED=True,
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_SECURE=False,
    )


def test_login_page_warns_over_http_on_a_host_name(csrf_app, world: World):
    page = csrf_app.test_client().get("/login", base_url="http://portal.lan:8080")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert WARNING in html
    assert "<code>portal.lan:8080</code>" in html, "names the address the page came from"
    assert "PORTAL_SESSION_COOKIE_SECURE=false" in html and "HTTPS" in html


@pytest.mark.parametrize(
    ("base_url", "headers"),
    [
        ("http://127.0.0.1:5000", {}),
        ("http://localhost:5000", {}),
        ("http://[::1]:5000", {}),
        ("http://portal.localhost", {}),
        ("https://portal.lan", {}),
        # A TLS-terminating proxy without PORTAL_PROXY_FIX: the browser is on https.
        ("http://portal.lan", {"X-Forwarded-Proto": "https"}),
    ],
)
def test_no_warning_where_browsers_keep_secure_cookies(csrf_app, world, base_url, headers):
    page = csrf_app.test_client().get("/login", base_url=base_url, headers=headers)
    assert page.status_code == 200
    assert WARNING not in page.get_data(as_text=True)


def test_no_warning_when_secure_cookies_are_off(insecure_app):
    page = insecure_app.test_client().get("/login", base_url="http://portal.lan")
    assert page.status_code == 200 and WARNING not in page.get_data(as_text=True)


def test_sign_in_without_the_dropped_cookie_says_what_to_change(csrf_app, world: World):
    base = "http://portal.lan:8080"
    # The page is fetched with cookies; the browser then drops the Secure one: a cookieless post.
    token = _token(csrf_app.test_client().get("/login", base_url=base).data)
    browser = csrf_app.test_client(use_cookies=False)
    before = _audit_count(csrf_app)
    answer = browser.post(
        "/login",
        base_url=base,
        data={"email": World.EMAILS["legal"], "password": PASSWORD, "csrf_token": token},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Your browser did not send the session cookie" in html
    assert "nothing was done" in html
    assert "PORTAL_SESSION_COOKIE_SECURE=false" in html and "PORTAL_PROXY_FIX=1" in html
    assert "Set-Cookie" not in answer.headers or "portal_session" not in str(answer.headers)
    assert _audit_count(csrf_app) == before, "no sign-in, nothing recorded"


def test_a_missing_token_elsewhere_keeps_the_plain_400(csrf_app, world: World):
    # On 127.0.0.1 the browser keeps the cookie, so a missing one means an expired session.
    browser = csrf_app.test_client(use_cookies=False)
    answer = browser.post("/login", data={"email": World.EMAILS["legal"], "password": PASSWORD})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "the form may have expired" in html and "session cookie" not in html
    # And the API keeps its JSON errors whatever the address.
    api = csrf_app.test_client().get("/api/v1/me", base_url="http://portal.lan")
    assert api.status_code == 401 and api.json["error"]["code"] == "unauthorized"


def test_make_run_settings_sign_in_over_http_on_a_host_name(insecure_app, world: World):
    client = insecure_app.test_client()
    base = "http://portal.lan:8080"
    token = _token(client.get("/login", base_url=base).data)
    cookie = client.get_cookie("portal_session", domain="portal.lan")
    assert cookie is not None and not cookie.secure
    answer = client.post(
        "/login",
        base_url=base,
        data={"email": World.EMAILS["legal"], "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "Good to see you" in client.get("/", base_url=base).get_data(as_text=True)
