"""The creditor's own entities and the debtors; invoices and payments arrive with the ledger."""

from __future__ import annotations

import enum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, str_enum
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
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[DebtorKind] = mapped_column(str_enum(DebtorKind, "debtor_kind"))
    registration_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    jurisdiction: Mapped[Jurisdiction] = mapped_column(str_enum(Jurisdiction, "jurisdiction"))
