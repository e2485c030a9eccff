"""Users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db
from ..security import Role


class User(UserMixin, TimestampMixin, db.Model):
    """Someone who signs in: admin, in-house legal, finance or an external lawyer."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    #: argon2id hash (argon2-cffi's encoded form).
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on password change or disabling, which ends every open session of the user.
    session_version: Mapped[int] = mapped_column(default=1)
    #: External lawyers only: the law firm and the practising licence number.
    firm: Mapped[str | None] = mapped_column(String(200))
    licence_number: Mapped[str | None] = mapped_column(String(64))
    #: The firm's postal address, printed on its letterhead.
    firm_address: Mapped[str | None] = mapped_column(Text)
    #: Counsel's telephone and court attorney code (Illinois Rule 131(d): Cook County code).
    phone: Mapped[str | None] = mapped_column(String(64))
    attorney_code: Mapped[str | None] = mapped_column(String(32))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.id.desc()"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """Session id that stops working once ``session_version`` changes."""
        return f"{self.id}:{self.session_version}"

    @property
    def display(self) -> str:
        return f"{self.name} <{self.email}>"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for ``/api/v1``; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 hex of the whole token (tokens are 256-bit random, so a fast hash is enough).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, shown so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
