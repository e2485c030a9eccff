"""Arrears cases: one debtor, a set of invoices, a stage on the escalation ladder."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import TimestampMixin, str_enum
from ..extensions import db
from ..ledger.models import CreditorEntity, Debtor, Jurisdiction


class Stage(enum.StrEnum):
    """The escalation ladder, in order."""

    RECONCILIATION = "reconciliation"
    NOTICE = "notice"
    WARNING = "warning"
    DEMAND_LETTER = "demand_letter"
    PROSECUTION = "prosecution"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class CaseStatus(enum.StrEnum):
    """Whether work on a case goes on."""

    OPEN = "open"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


class Case(TimestampMixin, db.Model):
    """An arrears case against one debtor, owned by in-house legal, maybe assigned to counsel."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Human reference, e.g. ``AC-2026-0007``; unique per installation.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor_entity.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    #: The in-house legal user responsible for the case.
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The external lawyer assigned; only that lawyer sees the case.
    lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    jurisdiction: Mapped[Jurisdiction] = mapped_column(str_enum(Jurisdiction, "jurisdiction"))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, "stage"), default=Stage.RECONCILIATION)
    status: Mapped[CaseStatus] = mapped_column(
        str_enum(CaseStatus, "case_status"), default=CaseStatus.OPEN
    )

    creditor: Mapped[CreditorEntity] = relationship()
    debtor: Mapped[Debtor] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    lawyer: Mapped[User | None] = relationship(foreign_keys=[lawyer_id])
