"""The bundle's layout: sections in order, exhibit labels, duplicates, volumes and page numbers.

Nothing here draws: the builder asks for a plan, renders what depends on it (the evidence list,
the index) and asks again until the page counts settle.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from ..domain import DomainError
from .duplicates import page_texts
from .pages import IndexEntry

if TYPE_CHECKING:
    from .builder import BundleSpec, Part
    from .profiles import CourtProfile

SECTIONS = ("pleadings", "evidence_list", "exhibits")
#: a volume's generated pages and page objects, roughly, for the size estimate
_FRONT_BYTES = 60_000
_STAMP_BYTES = 400


class BundleFailed(DomainError):
    """The bundle cannot be built as asked; the message says why."""

    code = "bundle_failed"


@dataclass
class Doc:
    """A part as placed in the bundle."""

    part: Part
    key: str
    #: the part's PDF while the layout reads it; ``None`` once closed (see ``opened``)
    source: pikepdf.Pdf | None
    pages: int
    size: int
    sha256: str
    order: int
    notes: list[str] = field(default_factory=list)
    label: str = ""
    section: str = ""
    #: the divider page's title, when a divider goes before this document
    divider: str | None = None
    duplicate_of: Doc | None = None
    near_duplicate_of: Doc | None = None
    first_page: int = 0
    last_page: int = 0
    volume: int = 0
    #: why the document is in a volume over the profile's limits (set by ``Layout.plan``)
    oversized: str | None = None
    #: opens the part's PDF again, once ``source`` is closed
    reopen: Callable[[], pikepdf.Pdf] | None = None
    #: the part's PDF as a file (what a volume is merged from)
    path: Path | None = None
    #: how many of its images are certainly finer than the court's limit (``finer_images``)
    finer_images: int = 0
    #: blank pages after it (counted in ``pages``): what a rendered evidence list left of the
    #: pages reserved for it
    blank: int = 0

    @contextmanager
    def opened(self) -> Iterator[pikepdf.Pdf]:
        """The part's PDF: ``source`` while it is open, otherwise opened again and closed
        when the block ends."""
        if self.source is not None:
            yield self.source
            return
        if self.reopen is None:
            raise RuntimeError(f"{self.title} has no PDF to open")
        source = self.reopen()
        try:
            yield source
        finally:
            source.close()

    @property
    def title(self) -> str:
        return self.part.title

    @property
    def heading(self) -> str:
        """How the document is named in bookmarks."""
        return f"{self.label} {self.title}" if self.label else self.title


@dataclass
class VolumePlan:
    """The documents in one volume and its bundle page numbers."""

    docs: list[Doc]
    first_page: int = 0
    last_page: int = 0


class Layout:
    """The bundle's sections and documents in order, with labels."""

    def __init__(self, spec: BundleSpec, docs: list[Doc], words: dict[str, str]) -> None:
        self.spec = spec
        self.words = words
        by_kind: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            by_kind[doc.part.kind].append(doc)
        if len(by_kind["evidence_list"]) > 1:
            raise BundleFailed("A bundle has one evidence list.")
        self.sections: dict[str, list[Doc]] = {
            "pleadings": by_kind["pleading"],
            "evidence_list": by_kind["evidence_list"],
            "exhibits": self._ordered(by_kind["exhibit"]),
        }
        for number, doc in enumerate(self.sections["exhibits"], 1):
            doc.label = doc.part.label or f"{spec.label_prefix}{number:03d}"
        labels = [doc.label for doc in self.sections["exhibits"]]
        if len(set(labels)) != len(labels):
            raise BundleFailed("Two exhibits have the same label.")
        mark_duplicates(self.sections["exhibits"])
        self._mark_sections()

    def _ordered(self, exhibits: list[Doc]) -> list[Doc]:
        last = dt.date.max
        if self.spec.order == "chronological":
            return sorted(exhibits, key=lambda doc: (doc.part.date or last, doc.order))
        kinds: dict[str, int] = {}
        for doc in exhibits:  # kinds in the order they first come: the caller's order
            kinds.setdefault(doc.part.evidence_kind or "", len(kinds))
        return sorted(
            exhibits,
            key=lambda doc: (kinds[doc.part.evidence_kind or ""], doc.part.date or last, doc.order),
        )

    def _mark_sections(self) -> None:
        for section, docs in self.sections.items():
            placed = [doc for doc in docs if doc.duplicate_of is None]
            for doc in docs:
                doc.section = section
                doc.divider = None
            if self.spec.dividers and placed:
                placed[0].divider = self.words[section]

    @property
    def exhibits(self) -> list[Doc]:
        return self.sections["exhibits"]

    @property
    def evidence_list(self) -> Doc | None:
        docs = self.sections["evidence_list"]
        return docs[0] if docs else None

    def add_evidence_list(self, title: str) -> Doc:
        """An evidence list to be rendered (no part was given for it)."""
        from .builder import Part

        doc = Doc(
            part=Part(kind="evidence_list", title=title, pdf=b"", sanitised=True),
            key="doc:evidence-list",
            source=None,
            pages=1,
            size=0,
            sha256="",
            order=-1,
        )
        self.sections["evidence_list"] = [doc]
        self._mark_sections()
        return doc

    def placed(self) -> list[Doc]:
        """Every document that has pages of its own, in bundle order."""
        return [
            doc
            for section in SECTIONS
            for doc in self.sections[section]
            if doc.duplicate_of is None
        ]

    def index_entries(self) -> list[IndexEntry]:
        """The index rows: a heading per section, then its documents, with their pages."""
        entries = []
        for section in SECTIONS:
            docs = self.sections[section]
            placed = [doc for doc in docs if doc.duplicate_of is None]
            if not placed:
                continue
            first, last = placed[0], placed[-1]
            entries.append(
                IndexEntry(
                    key=f"section:{section}",
                    title=self.words[section],
                    heading=True,
                    first_page=first.first_page - (1 if first.divider else 0),
                    last_page=last.last_page,
                    volume=first.volume,
                )
            )
            for doc in docs:
                target = doc.duplicate_of or doc
                title = doc.title + (f" ({doc.part.date.isoformat()})" if doc.part.date else "")
                note = ""
                if doc.duplicate_of:
                    note = self.words["same_as"].format(label=doc.duplicate_of.label)
                entries.append(
                    IndexEntry(
                        key=target.key,
                        title=title,
                        label=doc.label,
                        note=note,
                        first_page=target.first_page,
                        last_page=target.last_page,
                        volume=target.volume,
                    )
                )
        return entries

    def plan(self, front_pages: int, profile: CourtProfile) -> list[VolumePlan]:
        """Volumes within ``profile``'s limits, split between documents; page numbers set.

        A document too large for a volume on its own gets a volume of its own (and a warning).
        """
        max_pages, max_bytes = profile.max_pages_per_volume, profile.max_bytes_per_volume
        volumes = [VolumePlan([])]
        pages, size = front_pages, _FRONT_BYTES
        for doc in self.placed():
            need = doc.pages + (1 if doc.divider else 0)
            weight = doc.size + need * _STAMP_BYTES
            over_pages = max_pages is not None and pages + need > max_pages
            over_bytes = max_bytes is not None and size + weight > max_bytes
            if (over_pages or over_bytes) and volumes[-1].docs:
                volumes.append(VolumePlan([]))
                pages, size = front_pages, _FRONT_BYTES
            doc.oversized = None
            if max_pages is not None and front_pages + need > max_pages:
                doc.oversized = (
                    f"{doc.heading} ({doc.pages} pages) is longer than a volume may be "
                    f"({max_pages} pages): it has a volume of its own, over the limit."
                )
            elif max_bytes is not None and _FRONT_BYTES + weight > max_bytes:
                doc.oversized = (
                    f"{doc.heading} is larger than a volume may be: it has a volume of its "
                    "own, over the limit."
                )
            volumes[-1].docs.append(doc)
            pages += need
            size += weight
        number = 1
        for volume_number, volume in enumerate(volumes, 1):
            volume.first_page = number
            number += front_pages
            for doc in volume.docs:
                number += 1 if doc.divider else 0
                doc.first_page, doc.last_page = number, number + doc.pages - 1
                doc.volume = volume_number
                number += doc.pages
            volume.last_page = number - 1
        return volumes


def mark_duplicates(exhibits: list[Doc]) -> None:
    """Exact duplicates (same rendition SHA-256) point at the first; near-duplicates (same text
    on every page, and some text) are marked for review but stay."""
    first_by_hash: dict[str, Doc] = {}
    for doc in exhibits:
        original = first_by_hash.setdefault(doc.sha256, doc)
        if original is not doc:
            doc.duplicate_of = original
    by_pages: dict[int, list[Doc]] = defaultdict(list)
    for doc in exhibits:
        if doc.duplicate_of is None:
            by_pages[doc.pages].append(doc)
    # Text is read from the start of first pages only, then in full where those agree: reading
    # every page of every exhibit would cost more than building the bundle.
    by_first_page: dict[tuple[int, str], list[Doc]] = defaultdict(list)
    for pages, group in by_pages.items():
        if len(group) < 2:
            continue
        for doc in group:
            with doc.opened() as source:
                first = page_texts(source, 1, limit=300)
            if first is not None:
                by_first_page[pages, first[0]].append(doc)
    for group in by_first_page.values():
        if len(group) < 2:
            continue
        first_by_text: dict[tuple[str, ...], Doc] = {}
        for doc in group:
            with doc.opened() as source:
                texts = page_texts(source)
            original = first_by_text.setdefault(texts, doc)
            if original is not doc:
                doc.near_duplicate_of = original


def finer_images(document: pikepdf.Pdf, max_dpi: int) -> int:
    """How many images of ``document`` are certainly finer than ``max_dpi``.

    Only images named by a page itself are looked at, at the least resolution they can have
    (drawn as large as the page): an image drawn smaller is finer still.
    """
    finer = 0
    for page in document.pages:
        resources = page.obj.get("/Resources")
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(xobjects, pikepdf.Dictionary):
            continue
        box = [float(v) for v in page.mediabox]
        longest = max(abs(box[2] - box[0]), abs(box[3] - box[1])) / 72
        for image in xobjects.values():
            if isinstance(image, pikepdf.Stream) and image.get("/Subtype") == "/Image":
                pixels = max(int(image.get("/Width", 0)), int(image.get("/Height", 0)))
                if longest and pixels / longest > max_dpi * 1.05:
                    finer += 1
    return finer


def image_warnings(doc: Doc, max_dpi: int) -> list[str]:
    """A warning if ``doc`` has an image certainly finer than ``max_dpi`` (counted by
    ``finer_images`` while the part was read)."""
    if not doc.finer_images:
        return []
    return [f"{doc.heading}: {doc.finer_images} image(s) finer than {max_dpi} dpi."]
