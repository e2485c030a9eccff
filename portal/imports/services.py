"""Validate a whole CSV/XLSX file of debtors, invoices or payments, then write all of it or none.

The rules are those of ``ledger/upserts.py``, which writes one row at a time with an audit row
each; here they run in bulk. Every reference is fetched up front with IN queries (500 values a
query), every bad row is reported, and the writes are executemany statements, one reallocation per
(debtor, currency) touched and one audit record for the whole import. The caller commits (or rolls
back after an error).

The checks are in ``checks`` (header, rows, what would change) and ``kinds`` (each kind's columns
and references); this module runs them and, if every row passed, writes.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..ledger.allocation import reallocate_many
from .checks import Progress, _map_header, _parse_rows, _Plan, _plan
from .kinds import KINDS, _batches, _custom_plans, _Kind
from .kinds import _Invoices as _Invoices  # re-exported: a test patches its prefetch here
from .report import ImportReport
from .tables import Limits, read_table

#: Rows per executemany batch.
WRITE_BATCH = 1000


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
