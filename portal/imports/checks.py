"""The checks of a whole file before anything is written: the header, every row through the
ledger's input schema (duplicate ids, amounts with commas), then each row's references
(``kinds``) and what it would create or update (``_plan``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from ..domain import ValidationFailed
from ..ledger.upserts import _external_id
from .kinds import _Kind, _Row
from .report import RowError
from .tables import Table, column_letter

#: ``progress(phase, done, total)``, phase ``"check"`` or ``"write"``.
Progress = Callable[[str, int, int], None]

#: A number with thousands separators: ``1,234,567.89``.
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


@dataclass
class _Plan:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: (debtor id, currency) whose allocation must be rebuilt.
    keys: set[tuple[int, str]] = field(default_factory=set)


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
