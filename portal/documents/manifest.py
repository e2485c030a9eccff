"""Field manifests: ``<kind>.toml`` beside each template lists the context fields it reads."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TYPES = ("text", "date", "money", "integer", "boolean", "list")
#: Official forms a letter is issued with, uploaded once by an admin (``statutory.py``); a
#: manifest's ``enclosures`` names them in the order they are annexed.
STATUTORY_FORMS: dict[str, str] = {
    "pap_debt_information_sheet": "Information Sheet",
    "pap_debt_reply_form": "Reply Form",
    "pap_debt_financial_statement": "Financial Statement",
}
LANGUAGES = ("en", "zh")
#: ``debtor.name``, ``invoices[].number``, ``interest.periods[].start``
_NAME = re.compile(r"[A-Za-z_]\w*(\[\])?(\.[A-Za-z_]\w*(\[\])?)*")


class ManifestError(ValueError):
    """A manifest that cannot be read or breaks the format in doc_templates/README.md."""

    def __init__(self, reason: str, path: Path | None = None) -> None:
        super().__init__(f"{path.name}: {reason}" if path else reason)
        self.reason = reason  #: what is wrong, without the file name


@dataclass(frozen=True)
class Field:
    """One context field a template reads."""

    name: str  #: dotted path into the context; list items as ``invoices[].number``
    type: str  #: one of TYPES
    required: bool  #: a final document is refused while it is missing
    description: str
    input: bool = False  #: typed in by the user at generation time, not taken from the case
    #: A boolean context path; while it is true the field is not required (a PRC defendant's
    #: ``debtor.legal_representative`` unless ``debtor.is_individual``).
    unless: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A template's title, language and fields."""

    title: str
    language: str
    fields: tuple[Field, ...]
    #: Statutory forms (``STATUTORY_FORMS`` keys) annexed to the document, in order.
    enclosures: tuple[str, ...] = ()


def load_manifest(path: Path | str) -> Manifest:
    """Read and check a manifest.

    :raises ManifestError: unreadable TOML, a missing or wrong key, an unknown type or language,
        a duplicate field, or a list item field whose list is not declared.
    """
    path = Path(path)
    try:
        return _manifest(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ManifestError(f"cannot read: {error}", path) from error
    except ManifestError as error:
        raise ManifestError(error.reason, path) from None


def _manifest(data: dict[str, Any]) -> Manifest:
    title = _string(data, "title", "manifest")
    language = _string(data, "language", "manifest")
    if language not in LANGUAGES:
        raise ManifestError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    entries = data.get("fields", [])
    if not isinstance(entries, list):
        raise ManifestError("'fields' must be an array of tables ([[fields]])")
    fields = tuple(_field(entry, number) for number, entry in enumerate(entries, 1))
    types: dict[str, str] = {}
    for item in fields:
        if item.name in types:
            raise ManifestError(f"field {item.name!r} is listed twice")
        types[item.name] = item.type
    for item in fields:
        head = item.name.rpartition("[]")[0]
        if head and types.get(head) != "list":
            raise ManifestError(f"field {item.name!r} is a list item but {head!r} is no list field")
    enclosures = data.get("enclosures", [])
    if not isinstance(enclosures, list) or any(item not in STATUTORY_FORMS for item in enclosures):
        raise ManifestError(
            f"'enclosures' must list statutory forms of {', '.join(STATUTORY_FORMS)}"
        )
    return Manifest(title=title, language=language, fields=fields, enclosures=tuple(enclosures))


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: {key!r} is missing or not a non-empty string")
    return value


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ManifestError(f"{where}: {key!r} must be true or false")
    return value


def _field(entry: Any, number: int) -> Field:
    if not isinstance(entry, dict):
        raise ManifestError(f"field {number}: must be a table ([[fields]])")
    name = _string(entry, "name", f"field {number}")
    where = f"field {number} ({name})"
    if not _NAME.fullmatch(name):
        raise ManifestError(f"{where}: not a path like debtor.name or invoices[].number")
    kind = _string(entry, "type", where)
    if kind not in TYPES:
        raise ManifestError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    return Field(
        name=name,
        type=kind,
        required=_flag(entry, "required", where),
        description=_string(entry, "description", where),
        input=_flag(entry, "input", where),
        unless=_unless(entry, where),
    )


def _unless(entry: dict[str, Any], where: str) -> str | None:
    if "unless" not in entry:
        return None
    value = _string(entry, "unless", where)
    if not _NAME.fullmatch(value) or "[]" in value:
        raise ManifestError(f"{where}: 'unless' must be a path like debtor.is_individual")
    return value
