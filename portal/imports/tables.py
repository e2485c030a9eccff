"""Reading an uploaded file into a header and rows of trimmed strings.

The type is decided by the bytes, never by the file name or the Content-Type: an XLSX workbook is
a ZIP archive holding ``[Content_Types].xml`` and ``xl/workbook.xml`` (checked against ZIP bombs
before openpyxl opens it); a CSV file is UTF-8 text, with or without a BOM, without NUL or other
control characters. Anything else is refused with 415.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

import openpyxl
from flask import current_app
from openpyxl.utils import get_column_letter

from ..domain import DomainError
from .report import RowError

#: Defaults of the ``IMPORT_*`` settings; each may be overridden in the app's config.
DEFAULT_LIMITS = {
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 100_000,
    # A 100,000-row invoice workbook written by openpyxl unpacks to about 55 MB.
    "IMPORT_MAX_UNPACKED_BYTES": 100 * 1024 * 1024,
    "IMPORT_MAX_ZIP_ENTRIES": 1_000,
}
#: Excel's last row; a sheet that claims rows beyond it is not a real workbook.
EXCEL_MAX_ROW = 1_048_576
#: Cells right of the last named column that are still read, to report values without a header.
SPARE_COLUMNS = 20

_XLSX_MEMBERS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_END = re.compile("\r\n|\r|\n")
_ACCEPTED = "Upload an XLSX workbook, or a CSV file saved as UTF-8 (“CSV UTF-8” in Excel)."

# openpyxl reads XML through defusedxml when it is installed; refuse to run without it.
if not openpyxl.DEFUSEDXML:  # pragma: no cover - depends on the environment
    raise ImportError("defusedxml must be installed (and OPENPYXL_DEFUSEDXML not False).")


class UnsupportedFile(DomainError):
    """Not a CSV or XLSX file, or a workbook that cannot be read safely."""

    status = 415
    code = "unsupported_media_type"


class FileTooLarge(DomainError):
    """More bytes than ``IMPORT_MAX_BYTES``."""

    status = 413
    code = "too_large"


@dataclass(frozen=True)
class Limits:
    """How much an import may read; from the app config with ``DEFAULT_LIMITS``."""

    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int
    max_zip_entries: int

    @classmethod
    def from_config(cls) -> Limits:
        def get(key: str) -> int:
            return int(current_app.config.get(key) or DEFAULT_LIMITS[key])

        return cls(
            max_bytes=get("IMPORT_MAX_BYTES"),
            max_rows=get("IMPORT_MAX_ROWS"),
            max_unpacked_bytes=get("IMPORT_MAX_UNPACKED_BYTES"),
            max_zip_entries=get("IMPORT_MAX_ZIP_ENTRIES"),
        )


@dataclass
class Table:
    """A file's first row (the header) and its non-blank data rows, numbered as in a spreadsheet."""

    format: str
    header: list[str | None] = field(default_factory=list)
    #: ``(row number, cells)``; a cell is a trimmed string, ``None`` when empty.
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)
    #: Problems with the file as a whole (malformed CSV, too many rows).
    errors: list[RowError] = field(default_factory=list)
    #: The CSV delimiter (``None`` for XLSX).
    delimiter: str | None = None


class _Malformed(Exception):
    """A row that cannot be read; reading stops there."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def column_letter(index: int) -> str:
    """``0`` → ``A``: how a spreadsheet names the column."""
    return get_column_letter(index + 1)


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def read_limited(stream: IO[bytes], limit: int) -> bytes:
    """All of ``stream``, reading at most one byte past ``limit``.

    :raises FileTooLarge: the stream holds more than ``limit`` bytes.
    """
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {human_size(limit)}; split it into parts.")
    return data


def read_table(data: bytes, limits: Limits) -> Table:
    """The header and rows of a CSV or XLSX file.

    :raises UnsupportedFile: neither an XLSX workbook (that is safe to open) nor UTF-8 text.
    :raises FileTooLarge: more than ``limits.max_bytes``.
    """
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"The file is larger than {human_size(limits.max_bytes)}; split it into parts."
        )
    if data[:4] in _ZIP_MAGIC:
        _check_workbook_archive(data, limits)
        return _read_xlsx(data, limits)
    text = _decode_csv(data)
    delimiter = _delimiter(text)
    table = _collect("csv", _csv_rows(text, delimiter), limits)
    table.delimiter = delimiter
    return table


def _collect(format_: str, rows: Iterator[tuple[int, list[str | None]]], limits: Limits) -> Table:
    """Row 1 is the header; blank rows are skipped (their numbers are kept); stop past the limit."""
    table = Table(format_)
    try:
        for number, cells in rows:
            if number == 1:
                while cells and cells[-1] is None:
                    cells.pop()
                table.header = cells
                continue
            if all(cell is None for cell in cells):
                continue
            if len(table.rows) >= limits.max_rows:
                table.errors.append(
                    RowError(
                        number,
                        None,
                        f"The file has more than {limits.max_rows:,} rows; split it into parts.",
                    )
                )
                break
            table.rows.append((number, cells))
    except _Malformed as error:
        table.errors.append(RowError(error.row, None, error.message))
    return table


# CSV ---------------------------------------------------------------------------------------------


def _decode_csv(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data:
        raise UnsupportedFile(f"The file is binary (or UTF-16 text), not CSV. {_ACCEPTED}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsupportedFile(
            f"The file is neither an XLSX workbook nor UTF-8 text. {_ACCEPTED}"
        ) from error
    if _CONTROL.search(text):
        raise UnsupportedFile(f"The file holds control characters, so it is not CSV. {_ACCEPTED}")
    if text.lstrip().startswith("<"):
        raise UnsupportedFile(f"The file looks like HTML or XML, not CSV. {_ACCEPTED}")
    return text


def _delimiter(text: str) -> str:
    """``;`` when it splits the header into more columns than ``,`` does, else ``,``."""
    first = _LINE_END.split(text, maxsplit=1)[0]
    counts = {}
    for delimiter in (",", ";"):
        try:
            counts[delimiter] = len(next(csv.reader([first], delimiter=delimiter), []))
        except csv.Error:
            counts[delimiter] = 0
    return ";" if counts[";"] > counts[","] else ","


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str | None]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _Malformed(number, f"This row is not valid CSV ({error}).") from error
        yield number, [cell.strip() or None for cell in record]


# XLSX --------------------------------------------------------------------------------------------


def _check_workbook_archive(data: bytes, limits: Limits) -> None:
    """An XLSX's ZIP must name the workbook parts and stay within the unpacked-size limits.

    The sizes are those the archive declares; Python's ``zipfile`` never inflates an entry past
    its declared size (it fails the CRC check instead), so the sum bounds what openpyxl can read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise UnsupportedFile(f"The file is a damaged ZIP archive. {_ACCEPTED}") from error
    if len(members) > limits.max_zip_entries:
        raise UnsupportedFile(
            f"The ZIP archive has more than {limits.max_zip_entries:,} entries; "
            "it is not an ordinary XLSX workbook."
        )
    if not _XLSX_MEMBERS <= {member.filename for member in members}:
        raise UnsupportedFile(f"The file is a ZIP archive but not an XLSX workbook. {_ACCEPTED}")
    if sum(member.file_size for member in members) > limits.max_unpacked_bytes:
        raise UnsupportedFile(
            f"The workbook unpacks to more than {human_size(limits.max_unpacked_bytes)}, so it "
            "is refused (a possible ZIP bomb). Save it as CSV, or split it into parts."
        )


def _read_xlsx(data: bytes, limits: Limits) -> Table:
    unreadable = f"The workbook could not be read. {_ACCEPTED}"
    # openpyxl warns about parts it drops (data validation, extensions); values are unaffected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many types for malformed parts
            raise UnsupportedFile(unreadable) from error
        try:
            if not workbook.worksheets:
                raise UnsupportedFile("The workbook has no worksheet.")
            sheet = workbook.worksheets[0]
            # The stored dimension may be wrong; read what is there instead.
            sheet.reset_dimensions()
            return _collect("xlsx", _xlsx_rows(sheet), limits)
        except UnsupportedFile:
            raise
        except Exception as error:  # malformed sheet XML, entities refused by defusedxml, …
            raise UnsupportedFile(unreadable) from error
        finally:
            workbook.close()


def _xlsx_rows(sheet: Any) -> Iterator[tuple[int, list[str | None]]]:
    header = [cell_text(value) for value in next(sheet.iter_rows(values_only=True), ())]
    yield 1, header
    width = max((index + 1 for index, cell in enumerate(header) if cell is not None), default=1)
    # Bounding the columns keeps a row with a cell in column XFD from costing 16,384 cells.
    rows = sheet.iter_rows(min_row=2, max_col=width + SPARE_COLUMNS, values_only=True)
    for number, values in enumerate(rows, start=2):
        if number > EXCEL_MAX_ROW:
            raise _Malformed(number, "The worksheet claims more rows than Excel allows.")
        yield number, [cell_text(value) for value in values]


def cell_text(value: Any) -> str | None:
    """A worksheet value as the text a CSV export would hold; ``None`` when empty.

    Dates become ``YYYY-MM-DD`` (a date-time at midnight too; other times keep theirs and then
    fail date validation). Integers are exact. Floats are read to 15 significant digits, the
    precision Excel keeps and shows, so ``=0.1+0.2`` gives ``0.3`` and not
    ``0.30000000000000004``; the amount is then checked against the currency's decimals.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip() or None
