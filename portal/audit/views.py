"""The audit trail page (admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ..extensions import db
from ..ids import id_arg
from ..listing import ordered, requested_sort
from ..security import Permission, permission_required
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE_SIZE = 100
#: Sortable columns, each served by an index; the default (newest first) pages by id.
SORTS = {
    "id": (AuditEntry.id,),
    "time": (AuditEntry.occurred_at,),
    "actor": (AuditEntry.actor_label,),
    "action": (AuditEntry.action,),
    "object": (AuditEntry.object_type, AuditEntry.object_id),
}


@bp.get("/")
@permission_required(Permission.VIEW_AUDIT)
def index():
    """Audit rows, filterable by action prefix and actor, sorted by any column; newest first
    by default, paged by id (older entries follow the last id shown), other orders by page."""
    action = request.args.get("action", "").strip()[:64]
    actor = request.args.get("actor", "").strip()[:254]
    sort = requested_sort(SORTS, "id", descending=True)
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor_label.contains(actor, autoescape=True))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    keyset = sort.key == "id"
    if keyset and (before := id_arg("before")):
        # Keyset paging: the rows after the last one shown, whatever was appended since.
        query = query.where(AuditEntry.id < before if sort.descending else AuditEntry.id > before)
    offset = 0 if keyset else (page - 1) * PAGE_SIZE
    rows = db.session.scalars(
        ordered(query, sort, SORTS, AuditEntry.id).limit(PAGE_SIZE + 1).offset(offset)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    filters = {key: value for key, value in (("action", action), ("actor", actor)) if value}
    here = dict(filters, **sort.args())
    following = {"before": rows[-1].id} if keyset and rows else {"page": page + 1}
    return render_template(
        "audit/index.html",
        entries=rows,
        action=action,
        actor=actor,
        sort=sort,
        filters=filters,
        next_args=dict(here, **following) if more else None,
        previous_args=dict(here, page=page - 1) if not keyset and page > 1 else None,
    )
