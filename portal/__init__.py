"""Arrears Portal: turns unpaid commercial invoices into court-ready case files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as default_config
from . import db_watchdog, ids
from .db import write_intent
from .extensions import csrf, db, limiter, login_manager, migrate

#: The project root's ``instance/`` folder unless ``PORTAL_INSTANCE_PATH`` says otherwise.
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults → ``instance/config.py`` → ``PORTAL_*`` environment.

    With ``test_config`` the instance file and the environment are skipped and the mapping is
    applied on top of the defaults, so tests never read a developer's local settings.
    """
    instance_path = os.environ.get("PORTAL_INSTANCE_PATH") or str(DEFAULT_INSTANCE_PATH)
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(default_config)
    if test_config is None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("PORTAL")
    else:
        app.config.from_mapping(test_config)
    default_config.finalise(app)
    ids.init_app(app)
    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    with app.app_context():
        # A PostgreSQL link that goes silent is cut after the statement timeout (503, not a hang).
        db_watchdog.install(db.engine, float(app.config["DATABASE_STATEMENT_TIMEOUT"]))
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from . import jobs, scanning, storage

    jobs.init_app(app)
    storage.init_app(app)
    scanning.init_app(app)

    from .accounts import bp as accounts_bp
    from .admin import bp as admin_bp
    from .audit import bp as audit_bp
    from .bundles import bp as bundles_bp
    from .cases import bp as cases_bp
    from .documents import bp as documents_bp
    from .evidence.views import bp as evidence_bp
    from .imports import bp as imports_bp
    from .ledger.views import bp as ledger_bp
    from .main import bp as main_bp
    from .review import bp as review_bp

    for blueprint in (main_bp, accounts_bp, admin_bp, cases_bp, audit_bp, ledger_bp, imports_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(bundles_bp)
    app.register_blueprint(review_bp)

    from .api import init_api

    init_api(app)

    from . import errors, security

    errors.init_app(app)
    security.init_app(app)

    from . import transactions
    from .cases import figures
    from .ledger import aging
    from .ledger import jobs as _ledger_jobs  # noqa: F401 - registers the aging refresh

    transactions.init_app(app)
    figures.install()
    aging.install()

    from .cli import register_cli

    register_cli(app)

    def _write_intent() -> None:
        # A request that may write begins its SQLite transaction IMMEDIATE (see db.write_intent);
        # first of all hooks, before anything reads the database.
        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    app.before_request_funcs.setdefault(None, []).insert(0, _write_intent)

    @app.teardown_request
    def _no_write_intent(_error: BaseException | None) -> None:
        write_intent.set(False)

    return app
