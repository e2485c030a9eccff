"""Helpers of the page tests: signed-in clients and a way to read a page's text."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ..conftest import login
from ..factories import World


@pytest.fixture
def as_role(app: Flask, world: World) -> Callable[[str], FlaskClient]:
    """A fresh client signed in as one of the world's users (``"legal"``, ``"admin"`` …)."""

    def make(role: str) -> FlaskClient:
        client = app.test_client()
        assert login(client, World.EMAILS[role]).status_code == 302
        return client

    return make


def text(response) -> str:
    """The page as plain text (tags dropped, entities decoded, blanks squeezed)."""
    html = response.data.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(response, element_id: str) -> str:
    """The text of the element with ``id`` (up to its closing tag of the same name)."""
    html = response.data.decode()
    match = re.search(rf'<(\w+)[^>]*\sid="{re.escape(element_id)}"', html)
    assert match, f"no element #{element_id}"
    tag, start = match.group(1), match.start()
    depth, position = 0, start
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>")
    for found in pattern.finditer(html, start):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            position = found.end()
            break
    chunk = html[start:position]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", chunk))).strip()
