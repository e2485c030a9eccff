"""Validate a whole CSV/XLSX file of debtors, invoices or payments, then write all of it or none.

The rules are those of ``ledger/upserts.py``, which writes one row at a time with an audit row
each; here they run in bulk. Every reference is fetched up front with IN queries (500 values a
query), every bad row is reported, and the writes are executemany statements, one reallocation per
(debtor, currency) touched and one audit record for the whole import. The caller commits (or rolls
back after an error).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from marshmallow import Schema, ValidationError
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..ledger.allocation import reallocate_many
from ..ledger.models import CreditorEntity, Debtor, DebtorKind, Invoice, Jurisdiction, Payment
from ..ledger.schemas import DebtorIn, InvoiceIn, PaymentIn
from ..ledger.upserts import DEBTOR_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS, _external_id
from .report import ImportReport, RowError
from .tables import Limits, Table, column_letter, read_table

T = TypeVar("T")

#: Values of ``IN (...)`` lists per query.
CHUNK = 500
#: Rows per executemany batch.
WRITE_BATCH = 1000
#: ``progress(phase, done, total)``, phase ``"check"`` or ``"write"``.
Progress = Callable[[str, int, int], None]

# Core tables: the prefetch reads plain rows, without the ORM's per-row loading.
DEBTOR = Debtor.__table__
INVOICE = Invoice.__table__
CREDITOR = CreditorEntity.__table__

#: A number with thousands separators: ``1,234,567.89``.
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


@dataclass
class _Row:
    """One data row after the schema: its values, and whether it is still free of errors."""

    number: int
    external_id: str | None
    data: dict[str, Any]
    ok: bool


@dataclass
class _Plan:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: (debtor id, currency) whose allocation must be rebuilt.
    keys: set[tuple[int, str]] = field(default_factory=set)


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


def display_name(filename: str | None) -> str:
    """A client's file name as a label only: no folders, no control characters, 200 at most."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[:200] or "upload"


def run_import(
    actor: Actor,
    kind: str,
    data: bytes,
    *,
    filename: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of a file and, unless it is a dry run or any row is bad, write them all.

    A row identical to the ledger counts as neither created nor updated; when nothing changes,
    nothing is written, not even the audit record.

    :raises UnsupportedFile: not a CSV or XLSX file, or an unsafe workbook (415).
    :raises FileTooLarge: more than ``IMPORT_MAX_BYTES`` (413).
    :raises ValidationFailed: an unknown kind.
    :raises Conflict: the ledger changed while writing (a concurrent import); roll back.
    """
    if kind not in KINDS:
        raise ValidationFailed(
            f"Unknown kind of import {kind!r}.", fields={"kind": [f"One of {', '.join(KINDS)}."]}
        )
    spec = KINDS[kind]()
    report = ImportReport(
        kind=kind,
        filename=display_name(filename),
        sha256=hashlib.sha256(data).hexdigest(),
        dry_run=dry_run,
    )
    table = read_table(data, Limits.from_config())
    report.rows = len(table.rows)
    report.errors.extend(table.errors)
    positions = _map_header(spec, table.header, report.errors)
    if report.errors:
        return _refused(report, spec)
    rows = _parse_rows(spec, table, positions, report.errors, progress)
    with _custom_plans():
        spec.prefetch(rows)
    plan = _plan(spec, rows, report.errors)
    if report.errors:
        return _refused(report, spec)
    report.created, report.updated = len(plan.creates), len(plan.updates)
    if dry_run or not (plan.creates or plan.updates):
        return report
    _write(spec, plan, progress)
    record(
        actor,
        "ledger.import",
        "import",
        None,
        after={
            "kind": kind,
            "sha256": report.sha256,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "filename": report.filename,
        },
    )
    report.written = True
    return report


def _map_header(spec: _Kind, header: list[str | None], errors: list[RowError]) -> dict[int, str]:
    """Column position → column name; header errors (all on row 1) are added to ``errors``."""
    if not header:
        errors.append(
            RowError(1, None, f"The first row must name the columns: {', '.join(spec.columns)}.")
        )
        return {}
    positions: dict[int, str] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        if raw is None:
            continue
        name = raw.strip().lower()
        if name not in spec.columns:
            unknown.append(raw)
        elif name in positions.values():
            errors.append(RowError(1, name, f"The column {name} appears more than once."))
        else:
            positions[index] = name
    if unknown:
        errors.append(
            RowError(
                1,
                None,
                f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. "
                f"The columns of {spec.name} are: {', '.join(spec.columns)}.",
            )
        )
    missing = [name for name in spec.required if name not in positions.values()]
    if missing:
        errors.append(RowError(1, None, f"Required columns are missing: {', '.join(missing)}."))
    return positions


def _parse_rows(
    spec: _Kind,
    table: Table,
    positions: dict[int, str],
    errors: list[RowError],
    progress: Progress | None,
) -> list[_Row]:
    """Each row through the ledger's input schema; duplicate external ids are errors."""
    rows: list[_Row] = []
    first_seen: dict[str, int] = {}
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        count = len(errors)
        values: dict[str, str] = {}
        for index, cell in enumerate(cells):
            if cell is None:
                continue
            if index in positions:
                values[positions[index]] = cell
            else:
                errors.append(
                    RowError(
                        number, None, f"Column {column_letter(index)} has a value but no header."
                    )
                )
        external_id = _row_external_id(number, values.pop("external_id", None), errors)
        if external_id is not None:
            if external_id in first_seen:
                errors.append(
                    RowError(
                        number,
                        "external_id",
                        f"{external_id} is already on row {first_seen[external_id]}.",
                    )
                )
            else:
                first_seen[external_id] = number
        refused = _amount_format(number, values.get("amount"), table.delimiter, errors)
        try:
            data = spec.loader.load(values)
        except ValidationError as error:
            data = dict(error.valid_data or {})
            for name, messages in _flatten(error.messages):
                if name not in refused:
                    errors.append(RowError(number, name, messages))
        if refused:
            data.pop("amount", None)
        rows.append(_Row(number, external_id, data, ok=len(errors) == count))
        if progress is not None and (done % 500 == 0 or done == total):
            progress("check", done, total)
    return rows


def _row_external_id(number: int, raw: str | None, errors: list[RowError]) -> str | None:
    if raw is None:
        errors.append(RowError(number, "external_id", "Missing data for required field."))
        return None
    try:
        return _external_id(raw)
    except ValidationFailed as error:
        errors.append(RowError(number, "external_id", error.message))
        return None


def _amount_format(
    number: int, amount: str | None, delimiter: str | None, errors: list[RowError]
) -> set[str]:
    """Refuse commas that could be decimal commas (the ledger's parser drops every comma)."""
    if amount is None or "," not in amount:
        return set()
    if delimiter != ";" and _GROUPED.fullmatch(amount):
        return set()
    errors.append(
        RowError(
            number,
            "amount",
            f"{amount!r}: write amounts with a dot for decimals and no other separators (1234.50).",
        )
    )
    return {"amount"}


def _flatten(messages: Any) -> Iterator[tuple[str | None, str]]:
    """marshmallow's ``{field: [message, …]}`` as ``(field, message)``; ``_schema`` → ``None``."""
    if not isinstance(messages, dict):
        messages = {"_schema": messages}
    for name, items in messages.items():
        for item in items if isinstance(items, list) else [items]:
            yield (None if name == "_schema" else name), str(item)


def _plan(spec: _Kind, rows: Sequence[_Row], errors: list[RowError]) -> _Plan:
    """What to create and update; rows equal to the ledger are left out."""
    plan = _Plan()
    for row in rows:
        values = spec.resolve(row, errors)
        if values is None or row.external_id is None:
            continue
        existing = spec.existing.get(row.external_id)
        if existing is None:
            plan.creates.append({"external_id": row.external_id, **values})
        elif any(getattr(existing, name) != values[name] for name in spec.fields):
            # ``!=`` compares values: Decimal("1.5000") == Decimal("1.50"), StrEnum == str.
            plan.updates.append({"id": existing.id, **values})
            old_key = spec.key(existing._mapping)
            if old_key is not None:
                plan.keys.add(old_key)
        else:
            continue
        key = spec.key(values)
        if key is not None:
            plan.keys.add(key)
    return plan


def _write(spec: _Kind, plan: _Plan, progress: Progress | None) -> None:
    """Bulk insert and update in batches, then rebuild the allocations touched.

    Core statements on the table, not the ORM's bulk paths: the ORM splits a batch wherever the
    rows' ``None`` columns differ, which costs one statement per few rows on PostgreSQL.
    """
    table = spec.model.__table__
    now = utcnow()
    set_values = {name: bindparam(f"new_{name}") for name in (*spec.fields, "updated_at")}
    update_rows = update(table).where(table.c.id == bindparam("row_id")).values(set_values)
    total, done = len(plan.creates) + len(plan.updates), 0
    try:
        for batch in _batches(plan.creates, WRITE_BATCH):
            db.session.execute(
                insert(table), [{**row, "created_at": now, "updated_at": now} for row in batch]
            )
            done += len(batch)
            if progress is not None:
                progress("write", done, total)
        for batch in _batches(plan.updates, WRITE_BATCH):
            db.session.execute(
                update_rows,
                [
                    {"row_id": row["id"], "new_updated_at": now}
                    | {f"new_{name}": row[name] for name in spec.fields}
                    for row in batch
                ],
            )
            done += len(batch)
            if progress is not None:
                progress("write", done, total)
    except IntegrityError as error:
        raise Conflict(
            "The ledger changed while the file was being imported (another import at the same "
            "time?). Nothing was imported; run the import again."
        ) from error
    if spec.allocates:
        reallocate_many(plan.keys)


def _refused(report: ImportReport, spec: _Kind) -> ImportReport:
    """Nothing is imported: counts are zero and the errors are in row, then column order."""
    order = {name: index for index, name in enumerate(spec.columns)}
    report.errors.sort(
        key=lambda error: (
            error.row or 0,
            -1 if error.field is None else order.get(error.field, len(order)),
        )
    )
    report.created = report.updated = 0
    return report


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
