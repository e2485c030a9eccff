"""Sessions end on the server: a cookie copied before sign-out, a password change, disabling
or an admin's "sign out everywhere" signs no one in afterwards."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import ApiToken, User
from portal.accounts.services import set_active
from portal.audit.models import AuditEntry
from portal.extensions import db

from ..conftest import login
from ..factories import ACTOR, World, token_for

COOKIE = "portal_session"


def _replay(app, cookie: str, path: str = "/profile"):
    """``path`` from a different browser that holds a copy of ``cookie``."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief.get(path, headers={"User-Agent": "curl/8.0 (someone else)"})


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, world: World):
    assert login(client, World.EMAILS["legal"]).status_code == 302
    copied = client.get_cookie(COOKIE).value
    assert _replay(app, copied).status_code == 200  # the copy works while signed in
    assert client.post("/logout").status_code == 302
    for path in ("/profile", f"/cases/{world.assigned_case}", "/"):
        response = _replay(app, copied, path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(world.legal))
        ).all()
    assert "user.logout" in actions


def test_admin_signs_a_user_out_everywhere(app, world: World):
    legal, other_browser, admin = app.test_client(), app.test_client(), app.test_client()
    login(legal, World.EMAILS["legal"])
    login(other_browser, World.EMAILS["legal"])
    login(admin, World.EMAILS["admin"])
    assert "Sign out everywhere" in admin.get("/admin/users").text
    response = admin.post(f"/admin/users/{world.legal}/sessions")
    assert response.status_code == 303
    assert "signed out everywhere" in admin.get("/admin/users").text
    assert legal.get("/profile").status_code == 302
    assert other_browser.get("/profile").status_code == 302
    assert admin.get("/profile").status_code == 200  # the admin's own session goes on
    assert login(legal, World.EMAILS["legal"]).status_code == 302  # signing in again works
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.sessions_end")
        ).one()
        assert entry.object_id == str(world.legal) and entry.actor_label == World.EMAILS["admin"]
    assert admin.post("/admin/users/2147483647/sessions").status_code == 404


def test_disabling_revokes_the_users_api_tokens_for_good(app, client, world: World):
    with app.app_context():
        plain = token_for(World.EMAILS["finance"])
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        user = db.session.get(User, world.finance)
        set_active(ACTOR, user, False)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with app.app_context():
        user = db.session.get(User, world.finance)
        set_active(ACTOR, user, True)
        db.session.commit()
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == world.finance))
        assert all(token.revoked_at is not None for token in tokens)
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.disable")
        ).one()
        assert entry.changes["after"] == {"active": False, "tokens_revoked": 1}
    # Enabled again, the account signs in, but the old token stays revoked.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client, World.EMAILS["finance"]).status_code == 302
