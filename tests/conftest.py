"""Shared fixtures: an app per test on a fresh database (SQLite, or PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` is set), a client, and a sign-in helper."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

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


#: The schema made once per run: an SQLite file copied for each test, and the PostgreSQL
#: database's tables, emptied between tests (creating ~40 tables took a third of a second a
#: test, a third of the suite's time).
_SQLITE_TEMPLATE: list[Path] = []
_POSTGRES_READY: set[str] = set()


def _sqlite_file(app: Flask) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _sqlite_template() -> Path:
    """An SQLite file holding the models' empty schema, made on first use."""
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="portal-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "schema.db"
        engine = create_engine(f"sqlite:///{template}")
        db.metadata.create_all(engine)
        engine.dispose()
        _SQLITE_TEMPLATE.append(template)
    return _SQLITE_TEMPLATE[0]


def _empty_postgres_tables() -> bool:
    """Empty every table and restart its ids, as a fresh schema would be; ``False`` when the
    schema is not there as the models say (a test dropped it)."""
    names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    try:
        # A lock a stray connection still holds fails this quickly (and the schema is remade)
        # rather than hanging the run.
        db.session.execute(text("SET LOCAL lock_timeout = '10s'"))
        # The audit trail's trigger refuses TRUNCATE (append-only by design); triggers are off
        # for this one transaction only (the test role is a superuser).
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        return False
    return True


def _fresh_schema(app: Flask) -> None:
    """The models' schema, empty: copied (SQLite), emptied (PostgreSQL) or created."""
    sqlite_file = _sqlite_file(app)
    if sqlite_file is not None and not sqlite_file.exists():
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), sqlite_file)
        return
    with app.app_context():
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        postgres = db.engine.dialect.name == "postgresql"
        if postgres and url in _POSTGRES_READY and _empty_postgres_tables():
            return
        db.drop_all()
        db.create_all()
        if postgres:
            _POSTGRES_READY.add(url)


def build_app(tmp_path: Path, **overrides) -> Iterator[Flask]:
    """An app on an empty schema; the database is left for the next test to empty."""
    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app(make_config(tmp_path, **overrides))
    _fresh_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
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
