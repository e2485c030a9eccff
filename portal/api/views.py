"""Health and identity routes of ``/api/v1``."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

from ..extensions import db
from ..jobs import queue_health
from ..jobs.sweep import worker_health
from ..storage import store_health
from .arguments import ApiBlueprint
from .auth import BEARER, api_user, token_required
from .schemas import ApiErrorSchema, HealthSchema, MeSchema

blp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Arrears Portal API")


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
    def get(self) -> tuple[dict[str, Any], int]:
        """Whether the portal and what it depends on answer (no token needed): the database,
        the job queue, a worker (its last sign of life), the file store (writable) and its
        disk (free space). 503 when any of them is not ``ok``."""
        try:
            db.session.execute(text("SELECT 1"))
            database = "ok"
        except Exception as error:  # any failure means the database is unusable
            db.session.rollback()
            database = f"error: {type(error).__name__}"
        worker, seen = worker_health()
        store, free = store_health(int(current_app.config["HEALTH_MIN_FREE_BYTES"]))
        body: dict[str, Any] = {
            "database": database,
            "queue": queue_health(),
            "worker": worker,
            "store": store,
        }
        healthy = all(value == "ok" for value in body.values())
        body["status"] = "ok" if healthy else "degraded"
        body["worker_seen_seconds_ago"] = None if seen is None else int(seen)
        body["free_bytes"] = free
        return body, 200 if healthy else 503


@blp.route("/me")
class Me(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    def get(self) -> Any:
        """The token's user."""
        return api_user()
