"""The pages the builder makes itself: a cover per volume, the index of the whole bundle (in each
volume) and divider pages, on A4 in the embedded fonts of ``portal.pdf.fonts`` (Noto Sans CJK
first, so a Chinese cover and index render).

The index is laid out before anything is drawn: its page count depends only on its entries'
titles (the page column has a fixed width), so the builder can count it in the first pass and
draw it with the final page numbers in the last.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ..pdf.base import MM
from ..pdf.fonts.faces import FontSet
from ..pdf.text import clean_text, wrap

PAGE_WIDTH, PAGE_HEIGHT = A4
_LEFT = 20 * MM
_RIGHT = PAGE_WIDTH - 20 * MM
_TOP = PAGE_HEIGHT - 20 * MM
#: the lowest line of generated text; below it is the page-number stamp
_BOTTOM = 22 * MM
_LABEL_WIDTH = 24 * MM
_PAGES_WIDTH = 40 * MM
_SIZE = 9.5
_LEADING = 13
_GREY = (0.35, 0.35, 0.35)

WORDS = {
    "en": {
        "title": "Filing bundle",
        "court": "Court",
        "case": "Case reference",
        "claimant": "Claimant",
        "defendant": "Defendant",
        "version": "Bundle version",
        "date": "Date",
        "volume": "Volume {n} of {m}",
        "pages": "pages {first}–{last}",
        "index": "Index",
        "continued": "Index (continued)",
        "pages_column": "Pages",
        "pleadings": "Pleadings",
        "evidence_list": "Evidence list",
        "exhibits": "Exhibits",
        "same_as": "same as {label} (not repeated)",
        "vol": "Vol. {n}",
        "colon": ": ",
        "blank": "This page is intentionally left blank.",
    },
    "zh": {
        "title": "诉讼材料卷宗",
        "court": "法院",
        "case": "案号",
        "claimant": "原告",
        "defendant": "被告",
        "version": "卷宗版本",
        "date": "日期",
        "volume": "第 {n} 册，共 {m} 册",
        "pages": "第 {first}–{last} 页",
        "index": "目录",
        "continued": "目录（续）",
        "pages_column": "页码",
        "pleadings": "诉讼文书",
        "evidence_list": "证据目录",
        "exhibits": "证据",
        "same_as": "同 {label}（不重复收录）",
        "vol": "第 {n} 册",
        "colon": "：",
        "blank": "此页无正文。",
    },
}


def words(language: str) -> dict[str, str]:
    """The cover's and index's words in ``language`` (``en`` or ``zh``)."""
    return WORDS["zh" if language == "zh" else "en"]


def long_date(on: dt.date, language: str) -> str:
    """``2 December 2026`` or ``2026年12月2日``."""
    if language == "zh":
        return f"{on.year}年{on.month}月{on.day}日"
    return f"{on.day} {on:%B %Y}"


@dataclass
class IndexEntry:
    """One row of the index: a section heading or a document, and where it finally is."""

    key: str  #: what a link on this row goes to (the builder's name for a place in the bundle)
    title: str
    label: str = ""
    note: str = ""
    heading: bool = False
    first_page: int = 0
    last_page: int = 0
    volume: int = 1


@dataclass
class Cover:
    """The facts on a volume's cover."""

    court: str
    title: str
    case_reference: str
    claimant: str
    defendant: str
    version: int
    on: dt.date
    volume: int = 1
    volumes: int = 1
    first_page: int = 1
    last_page: int = 1


@dataclass
class Link:
    """A clickable area of a generated page (points, bottom-left origin) and what it goes to."""

    rect: tuple[float, float, float, float]
    key: str


@dataclass
class Generated:
    """The generated pages, in the order requested, and the links on each."""

    pdf: bytes
    links: list[list[Link]] = field(default_factory=list)


class FrontMatter:
    """Draws covers, indexes and dividers for one bundle, all in one document."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.words = words(language)
        self.fonts = FontSet(monospace=False)

    # layout

    def _rows(self, entries: list[IndexEntry]) -> list[tuple[IndexEntry, list[str]]]:
        title_width = _RIGHT - _LEFT - _LABEL_WIDTH - _PAGES_WIDTH - 4 * MM
        rows = []
        for entry in entries:
            text = clean_text(entry.title) + (f" — {entry.note}" if entry.note else "")
            width = _RIGHT - _LEFT if entry.heading else title_width
            rows.append((entry, wrap(text, self.fonts, _SIZE, width)))
        return rows

    def _paginate(self, entries: list[IndexEntry]) -> list[list[tuple[IndexEntry, list[str]]]]:
        pages: list[list[tuple[IndexEntry, list[str]]]] = [[]]
        y = _TOP - 30  # the first page's heading
        for entry, lines in self._rows(entries):
            height = len(lines) * _LEADING + (6 if entry.heading else 2)
            if y - height < _BOTTOM and pages[-1]:
                pages.append([])
                y = _TOP - 22
            pages[-1].append((entry, lines))
            y -= height
        return pages

    def index_pages(self, entries: list[IndexEntry]) -> int:
        """How many pages the index of ``entries`` takes (whatever their page numbers)."""
        return len(self._paginate(entries))

    # drawing

    def render(self, requests: list[tuple]) -> Generated:
        """The pages for ``requests``, each ``("cover", Cover)``, ``("index", entries,
        volume, volumes)``, ``("divider", title)`` or ``("blank",)``, in one PDF with fonts
        embedded."""
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer,
            pagesize=A4,
            invariant=True,
            pageCompression=1,
            initialFontName=self.fonts.initial_font,
        )
        canvas.setCreator("Arrears Portal")
        canvas.setProducer("Arrears Portal")
        links: list[list[Link]] = []
        for request in requests:
            if request[0] == "cover":
                self._cover(canvas, request[1])
                links.append([])
            elif request[0] == "index":
                links.extend(self._index(canvas, request[1], request[2], request[3]))
            elif request[0] == "blank":
                self._blank(canvas)
                links.append([])
            else:
                self._divider(canvas, request[1])
                links.append([])
        canvas.save()
        return Generated(self.fonts.finish(buffer.getvalue()), links)

    def _centred(self, canvas: Canvas, y: float, text: str, size: float, bold=False) -> float:
        for line in wrap(clean_text(text), self.fonts, size, _RIGHT - _LEFT):
            x = (PAGE_WIDTH - self.fonts.width(line, size)) / 2
            self.fonts.draw(canvas, x, y, size, line, bold=bold)
            y -= size * 1.45
        return y

    def _cover(self, canvas: Canvas, cover: Cover) -> None:
        w = self.words
        canvas.setFillColorRGB(0, 0, 0)
        y = self._centred(canvas, PAGE_HEIGHT - 45 * MM, cover.court, 15, bold=True)
        y = self._centred(canvas, y - 4, f"{w['case']}{w['colon']}{cover.case_reference}", 11)
        title = w["title"] if cover.title in ("", WORDS["en"]["title"]) else cover.title
        y = self._centred(canvas, PAGE_HEIGHT - 110 * MM, title, 24, bold=True)
        y -= 24
        y = self._centred(canvas, y, f"{w['claimant']}{w['colon']}{cover.claimant}", 12)
        y = self._centred(canvas, y - 4, f"{w['defendant']}{w['colon']}{cover.defendant}", 12)
        y -= 30
        canvas.setFillColorRGB(*_GREY)
        y = self._centred(canvas, y, f"{w['version']}{w['colon']}{cover.version}", 11)
        y = self._centred(
            canvas, y, f"{w['date']}{w['colon']}{long_date(cover.on, self.language)}", 11
        )
        if cover.volumes > 1:
            volume = w["volume"].format(n=cover.volume, m=cover.volumes)
            pages = w["pages"].format(first=cover.first_page, last=cover.last_page)
            self._centred(canvas, y - 12, f"{volume} — {pages}", 12, bold=True)
        canvas.showPage()

    def _index(
        self, canvas: Canvas, entries: list[IndexEntry], volume: int, volumes: int
    ) -> list[list[Link]]:
        w = self.words
        result = []
        for number, page in enumerate(self._paginate(entries)):
            canvas.setFillColorRGB(0, 0, 0)
            heading = w["index"] if number == 0 else w["continued"]
            self.fonts.draw(canvas, _LEFT, _TOP - 14, 14 if number == 0 else 11, heading, bold=True)
            column = w["pages_column"]
            canvas.setFillColorRGB(*_GREY)
            self.fonts.draw(
                canvas, _RIGHT - self.fonts.width(column, 8), _TOP - 14, 8, column, bold=True
            )
            y = _TOP - (30 if number == 0 else 22)
            links = []
            for entry, lines in page:
                top = y
                if entry.heading:
                    y -= 4
                pages = self._pages_text(entry, volume, volumes)
                canvas.setFillColorRGB(0, 0, 0)
                for index, line in enumerate(lines):
                    baseline = y - _LEADING + 3.5
                    if entry.heading:
                        self.fonts.draw(canvas, _LEFT, baseline, _SIZE + 0.5, line, bold=True)
                    else:
                        if index == 0 and entry.label:
                            self.fonts.draw(canvas, _LEFT, baseline, _SIZE, entry.label, bold=True)
                        self.fonts.draw(canvas, _LEFT + _LABEL_WIDTH, baseline, _SIZE, line)
                    if index == 0 and pages:
                        right = _RIGHT - self.fonts.width(pages, _SIZE)
                        self.fonts.draw(canvas, right, baseline, _SIZE, pages)
                    y -= _LEADING
                y -= 2
                if entry.volume == volume and entry.first_page:
                    links.append(Link((_LEFT, y, _RIGHT, top), entry.key))
            result.append(links)
            canvas.showPage()
        return result

    def _pages_text(self, entry: IndexEntry, volume: int, volumes: int) -> str:
        if not entry.first_page:
            return ""
        if entry.first_page == entry.last_page:
            pages = str(entry.first_page)
        else:
            pages = f"{entry.first_page}–{entry.last_page}"
        if volumes > 1 and entry.volume != volume:
            # Other volumes are listed, not linked: a link to another file (GoToR) depends on
            # its name on the reader's disk, and sanitisers (ours too) remove such links.
            return f"{self.words['vol'].format(n=entry.volume)} · {pages}"
        return pages

    def _blank(self, canvas: Canvas) -> None:
        canvas.setFillColorRGB(*_GREY)
        self._centred(canvas, PAGE_HEIGHT / 2, self.words["blank"], _SIZE)
        canvas.showPage()

    def _divider(self, canvas: Canvas, title: str) -> None:
        canvas.setFillColorRGB(0, 0, 0)
        self._centred(canvas, PAGE_HEIGHT / 2, title, 26, bold=True)
        canvas.showPage()
