"""Declarative base, naming convention, column mixins and SQLite connection settings."""

from __future__ import annotations

import enum
import sqlite3
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A time stamp stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time stamp is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ScaledDecimal(TypeDecorator):
    """An exact ``Decimal`` stored as a scaled integer, so SQL sums stay exact on every database.

    SQLite has no decimal type (it would sum floats); integers add up exactly everywhere.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 4) -> None:
        super().__init__()
        self.places = places

    def process_bind_param(self, value: Decimal | int | str | None, dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)

    def process_literal_param(self, value, dialect) -> str:
        return str(self.process_bind_param(value, dialect))


#: Money amounts: four decimal places (every ISO 4217 minor unit fits).
Money = ScaledDecimal(4)
#: Interest rates in percent per annum: six decimal places.
Rate = ScaledDecimal(6)


class Base(DeclarativeBase):
    """Declarative base of every model; constraint names follow ``NAMING_CONVENTION``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint on every database."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class TimestampMixin:
    """``created_at``/``updated_at`` in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


#: Whether the current unit of work (a POST/PUT/PATCH/DELETE request, a job) will write. On
#: SQLite its transactions then begin IMMEDIATE: the write lock is taken at the start (waiting
#: up to the busy timeout) instead of upgrading a read snapshot later, which fails at once when
#: another writer committed in between ("database is locked" with no wait at all).
write_intent: ContextVar[bool] = ContextVar("portal_write_intent", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, full fsync and foreign keys on every SQLite connection (no-op for other drivers).
    The busy timeout is the driver's ``timeout`` (``SQLITE_BUSY_TIMEOUT``)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """BEGIN IMMEDIATE for a unit of work that writes (see ``write_intent``). Otherwise the
    driver's own behaviour stands: reads outside a transaction, BEGIN before the first write."""
    if connection.dialect.name == "sqlite" and write_intent.get():
        connection.exec_driver_sql("BEGIN IMMEDIATE")
