"""API tokens: created on the profile page or the CLI, stored hashed, revocable."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import ApiToken, User
from portal.accounts.services import hash_token, set_active
from portal.extensions import db

from ..conftest import login
from ..factories import ACTOR, World, token_for


def test_profile_creates_a_token_shown_once_and_stored_hashed(app, client, world: World):
    login(client, World.EMAILS["finance"])
    response = client.post("/profile/tokens", data={"name": "ERP nightly"})
    assert response.status_code == 201
    plain = re.search(rb'id="new-token">(ap_[A-Za-z0-9_-]+)<', response.data).group(1).decode()
    with app.app_context():
        stored = db.session.scalars(select(ApiToken).where(ApiToken.name == "ERP nightly")).one()
        assert stored.token_hash == hash_token(plain)
        assert plain not in {stored.token_hash, stored.prefix}
    assert plain.encode() not in client.get("/profile").data
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.json == {
        "email": World.EMAILS["finance"],
        "role": "finance",
        "name": "Finance User",
        "firm": None,
        "licence_number": None,
    }


def test_revoked_token_and_disabled_user_are_401(app, client, world: World):
    with app.app_context():
        plain = token_for(World.EMAILS["legal"])
        token = db.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(plain))
        ).one()
        token_id = token.id
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    login(client, World.EMAILS["legal"])
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 303
    revoked = client.get("/api/v1/me", headers=headers)
    assert revoked.status_code == 401
    assert revoked.json["error"]["code"] == "unauthorized"
    with app.app_context():
        plain = token_for(World.EMAILS["legal"])
        set_active(ACTOR, db.session.get(User, world.legal), False)
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(client, world: World):
    login(client, World.EMAILS["admin"])
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_cli_token_prints_the_token_alone_on_the_last_line(app, world: World):
    result = app.test_cli_runner().invoke(args=["users", "token", World.EMAILS["lawyer"]])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"ap_[A-Za-z0-9_-]{40,}", plain)
    client = app.test_client()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).json["role"]
        == "lawyer"
    )
    missing = app.test_cli_runner().invoke(args=["users", "token", "nobody@tests.example"])
    assert missing.exit_code != 0 and "No user" in missing.output
