"""Server-side sorting of list pages: which column, which direction, read from the query string.

Every sortable list names its columns (key → SQL expressions) and a default; the page's header
links flip the direction (see the ``sort_header`` macro). Unknown keys fall back to the default
rather than failing, as a stale bookmark should still open the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, nulls_last


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"

    def args(self) -> dict[str, str]:
        """The query-string arguments that keep this order on other links (pages, filters)."""
        return {"sort": self.key, "dir": self.direction}


def requested_sort(columns: Mapping[str, Any], default: str, descending: bool = False) -> Sort:
    """The sort the request asks for (``?sort=<key>&dir=asc|desc``), else the default."""
    key = request.args.get("sort", "")
    if key not in columns:
        return Sort(default, descending)
    return Sort(key, request.args.get("dir", "asc") == "desc")


def ordered(
    query: Select, sort: Sort, columns: Mapping[str, Sequence[Any]], tiebreak: Any
) -> Select:
    """``query`` ordered by the sort's columns (empty values last either way), then ``tiebreak``
    in the same direction so that paging is stable."""
    clauses = []
    for column in columns[sort.key]:
        clause = column.desc() if sort.descending else column.asc()
        # NULLS LAST only where there can be nulls: on a NOT NULL column it would keep the
        # database from reading the column's index in order.
        clauses.append(nulls_last(clause) if _nullable(column) else clause)
    clauses.append(tiebreak.desc() if sort.descending else tiebreak.asc())
    return query.order_by(*clauses)


def _nullable(column: Any) -> bool:
    """Whether a sort column may hold nulls (unknown expressions are assumed to)."""
    expression = getattr(column, "expression", column)
    return getattr(expression, "nullable", True) is not False
