"""The kinds of import file (debtors, invoices, payments): their columns and schema, and how a
row's references are checked against the ledger — every one fetched up front with IN queries (500
values a query) — before it becomes model values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from marshmallow import Schema
from sqlalchemy import Row, func, select

from ..extensions import db
from ..ledger.models import CreditorEntity, Debtor, DebtorKind, Invoice, Jurisdiction, Payment
from ..ledger.schemas import DebtorIn, InvoiceIn, PaymentIn
from ..ledger.upserts import DEBTOR_DETAILS, DEBTOR_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS
from .report import RowError

T = TypeVar("T")

#: Values of ``IN (...)`` lists per query.
CHUNK = 500

# Core tables: the prefetch reads plain rows, without the ORM's per-row loading.
DEBTOR = Debtor.__table__
INVOICE = Invoice.__table__
CREDITOR = CreditorEntity.__table__


@dataclass
class _Row:
    """One data row after the schema: its values, and whether it is still free of errors."""

    number: int
    external_id: str | None
    data: dict[str, Any]
    ok: bool


class _Kind:
    """What one kind of file holds and how its rows become model values."""

    name: ClassVar[str]
    model: ClassVar[type]
    schema: ClassVar[type[Schema]]
    #: The model columns written (and compared), as in ``ledger/upserts.py``.
    fields: ClassVar[tuple[str, ...]]
    #: Whether the debtor's payment allocation depends on these rows.
    allocates: ClassVar[bool] = False

    def __init__(self) -> None:
        self.loader = self.schema()
        self.columns = ("external_id", *self.loader.fields)
        self.required = ("external_id", *(n for n, f in self.loader.fields.items() if f.required))
        self.existing: dict[str, Row] = {}

    def prefetch(self, rows: Sequence[_Row]) -> None:
        """Load what the rows refer to (a constant number of queries per 500 rows)."""
        table = self.model.__table__
        columns = [table.c.id, table.c.external_id, *(table.c[name] for name in self.fields)]
        self.existing = {
            row.external_id: row
            for row in _fetch(columns, table.c.external_id, (r.external_id for r in rows))
        }

    def resolve(self, row: _Row, errors: list[RowError]) -> dict[str, Any] | None:
        """The model values of a row, or ``None`` (with errors added) when it cannot be written."""
        raise NotImplementedError

    def key(self, values: Mapping[str, Any]) -> tuple[int, str] | None:
        """The (debtor id, currency) whose allocation the row affects."""
        return None


class _Debtors(_Kind):
    name = "debtors"
    model = Debtor
    schema = DebtorIn
    fields = DEBTOR_FIELDS

    def resolve(self, row: _Row, errors: list[RowError]) -> dict[str, Any] | None:
        if not row.ok:
            return None
        values = {name: row.data.get(name) or None for name in DEBTOR_FIELDS}
        # A file without a details column (legal representative, title, surname) leaves them.
        known = self.existing.get(row.external_id)
        for name in DEBTOR_DETAILS:
            if name not in row.data and known is not None:
                values[name] = getattr(known, name)
        values["kind"] = DebtorKind(values["kind"])
        values["jurisdiction"] = Jurisdiction(values["jurisdiction"])
        return values


class _Invoices(_Kind):
    name = "invoices"
    model = Invoice
    schema = InvoiceIn
    fields = INVOICE_FIELDS
    allocates = True

    def prefetch(self, rows: Sequence[_Row]) -> None:
        super().prefetch(rows)
        self.debtors = _debtor_ids(rows)
        self.creditors: dict[str, int] = dict(
            db.session.execute(select(CREDITOR.c.code, CREDITOR.c.id)).all()
        )
        # Numbers as they will be once the file is in: invoices of the file take their new
        # number, so only invoices the file does not name can clash with it.
        in_file = {row.external_id for row in rows}
        numbers = (row.data["number"].strip().lower() for row in rows if row.data.get("number"))
        self.taken: dict[tuple[int, str], str] = {}
        for external_id, creditor_id, number in _fetch(
            [INVOICE.c.external_id, INVOICE.c.creditor_id, INVOICE.c.number],
            func.lower(INVOICE.c.number),
            numbers,
        ):
            if external_id not in in_file:
                self.taken[(creditor_id, number.strip().lower())] = external_id
        self.numbers_in_file: dict[tuple[int, str], tuple[int, str]] = {}

    def resolve(self, row: _Row, errors: list[RowError]) -> dict[str, Any] | None:
        data, count = row.data, len(errors)
        debtor_id = _debtor(self.debtors, row, errors)
        creditor_id = self._creditor(row, errors)
        if creditor_id is not None and data.get("number") and row.external_id:
            number = data["number"].strip()
            key = (creditor_id, number.lower())
            if key in self.taken:
                errors.append(
                    RowError(
                        row.number,
                        "number",
                        f"Invoice number {number} is already used by invoice {self.taken[key]}.",
                    )
                )
            elif key in self.numbers_in_file:
                first_row, first_id = self.numbers_in_file[key]
                errors.append(
                    RowError(
                        row.number,
                        "number",
                        f"Invoice number {number} is also on row {first_row} (invoice {first_id}).",
                    )
                )
            else:
                self.numbers_in_file[key] = (row.number, row.external_id)
        if not row.ok or len(errors) > count:
            return None
        return {
            "debtor_id": debtor_id,
            "creditor_id": creditor_id,
            "number": data["number"].strip(),
            "issue_date": data["issue_date"],
            "delivery_date": data.get("delivery_date"),
            "due_date": data["due_date"],
            "currency": data["currency"],
            "amount": data["amount"],
            "contract_ref": data.get("contract_ref") or None,
            "interest_rate": data.get("interest_rate"),
        }

    def _creditor(self, row: _Row, errors: list[RowError]) -> int | None:
        """The named entity, or the only one there is (as ``upserts.resolve_creditor``)."""
        code = row.data.get("creditor")
        if code:
            if code not in self.creditors:
                message = f"Unknown creditor entity {code!r}."
                errors.append(RowError(row.number, "creditor", message))
            return self.creditors.get(code)
        if len(self.creditors) == 1:
            return next(iter(self.creditors.values()))
        message = (
            "Name the creditor entity (code)." if self.creditors else "Add a creditor entity first."
        )
        errors.append(RowError(row.number, "creditor", message))
        return None

    def key(self, values: Mapping[str, Any]) -> tuple[int, str]:
        return (values["debtor_id"], values["currency"])


class _Payments(_Kind):
    name = "payments"
    model = Payment
    schema = PaymentIn
    fields = PAYMENT_FIELDS
    allocates = True

    def prefetch(self, rows: Sequence[_Row]) -> None:
        super().prefetch(rows)
        self.debtors = _debtor_ids(rows)
        self.invoices = {
            row.external_id: row
            for row in _fetch(
                [
                    INVOICE.c.external_id,
                    INVOICE.c.id,
                    INVOICE.c.debtor_id,
                    INVOICE.c.currency,
                    INVOICE.c.number,
                    DEBTOR.c.external_id.label("debtor"),
                ],
                INVOICE.c.external_id,
                (row.data["invoice"] for row in rows if row.data.get("invoice")),
                join=(DEBTOR, DEBTOR.c.id == INVOICE.c.debtor_id),
            )
        }

    def resolve(self, row: _Row, errors: list[RowError]) -> dict[str, Any] | None:
        data, count = row.data, len(errors)
        debtor_id = _debtor(self.debtors, row, errors)
        invoice_id = None
        if data.get("invoice"):
            invoice = self.invoices.get(data["invoice"])
            if invoice is None:
                message = f"Unknown invoice {data['invoice']!r}."
                errors.append(RowError(row.number, "invoice", message))
            elif debtor_id is not None and invoice.debtor_id != debtor_id:
                errors.append(
                    RowError(
                        row.number,
                        "invoice",
                        f"Invoice {data['invoice']} is owed by debtor {invoice.debtor}, "
                        f"not {data['debtor']}.",
                    )
                )
            elif data.get("currency") and invoice.currency != data["currency"]:
                errors.append(
                    RowError(
                        row.number,
                        "currency",
                        f"Invoice {invoice.number} is in {invoice.currency}, "
                        f"not {data['currency']}.",
                    )
                )
            else:
                invoice_id = invoice.id
        if not row.ok or len(errors) > count:
            return None
        return {
            "debtor_id": debtor_id,
            "invoice_id": invoice_id,
            "date": data["date"],
            "currency": data["currency"],
            "amount": data["amount"],
        }

    def key(self, values: Mapping[str, Any]) -> tuple[int, str]:
        return (values["debtor_id"], values["currency"])


KINDS: dict[str, type[_Kind]] = {kind.name: kind for kind in (_Debtors, _Invoices, _Payments)}


def columns_of(kind: str) -> tuple[tuple[str, bool], ...]:
    """``(column, required)`` of a kind of file, in the documented order."""
    spec = KINDS[kind]()
    return tuple((name, name in spec.required) for name in spec.columns)


def _debtor_ids(rows: Sequence[_Row]) -> dict[str, int]:
    """Debtor id by external id, for the debtors the rows name."""
    return dict(
        _fetch(
            [DEBTOR.c.external_id, DEBTOR.c.id],
            DEBTOR.c.external_id,
            (row.data["debtor"] for row in rows if row.data.get("debtor")),
        )
    )


def _debtor(debtors: dict[str, int], row: _Row, errors: list[RowError]) -> int | None:
    external_id = row.data.get("debtor")
    if external_id is None:
        return None
    if external_id not in debtors:
        errors.append(RowError(row.number, "debtor", f"Unknown debtor {external_id!r}."))
    return debtors.get(external_id)


@contextmanager
def _custom_plans() -> Iterator[None]:
    """Run the prefetch queries without psycopg's automatic prepared statements.

    psycopg prepares a statement run 5 times; PostgreSQL then switches to a generic plan, in which
    ``x IN ($1, …, $500)`` is searched linearly for every row (only constant lists are hashed):
    130 ms a query against 10,000 invoices instead of 3 ms, and growing with the table.
    """
    connection = db.session.connection().connection.driver_connection
    if not hasattr(connection, "prepare_threshold"):  # SQLite, or another driver
        yield
        return
    threshold = connection.prepare_threshold
    connection.prepare_threshold = None
    try:
        yield
    finally:
        connection.prepare_threshold = threshold


def _fetch(
    columns: list[Any],
    key: Any,
    values: Iterable[Any],
    *,
    join: tuple[Any, Any] | None = None,
) -> list[Row]:
    """``SELECT columns WHERE key IN (…)``, 500 values a query."""
    found: list[Row] = []
    for chunk in _batches(sorted({value for value in values if value is not None}), CHUNK):
        query = select(*columns)
        if join is not None:
            query = query.join(*join)
        found.extend(db.session.execute(query.where(key.in_(chunk))).all())
    return found


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
