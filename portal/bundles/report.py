"""The preflight report of each volume: ``portal.pdf.preflight`` on the finished PDF, plus the
court profile's limits, PDF/A status and what the builder noticed on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..pdf.preflight import preflight

if TYPE_CHECKING:
    from .layout import VolumePlan
    from .profiles import CourtProfile


@dataclass
class PreflightReport:
    """What one volume was checked for and found. ``problems`` must be fixed before filing
    (``preflight``'s names: JavaScript, embedded file, fonts not embedded …); ``warnings`` are
    for a person to look at."""

    volume: int
    pages: int
    bytes: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fonts_embedded: bool = True
    #: the builder does not convert to PDF/A, so it never claims it
    pdfa: str = "not claimed"

    @property
    def passed(self) -> bool:
        return not self.problems


def check_volume(
    number: int, pdf: Path, plan: VolumePlan, profile: CourtProfile, document=None
) -> PreflightReport:
    """The report for volume ``number`` (its file ``pdf``; ``document``, when given, is what
    was saved to it, checked as it is instead of read again)."""
    # The catalogue's /OpenAction is the builder's own: a destination (first page at 100 %),
    # not an action. Inputs contribute pages only, so no other OpenAction can be there.
    checked = preflight(pdf if document is None else document)
    problems = [problem for problem in checked if problem != "OpenAction"]
    pages = plan.last_page - plan.first_page + 1
    size = pdf.stat().st_size
    report = PreflightReport(
        volume=number,
        pages=pages,
        bytes=size,
        problems=problems,
        fonts_embedded="fonts not embedded" not in problems,
    )
    warnings = report.warnings
    if profile.pdfa_required:
        warnings.append(
            f"{profile.title} requires PDF/A-2b; this bundle does not claim PDF/A: convert "
            "and validate it before filing."
        )
    limit = profile.max_bytes_per_volume
    if limit is not None and size > limit:
        warnings.append(
            f"Volume {number} is {size / 1e6:.1f} MB, over the court's "
            f"{limit / 1e6:.0f} MB per file."
        )
    if profile.max_pages_per_volume is not None and pages > profile.max_pages_per_volume:
        warnings.append(
            f"Volume {number} has {pages} pages, over the court's "
            f"{profile.max_pages_per_volume} per volume."
        )
    for doc in plan.docs:
        name = doc.heading
        warnings.extend(f"{name}: {note}" for note in doc.notes)
        if doc.oversized:
            warnings.append(doc.oversized)
        if doc.near_duplicate_of is not None:
            warnings.append(
                f"{name} has the same text as {doc.near_duplicate_of.heading}: "
                "check whether both are needed."
            )
    return report
