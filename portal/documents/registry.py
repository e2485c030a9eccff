"""Where templates are: ``doc_templates/<jurisdiction>/<kind>[.<variant>].docx`` + manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..domain import ValidationFailed
from .manifest import Manifest, load_manifest

#: Variants tried before the plain template, by debtor kind.
VARIANTS = {"individual": ("individual",), "company": ()}


@dataclass(frozen=True)
class TemplateSpec:
    """One template file, its manifest and the hash of its bytes (stored on every version)."""

    relative: str  #: e.g. ``ew/demand_letter.individual.docx``
    data: bytes
    sha256: str
    manifest: Manifest

    @property
    def inputs(self) -> list:
        """Manifest fields typed in at generation (court, extra facts)."""
        return [item for item in self.manifest.fields if item.input]

    @property
    def states_interest(self) -> bool:
        """The template prints an interest figure (so it needs the rates behind it)."""
        return any(
            item.name.startswith(("interest.", "totals.interest")) for item in self.manifest.fields
        )


def templates_root() -> Path:
    """``DOC_TEMPLATES_DIR`` or the ``doc_templates/`` folder beside the package."""
    configured = current_app.config.get("DOC_TEMPLATES_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "doc_templates"


def template_path(jurisdiction: str, kind: str, debtor_kind: str = "company") -> Path | None:
    """The template file a case of this jurisdiction and debtor kind uses for ``kind``."""
    folder = templates_root() / jurisdiction
    for variant in VARIANTS.get(debtor_kind, ()):
        candidate = folder / f"{kind}.{variant}.docx"
        if candidate.is_file():
            return candidate
    candidate = folder / f"{kind}.docx"
    return candidate if candidate.is_file() else None


def find_template(jurisdiction: str, kind: str, debtor_kind: str = "company") -> TemplateSpec:
    """Load the template and its manifest.

    :raises ValidationFailed: no template of that kind for the jurisdiction.
    """
    path = template_path(jurisdiction, kind, debtor_kind)
    if path is None:
        raise ValidationFailed(
            f"There is no {kind} template for jurisdiction {jurisdiction!r}.",
            fields={"kind": [f"no template in doc_templates/{jurisdiction}/"]},
        )
    data = path.read_bytes()
    return TemplateSpec(
        relative=path.relative_to(templates_root()).as_posix(),
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        manifest=load_manifest(path.with_suffix(".toml")),
    )
