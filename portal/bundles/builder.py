"""``build_bundle``: pleadings, an evidence list and exhibits (PDF bytes or files) → a filing
bundle.

One bundle is one or more volumes, each a PDF that starts with its own cover and an index of the
whole bundle. Pages are numbered by computer from 1 on the first cover, continuously across
volumes: in volume 1 the stamped number is the PDF's own page number; in a later volume it goes
on from the previous volume (``/PageLabels`` says so, so readers show the same number).

Two passes: the first lays the bundle out (the index's length depends only on its entries; the
evidence list gets the pages reserved for it, ``evidence_list_pages``); the evidence list is then
rendered (converted, in the job) with each exhibit's final range. A list shorter than its
reserve is followed by blank pages, so the ranges it prints stay right; a longer one gets more
pages and is rendered again (three tries at most). Index entries in other volumes say "Vol. N"
and carry no link.

Memory: nothing the size of the inputs is held. Each part is opened from a file (a part given as
bytes, or sanitised, is written to the build's folder first) only while it is read — page count,
image resolution, duplicates — and closed at once. A volume is merged from the files by qpdf
(``pikepdf.Job``: it copies page contents from file to file as it writes, where pikepdf's page
copy would read every copied stream into memory first), then opened from that file to be
stamped, linked and bookmarked, and saved: pikepdf reads the unchanged streams from the file
while it writes. The volumes are files in a folder that the ``BundleResult`` owns.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import hashlib
import itertools
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pikepdf

from ..pdf.sanitise import sanitise_pdf
from .layout import BundleFailed, Doc, Layout, finer_images, image_warnings
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
    #: the SHA-256 of the sanitised ``path``, when the caller knows it (a file store's name
    #: for it, just verified): the builder does not read the file again to hash it
    sha256: str | None = None

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
    """One PDF of the bundle, a file in the result's folder; ``first_page``/``last_page`` are
    bundle page numbers."""

    path: Path
    size: int
    pages: int
    first_page: int
    last_page: int
    sha256: str

    @property
    def pdf(self) -> bytes:
        """The volume's bytes (read from its file: a large volume is better streamed from
        ``path``)."""
        return self.path.read_bytes()


@dataclass
class BundleResult:
    """The volumes, where each exhibit is, the preflight report per volume and the manifest."""

    volumes: list[Volume]
    exhibits: list[ExhibitRange]
    pages: int
    preflight: list[PreflightReport]
    manifest: dict
    warnings: list[str] = field(default_factory=list)
    #: the folder holding the volumes' files: removed by ``close`` (or when the result is
    #: garbage-collected)
    folder: Path | None = None

    def __post_init__(self) -> None:
        if self.folder is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def close(self) -> None:
        """Removes the volumes' files."""
        if self.folder is not None:
            self._cleanup()

    def __enter__(self) -> BundleResult:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def build_bundle(
    spec: BundleSpec,
    parts: list[Part],
    profile: CourtProfile,
    *,
    evidence_list_renderer: Callable[[list[ExhibitRange]], bytes] | None = None,
    evidence_list_pages: Callable[[int], int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    built_at: dt.datetime | None = None,
) -> BundleResult:
    """The filing bundle of ``parts`` for ``profile``'s court.

    ``evidence_list_pages(exhibits)``: how many pages to reserve for the rendered evidence
    list, so that it is rendered (converted) once: a list that comes out shorter is followed by
    blank pages, one that comes out longer is rendered again. Without it, one page is reserved.

    :raises BundleFailed: a part has no pages, an exhibit label cannot be stamped, or the
        evidence list's length does not settle.
    :raises RenditionFailed: a part that needed sanitising is not a readable PDF.
    """
    folder = Path(tempfile.mkdtemp(prefix="portal-bundle-"))
    try:
        build = _Build(
            spec, parts, profile, evidence_list_renderer, evidence_list_pages, on_progress, folder
        )
        return build.run(built_at or dt.datetime.now(dt.UTC))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(folder / "parts", ignore_errors=True)


class _Build:
    def __init__(self, spec, parts, profile, renderer, list_pages, on_progress, folder) -> None:
        self.spec: BundleSpec = spec
        self.profile: CourtProfile = profile
        self.renderer = renderer
        self.list_pages = list_pages
        self.on_progress = on_progress
        self.folder: Path = folder
        #: the inputs the build writes itself (parts given as bytes or sanitised, the
        #: evidence list, the front matter): removed when the build ends
        self.parts = folder / "parts"
        self.parts.mkdir()
        self.renders = 0
        self.docs = [self._prepare(n, part) for n, part in enumerate(parts)]

    def _open(self, path: Path, title: str) -> pikepdf.Pdf:
        """The PDF in ``path``, for the caller to close."""
        try:
            # Read as needed, not mapped: a mapped file's pages count as the process's memory
            # once read.
            source = pikepdf.open(path, access_mode=pikepdf.AccessMode.stream)
        except (pikepdf.PdfError, pikepdf.PasswordError, OSError) as error:
            raise BundleFailed(f"“{title}” is not a readable PDF.") from error
        if not len(source.pages):
            source.close()
            raise BundleFailed(f"“{title}” has no pages.")
        return source

    def _spill(self, name: str, data: bytes) -> Path:
        """``data`` written to a file of the build, so that it is not held while the bundle is
        made."""
        path = self.parts / f"{name}.pdf"
        path.write_bytes(data)
        return path

    def _prepare(self, number: int, part: Part) -> Doc:
        try:
            if part.path is not None and part.sanitised:
                # The file is the PDF: hashed as it is read, never held.
                path, sha256 = part.path, part.sha256
                if sha256 is None:
                    with path.open("rb") as file:
                        sha256 = hashlib.file_digest(file, "sha256").hexdigest()
                size, notes = path.stat().st_size, []
            else:
                original = part.read()
                data, notes = (original, []) if part.sanitised else sanitise_pdf(original)
                sha256, size = hashlib.sha256(original).hexdigest(), len(data)
                path = self._spill(f"{number:05d}", data)
                del original, data
        except OSError as error:
            raise BundleFailed(f"“{part.title}” is not a readable PDF.") from error
        with self._open(path, part.title) as source:
            pages = len(source.pages)
            fine = finer_images(source, self.profile.max_image_dpi)
        return Doc(
            part=part,
            key=f"doc:{number}",
            source=None,
            pages=pages,
            size=size,
            sha256=sha256,
            order=number,
            notes=notes,
            path=path,
            finer_images=fine,
            reopen=functools.partial(self._open, path, part.title),
        )

    # the passes

    def run(self, built_at: dt.datetime) -> BundleResult:
        spec = self.spec
        front = FrontMatter(spec.language)
        layout = Layout(spec, self.docs, front.words)
        for doc in layout.exhibits:
            if doc.duplicate_of is None:
                doc.notes += image_warnings(doc, self.profile.max_image_dpi)
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
            if self.list_pages is not None:
                evidence_list.pages = max(1, self.list_pages(len(layout.exhibits)))
        index_pages = front.index_pages(layout.index_entries())
        for _ in range(3):
            volumes = layout.plan(1 + index_pages, self.profile)
            if self.renderer is None or evidence_list is None:
                break
            rendered = self.renderer(self._ranges(layout))
            self.renders += 1
            path = self._spill(f"evidence-list-{self.renders}", rendered)
            with self._open(path, evidence_list.title) as source:
                counted = len(source.pages)
            # The ranges were given for the pages reserved: a list that came out shorter is
            # followed by blank pages up to them (rendering it again would take another
            # conversion); one that came out longer is rendered again with more reserved.
            settled = counted <= evidence_list.pages
            evidence_list.path = path
            evidence_list.reopen = functools.partial(self._open, path, evidence_list.title)
            evidence_list.blank = evidence_list.pages - counted if settled else 0
            evidence_list.pages = max(counted, evidence_list.pages)
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
        blanks = sum(doc.blank for doc in layout.placed())
        requests += [("blank",)] * blanks
        generated = front.render(requests)
        made = self._spill("front-matter", generated.pdf)
        expected = len(volumes) * (1 + index_pages) + len(dividers) + blanks
        with self._open(made, "front matter") as document:
            if len(document.pages) != expected:
                raise BundleFailed("The index did not come out at the length it was laid out for.")
        per_volume = 1 + index_pages
        # qpdf's page numbers (from 1) of each divider in the front matter
        first_divider = len(volumes) * (1 + index_pages) + 1
        divider_pages = {id(doc): first_divider + n for n, doc in enumerate(dividers)}
        # the blank pages' numbers, taken in turn by the documents followed by blank pages
        blank_pages = iter(range(first_divider + len(dividers), expected + 1))
        self.total, self.done = volumes[-1].last_page, itertools.count(1)
        out_volumes, reports = [], []
        for number, volume in enumerate(volumes, 1):
            offset = (number - 1) * per_volume
            # links[offset] belongs to the cover; the index pages' follow it
            index_links = generated.links[offset + 1 : offset + per_volume]
            path = self.folder / f"volume-{number}.pdf"
            report = self._volume(
                path, number, len(volumes), volume, front, stamp_font,
                (made, offset + 1, offset + per_volume), index_links,
                (made, divider_pages, blank_pages),
            )  # fmt: skip
            with path.open("rb") as file:
                sha256 = hashlib.file_digest(file, "sha256").hexdigest()
            out_volumes.append(
                Volume(
                    path=path,
                    size=path.stat().st_size,
                    pages=volume.last_page - volume.first_page + 1,
                    first_page=volume.first_page,
                    last_page=volume.last_page,
                    sha256=sha256,
                )
            )
            reports.append(report)
        exhibits = self._ranges(layout)
        manifest = self._manifest(layout, out_volumes, exhibits, built_at)
        warnings = list(dict.fromkeys(w for report in reports for w in report.warnings))
        return BundleResult(
            out_volumes, exhibits, self.total, reports, manifest, warnings, folder=self.folder
        )

    def _volume(
        self, path, number, volumes, volume, front, stamp_font, front_pages, index_links, dividers
    ) -> PreflightReport:
        """Volume ``number`` saved to ``path``: its cover and index (``front_pages``: the front
        matter's file and the first and last page), its documents, stamped, linked,
        bookmarked; its preflight report."""
        spec = self.spec
        made, first, last = front_pages
        divider_file, divider_pages, blank_pages = dividers
        # The pages in order, as qpdf's --pages takes them (file, range), and what each
        # document's first page is in the volume.
        selection = [str(made), f"{first}-{last}"]
        labels: list[str | None] = [None] * (last - first + 1)
        placed: list[tuple[Doc, int, int]] = []  # the document, its first page, its section's
        for doc in volume.docs:
            if doc.divider:
                selection += [str(divider_file), str(divider_pages[id(doc)])]
                labels.append(None)
            start = len(labels)
            selection += [str(doc.path), "1-z"]
            for _ in range(doc.blank):
                selection += [str(divider_file), str(next(blank_pages))]
            labels += [doc.label if doc.section == "exhibits" else None] * doc.pages
            placed.append((doc, start, start - 1 if doc.divider else start))
        # Trimmed first: what the reading of the parts freed goes back to the system before
        # qpdf takes the memory for the volume's pages (glibc would keep it, unused by qpdf).
        _trim_memory()
        job, document = _merge(selection, self.parts / f"merged-{number}.pdf")
        with document:
            if len(document.pages) != len(labels):
                raise BundleFailed("A volume did not come out at the length it was laid out for.")
            pages = document.pages
            stamper = Stamper(document, stamp_font)
            targets: dict[str, pikepdf.Page] = {}
            bookmarks = [Bookmark(front.words["index"], pages[1])]
            section_marks: dict[str, Bookmark] = {}
            for doc, start, section_start in placed:
                targets[doc.key] = pages[start]
                section_first = pages[section_start]
                targets.setdefault(f"section:{doc.section}", section_first)
                if doc.section not in section_marks:
                    section_marks[doc.section] = Bookmark(front.words[doc.section], section_first)
                    bookmarks.append(section_marks[doc.section])
                section_marks[doc.section].children.append(Bookmark(doc.heading, pages[start]))
            for position, (page, label) in enumerate(zip(pages, labels, strict=True)):
                stamper.stamp(page, volume.first_page + position, label)
                if self.on_progress:
                    self.on_progress(next(self.done), self.total)
            for position, page_links in enumerate(index_links, 1):
                add_links(
                    document,
                    pages[position],
                    [(link.rect, targets[link.key]) for link in page_links if link.key in targets],
                )
            add_outline(document, bookmarks)
            title = f"{spec.title} — {spec.case_reference}"
            if volumes > 1:
                title += f" — {front.words['volume'].format(n=number, m=volumes)}"
            finish_document(document, first_number=volume.first_page, title=title)
            # The unchanged streams (the inputs' contents and images) are read from the
            # merged file as they are written.
            _save(document, path)
            # Checked as saved, not read back from the file: the same objects.
            report = check_volume(number, path, volume, self.profile, document)
        del job  # it holds the parts open until the volume is written
        return report

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
                    "bytes": volume.size,
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


def _merge(selection: list[str], path: Path) -> tuple[pikepdf.Job, pikepdf.Pdf]:
    """The pages of ``selection`` (qpdf's ``--pages``: files each followed by a page range) in
    one document made by qpdf, and the job, which must be kept until the document is saved.

    Nothing is written (``path`` is only named): the pages refer to their files, and the
    document reads each stream from its file as it is saved, where pikepdf's own page copy
    reads every copied stream into memory at once."""
    job = pikepdf.Job(["qpdf", "--empty", "--warning-exit-0", "--no-warn", "--pages",
                       *selection, "--", str(path)])  # fmt: skip
    return job, job.create_pdf()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's; other C libraries have none
    except (OSError, AttributeError):
        return None


def _trim_memory() -> None:
    """Gives the C library's free memory back to the system (glibc keeps what libqpdf frees,
    many small objects, for reuse)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
