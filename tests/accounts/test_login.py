"""Sign-in, sessions, passwords, CSRF and the login rate limit."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import authenticate, hash_password, set_active
from portal.audit.models import AuditEntry
from portal.extensions import db

from ..conftest import login
from ..factories import ACTOR, PASSWORD, World


def test_passwords_are_argon2id(ctx):
    encoded = hash_password("a long enough password")
    assert encoded.startswith("$argon2id$")
    assert "a long enough password" not in encoded


def test_sign_in_and_out(app, client, world: World):
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/")
    response = login(client, World.EMAILS["legal"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    dashboard = client.get("/")
    assert b"Open cases by stage" in dashboard.data and b"Legal User" in dashboard.data
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "user.login" in actions and "user.logout" in actions


def test_wrong_password_is_refused_and_audited(app, client, world: World):
    response = login(client, World.EMAILS["legal"], "not the password")
    assert response.status_code == 401
    assert b"The e-mail or the password is wrong" in response.data
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.login_failed")
        ).one()
    assert entry.changes["after"] == {"email": World.EMAILS["legal"]}
    assert entry.ip == "127.0.0.1"


def test_next_only_follows_local_paths(client, world: World):
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": World.EMAILS["legal"], "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login?next=/cases/", data={"email": World.EMAILS["legal"], "password": PASSWORD}
    )
    assert response.headers["Location"] == "/cases/"


def test_disabled_user_cannot_sign_in_and_loses_session(app, client, world: World):
    assert login(client, World.EMAILS["finance"]).status_code == 302
    assert client.get("/profile").status_code == 200
    with app.app_context():
        user = db.session.get(User, world.finance)
        set_active(ACTOR, user, False)
        db.session.commit()
        assert authenticate(World.EMAILS["finance"], PASSWORD) is None
    assert client.get("/profile").status_code == 302
    assert login(client, World.EMAILS["finance"]).status_code == 401


def test_session_cookie_is_secure_httponly_lax(client, world: World):
    response = login(client, World.EMAILS["legal"])
    cookie = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("portal_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sixth_failed_login_for_an_account_within_a_minute_is_429(client, world: World):
    for _attempt in range(5):
        assert login(client, World.EMAILS["legal"], "wrong password").status_code == 401
    blocked = login(client, World.EMAILS["legal"], "wrong password")
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account." in blocked.text
    # It says when to try again: within the minute's window, and as Retry-After.
    wait = int(blocked.headers["Retry-After"])
    assert 1 <= wait <= 61
    assert re.search(r"Try again in \d+ seconds \(after \d\d:\d\d:\d\d UTC\)", blocked.text)
    # Even the right password waits out the minute, typed in another case too.
    assert login(client, World.EMAILS["legal"]).status_code == 429
    assert login(client, World.EMAILS["legal"].upper()).status_code == 429


def test_one_users_typos_do_not_lock_out_colleagues_behind_the_same_address(client, world: World):
    # Everyone in the office reaches the portal from one address (127.0.0.1 here).
    for _attempt in range(6):
        login(client, World.EMAILS["legal"], "wrong password")
    assert login(client, World.EMAILS["legal"]).status_code == 429
    assert login(client, World.EMAILS["finance"]).status_code == 302


def test_many_accounts_tried_from_one_address_hit_the_address_limit(app, client, world: World):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "8 per minute"  # the default is 30
    # 8 failures spread over 4 accounts (2 each, under the per-account 5): the 9th is refused.
    accounts = [World.EMAILS[role] for role in ("admin", "legal", "finance", "lawyer")]
    for attempt in range(8):
        assert login(client, accounts[attempt % 4], "wrong").status_code == 401
    blocked = login(client, World.EMAILS["other_lawyer"], "wrong")
    assert blocked.status_code == 429
    assert "Too many failed sign-ins from your network address." in blocked.text
    # From another address (a proxy-less client elsewhere) the same account still signs in.
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": World.EMAILS["other_lawyer"], "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_successful_logins_do_not_count_towards_the_limit(client, world: World):
    for _attempt in range(7):
        assert login(client, World.EMAILS["legal"]).status_code == 302
        client.post("/logout")


def _csrf_token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()


def test_post_without_csrf_token_is_400_and_changes_nothing(csrf_app, world: World):
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": World.EMAILS["legal"], "password": PASSWORD})
    assert response.status_code == 400
    token = _csrf_token(client.get("/login").data)
    response = client.post(
        "/login",
        data={"email": World.EMAILS["legal"], "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    before = client.get("/profile")
    assert before.status_code == 200
    assert client.post("/profile/tokens", data={"name": "sneaky"}).status_code == 400
    assert client.post("/logout").status_code == 400
    with csrf_app.app_context():
        assert (
            db.session.scalar(
                select(db.func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "token.create",
                    AuditEntry.changes["after"]["name"].as_string() == "sneaky",
                )
            )
            == 0
        )


def test_every_form_route_requires_csrf(csrf_app, world: World):
    """Each POST route answers 400 without a token, for a signed-in admin."""
    client = csrf_app.test_client()
    token = _csrf_token(client.get("/login").data)
    client.post(
        "/login",
        data={"email": World.EMAILS["admin"], "password": PASSWORD, "csrf_token": token},
    )
    ids = {key: value for key, value in vars(world).items() if isinstance(value, int)}
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for name in rule.arguments:
            value = {
                "case_id": ids["assigned_case"],
                "user_id": ids["other_lawyer"],
                "token_id": ids["admin_token_id"],
                "creditor_id": ids["creditor"],
                "external_id": "D-1",
            }.get(name, 1)
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        response = client.post(path, data={})
        assert response.status_code == 400, f"POST {path} accepted a request without CSRF token"
        checked += 1
    assert checked >= 8


def test_password_change_ends_other_sessions(app, world: World):
    first, second = app.test_client(), app.test_client()
    login(first, World.EMAILS["legal"])
    login(second, World.EMAILS["legal"])
    response = first.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 303
    assert first.get("/profile").status_code == 200
    assert second.get("/profile").status_code == 302
    weak = first.post(
        "/profile/password",
        data={
            "current_password": "a brand new passphrase",
            "new_password": "short",
            "confirm": "short",
        },
    )
    assert weak.status_code == 422 and b"At least 12 characters" in weak.data
