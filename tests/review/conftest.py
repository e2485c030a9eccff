"""Fixtures of the review tests."""

from __future__ import annotations

import pytest

from .flow import trusted_pki


@pytest.fixture
def pki(app) -> dict[str, bytes]:
    """A throw-away CA the portal trusts and a PKCS#12 for the test lawyer (``flow.py``)."""
    return trusted_pki(app)
