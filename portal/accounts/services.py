"""Accounts: creating users, passwords (argon2id), sign-in and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..security import Role
from .models import ApiToken, User

#: argon2id with argon2-cffi's RFC 9106 "low memory" profile (64 MiB, t=3, p=4).
_hasher = PasswordHasher(type=Type.ID)
#: A hash to verify against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "ap_"  # noqa: S105 - a public marker, not a secret


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """:raises ValidationFailed: when the password is too short or blank."""
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise ValidationFailed(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            fields={"password": [f"At least {MIN_PASSWORD_LENGTH} characters."]},
        )


def normalise_email(email: str) -> str:
    """Lower-cased, validated address (syntax only: no DNS look-up, intranet domains allowed).

    :raises ValidationFailed: when it is not an e-mail address.
    """
    try:
        return validate_email(
            email.strip(), check_deliverability=False, globally_deliverable=False
        ).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(str(error), fields={"email": [str(error)]}) from error


def user_by_email(email: str) -> User | None:
    """The user with this e-mail, case-insensitively."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    actor: Actor,
    *,
    email: str,
    role: Role | str,
    name: str | None = None,
    password: str,
    firm: str | None = None,
    licence_number: str | None = None,
    firm_address: str | None = None,
    phone: str | None = None,
    attorney_code: str | None = None,
) -> User:
    """Create a user.

    :raises ValidationFailed: bad e-mail, role or password; a lawyer without firm and licence.
    :raises Conflict: the e-mail is taken.
    """
    address = normalise_email(email)
    try:
        role = Role(role)
    except ValueError as error:
        raise ValidationFailed(
            f"Unknown role {role!r}.", fields={"role": ["Choose admin, legal, finance or lawyer."]}
        ) from error
    check_password_strength(password)
    if role is Role.LAWYER and not (firm and licence_number):
        raise ValidationFailed(
            "An external lawyer needs the firm and the licence number.",
            fields={
                key: ["Required for lawyers."]
                for key, value in (("firm", firm), ("licence_number", licence_number))
                if not value
            },
        )
    if user_by_email(address) is not None:
        raise Conflict(
            f"A user with the e-mail {address} already exists.",
            fields={"email": ["Already in use."]},
        )
    user = User(
        email=address,
        name=(name or address.split("@")[0]).strip(),
        role=role,
        password_hash=hash_password(password),
        firm=firm or None,
        licence_number=licence_number or None,
        firm_address=(firm_address or "").strip() or None,
        phone=(phone or "").strip() or None,
        attorney_code=(attorney_code or "").strip() or None,
    )
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", user.id, after=_public_fields(user))
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None`` (same work either way)."""
    user = user_by_email(email) if email else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (for re-authentication)."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def record_login(actor: Actor, user: User) -> None:
    """Note a successful sign-in."""
    user.last_login_at = utcnow()
    record(actor, "user.login", "user", user.id)


def record_failed_login(actor: Actor, email: str) -> None:
    """Note a failed sign-in (the e-mail as typed, never the password)."""
    record(actor, "user.login_failed", "user", None, after={"email": email[:254]})


def set_active(actor: Actor, user: User, active: bool) -> None:
    """Enable or disable a user; disabling ends their sessions and stops their tokens.

    :raises Conflict: an admin disabling their own account.
    """
    if not active and actor.user is not None and actor.user.id == user.id:
        raise Conflict("You cannot disable your own account.")
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    after: dict[str, object] = {"active": active}
    if not active:
        # Tokens go with the account: enabling it again does not bring them back.
        now = utcnow()
        revoked = [token for token in user.tokens if token.revoked_at is None]
        for token in revoked:
            token.revoked_at = now
        after["tokens_revoked"] = len(revoked)
    record(
        actor,
        "user.enable" if active else "user.disable",
        "user",
        user.id,
        before={"active": not active},
        after=after,
    )


def end_sessions(actor: Actor, user: User, action: str = "user.sessions_end") -> None:
    """End every signed-in session of ``user`` (each browser is back at the sign-in page).

    Sessions live in signed cookies that carry ``session_version``; bumping it makes every
    cookie issued before now name no one. ``action`` is ``user.logout`` when the user signed out.
    """
    user.session_version += 1
    record(actor, action, "user", user.id)


def change_password(actor: Actor, user: User, new_password: str) -> None:
    """Set a new password and end the user's other sessions."""
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    record(actor, "user.password_change", "user", user.id)


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor: Actor, user: User, name: str = "API token") -> tuple[ApiToken, str]:
    """A new API token for ``user``; the plain token is returned once and never stored.

    :raises ValidationFailed: the user is disabled.
    """
    if not user.active:
        raise ValidationFailed(f"{user.email} is disabled; enable the account first.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=(name or "API token").strip()[:100],
        token_hash=hash_token(plain),
        prefix=plain[:10],
    )
    db.session.add(token)
    db.session.flush()
    record(actor, "token.create", "api_token", token.id, after={"user": user.email, "name": name})
    return token, plain


def revoke_token(actor: Actor, token: ApiToken) -> None:
    """Revoke a token (kept for the record)."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    record(actor, "token.revoke", "api_token", token.id, after={"user": token.user.email})


def user_for_token(plain: str) -> User | None:
    """The active user owning this unrevoked token, or ``None``."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or not token.is_valid or not token.user.active:
        return None
    now = utcnow()
    # Write the last-use time at most once a minute to keep reads cheap.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
        db.session.commit()
    return token.user


def _public_fields(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "firm": user.firm,
        "licence_number": user.licence_number,
        "firm_address": user.firm_address,
        "phone": user.phone,
        "attorney_code": user.attorney_code,
        "active": user.active,
    }


#: What a lawyer keeps current about themselves for the signature block of what they sign.
COUNSEL_FIELDS = ("firm_address", "phone", "attorney_code")


def update_counsel_details(actor: Actor, user: User, values: dict[str, str | None]) -> bool:
    """Set a lawyer's firm address, telephone and court attorney code; audited. Changed?"""
    before = {name: getattr(user, name) for name in COUNSEL_FIELDS}
    after = {name: (values.get(name) or "").strip() or None for name in COUNSEL_FIELDS}
    if after == before:
        return False
    for name, value in after.items():
        setattr(user, name, value)
    db.session.flush()
    changed = [name for name in COUNSEL_FIELDS if before[name] != after[name]]
    record(
        actor,
        "user.counsel_details",
        "user",
        user.id,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return True
