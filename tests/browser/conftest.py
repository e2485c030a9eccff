"""What the browser tests share: Debian's Chromium driven by Playwright, and the app served
over HTTP on 127.0.0.1 by a real (threaded) server."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous: CI machines have two cores and other jobs; a real hang still fails.
TIMEOUT_MS = 30_000

log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


def launch_chromium(playwright: Playwright, *extra_args: str) -> Browser:
    """Headless Chromium with the flags that keep it off the network, plus ``extra_args``."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; the browser tests need Debian's "
            "package: apt-get install chromium",
            pytrace=False,
        )
    try:
        return playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
    except PlaywrightError as error:
        pytest.fail(
            f"Chromium at {CHROMIUM} did not start ({error}); reinstall it with "
            "apt-get install chromium",
            pytrace=False,
        )


class _LoggingHandler(WSGIRequestHandler):
    """Request lines go to this module's logger (pytest shows them on failure), not stderr."""

    def log_request(self, code: object = "-", size: object = "-") -> None:
        log.info('"%s" %s %s', self.requestline, getattr(code, "value", code), size)

    def log(self, kind: str, message: str, *args) -> None:
        level = logging.ERROR if kind == "error" else logging.INFO
        log.log(level, "%s %s", self.address_string(), message % args)


@contextmanager
def serve(app: Flask) -> Iterator[int]:
    """``app`` on 127.0.0.1:<free port> while the block runs; yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_LoggingHandler)
    # A short poll interval: shutdown() waits for the loop to notice (0.5 s by default).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
