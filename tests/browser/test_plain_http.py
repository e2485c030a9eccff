"""Sign-in over plain http on a host name other than localhost, in Debian's Chromium.

Chromium resolves ``portal.test`` to 127.0.0.1 (``--host-resolver-rules``), so the pages come
from a name a browser does not treat as a secure context, like a VM or a LAN name would:
- ``make run`` itself (migrate, seed the demo, worker and web server) serves a demo that a
  demo user signs in to over http and reaches the dashboard;
- production settings (Secure cookies) over http: Chromium drops the session cookie, and the
  pages say why and which setting fixes it instead of a bare 400.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, Request, Route

from ..conftest import build_app
from ..factories import PASSWORD, World
from .conftest import TIMEOUT_MS, launch_chromium, serve

pytestmark = pytest.mark.browser

HOST_NAME = "portal.test"
ROOT = Path(__file__).resolve().parents[2]
#: ``make run`` migrates and seeds first; on a busy two-core machine that takes a while.
STARTUP_SECONDS = 180


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = launch_chromium(playwright, f"--host-resolver-rules=MAP {HOST_NAME} 127.0.0.1")
    yield instance
    instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context that may reach only portal.test (every other request fails the test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []

    def only_portal(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == HOST_NAME:
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    context.route("**/*", only_portal)
    yield context.new_page()
    context.close()
    assert blocked == [], "the pages tried to reach beyond the portal"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _venv_arguments() -> list[str]:
    """Run ``make run`` with the venv running this suite (.venv, or .venv-latest)."""
    venv = Path(sys.prefix)
    if venv == ROOT / ".venv":
        return []
    # Another venv made by .ci/venv.sh keeps a copy of the lock it was installed from.
    return [f"VENV={venv}", f"LOCK={venv / 'requirements.lock'}"]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (127.0.0.1)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"make run did not answer {url} in {STARTUP_SECONDS} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``make run HOST=127.0.0.1 PORT=<free>`` on a fresh instance folder; stopped by Ctrl-C."""
    port = _free_port()
    log = tmp_path / "make-run.log"
    env = {
        key: value
        for key, value in os.environ.items()
        # The outer make's flags and the suite's own settings stay out of the demo.
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
        and not key.startswith(("PORTAL_", "FLASK_"))
    }
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"]
            + _venv_arguments(),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/v1/health", process, log)
        yield port, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_make_run_demo_signs_in_over_http_on_a_host_name(page: Page, make_run):
    port, log = make_run
    printed = log.read_text()
    # The demo users and the address are printed for the newcomer.
    assert "legal@arrears-demo.example" in printed and "demo-legal-pass" in printed
    assert f"Portal: http://127.0.0.1:{port}" in printed

    base = f"http://{HOST_NAME}:{port}"
    page.goto(f"{base}/")
    assert urlsplit(page.url).path == "/login"
    assert page.locator("#secure-cookie-warning").count() == 0
    page.get_by_label("E-mail").fill("legal@arrears-demo.example")
    page.get_by_label("Password").fill("demo-legal-pass")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 302, f"sign-in answered {posted.value.status}"
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Open cases by stage").is_visible()
    assert page.get_by_role("link", name="Import").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    assert cookie["domain"] == HOST_NAME and cookie["secure"] is False


@pytest.fixture
def secure_app(tmp_path: Path) -> Iterator[Flask]:
    """Production settings: CSRF on, Secure cookies (the default)."""
    yield from build_app(tmp_path, WTF_CSRF_ENABLED=True)


def test_secure_cookies_over_http_on_a_host_name_say_what_to_change(
    page: Page, secure_app: Flask, world: World
):
    with serve(secure_app) as port:
        base = f"http://{HOST_NAME}:{port}"
        page.goto(f"{base}/login")
        warning = page.locator("#secure-cookie-warning")
        assert warning.is_visible()
        assert "PORTAL_SESSION_COOKIE_SECURE=false" in warning.inner_text()
        # Chromium refused the Secure cookie the page set over http.
        assert [c for c in page.context.cookies() if c["name"] == "portal_session"] == []

        page.get_by_label("E-mail").fill(World.EMAILS["legal"])
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Sign in").click()
        assert posted.value.status == 400
        heading = page.get_by_role("heading", level=1)
        assert "Your browser did not send the session cookie" in heading.inner_text()
        body = page.locator("main, body").first.inner_text()
        assert "HTTPS" in body and "PORTAL_PROXY_FIX=1" in body
