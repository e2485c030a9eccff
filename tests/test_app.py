"""The factory, configuration order, the database settings and error pages."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from portal import create_app
from portal.extensions import db

from .conftest import build_app


def test_config_order_defaults_then_instance_file_then_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "LOGIN_RATE_LIMIT = '3 per minute'\nAPI_TITLE = 'From file'\n"
        f"DATABASE_URL = 'sqlite:///{tmp_path / 'file.db'}'\n"
    )
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTAL_API_TITLE", "From environment")
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_REDIS_URL", raising=False)
    app = create_app()
    assert app.config["LOGIN_RATE_LIMIT"] == "3 per minute"
    assert app.config["API_TITLE"] == "From environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'file.db'}"
    assert app.config["WTF_CSRF_ENABLED"] is True
    # A secret key is made once, kept in the instance folder, private to the owner.
    key_file = instance / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"] == key_file.read_text()


def test_postgresql_url_uses_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://u@127.0.0.1:5432/portal")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1:5432/portal"


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(tmp_path):
    for app in build_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'pragmas.db'}"):
        with app.app_context():
            connection = db.session.connection()
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            # SQLITE_BUSY_TIMEOUT, 10 s by default, in milliseconds.
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    raw = sqlite3.connect(tmp_path / "pragmas.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_html_error_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"There is nothing here" in response.data
    not_allowed = client.get("/logout")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "OPTIONS, POST"


def test_405_names_the_allowed_methods(client):
    # RFC 9110 §15.5.6: a 405 carries Allow, for the API as for pages.
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    # Secure cookies (the default) mean HTTPS only: one year of HSTS.
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_for_a_plain_http_trial(tmp_path):
    from .conftest import build_app

    for app in build_app(tmp_path, SESSION_COOKIE_SECURE=False):
        assert "Strict-Transport-Security" not in app.test_client().get("/login").headers


def test_bootstrap_is_served_locally(client):
    page = client.get("/login").data.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "cdn" not in page.lower()
    css = client.get("/static/vendor/bootstrap/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]
    css.close()


def test_internal_errors_show_a_page_without_details(tmp_path):
    for app in build_app(tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False):

        @app.get("/api/v1/boom")
        def boom():
            raise RuntimeError("secret detail")

        response = app.test_client().get("/api/v1/boom")
        assert response.status_code == 500
        assert response.json["error"]["code"] == "internal_error"
        assert b"secret detail" not in response.data


def test_templates_keep_to_the_content_security_policy():
    """No inline scripts, handlers or style attributes: the CSP would block them in browsers."""
    import re
    from pathlib import Path

    import portal

    offenders = []
    for template in Path(portal.__file__).parent.joinpath("templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (r"\son[a-z]+\s*=", r"\sstyle\s*=", r"<script(?![^>]*\ssrc=)[^>]*>"):
            offenders += [f"{template.name}: {match}" for match in re.findall(pattern, text)]
    assert offenders == []


def test_proxy_fix_makes_the_audit_trail_see_the_client(tmp_path):
    from sqlalchemy import select

    from portal.audit.models import AuditEntry

    for app in build_app(tmp_path, PROXY_FIX=1):
        client = app.test_client()
        client.post(
            "/login",
            data={"email": "x@example.com", "password": "wrong"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        with app.app_context():
            assert db.session.scalars(select(AuditEntry.ip)).all() == ["203.0.113.9"]


def test_forbidden_page_explains(app, world):
    from .conftest import login
    from .factories import World

    client = app.test_client()
    login(client, World.EMAILS["finance"])
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert b"Your role does not allow this." in page.data
