"""Shared fixtures: an app per test on a fresh database (SQLite, or PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` is set), a client, and a sign-in helper."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db

from . import factories

#: ``make test`` sets these for its second run; without them the suite uses SQLite files.
TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")


def make_config(tmp_path: Path, **overrides) -> dict:
    """Test settings: a throw-away database and instance folder, jobs run inline."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'portal.db'}",
        "JOBS_IMMEDIATE": True,
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"),
        "FILE_STORE_PATH": str(tmp_path / "files"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return config


def build_app(tmp_path: Path, **overrides) -> Iterator[Flask]:
    """An app with its schema created; dropped again afterwards."""
    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app(make_config(tmp_path, **overrides))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from build_app(tmp_path)


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    """Like ``app`` but with CSRF protection on, as in production."""
    yield from build_app(tmp_path, WTF_CSRF_ENABLED=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for service-level tests."""
    with app.app_context():
        yield


@pytest.fixture
def world(app: Flask) -> factories.World:
    """One user per role (two lawyers), a creditor, debtors and two cases."""
    with app.app_context():
        built = factories.build_world()
        db.session.commit()
        return built


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD):
    """Sign in through the real login form."""
    return client.post("/login", data={"email": email, "password": password})
