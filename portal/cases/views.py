"""Case list and case page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ..accounts.models import User
from ..accounts.views import current_actor
from ..domain import DomainError
from ..extensions import db
from ..ledger.models import Debtor, Jurisdiction
from ..security import Permission, Role, permission_required
from . import policy, services
from .forms import AssignLawyerForm
from .models import Case, CaseStatus, Stage

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@permission_required(Permission.VIEW_CASES)
def index():
    """Cases the user may see, filtered by stage, status, jurisdiction and lawyer."""
    query = (
        policy.visible_cases(current_user)
        .join(Case.debtor)
        .options(selectinload(Case.debtor), selectinload(Case.lawyer), selectinload(Case.owner))
        .order_by(Case.updated_at.desc())
    )
    keys = ("stage", "status", "jurisdiction", "lawyer", "q")
    filters = {key: request.args.get(key, "") for key in keys}
    if filters["stage"] in set(Stage):
        query = query.where(Case.stage == Stage(filters["stage"]))
    if filters["status"] in set(CaseStatus):
        query = query.where(Case.status == CaseStatus(filters["status"]))
    if filters["jurisdiction"] in set(Jurisdiction):
        query = query.where(Case.jurisdiction == Jurisdiction(filters["jurisdiction"]))
    if filters["lawyer"] == "none":
        query = query.where(Case.lawyer_id.is_(None))
    elif filters["lawyer"].isdigit():
        query = query.where(Case.lawyer_id == int(filters["lawyer"]))
    if filters["q"]:
        like = f"%{filters['q'].strip()[:100]}%"
        query = query.where(Debtor.name.ilike(like) | Case.reference.ilike(like))
    return render_template(
        "cases/index.html",
        cases=db.session.scalars(query).all(),
        filters=filters,
        stages=list(Stage),
        statuses=list(CaseStatus),
        jurisdictions=list(Jurisdiction),
        lawyers=services.active_lawyers() if current_user.role is not Role.LAWYER else [],
    )


@bp.get("/<int:case_id>")
@permission_required(Permission.VIEW_CASES)
def show(case_id: int):
    """One case: parties, stage, counsel."""
    case = policy.get_case_or_404(current_user, case_id)
    form = _assign_form(case) if policy.can_assign_lawyer(current_user, case) else None
    return render_template("cases/show.html", case=case, assign_form=form, stages=list(Stage))


@bp.post("/<int:case_id>/lawyer")
@permission_required(Permission.ASSIGN_LAWYERS)
def assign_lawyer(case_id: int):
    """Assign the external lawyer (or withdraw the assignment)."""
    case = policy.get_case_or_404(current_user, case_id)
    form = _assign_form(case)
    if not form.validate_on_submit():
        flash("Choose one of the listed lawyers.", "danger")
        return redirect(url_for("cases.show", case_id=case.id), 303)
    lawyer = db.session.get(User, int(form.lawyer.data)) if form.lawyer.data else None
    try:
        services.assign_lawyer(current_actor(), case, lawyer)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("cases.show", case_id=case.id), 303)
    db.session.commit()
    who = lawyer.name if lawyer else "nobody"
    flash(f"Case {case.reference} is now assigned to {who}.", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)


def _assign_form(case: Case) -> AssignLawyerForm:
    form = AssignLawyerForm(lawyer=str(case.lawyer_id or ""))
    form.lawyer.choices = [SelectChoice("", "— not assigned —")] + [
        SelectChoice(str(user.id), f"{user.name} ({user.firm})")
        for user in services.active_lawyers()
    ]
    return form
