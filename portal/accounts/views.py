"""Sign-in and sign-out, the profile page and API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..audit.services import Actor
from ..domain import DomainError
from ..extensions import db, limiter, login_manager
from ..forms import populate_errors
from ..security import Role, login_required
from . import services
from .forms import ConfirmForm, CounselForm, LoginForm, PasswordChangeForm, TokenForm
from .models import ApiToken, User

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Resolve ``id:session_version``; an old version (password changed, disabled) is no one."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def current_actor() -> Actor:
    """The signed-in user and client address, for services and the audit trail."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, ip=request.remote_addr)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            if not target.startswith("//") and "\\" not in target:
                return target
    return url_for("main.dashboard")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def _account_key() -> str:
    """The account a sign-in is for: the e-mail as typed, normalised like stored e-mails."""
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed sign-ins for this account.",
)
@limiter.limit(
    _address_limit,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed sign-ins from your network address.",
)
def login():
    """Sign in with e-mail and password; failures count towards the rate limit."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            services.record_login(Actor(user=user, ip=request.remote_addr), user)
            return redirect(_safe_next(request.args.get("next")))
        services.record_failed_login(Actor(user=None, ip=request.remote_addr), form.email.data)
        db.session.commit()
        flash("The e-mail or the password is wrong, or the account is disabled.", "danger")
        return render_template("accounts/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so no other site can sign anyone out).

    Ends the session on the server, not only in this browser: a copy of the cookie taken before
    (another browser, a stolen cookie) no longer signs anyone in.
    """
    if current_user.is_authenticated:
        services.end_sessions(current_actor(), current_user, action="user.logout")
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/profile")
@login_required
def profile():
    """The user's own details, password change and API tokens."""
    return _profile_page(PasswordChangeForm())


@bp.post("/profile/counsel")
@login_required
def save_counsel_details():
    """A lawyer updates the firm address, telephone and attorney code they sign with."""
    if current_user.role is not Role.LAWYER:
        abort(404)
    form = CounselForm()
    if not form.validate_on_submit():
        return _profile_page(PasswordChangeForm(), counsel_form=form), 422
    if services.update_counsel_details(current_actor(), current_user, form.data):
        flash("Your signature-block details are saved.", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("accounts.profile"), 303)


def _profile_page(
    password_form: PasswordChangeForm,
    *,
    new_token: str | None = None,
    counsel_form: CounselForm | None = None,
):
    if counsel_form is None and current_user.role is Role.LAWYER:
        counsel_form = CounselForm(formdata=None, obj=current_user)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template(
        "accounts/profile.html",
        tokens=tokens,
        new_token=new_token,
        token_form=TokenForm(),
        password_form=password_form,
        counsel_form=counsel_form,
        confirm_form=ConfirmForm(),
    )


@bp.post("/profile/tokens")
@login_required
def create_token():
    """Create an API token; it is shown once on the next page."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name (up to 100 characters).", "danger")
        return redirect(url_for("accounts.profile"), 303)
    _token, plain = services.create_token(current_actor(), current_user, form.name.data)
    db.session.commit()
    # Rendered in this response only: the plain token never goes into the session cookie.
    flash("Token created. Copy it now: it will not be shown again.", "success")
    return _profile_page(PasswordChangeForm(), new_token=plain), 201


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own tokens."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    services.revoke_token(current_actor(), token)
    flash(f"Token {token.prefix}… revoked.", "success")
    return redirect(url_for("accounts.profile"), 303)


@bp.post("/profile/password")
@login_required
def change_password():
    """Change the password after confirming the current one; other sessions end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not services.verify_password(current_user, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            try:
                services.change_password(current_actor(), current_user, form.new_password.data)
            except DomainError as error:
                populate_errors(form, error, {"password": "new_password"})
            else:
                db.session.commit()
                # The session id embeds the new session_version: renew this session only.
                login_user(current_user._get_current_object())
                flash("Password changed. Other sessions have been signed out.", "success")
                return redirect(url_for("accounts.profile"), 303)
    return _profile_page(form), 422
