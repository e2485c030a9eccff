"""The receivables ledger: creditor entities, debtors, invoices, payments, credit notes."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Money, Rate, TimestampMixin, str_enum
from ..extensions import db


class Jurisdiction(enum.StrEnum):
    """The jurisdiction pack that governs a debtor or case."""

    CN = "cn"
    EW = "ew"
    US = "us"

    @property
    def label(self) -> str:
        return {"cn": "PRC", "ew": "England & Wales", "us": "United States"}[self.value]


class DebtorKind(enum.StrEnum):
    """Companies and individuals (sole traders) follow different pre-action rules."""

    COMPANY = "company"
    INDIVIDUAL = "individual"


class CreditorEntity(TimestampMixin, db.Model):
    """One of the creditor group's own legal entities, in whose name claims are made."""

    __tablename__ = "creditor_entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short name used in lists and reference numbers.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    registration_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[Jurisdiction] = mapped_column(str_enum(Jurisdiction, "jurisdiction"))
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    #: Where the entity is incorporated, as a pleading describes it: "Delaware", "England and
    #: Wales", "Illinois" (a US complaint: "a corporation organized under the laws of …").
    incorporation: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    bank_name: Mapped[str | None] = mapped_column(String(200))
    #: IBAN, or the local account number where IBANs are not used.
    bank_account: Mapped[str | None] = mapped_column(String(64))
    #: SWIFT/BIC, UK sort code or US routing number.
    bank_code: Mapped[str | None] = mapped_column(String(32))


class Debtor(TimestampMixin, db.Model):
    """A customer who owes money; keyed by the ERP's external id."""

    __tablename__ = "debtor"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: Indexed: the debtor list and the aging report are ordered by name.
    name: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[DebtorKind] = mapped_column(str_enum(DebtorKind, "debtor_kind"))
    registration_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    jurisdiction: Mapped[Jurisdiction] = mapped_column(str_enum(Jurisdiction, "jurisdiction"))
    #: A company's legal representative (PRC 法定代表人), pleaded in a complaint against it.
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    #: An individual's title and surname, for the salutation ("Dear Mr Smith").
    title: Mapped[str | None] = mapped_column(String(20))
    surname: Mapped[str | None] = mapped_column(String(100))


class Invoice(TimestampMixin, db.Model):
    """An invoice issued by a creditor entity to a debtor."""

    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_debtor_currency_due", "debtor_id", "currency", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor_entity.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    issue_date: Mapped[dt.date]
    #: Delivery or performance; starts limitation in England & Wales.
    delivery_date: Mapped[dt.date | None]
    due_date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    contract_ref: Mapped[str | None] = mapped_column(String(128))
    #: Agreed late-payment interest, percent per annum; ``None`` = statutory interest applies.
    interest_rate: Mapped[Decimal | None] = mapped_column(Rate)

    debtor: Mapped[Debtor] = relationship()
    creditor: Mapped[CreditorEntity] = relationship()


#: A creditor's invoice numbers are unique whatever their case: ``upsert_invoice`` looks the number
#: up as ``lower(number)``, which only an index on that expression serves.
Index("ix_invoice_creditor_lower_number", Invoice.creditor_id, func.lower(Invoice.number))


class Payment(TimestampMixin, db.Model):
    """Money received from a debtor, optionally earmarked for one invoice."""

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_debtor_currency_date", "debtor_id", "currency", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    #: The invoice the debtor named; without it the payment goes to the oldest open invoice.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)

    debtor: Mapped[Debtor] = relationship()
    invoice: Mapped[Invoice | None] = relationship()


class CreditNote(TimestampMixin, db.Model):
    """A credit note reducing one invoice."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)

    debtor: Mapped[Debtor] = relationship()
    invoice: Mapped[Invoice] = relationship()


class PaymentAllocation(db.Model):
    """How much of a payment went to which invoice; rebuilt whenever the debtor's ledger changes."""

    __tablename__ = "payment_allocation"
    __table_args__ = (UniqueConstraint("payment_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)

    payment: Mapped[Payment] = relationship()


class InterestRate(TimestampMixin, db.Model):
    """One row of the reference-rate table (data, with its source; admins keep it current)."""

    __tablename__ = "interest_rate"
    __table_args__ = (UniqueConstraint("kind", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``boe_base``, ``ecb_ref``, ``lpr_1y``, ``us_il_statutory``.
    kind: Mapped[str] = mapped_column(String(32))
    #: In force from this day until the next row of the same kind.
    valid_from: Mapped[dt.date]
    #: Percent per annum.
    rate: Mapped[Decimal] = mapped_column(Rate)
    source: Mapped[str] = mapped_column(Text)


class RateConfirmation(TimestampMixin, db.Model):
    """Per kind, the day through which an admin has checked the table holds every rate.

    A figure that needs a rate after that day is not computed from the last row (a published
    change may be missing); the document stays a draft naming the rate to add.
    """

    __tablename__ = "rate_confirmation"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    confirmed_through: Mapped[dt.date]
    #: What was checked (publication, URL) and by whom.
    source: Mapped[str] = mapped_column(Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class DebtorAging(db.Model):
    """A debtor's outstanding per creditor entity and currency in each aging bucket, stored as of
    a day (``ledger/aging.py``): recomputed for a debtor whenever its ledger changes and for
    everyone each day, so the aging report pages through stored rows."""

    __tablename__ = "debtor_aging"
    __table_args__ = (
        UniqueConstraint("debtor_id", "creditor_id", "currency", name="uq_debtor_aging_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id", ondelete="CASCADE"), index=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor_entity.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    #: The day the buckets are as of.
    computed_on: Mapped[dt.date] = mapped_column(index=True)
    current: Mapped[Decimal] = mapped_column(Money)
    d1_30: Mapped[Decimal] = mapped_column(Money)
    d31_60: Mapped[Decimal] = mapped_column(Money)
    d61_90: Mapped[Decimal] = mapped_column(Money)
    d91_180: Mapped[Decimal] = mapped_column(Money)
    d181_365: Mapped[Decimal] = mapped_column(Money)
    over_365: Mapped[Decimal] = mapped_column(Money)
    #: Invoices with something outstanding; the earliest due date among the overdue ones.
    open_invoices: Mapped[int] = mapped_column(default=0)
    oldest_overdue: Mapped[dt.date | None]
