"""Health and identity routes of ``/api/v1``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from ..extensions import db
from ..jobs import queue_health
from .auth import BEARER, api_user, token_required
from .schemas import ApiErrorSchema, HealthSchema, MeSchema

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Arrears Portal API")


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
    def get(self) -> tuple[dict[str, str], int]:
        """Whether the portal, its database and its job queue answer (no token needed)."""
        try:
            db.session.execute(text("SELECT 1"))
            database = "ok"
        except Exception as error:  # any failure means the database is unusable
            db.session.rollback()
            database = f"error: {type(error).__name__}"
        queue = queue_health()
        healthy = database == "ok" and queue == "ok"
        body = {"status": "ok" if healthy else "degraded", "database": database, "queue": queue}
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
