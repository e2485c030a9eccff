"""Administration pages: users (create, enable, disable) and creditor entities."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..accounts import services as accounts
from ..accounts.forms import ConfirmForm
from ..accounts.models import User
from ..accounts.views import current_actor
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors
from ..ledger.models import CreditorEntity
from ..ledger.services import save_creditor
from ..security import Permission, Role, permission_required
from .forms import CreditorForm, UserCreateForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required(Permission.MANAGE_USERS)
def users():
    """Every user, filterable by role and state."""
    query = select(User).order_by(User.role, User.name)
    role = request.args.get("role")
    if role in set(Role):
        query = query.where(User.role == Role(role))
    return render_template(
        "admin/users.html",
        users=db.session.scalars(query).all(),
        roles=list(Role),
        role=role,
        confirm_form=ConfirmForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def new_user():
    """Create a user; lawyers need their firm and licence number."""
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                current_actor(),
                email=form.email.data,
                role=form.role.data,
                name=form.name.data,
                password=form.password.data,
                firm=form.firm.data,
                licence_number=form.licence_number.data,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


@bp.post("/users/<int:user_id>/active")
@permission_required(Permission.MANAGE_USERS)
def set_user_active(user_id: int):
    """Enable or disable a user (``active=1|0``); disabling signs them out and stops tokens."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_actor(), user, active)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("admin.users"), 303)
    db.session.commit()
    flash(f"{user.email} {'enabled' if active else 'disabled'}.", "success")
    return redirect(url_for("admin.users"), 303)


@bp.get("/creditors")
@permission_required(Permission.MANAGE_CREDITORS)
def creditors():
    """The creditor group's own legal entities."""
    rows = db.session.scalars(select(CreditorEntity).order_by(CreditorEntity.code)).all()
    return render_template("admin/creditors.html", creditors=rows)


@bp.route("/creditors/new", methods=["GET", "POST"])
@bp.route("/creditors/<int:creditor_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CREDITORS)
def edit_creditor(creditor_id: int | None = None):
    """Create or edit a creditor entity (legal name, registration id, address, bank)."""
    creditor = None
    if creditor_id is not None:
        creditor = db.session.get(CreditorEntity, creditor_id)
        if creditor is None:
            abort(404)
    form = CreditorForm(obj=creditor)
    if form.validate_on_submit():
        try:
            saved = save_creditor(current_actor(), creditor, form.data)
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            flash(f"{saved.legal_name} saved.", "success")
            return redirect(url_for("admin.creditors"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/creditor_form.html", form=form, creditor=creditor), status
