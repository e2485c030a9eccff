"""What an import found and did: the report shown by the UI, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (header = 1), the column (``None``: the whole row)."""

    row: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    """Counts and errors of one import; with any error nothing is written and counts stay 0."""

    kind: str
    filename: str = ""
    sha256: str = ""
    dry_run: bool = False
    #: Data rows read (blank rows are skipped and not counted).
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Whether the changes were written to the session (the caller commits).
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> int:
        """Rows identical to the ledger (neither created nor updated)."""
        return self.rows - self.created - self.updated if self.ok else 0

    @property
    def rows_with_errors(self) -> int:
        return len({error.row for error in self.errors})

    def as_dict(self) -> dict[str, Any]:
        """The documented shape: ``{"rows", "created", "updated", "errors": [...]}``."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "errors": [error.as_dict() for error in self.errors],
        }
