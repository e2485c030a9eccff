"""Creditor entities now; debtors, invoices and payments arrive with the ledger issue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..audit.services import Actor, diff, record
from ..domain import Conflict
from ..extensions import db
from .models import CreditorEntity

CREDITOR_FIELDS = (
    "code",
    "legal_name",
    "registration_id",
    "address",
    "jurisdiction",
    "legal_representative",
    "incorporation",
    "email",
    "phone",
    "bank_name",
    "bank_account",
    "bank_code",
)


def creditor_entities() -> list[CreditorEntity]:
    """Every creditor entity, by code (the code is what imports and the API name)."""
    return list(db.session.scalars(select(CreditorEntity).order_by(CreditorEntity.code)))


def save_creditor(
    actor: Actor, creditor: CreditorEntity | None, data: Mapping[str, Any]
) -> CreditorEntity:
    """Create (``creditor`` is ``None``) or update a creditor entity.

    :raises Conflict: the short code is used by another entity.
    """
    values = {key: (data.get(key) or None) for key in CREDITOR_FIELDS}
    clash = db.session.scalar(select(CreditorEntity).where(CreditorEntity.code == values["code"]))
    if clash is not None and clash is not creditor:
        raise Conflict(
            f"The code {values['code']} is already used.", fields={"code": ["Already used."]}
        )
    before = {key: getattr(creditor, key) for key in CREDITOR_FIELDS} if creditor else {}
    if creditor is None:
        creditor = CreditorEntity()
        db.session.add(creditor)
    for key, value in values.items():
        setattr(creditor, key, value)
    db.session.flush()
    if before:
        changes = diff(before, values)
        record(actor, "creditor.update", "creditor_entity", creditor.id, **changes)
    else:
        filled = {key: value for key, value in values.items() if value is not None}
        record(actor, "creditor.create", "creditor_entity", creditor.id, after=filled)
    return creditor
