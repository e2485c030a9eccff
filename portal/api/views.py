"""Health, identity and the case read routes of ``/api/v1``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.orm import selectinload

from ..cases import policy
from ..cases.models import Case
from ..extensions import db
from ..jobs import queue_health
from ..security import Permission
from .auth import BEARER, api_user, token_required
from .schemas import (
    ApiErrorSchema,
    CaseListArgsSchema,
    CaseListSchema,
    CaseSummarySchema,
    HealthSchema,
    MeSchema,
)

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


@blp.route("/cases")
class Cases(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.arguments(CaseListArgsSchema, location="query")
    @blp.response(200, CaseListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cases the token's user may see (a lawyer: assigned ones), newest first, paged."""
        query = (
            policy.visible_cases(api_user())
            .options(
                selectinload(Case.debtor),
                selectinload(Case.creditor),
                selectinload(Case.owner),
                selectinload(Case.lawyer),
            )
            .order_by(Case.id.desc())
            .limit(args["limit"] + 1)
        )
        if args["cursor"]:
            query = query.where(Case.id < args["cursor"])
        rows = db.session.scalars(query).all()
        more = len(rows) > args["limit"]
        rows = rows[: args["limit"]]
        return {"items": rows, "next": str(rows[-1].id) if more and rows else None}


@blp.route("/cases/<int:case_id>")
class CaseItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @blp.doc(security=BEARER)
    @blp.response(200, CaseSummarySchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id: int) -> Case:
        """One case the token's user may see; others are 404 as if they did not exist."""
        return policy.get_case_or_404(api_user(), case_id)
