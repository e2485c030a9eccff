"""The dashboard: what each role should look at first."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..business_time import today as business_today
from ..cases import policy
from ..cases.claims import limitation_warning_days
from ..cases.models import Case, CaseStatus, Stage
from ..cases.workqueue import SECTIONS, section, work_queue
from ..extensions import db
from ..ledger.models import CreditorEntity, Debtor
from ..security import Permission, Role, has_permission, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def dashboard():
    """Counts, the work queue (legal, admin) and next steps for the signed-in user's role."""
    visible = policy.visible_cases(current_user).subquery()
    by_stage = dict(
        db.session.execute(
            select(visible.c.stage, func.count())
            .where(visible.c.status != CaseStatus.CLOSED)
            .group_by(visible.c.stage)
        ).all()
    )
    stage_counts = [(stage, by_stage.get(stage, 0)) for stage in Stage]
    unassigned = db.session.scalar(
        select(func.count())
        .select_from(visible)
        .where(visible.c.lawyer_id.is_(None), visible.c.status != CaseStatus.CLOSED)
    )
    recent = db.session.scalars(
        policy.visible_cases(current_user)
        # Joined, not a query per relation: the statement count does not depend on whether
        # the recent cases have lawyers.
        .options(joinedload(Case.debtor), joinedload(Case.lawyer))
        .order_by(Case.updated_at.desc())
        .limit(8)
    ).all()
    counts = {
        "cases": sum(count for _, count in stage_counts),
        "unassigned": unassigned or 0,
        "debtors": db.session.scalar(select(func.count()).select_from(Debtor))
        if has_permission(current_user, Permission.VIEW_LEDGER)
        else None,
        "creditors": db.session.scalar(select(func.count()).select_from(CreditorEntity))
        if has_permission(current_user, Permission.MANAGE_CREDITORS)
        else None,
        "users": db.session.scalar(select(func.count()).select_from(User))
        if has_permission(current_user, Permission.MANAGE_USERS)
        else None,
    }
    return render_template(
        "main/dashboard.html",
        stage_counts=stage_counts,
        top=max([count for _, count in stage_counts] + [1]),
        counts=counts,
        recent=recent,
        # In-house legal and admins work the cases; lawyers and finance see their own summaries.
        queue=work_queue(current_user) if current_user.role in (Role.LEGAL, Role.ADMIN) else None,
    )


#: Rows per page of a work queue section's full list.
QUEUE_PER_PAGE = 50


@bp.get("/queue/<key>")
@login_required
def queue_section(key: str):
    """Every row of one work queue section, a page at a time (legal and admins)."""
    if current_user.role not in (Role.LEGAL, Role.ADMIN):
        abort(403)
    if key not in SECTIONS:
        abort(404)
    today = business_today()
    return render_template(
        "main/queue.html",
        section=section(
            current_user,
            key,
            today,
            page=request.args.get("page", 1, type=int) or 1,
            per_page=QUEUE_PER_PAGE,
        ),
        as_of=today,
        warning_days=limitation_warning_days(),
    )
