"""``build_bundle``: pleadings, an evidence list and exhibits (PDF bytes or files) → a filing
bundle.

One bundle is one or more volumes, each a PDF that starts with its own cover and an index of the
whole bundle. Pages are numbered by computer from 1 on the first cover, continuously across
volumes: in volume 1 the stamped number is the PDF's own page number; in a later volume it goes
on from the previous volume (``/PageLabels`` says so, so readers show the same number).

Two passes: the first lays the bundle out (the index's length depends only on its entries, the
evidence list's on what the renderer makes of the page ranges); the evidence list is then
rendered with each exhibit's final range, and the layout is redone if that changed its length
(three tries at most). Index entries in other volumes say "Vol. N" and carry no link.

Memory: the parts' PDFs are open together only while the layout reads them (page counts, exact
and near duplicates, image resolution); then they are closed, and each is opened again while
its pages are copied into its volume and closed at once (pikepdf copies what it needs into the
volume). A part given as a file ``path`` is read from the file, never held as bytes.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import hashlib
import io
import itertools
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pikepdf

from ..pdf.sanitise import sanitise_pdf
from .layout import BundleFailed, Doc, Layout, image_warnings
from .pages import Cover, FrontMatter
from .profiles import CourtProfile
from .report import PreflightReport, check_volume
from .stamping import Bookmark, Stamper, StampFont, add_links, add_outline, finish_document


@dataclass
class Part:
    """One document to put in the bundle: its PDF as bytes (``pdf``) or as a file (``path``,
    read from the file when needed; the builder does not keep the bytes)."""

    kind: Literal["pleading", "evidence_list", "exhibit"]
    title: str
    pdf: bytes = b""
    label: str | None = None  #: the exhibit's label; ``None``: numbered in bundle order
    evidence_id: int | None = None
    evidence_kind: str | None = None
    date: dt.date | None = None
    original_name: str | None = None
    sha256_original: str | None = None
    #: already sanitised (an evidence rendition); otherwise ``sanitise_pdf`` runs on it
    sanitised: bool = False
    #: the PDF as a file instead of ``pdf`` (a file-store path); it must not change while the
    #: bundle is built
    path: Path | None = None

    def read(self) -> bytes:
        """The PDF's bytes, from ``path`` when given."""
        return self.path.read_bytes() if self.path is not None else self.pdf


@dataclass
class BundleSpec:
    """What the bundle is for and how it is arranged."""

    court: str
    case_reference: str
    claimant: str
    defendant: str
    version: int
    on: dt.date
    title: str = "Filing bundle"
    language: Literal["en", "zh"] = "en"
    label_prefix: str = "C-"
    dividers: bool = False
    order: Literal["kind", "chronological"] = "kind"


@dataclass
class ExhibitRange:
    """Where an exhibit is in the bundle (a duplicate: where the exhibit it repeats is)."""

    label: str
    evidence_id: int | None
    title: str
    first_page: int
    last_page: int
    volume: int
    sha256_rendition: str
    sha256_original: str | None
    duplicate_of_label: str | None = None
    #: same text on every page as this exhibit: kept, for a person to review
    near_duplicate_of_label: str | None = None


@dataclass
class Volume:
    """One PDF of the bundle; ``first_page``/``last_page`` are bundle page numbers."""

    pdf: bytes
    pages: int
    first_page: int
    last_page: int
    sha256: str


@dataclass
class BundleResult:
    """The volumes, where each exhibit is, the preflight report per volume and the manifest."""

    volumes: list[Volume]
    exhibits: list[ExhibitRange]
    pages: int
    preflight: list[PreflightReport]
    manifest: dict
    warnings: list[str] = field(default_factory=list)


def build_bundle(
    spec: BundleSpec,
    parts: list[Part],
    profile: CourtProfile,
    *,
    evidence_list_renderer: Callable[[list[ExhibitRange]], bytes] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    built_at: dt.datetime | None = None,
) -> BundleResult:
    """The filing bundle of ``parts`` for ``profile``'s court.

    :raises BundleFailed: a part has no pages, an exhibit label cannot be stamped, or the
        evidence list's length does not settle.
    :raises RenditionFailed: a part that needed sanitising is not a readable PDF.
    """
    sources: list[pikepdf.Pdf] = []
    try:
        return _Build(spec, parts, profile, evidence_list_renderer, on_progress, sources).run(
            built_at or dt.datetime.now(dt.UTC)
        )
    finally:
        for source in sources:
            source.close()


class _Build:
    def __init__(self, spec, parts, profile, renderer, on_progress, sources) -> None:
        self.spec: BundleSpec = spec
        self.profile: CourtProfile = profile
        self.renderer = renderer
        self.on_progress = on_progress
        self.sources: list[pikepdf.Pdf] = sources
        self.docs = [self._prepare(n, part) for n, part in enumerate(parts)]

    def _open(self, data: bytes | Path, title: str, *, kept: bool = True) -> pikepdf.Pdf:
        """``data`` (bytes or a file) opened; if ``kept``, closed by ``build_bundle`` at the
        latest, otherwise by the caller (``Doc.opened``)."""
        try:
            source = pikepdf.open(data if isinstance(data, Path) else io.BytesIO(data))
        except (pikepdf.PdfError, pikepdf.PasswordError, OSError) as error:
            raise BundleFailed(f"“{title}” is not a readable PDF.") from error
        if kept:
            self.sources.append(source)
        if not len(source.pages):
            if not kept:
                source.close()
            raise BundleFailed(f"“{title}” has no pages.")
        return source

    def _close(self, source: pikepdf.Pdf) -> None:
        self.sources.remove(source)
        source.close()

    def _prepare(self, number: int, part: Part) -> Doc:
        try:
            original = part.read()
        except OSError as error:
            raise BundleFailed(f"“{part.title}” is not a readable PDF.") from error
        data, notes = (original, []) if part.sanitised else sanitise_pdf(original)
        # Opened from bytes even for a file: a file opened by pikepdf stays open with it, and
        # a thousand exhibits would be a thousand open files while the layout reads them.
        source = self._open(data, part.title)
        # Opened again for its volume: from the file when the file is the PDF, otherwise from
        # the (sanitised) bytes, which are kept until then.
        again = part.path if part.path is not None and part.sanitised else data
        doc = Doc(
            part=part,
            key=f"doc:{number}",
            source=source,
            pages=len(source.pages),
            size=len(data),
            sha256=hashlib.sha256(original).hexdigest(),
            order=number,
            notes=notes,
            reopen=functools.partial(self._open, again, part.title, kept=False),
        )
        return doc

    def _release(self, doc: Doc) -> None:
        """Closes ``doc``'s source; ``Doc.opened`` opens it again when it is needed."""
        if doc.source is not None:
            self._close(doc.source)
            doc.source = None

    # the passes

    def run(self, built_at: dt.datetime) -> BundleResult:
        spec = self.spec
        front = FrontMatter(spec.language)
        layout = Layout(spec, self.docs, front.words)
        for doc in layout.exhibits:
            if doc.duplicate_of is None:
                doc.notes += image_warnings(doc, self.profile.max_image_dpi)
        # What the layout reads is read: the sources are closed (each is opened again while
        # its pages are copied), so that they are not all open while the volumes are made.
        for doc in self.docs:
            self._release(doc)
        try:
            stamp_font = StampFont.for_labels(doc.label for doc in layout.exhibits)
        except ValueError as error:
            raise BundleFailed(
                f"The exhibit labels ({spec.label_prefix}…) have a character that cannot be "
                "stamped; choose another prefix."
            ) from error
        evidence_list = layout.evidence_list
        if self.renderer is not None and evidence_list is None:
            evidence_list = layout.add_evidence_list(front.words["evidence_list"])
        index_pages = front.index_pages(layout.index_entries())
        for _ in range(3):
            volumes = layout.plan(1 + index_pages, self.profile)
            if self.renderer is None or evidence_list is None:
                break
            rendered = self.renderer(self._ranges(layout))
            source = self._open(rendered, evidence_list.title)
            counted = len(source.pages)
            self._close(source)
            settled = counted == evidence_list.pages
            evidence_list.reopen = functools.partial(
                self._open, rendered, evidence_list.title, kept=False
            )
            evidence_list.pages = counted
            evidence_list.size, evidence_list.sha256 = (
                len(rendered),
                hashlib.sha256(rendered).hexdigest(),
            )
            if settled:
                break
        else:
            raise BundleFailed("The evidence list's length does not settle; try again.")
        return self._assemble(layout, volumes, front, stamp_font, index_pages, built_at)

    def _ranges(self, layout: Layout) -> list[ExhibitRange]:
        ranges = []
        for doc in layout.exhibits:
            placed = doc.duplicate_of or doc
            ranges.append(
                ExhibitRange(
                    label=doc.label,
                    evidence_id=doc.part.evidence_id,
                    title=doc.part.title,
                    first_page=placed.first_page,
                    last_page=placed.last_page,
                    volume=placed.volume,
                    sha256_rendition=doc.sha256,
                    sha256_original=doc.part.sha256_original,
                    duplicate_of_label=doc.duplicate_of.label if doc.duplicate_of else None,
                    near_duplicate_of_label=(
                        doc.near_duplicate_of.label if doc.near_duplicate_of else None
                    ),
                )
            )
        return ranges

    def _assemble(self, layout, volumes, front, stamp_font, index_pages, built_at):
        spec = self.spec
        entries = layout.index_entries()
        requests: list[tuple] = []
        for number, volume in enumerate(volumes, 1):
            cover = Cover(
                court=spec.court,
                title=spec.title,
                case_reference=spec.case_reference,
                claimant=spec.claimant,
                defendant=spec.defendant,
                version=spec.version,
                on=spec.on,
                volume=number,
                volumes=len(volumes),
                first_page=volume.first_page,
                last_page=volume.last_page,
            )
            requests += [("cover", cover), ("index", entries, number, len(volumes))]
        dividers = [doc for doc in layout.placed() if doc.divider]
        requests += [("divider", doc.divider) for doc in dividers]
        generated = front.render(requests)
        made = self._open(generated.pdf, "front matter")
        expected = len(volumes) * (1 + index_pages) + len(dividers)
        if len(made.pages) != expected:
            raise BundleFailed("The index did not come out at the length it was laid out for.")
        per_volume = 1 + index_pages
        divider_pages = {id(doc): made.pages[expected - len(dividers) + n]
                         for n, doc in enumerate(dividers)}  # fmt: skip
        self.total, self.done = volumes[-1].last_page, itertools.count(1)
        out_volumes, reports = [], []
        for number, volume in enumerate(volumes, 1):
            offset = (number - 1) * per_volume
            front_pages = [made.pages[offset + n] for n in range(per_volume)]
            # links[offset] belongs to the cover; the index pages' follow it
            index_links = generated.links[offset + 1 : offset + per_volume]
            with tempfile.TemporaryDirectory(prefix="portal-bundle-") as folder:
                path = Path(folder) / "volume.pdf"
                self._volume(
                    path, number, len(volumes), volume, front, stamp_font,
                    front_pages, index_links, divider_pages,
                )  # fmt: skip
                # Read once the volume's document is gone, its memory given back first: the
                # bytes are one large block, which the freed pieces could not hold anyway.
                _trim_memory()
                pdf = path.read_bytes()
            out_volumes.append(
                Volume(
                    pdf=pdf,
                    pages=volume.last_page - volume.first_page + 1,
                    first_page=volume.first_page,
                    last_page=volume.last_page,
                    sha256=hashlib.sha256(pdf).hexdigest(),
                )
            )
            reports.append(check_volume(number, pdf, volume, self.profile))
        exhibits = self._ranges(layout)
        manifest = self._manifest(layout, out_volumes, exhibits, built_at)
        warnings = list(dict.fromkeys(w for report in reports for w in report.warnings))
        return BundleResult(out_volumes, exhibits, self.total, reports, manifest, warnings)

    def _volume(
        self, path, number, volumes, volume, front, stamp_font, front_pages, index_links, dividers
    ) -> None:
        """Volume ``number`` saved to ``path``: its cover and index, its documents, stamped,
        linked, bookmarked."""
        spec = self.spec
        document = pikepdf.new()
        stamper = Stamper(document, stamp_font)
        labels: list[str | None] = []
        for page in front_pages:
            document.pages.append(page)
            labels.append(None)
        targets: dict[str, pikepdf.Page] = {}
        bookmarks = [Bookmark(front.words["index"], document.pages[1])]
        section_marks: dict[str, Bookmark] = {}
        for doc in volume.docs:
            if doc.divider:
                document.pages.append(dividers[id(doc)])
                labels.append(None)
            start = len(document.pages)
            # pikepdf copies the pages (and what they use) into the volume: the source is
            # closed straight after, so only one is open at a time.
            with doc.opened() as source:
                document.pages.extend(source.pages)
            labels += [doc.label if doc.section == "exhibits" else None] * doc.pages
            first = document.pages[start]
            targets[doc.key] = first
            section_first = document.pages[start - 1 if doc.divider else start]
            targets.setdefault(f"section:{doc.section}", section_first)
            if doc.section not in section_marks:
                section_marks[doc.section] = Bookmark(front.words[doc.section], section_first)
                bookmarks.append(section_marks[doc.section])
            section_marks[doc.section].children.append(Bookmark(doc.heading, first))
        for position, (page, label) in enumerate(zip(document.pages, labels, strict=True)):
            stamper.stamp(page, volume.first_page + position, label)
            if self.on_progress:
                self.on_progress(next(self.done), self.total)
        for position, page_links in enumerate(index_links, 1):
            add_links(
                document,
                document.pages[position],
                [(link.rect, targets[link.key]) for link in page_links if link.key in targets],
            )
        add_outline(document, bookmarks)
        title = f"{spec.title} — {spec.case_reference}"
        if volumes > 1:
            title += f" — {front.words['volume'].format(n=number, m=volumes)}"
        finish_document(document, first_number=volume.first_page, title=title)
        try:
            _save(document, path)
        finally:
            document.close()

    def _manifest(self, layout, volumes, exhibits, built_at) -> dict:
        spec = self.spec
        by_label = {doc.label: doc for doc in layout.exhibits}
        return {
            "bundle": {
                "title": spec.title,
                "court": spec.court,
                "case_reference": spec.case_reference,
                "claimant": spec.claimant,
                "defendant": spec.defendant,
                "version": spec.version,
                "date": spec.on.isoformat(),
                "language": spec.language,
                "order": spec.order,
            },
            "profile": self.profile.name,
            "built_at": built_at.isoformat(timespec="seconds"),
            "pages": volumes[-1].last_page,
            "volumes": [
                {
                    "number": number,
                    "pages": volume.pages,
                    "bytes": len(volume.pdf),
                    "sha256": volume.sha256,
                    "first_page": volume.first_page,
                    "last_page": volume.last_page,
                }
                for number, volume in enumerate(volumes, 1)
            ],
            "documents": [
                {
                    "kind": doc.part.kind,
                    "title": doc.title,
                    "sha256_rendition": doc.sha256,
                    "first_page": doc.first_page,
                    "last_page": doc.last_page,
                    "volume": doc.volume,
                }
                for doc in layout.placed()
                if doc.section != "exhibits"
            ],
            "exhibits": [
                {
                    **asdict(item),
                    "kind": by_label[item.label].part.evidence_kind,
                    "date": d.isoformat() if (d := by_label[item.label].part.date) else None,
                    "original_name": by_label[item.label].part.original_name,
                }
                for item in exhibits
            ],
        }


def _save(document: pikepdf.Pdf, path: Path) -> None:
    """``document`` saved to ``path`` as ``portal.pdf.base.save`` saves it (the same options,
    so the same bytes), but to a file: a large volume's bytes are not built up in memory while
    its document still is."""
    with warnings.catch_warnings():
        # pikepdf warns about form widgets that /AcroForm does not list; they are kept as the
        # original has them.
        warnings.simplefilter("ignore")
        document.save(
            path,
            encryption=False,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
            deterministic_id=True,
        )


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's; other C libraries have none
    except (OSError, AttributeError):
        return None


def _trim_memory() -> None:
    """Gives the C library's free memory back to the system. glibc keeps what libqpdf frees
    (many small objects) for reuse, and a large block (a volume's bytes) is allocated afresh
    beside it: without this, the process would hold both at once."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
