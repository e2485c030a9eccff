"""Fixtures of the API tests."""

from __future__ import annotations

import pytest

from ..factories import World, token_for


@pytest.fixture
def bearer(app, world: World):
    """``bearer(role)``: the Authorization header of a fresh token of that role's user."""

    def headers(role: str) -> dict[str, str]:
        with app.app_context():
            return {"Authorization": f"Bearer {token_for(World.EMAILS[role])}"}

    return headers
