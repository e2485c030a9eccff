"""Administration pages: users (create, enable, disable), creditor entities, the rate table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..accounts import services as accounts
from ..accounts.forms import ConfirmForm
from ..accounts.models import User
from ..accounts.views import current_actor
from ..api.evidence import download
from ..business_time import today as business_today
from ..documents import register as letter_register
from ..documents import statutory
from ..documents.manifest import STATUTORY_FORMS
from ..documents.models import StatutoryForm
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors, submit
from ..ids import id_arg
from ..jurisdictions import RATE_KINDS
from ..jurisdictions.interest import pct
from ..ledger import rates as rate_service
from ..ledger.models import CreditorEntity, InterestRate, RateConfirmation
from ..ledger.services import creditor_entities, save_creditor
from ..security import Permission, Role, permission_required
from ..storage import file_store
from .forms import (
    CreditorForm,
    LetterFormatForm,
    RateConfirmForm,
    RateForm,
    StatutoryFormUpload,
    UserCreateForm,
)

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
                firm_address=form.firm_address.data,
                phone=form.phone.data,
                attorney_code=form.attorney_code.data,
            )
        except DomainError as error:
            populate_errors(form, error)
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


def _confirmed_user(user_id: int) -> User:
    """The user a confirmed admin action is about: 400 without the confirmation, 404 if none."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/active")
@permission_required(Permission.MANAGE_USERS)
def set_user_active(user_id: int):
    """Enable or disable a user (``active=1|0``); disabling signs them out, revokes tokens."""
    user = _confirmed_user(user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_actor(), user, active)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("admin.users"), 303)
    flash(f"{user.email} {'enabled' if active else 'disabled'}.", "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/sessions")
@permission_required(Permission.MANAGE_USERS)
def end_user_sessions(user_id: int):
    """Sign a user out of every browser (a lost laptop, a shared computer)."""
    user = _confirmed_user(user_id)
    accounts.end_sessions(current_actor(), user)
    flash(f"{user.email} is signed out everywhere.", "success")
    return redirect(url_for("admin.users"), 303)


@bp.get("/creditors")
@permission_required(Permission.MANAGE_CREDITORS)
def creditors():
    """The creditor group's own legal entities."""
    return render_template("admin/creditors.html", creditors=creditor_entities())


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
            flash(f"{saved.legal_name} saved.", "success")
            return redirect(url_for("admin.creditors"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/creditor_form.html", form=form, creditor=creditor), status


# --- law firms' letter registers ------------------------------------------------------------


@bp.get("/firms")
@permission_required(Permission.MANAGE_USERS)
def firms(form: LetterFormatForm | None = None, status: int = 200):
    """Each firm's letter register: the number format and how far this year's numbers run."""
    return render_template(
        "admin/firms.html",
        firms=letter_register.firm_registers(business_today("cn")),
        form=form,
        default_format=letter_register.DEFAULT_LETTER_FORMAT,
    ), status


@bp.post("/firms")
@permission_required(Permission.MANAGE_USERS)
def save_letter_format():
    """Set the format of a firm's letter numbers ({year}, {seq})."""
    form = LetterFormatForm()
    if submit(
        form,
        lambda: letter_register.set_letter_format(
            current_actor(), form.name.data, form.letter_format.data
        ),
    ):
        flash(f"{form.name.data}: letter numbers now read like the next one below.", "success")
        return redirect(url_for("admin.firms"), 303)
    return firms(form, 422)


# --- statutory forms (PAP-Debt Annex 1) -------------------------------------------------------


@bp.get("/forms")
@permission_required(Permission.MANAGE_CREDITORS)
def statutory_forms(form: StatutoryFormUpload | None = None, status: int = 200):
    """The official forms letters are issued with: the current version of each, and its history."""
    history = db.session.scalars(
        select(StatutoryForm).order_by(StatutoryForm.kind, StatutoryForm.version.desc())
    ).all()
    return render_template(
        "admin/statutory_forms.html",
        kinds=STATUTORY_FORMS,
        current=statutory.current_forms(),
        history=history,
        form=form or StatutoryFormUpload(formdata=None),
    ), status


@bp.post("/forms")
@permission_required(Permission.MANAGE_CREDITORS)
def upload_statutory_form():
    """Upload the official PDF of a form as its next version."""
    form = StatutoryFormUpload()
    saved: list[StatutoryForm] = []

    def upload() -> None:
        data = form.file.data.read(statutory.MAX_BYTES + 1)
        saved.append(
            statutory.upload_form(
                current_actor(), form.kind.data, data, form.file.data.filename, form.edition.data
            )
        )

    if submit(form, upload):
        flash(
            f"{STATUTORY_FORMS[saved[0].kind]} version {saved[0].version} saved: letters made "
            "from now on are issued with it.",
            "success",
        )
        return redirect(url_for("admin.statutory_forms"), 303)
    return statutory_forms(form, 422)


@bp.get("/forms/<int:form_id>/pdf")
@permission_required(Permission.MANAGE_CREDITORS)
def statutory_form_pdf(form_id: int):
    """The uploaded PDF of one version, as a download."""
    saved = db.session.get(StatutoryForm, form_id)
    if saved is None:
        abort(404)
    return download(file_store().read(saved.sha256), "application/pdf", saved.original_name)


# --- the reference-rate table ----------------------------------------------------------------


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _render_rates(form: RateForm, status: int = 200, confirm: RateConfirmForm | None = None):
    kind = request.args.get("kind", "")
    query = select(InterestRate).order_by(InterestRate.kind, InterestRate.valid_from.desc())
    if kind in RATE_KINDS:
        query = query.where(InterestRate.kind == kind)
    else:
        kind = ""
    latest = rate_service.latest_per_kind()
    counts = dict(
        db.session.execute(
            select(InterestRate.kind, func.count()).group_by(InterestRate.kind)
        ).all()
    )
    today = business_today()
    stale_before = _year_before(today)
    confirmed = {row.kind: row for row in db.session.scalars(select(RateConfirmation))}
    kinds = [
        {
            "kind": key,
            "label": label,
            "latest": latest.get(key),
            "rows": counts.get(key, 0),
            "stale": key in latest and latest[key] < stale_before,
            "confirmation": confirmed.get(key),
            "behind": key not in confirmed or confirmed[key].confirmed_through < today,
        }
        for key, label in sorted(RATE_KINDS.items())
    ]
    if confirm is None:
        confirm = RateConfirmForm(formdata=None, prefix="confirm", confirmed_through=today)
        if kind:
            confirm.kind.data = kind
    return render_template(
        "admin/rates.html",
        rates=db.session.scalars(query).all(),
        kinds=kinds,
        labels=RATE_KINDS,
        kind=kind,
        form=form,
        confirm_form=ConfirmForm(),
        rate_confirm=confirm,
        today=today,
        editing=id_arg("edit"),
    ), status


@bp.get("/rates")
@permission_required(Permission.MANAGE_CREDITORS)
def rates():
    """The reference-rate table: rows by kind, how current each kind is, add/correct/delete."""
    form = RateForm(formdata=None)
    edit = id_arg("edit")
    row = db.session.get(InterestRate, edit) if edit else None
    if row is not None:
        form = RateForm(formdata=None, obj=row)
        form.rate.data = Decimal(pct(row.rate))  # 4.25, not 4.250000
    elif request.args.get("kind") in RATE_KINDS:
        form.kind.data = request.args["kind"]
    return _render_rates(form)


@bp.post("/rates")
@permission_required(Permission.MANAGE_CREDITORS)
def save_rate():
    """Add a rate row, or correct the row of the same kind and first day."""
    form = RateForm()
    if form.validate_on_submit():
        try:
            row = rate_service.make_row(
                form.kind.data, form.valid_from.data, form.rate.data, form.source.data
            )
            _rate, changed = rate_service.set_rate(current_actor(), row)
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
        else:
            db.session.commit()
            when = row.valid_from.isoformat()
            if changed:
                flash(f"{row.kind} from {when} saved: {row.rate} %.", "success")
            else:
                flash(f"{row.kind} from {when} already says that; nothing changed.", "info")
            return redirect(url_for("admin.rates", kind=row.kind), 303)
    return _render_rates(form, 422)


@bp.post("/rates/confirm")
@permission_required(Permission.MANAGE_CREDITORS)
def confirm_rates():
    """Confirm a kind complete through a day (after checking its publication for changes)."""
    form = RateConfirmForm(prefix="confirm")
    if submit(
        form,
        lambda: rate_service.confirm(
            current_actor(), form.kind.data, form.confirmed_through.data, form.source.data
        ),
    ):
        when = form.confirmed_through.data.isoformat()
        flash(f"{form.kind.data} confirmed through {when}.", "success")
        return redirect(url_for("admin.rates", kind=form.kind.data), 303)
    return _render_rates(RateForm(formdata=None), 422, confirm=form)


@bp.post("/rates/<int:rate_id>/delete")
@permission_required(Permission.MANAGE_CREDITORS)
def delete_rate(rate_id: int):
    """Remove a mistaken row (audited with what it said)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    rate = db.session.get(InterestRate, rate_id)
    if rate is None:
        abort(404)
    kind, when = rate.kind, rate.valid_from.isoformat()
    rate_service.delete_rate(current_actor(), rate)
    flash(f"{kind} from {when} deleted.", "success")
    return redirect(url_for("admin.rates", kind=kind), 303)


@bp.post("/rates/load")
@permission_required(Permission.MANAGE_CREDITORS)
def load_rates():
    """Load the rate table shipped with the code (adds missing rows, corrects changed ones)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        read, changed = rate_service.load_file(current_actor())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(f"Shipped table loaded: {read} rows read, {changed} added or corrected.", "success")
    return redirect(url_for("admin.rates"), 303)
