"""Idempotent upserts of debtors, invoices, payments and credit notes by external id.

A repeated call with the same values changes nothing and writes no audit row; a changed value is
updated and audited with its before/after. Values arrive already shaped by ``ledger/schemas.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select, type_coerce

from ..audit.services import Actor, diff, record
from ..db import Money
from ..domain import ValidationFailed
from ..extensions import db
from .allocation import reallocate
from .models import CreditNote, CreditorEntity, Debtor, DebtorKind, Invoice, Jurisdiction, Payment

#: Details a file or request may leave out: a debtor keeps what it has unless they are given.
DEBTOR_DETAILS = ("legal_representative", "title", "surname")
DEBTOR_FIELDS = (
    "name",
    "kind",
    "registration_id",
    "address",
    "email",
    "phone",
    "jurisdiction",
    "legal_representative",
    "title",
    "surname",
)
INVOICE_FIELDS = (
    "debtor_id",
    "creditor_id",
    "number",
    "issue_date",
    "delivery_date",
    "due_date",
    "currency",
    "amount",
    "contract_ref",
    "interest_rate",
)
PAYMENT_FIELDS = ("debtor_id", "invoice_id", "date", "currency", "amount")
CREDIT_NOTE_FIELDS = ("debtor_id", "invoice_id", "date", "currency", "amount")
#: ``_apply`` without a looked-up row (None means "looked up: there is none").
_NOT_LOOKED_UP: Any = object()


def _apply(
    actor: Actor,
    model: type,
    object_type: str,
    external_id: str,
    values: Mapping[str, Any],
    names: tuple[str, ...],
    existing: Any = _NOT_LOOKED_UP,
) -> tuple[Any, bool, bool]:
    """Create or update; returns ``(object, created, changed)``.

    ``existing``: the row the caller already found by this external id, or None if it found
    none (not looked up again); left out, it is looked up here.
    """
    external_id = _external_id(external_id)
    if existing is _NOT_LOOKED_UP:
        existing = db.session.scalar(select(model).where(model.external_id == external_id))
    if existing is None:
        obj = model(external_id=external_id, **{name: values[name] for name in names})
        db.session.add(obj)
        db.session.flush()
        record(
            actor,
            f"{object_type}.create",
            object_type,
            obj.id,
            after={"external_id": external_id, **{n: values[n] for n in names}},
        )
        return obj, True, True
    before = {name: getattr(existing, name) for name in names}
    changes = diff(before, {name: values[name] for name in names})
    if not changes["after"]:
        return existing, False, False
    for name in changes["after"]:
        setattr(existing, name, values[name])
    db.session.flush()
    record(actor, f"{object_type}.update", object_type, existing.id, **changes)
    return existing, False, True


def _external_id(raw: str) -> str:
    value = (raw or "").strip()
    if not value or len(value) > 64 or any(ord(char) < 32 for char in value):
        raise ValidationFailed(
            "The external id must be 1–64 printable characters.",
            fields={"external_id": ["1–64 printable characters."]},
        )
    return value


def debtor_by_external_id(external_id: str, field: str = "debtor") -> Debtor:
    """:raises ValidationFailed: no such debtor."""
    debtor = db.session.scalar(select(Debtor).where(Debtor.external_id == external_id))
    if debtor is None:
        raise ValidationFailed(
            f"Unknown debtor {external_id!r}.", fields={field: [f"Unknown debtor {external_id!r}."]}
        )
    return debtor


def _invoice_of(debtor: Debtor, external_id: str, currency: str) -> Invoice:
    invoice = db.session.scalar(select(Invoice).where(Invoice.external_id == external_id))
    if invoice is None or invoice.debtor_id != debtor.id:
        raise ValidationFailed(
            f"Unknown invoice {external_id!r} for this debtor.",
            fields={
                "invoice": [f"Unknown invoice {external_id!r} for debtor {debtor.external_id}."]
            },
        )
    if invoice.currency != currency:
        raise ValidationFailed(
            f"Invoice {invoice.number} is in {invoice.currency}, not {currency}.",
            fields={"currency": [f"Invoice {invoice.number} is in {invoice.currency}."]},
        )
    return invoice


def resolve_creditor(code: str | None) -> CreditorEntity:
    """The named creditor entity, or the only one there is.

    :raises ValidationFailed: unknown code, or several entities and none named.
    """
    if code:
        creditor = db.session.scalar(select(CreditorEntity).where(CreditorEntity.code == code))
        if creditor is None:
            raise ValidationFailed(
                f"Unknown creditor entity {code!r}.", fields={"creditor": ["Unknown code."]}
            )
        return creditor
    entities = db.session.scalars(select(CreditorEntity).limit(2)).all()
    if len(entities) == 1:
        return entities[0]
    message = "Name the creditor entity (code)." if entities else "Add a creditor entity first."
    raise ValidationFailed(message, fields={"creditor": [message]})


def _reallocate(key: tuple[int, str], old_key: tuple[int, str] | None) -> None:
    """Re-run allocation for the ledger touched, and for the one left if debtor/currency moved."""
    reallocate(*key)
    if old_key and old_key != key:
        reallocate(*old_key)


def upsert_debtor(actor: Actor, external_id: str, data: Mapping[str, Any]) -> tuple[Debtor, bool]:
    """Create or update a debtor; ``(debtor, created)``."""
    values = {name: data.get(name) or None for name in DEBTOR_FIELDS}
    values["kind"] = DebtorKind(values["kind"])
    values["jurisdiction"] = Jurisdiction(values["jurisdiction"])
    existing = db.session.scalar(select(Debtor).where(Debtor.external_id == external_id.strip()))
    for name in DEBTOR_DETAILS:
        if name not in data and existing is not None:
            values[name] = getattr(existing, name)
    debtor, created, _changed = _apply(
        actor, Debtor, "debtor", external_id, values, DEBTOR_FIELDS, existing
    )
    return debtor, created


def number_clash(creditor_id: int, number: str, external_id: str) -> Select[tuple[str]]:
    """Another invoice of the creditor with this number, whatever its case (its external id).

    ``lower(number)`` is what ``ix_invoice_creditor_lower_number`` indexes: keep them alike.
    """
    return select(Invoice.external_id).where(
        Invoice.creditor_id == creditor_id,
        func.lower(Invoice.number) == number.strip().lower(),
        Invoice.external_id != external_id.strip(),
    )


def upsert_invoice(
    actor: Actor, external_id: str, data: Mapping[str, Any], *, allocate: bool = True
) -> tuple[Invoice, bool]:
    """Create or update an invoice and re-run the debtor's allocation.

    :raises ValidationFailed: unknown debtor or creditor; the number is used by another invoice.
    """
    debtor = debtor_by_external_id(data["debtor"])
    creditor = resolve_creditor(data.get("creditor"))
    existing = db.session.scalar(select(Invoice).where(Invoice.external_id == external_id.strip()))
    clash = db.session.scalar(number_clash(creditor.id, data["number"], external_id))
    if clash is not None:
        raise ValidationFailed(
            f"Invoice number {data['number']} is already used by {clash}.",
            fields={"number": [f"Already used by invoice {clash}."]},
        )
    values = {
        "debtor_id": debtor.id,
        "creditor_id": creditor.id,
        "number": data["number"].strip(),
        "issue_date": data["issue_date"],
        "delivery_date": data.get("delivery_date"),
        "due_date": data["due_date"],
        "currency": data["currency"],
        "amount": data["amount"],
        "contract_ref": data.get("contract_ref") or None,
        "interest_rate": data.get("interest_rate"),
    }
    old_key = (existing.debtor_id, existing.currency) if existing is not None else None
    invoice, created, changed = _apply(
        actor, Invoice, "invoice", external_id, values, INVOICE_FIELDS, existing
    )
    if changed and allocate:
        _reallocate((debtor.id, invoice.currency), old_key)
    return invoice, created


def upsert_payment(
    actor: Actor, external_id: str, data: Mapping[str, Any], *, allocate: bool = True
) -> tuple[Payment, bool]:
    """Create or update a payment and re-run the debtor's allocation.

    :raises ValidationFailed: unknown debtor, or an invoice of another debtor or currency.
    """
    debtor = debtor_by_external_id(data["debtor"])
    invoice = (
        _invoice_of(debtor, data["invoice"], data["currency"]) if data.get("invoice") else None
    )
    values = {
        "debtor_id": debtor.id,
        "invoice_id": invoice.id if invoice else None,
        "date": data["date"],
        "currency": data["currency"],
        "amount": data["amount"],
    }
    existing = db.session.scalar(select(Payment).where(Payment.external_id == external_id.strip()))
    old_key = (existing.debtor_id, existing.currency) if existing is not None else None
    payment, created, changed = _apply(
        actor, Payment, "payment", external_id, values, PAYMENT_FIELDS, existing
    )
    if changed and allocate:
        _reallocate((debtor.id, payment.currency), old_key)
    return payment, created


def upsert_credit_note(
    actor: Actor, external_id: str, data: Mapping[str, Any], *, allocate: bool = True
) -> tuple[CreditNote, bool]:
    """Create or update a credit note against one invoice.

    :raises ValidationFailed: unknown debtor or invoice, or more credit than the invoice's amount.
    """
    debtor = debtor_by_external_id(data["debtor"])
    invoice = _invoice_of(debtor, data["invoice"], data["currency"])
    credited_before = db.session.scalar(
        select(type_coerce(func.coalesce(func.sum(CreditNote.amount), 0), Money)).where(
            CreditNote.invoice_id == invoice.id, CreditNote.external_id != external_id.strip()
        )
    )
    if credited_before + data["amount"] > invoice.amount:
        raise ValidationFailed(
            f"Credit notes would exceed invoice {invoice.number}'s amount.",
            fields={"amount": [f"At most {invoice.amount - credited_before} is left to credit."]},
        )
    values = {
        "debtor_id": debtor.id,
        "invoice_id": invoice.id,
        "date": data["date"],
        "currency": data["currency"],
        "amount": data["amount"],
    }
    note, created, changed = _apply(
        actor, CreditNote, "credit_note", external_id, values, CREDIT_NOTE_FIELDS
    )
    if changed and allocate:
        reallocate(debtor.id, note.currency)
    return note, created
