"""Arrears cases: one debtor, a set of invoices, a stage on the escalation ladder."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import Money, TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db
from ..ledger.models import CreditorEntity, Debtor, Invoice, Jurisdiction

#: The invoices a case claims.
case_invoice = Table(
    "case_invoice",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", ForeignKey("invoice.id"), primary_key=True, index=True),
)


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


class Outcome(enum.StrEnum):
    """How a closed case ended (the bad-debt outcomes of the design brief)."""

    PAID = "paid"
    SETTLED = "settled"
    PAYMENT_PLAN = "payment_plan"
    GOODS_TAKEN_BACK = "goods_taken_back"
    COLLATERAL_ENFORCED = "collateral_enforced"
    PROPERTY_PRESERVED = "property_preserved"
    JUDGMENT = "judgment"
    WRITTEN_OFF = "written_off"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Route(enum.StrEnum):
    """How the claim will be pursued in court."""

    LITIGATION = "litigation"
    PAYMENT_ORDER = "payment_order"
    ARBITRATION = "arbitration"


class EventType(enum.StrEnum):
    """What can happen on a case's timeline."""

    CONTACT = "contact"
    PROMISE = "promise"
    DISPUTE = "dispute"
    DISPUTE_RESOLVED = "dispute_resolved"
    RECONCILIATION_SENT = "reconciliation_sent"
    RECONCILIATION_REPLY = "reconciliation_reply"
    DISPATCH = "dispatch"
    ACKNOWLEDGMENT = "acknowledgment"
    ASSET = "asset"
    PRESERVATION = "preservation"
    NOTE = "note"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Case(TimestampMixin, db.Model):
    """An arrears case against one debtor, owned by in-house legal, maybe assigned to counsel."""

    __tablename__ = "case"
    #: The case list's default order (most recently updated first).
    __table_args__ = (Index("ix_case_updated_at", "updated_at"),)

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

    #: The claim's currency (every invoice of a case shares it).
    currency: Mapped[str | None] = mapped_column(String(3))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "outcome"))
    recovered_amount: Mapped[Decimal | None] = mapped_column(Money)
    costs: Mapped[Decimal | None] = mapped_column(Money)
    closed_on: Mapped[dt.date | None]
    #: What legal does next and by when (the work queue reads it).
    next_action: Mapped[str | None] = mapped_column(String(300))
    next_action_due: Mapped[dt.date | None] = mapped_column(index=True)
    #: The litigation route chosen, once prosecution is prepared.
    route: Mapped[Route | None] = mapped_column(str_enum(Route, "route"))
    #: The agreement the debt arises under (PAP-Debt 3.1(c)/(d)): ``written`` or ``oral``, its
    #: date, its parties and, for an oral one, who agreed what, when and where.
    agreement_form: Mapped[str | None] = mapped_column(String(8))
    agreement_date: Mapped[dt.date | None]
    agreement_parties: Mapped[str | None] = mapped_column(Text)
    agreement_terms: Mapped[str | None] = mapped_column(Text)
    #: The contract lets the creditor recover its lawyer's fees (a PRC letter may claim 律师费).
    fees_clause: Mapped[bool] = mapped_column(default=False)
    #: Bumped by every stage or status move; a move made from a stale read finds it changed
    #: and is refused (optimistic locking) instead of overwriting a parallel one.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    creditor: Mapped[CreditorEntity] = relationship()
    debtor: Mapped[Debtor] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    lawyer: Mapped[User | None] = relationship(foreign_keys=[lawyer_id])
    invoices: Mapped[list[Invoice]] = relationship(
        secondary=case_invoice, order_by="Invoice.due_date"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="(CaseEvent.date, CaseEvent.id)"
    )


class CaseEvent(db.Model):
    """One entry on a case's timeline; type-specific fields live in ``details``."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_type_date", "case_id", "type", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    #: The day it happened (not when it was typed in).
    date: Mapped[dt.date]
    #: Promise due date, reconciliation reply-by date.
    due: Mapped[dt.date | None]
    #: When a dispatched document reached the debtor.
    delivered_on: Mapped[dt.date | None]
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    #: Type-specific fields (channel, summary, courier, tracking, signed, confirmed, invoices …).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    created_by: Mapped[User | None] = relationship()


class CaseFigures(db.Model):
    """What lists and the work queue show of a case, stored whenever the case or its ledger
    changes and refreshed daily for what time changes (``cases/figures.py``)."""

    __tablename__ = "case_figures"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    #: The day the figures are as of (the case's jurisdiction's today when computed).
    computed_on: Mapped[dt.date]
    #: Something changed that the figures do not show yet (e.g. a new interest rate); the worker
    #: refreshes stale rows.
    stale: Mapped[bool] = mapped_column(default=False, index=True)
    #: What they were computed on (``figures.basis()``: the rules' fingerprint).
    basis: Mapped[str] = mapped_column(String(16), default="")
    currency: Mapped[str | None] = mapped_column(String(3))
    outstanding: Mapped[Decimal] = mapped_column(Money, index=True)
    interest: Mapped[Decimal] = mapped_column(Money)
    #: Outstanding principal, interest and fixed compensation as of ``computed_on``.
    total: Mapped[Decimal] = mapped_column(Money)
    #: The next action as the work queue sees it (a broken promise reopens it).
    next_due: Mapped[dt.date | None] = mapped_column(index=True)
    next_text: Mapped[str | None] = mapped_column(String(300))
    #: ``planned`` or ``promise broken``.
    next_reason: Mapped[str | None] = mapped_column(String(20))
    #: The nearest limitation deadline of the case's invoices.
    limitation_deadline: Mapped[dt.date | None] = mapped_column(index=True)
    #: Readiness for the next stage (the case's own at the top of the ladder).
    readiness_stage: Mapped[Stage] = mapped_column(str_enum(Stage, "stage"))
    readiness_blockers: Mapped[int] = mapped_column(default=0, index=True)
    readiness_warnings: Mapped[int] = mapped_column(default=0)
    #: The first findings, for the badge's tooltip.
    readiness_title: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()


class CaseDeadline(db.Model):
    """One dated obligation of a case, stored with its figures: the next action, the latest
    promise to pay, the reply date of a reconciliation awaiting an answer, each invoice's
    limitation deadline. The work queue pages through them by kind and date."""

    __tablename__ = "case_deadline"
    __table_args__ = (
        # The work queue pages through one kind by date, in this index's order (so a page
        # reads its rows and stops); lists read a page of cases' deadlines.
        Index("ix_case_deadline_kind_due", "kind", "open", "due", "case_id", "id"),
        Index("ix_case_deadline_case_kind", "case_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    #: ``next_action``, ``promise``, ``reply_by`` or ``limitation``.
    kind: Mapped[str] = mapped_column(String(20))
    #: The case is open (the work queue's cases): kept here so the queue reads one table.
    open: Mapped[bool] = mapped_column(default=True)
    due: Mapped[dt.date]
    #: The action's text, the invoice number; for a promise or reconciliation, empty.
    label: Mapped[str] = mapped_column(String(300), default="")
    #: Why: ``planned``/``promise broken`` for actions, what set a limitation deadline.
    note: Mapped[str | None] = mapped_column(String(300))
    #: When the promise was made or the reconciliation sent.
    since: Mapped[dt.date | None]
    #: A promise's amount and what was paid towards it by its due date.
    amount: Mapped[Decimal | None] = mapped_column(Money)
    paid: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))

    case: Mapped[Case] = relationship()


class CaseReferenceSequence(db.Model):
    """The last case number drawn in a year (``AC-2026-0007`` is number 7 of 2026)."""

    __tablename__ = "case_reference_sequence"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
