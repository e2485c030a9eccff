"""The audit trail page (admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ..extensions import db
from ..ids import id_arg
from ..security import Permission, permission_required
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE_SIZE = 100


@bp.get("/")
@permission_required(Permission.VIEW_AUDIT)
def index():
    """The newest audit rows, filterable by action prefix and actor; paged by id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)
    action = request.args.get("action", "").strip()[:64]
    actor = request.args.get("actor", "").strip()[:254]
    before = id_arg("before")
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor_label.contains(actor, autoescape=True))
    if before:
        query = query.where(AuditEntry.id < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template(
        "audit/index.html",
        entries=rows,
        action=action,
        actor=actor,
        next_before=rows[-1].id if more and rows else None,
    )
