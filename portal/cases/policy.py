"""Who may see and change which case. Every case route and list query goes through here."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select

from ..accounts.models import User
from ..extensions import db
from ..security import Permission, Role, has_permission
from .models import Case


def visible_cases(user: User) -> Select[tuple[Case]]:
    """``SELECT`` of the cases ``user`` may see: all for staff, assigned ones for a lawyer."""
    query = select(Case)
    if not has_permission(user, Permission.VIEW_CASES):
        return query.where(false())
    if user.role is Role.LAWYER:
        return query.where(Case.lawyer_id == user.id)
    return query


def sees_every_case(user: User) -> bool:
    """Whether ``visible_cases`` is every case (staff), so a query need not join it."""
    return has_permission(user, Permission.VIEW_CASES) and user.role is not Role.LAWYER


def can_view_case(user: User, case: Case) -> bool:
    """Whether ``user`` may see ``case`` at all."""
    if not has_permission(user, Permission.VIEW_CASES):
        return False
    if user.role is Role.LAWYER:
        return case.lawyer_id == user.id
    return True


def can_edit_case(user: User, case: Case) -> bool:
    """Whether ``user`` may change ``case`` (stage, status, events)."""
    return can_view_case(user, case) and has_permission(user, Permission.MANAGE_CASES)


def can_assign_lawyer(user: User, case: Case) -> bool:
    """Whether ``user`` may assign or change the case's external lawyer."""
    return can_view_case(user, case) and has_permission(user, Permission.ASSIGN_LAWYERS)


def get_case_or_404(user: User, case_id: int, *, for_edit: bool = False) -> Case:
    """Load a case the user may see (else 404); with ``for_edit`` also require edit rights (403)."""
    case = db.session.get(Case, case_id)
    if case is None or not can_view_case(user, case):
        abort(404)
    if for_edit and not can_edit_case(user, case):
        abort(403)
    return case
