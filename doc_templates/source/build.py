"""Turn the plain-text template sources into DOCX templates (see ../README.md for the markup).

    python doc_templates/source/build.py            # every jurisdiction
    python doc_templates/source/build.py ew us      # some

Each tag is written into a single Word run, so docxtpl sees it whole and
``flask templates check`` finds no split tags. Rebuilding overwrites the ``.docx`` files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

SOURCE = Path(__file__).resolve().parent
TEMPLATES = SOURCE.parent
PAGES = {"a4": (Cm(21.0), Cm(29.7)), "letter": (Cm(21.59), Cm(27.94))}
FONTS = {
    "en": ("Times New Roman", "Times New Roman"),
    "zh": ("Times New Roman", "Noto Serif CJK SC"),
}
SIZES = {"en": Pt(11), "zh": Pt(12)}
TABLE_SIZE = Pt(9.5)
FOOTER_SIZE = Pt(9)
#: The footer of every page: "Page X of Y" / "第 X 页 共 Y 页" (PAGE and NUMPAGES are fields,
#: filled in when the document is laid out).
FOOTERS = {
    "en": ("Page ", "PAGE", " of ", "NUMPAGES"),
    "zh": ("第 ", "PAGE", " 页 共 ", "NUMPAGES", " 页"),
}
#: A signature block takes at least this many characters of the text before it along.
KEEP_WITH_TEXT = 40
_BOLD = re.compile(r"(\*\*.+?\*\*)")


def build_file(source: Path, target: Path) -> None:
    """One source file → one DOCX template."""
    lines = source.read_text(encoding="utf-8").splitlines()
    page, lang = "a4", "en"
    while lines and lines[0].startswith("@"):
        key, _, value = lines.pop(0).partition(" ")
        if key == "@page":
            page = value.strip()
        elif key == "@lang":
            lang = value.strip()
    document = Document()
    _set_up(document, page, lang)
    table_rows: list[list[str]] = []
    state = {"break": False}
    for line in lines:
        if line.startswith(";;"):
            continue
        if line.startswith("|"):
            table_rows.append(_cells(line))
            continue
        if table_rows:
            _table(document, table_rows, state)
            table_rows = []
        if line.strip() == "{keep}":
            # A signature block: its lines stay on one page with the text they close.
            state["keep"] = _block_start(document)
            continue
        if line.strip() == "{/keep}":
            _keep_together(document, state.pop("keep"))
            continue
        if line.strip() == "---":
            # The next block starts a page (no empty paragraph left behind to spill over).
            state["break"] = True
            continue
        _paragraph(document, line, state)
    if table_rows:
        _table(document, table_rows, state)
    # python-docx starts with one empty paragraph in a new document body; drop it.
    body = document.element.body
    first = body[0]
    if first.tag == qn("w:p") and not first.xpath(".//w:t"):
        body.remove(first)
    target.parent.mkdir(parents=True, exist_ok=True)
    document.save(target)


def _set_up(document, page: str, lang: str) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGES[page]
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    section.top_margin = section.bottom_margin = Cm(2.2)
    latin, east_asian = FONTS[lang]
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "Table Grid"):
        style = document.styles[name]
        style.font.name = latin
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), east_asian)
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
        if style.font.color is not None:
            style.font.color.rgb = None
    normal = document.styles["Normal"]
    normal.font.size = SIZES[lang]
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.15
    language = normal.element.get_or_add_rPr()
    lang_el = language.find(qn("w:lang"))
    if lang_el is None:
        lang_el = language.makeelement(qn("w:lang"), {})
        language.append(lang_el)
    locale = {"zh": "zh-CN"}.get(lang, "en-US" if page == "letter" else "en-GB")
    lang_el.set(qn("w:val"), locale)
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    _footer(section, lang)


def _footer(section, lang: str) -> None:
    """Centred page numbers in the footer, above where a filing bundle stamps its own."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in FOOTERS[lang]:
        if part in ("PAGE", "NUMPAGES"):
            _field(paragraph, part)
        else:
            paragraph.add_run(part).font.size = FOOTER_SIZE


def _field(paragraph, code: str) -> None:
    """A Word field (``PAGE``, ``NUMPAGES``) with "1" shown until it is updated."""

    def run_with(tag: str, **attributes: str):
        run = paragraph.add_run()
        run.font.size = FOOTER_SIZE
        element = OxmlElement(tag)
        for name, value in attributes.items():
            element.set(qn(name), value)
        run._r.append(element)
        return element

    run_with("w:fldChar", **{"w:fldCharType": "begin"})
    run_with("w:instrText", **{"xml:space": "preserve"}).text = f" {code} "
    run_with("w:fldChar", **{"w:fldCharType": "separate"})
    paragraph.add_run("1").font.size = FOOTER_SIZE
    run_with("w:fldChar", **{"w:fldCharType": "end"})


def _runs(paragraph, text: str, size=None) -> None:
    for piece in _BOLD.split(text):
        if not piece:
            continue
        if piece.startswith("**") and piece.endswith("**") and len(piece) > 4:
            run = paragraph.add_run(piece[2:-2])
            run.bold = True
        else:
            run = paragraph.add_run(piece)
        if size is not None:
            run.font.size = size


def _paragraph(document, line: str, state: dict) -> None:
    if line.startswith("{%p "):
        # docxtpl removes this paragraph, so a pending page break waits for the next one.
        document.add_paragraph().add_run(line)
        return
    paragraph = _new_paragraph(document, state)
    _fill(paragraph, line)


def _new_paragraph(document, state: dict):
    paragraph = document.add_paragraph()
    if state.pop("break", False):
        paragraph.paragraph_format.page_break_before = True
    if state.get("keep") is not None:
        paragraph.paragraph_format.keep_together = True
    return paragraph


def _block_start(document) -> int:
    """Where a kept block starts in the body: the paragraph of text before it comes along.

    Empty paragraphs are walked over; plain paragraphs of text join the block (the text the
    signature closes) until they hold ``KEEP_WITH_TEXT`` characters: a closing formula alone
    ("Yours faithfully", 顺颂商祺) is not enough to stand with. A fixed table (no docxtpl tags:
    a reply form's blank rows) comes along with the text above it. A docxtpl paragraph tag or a table is not taken: a tag would then be
    split from its partner, so a source that wants the text above an ``{%p endif %}`` kept puts
    ``{keep}`` above the whole ``{%p if %}``.
    """
    body = list(document.element.body.iterchildren())
    index = len(body) - (1 if body and body[-1].tag == qn("w:sectPr") else 0)
    taken = 0
    while index > 0 and taken < KEEP_WITH_TEXT:
        element = body[index - 1]
        text = "".join(node.text or "" for node in element.iter(qn("w:t"))).strip()
        if element.tag == qn("w:tbl") and "{%" not in text:
            index -= 1  # a fixed table (a form's blank rows) comes along; go on to its text
            continue
        if element.tag != qn("w:p") or text.startswith("{%p"):
            break
        index -= 1
        taken += len(text)
    return index


def _keep_together(document, start: int) -> None:
    """Move the body from ``start`` into one borderless cell whose row cannot split.

    Word and LibreOffice then move the whole block to the next page rather than break it, and
    it takes the text it closes along. (LibreOffice does not honour keep-with-next chains in
    DOCX reliably; a row that cannot split it does.) The block's own paragraphs are marked
    keep-lines-together, which is how a check finds them again.
    """
    body = document.element.body
    elements = [item for item in list(body.iterchildren())[start:] if item.tag != qn("w:sectPr")]
    table = document.add_table(rows=1, cols=1)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    section = document.sections[-1]
    table.columns[0].width = section.page_width - section.left_margin - section.right_margin
    row = table.rows[0]
    properties = row._tr.get_or_add_trPr()
    properties.append(properties.makeelement(qn("w:cantSplit"), {}))
    margins = table._tbl.tblPr.makeelement(qn("w:tblCellMar"), {})
    for side in ("left", "right"):
        margins.append(margins.makeelement(qn(f"w:{side}"), {qn("w:w"): "0", qn("w:type"): "dxa"}))
    table._tbl.tblPr.append(margins)
    cell = row.cells[0]
    cell.width = table.columns[0].width
    placeholder = cell.paragraphs[0]._p
    for element in elements:
        placeholder.addprevious(element)
    cell._tc.remove(placeholder)


def _fill(paragraph, line: str) -> None:
    if line.startswith("# "):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_before = Pt(6)
        paragraph.paragraph_format.space_after = Pt(12)
        run = paragraph.add_run(line[2:])
        run.bold = True
        run.font.size = Pt(16)
        return
    if line.startswith("## "):
        paragraph.paragraph_format.space_before = Pt(10)
        paragraph.paragraph_format.keep_with_next = True
        _runs(paragraph, f"**{line[3:]}**" if "**" not in line[3:] else line[3:])
        return
    if line.startswith("- "):
        paragraph.style = paragraph.part.document.styles["List Bullet"]
        _runs(paragraph, line[2:])
        return
    if line.startswith("> "):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        line = line[2:]
    elif line.startswith("^ "):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line = line[2:]
    elif line.strip():
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _runs(paragraph, line)


def _cells(line: str) -> list[str]:
    text = line.strip()
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text[1:].split("|")]


_MONEY_CELL = re.compile(
    r"\*{0,2}\{\{ *(\w+\.)*(amount|paid|balance|credited|interest|principal|outstanding|"
    r"total_due|compensation|costs|daily)\w* *\}\}\*{0,2}"
)


def _table(document, rows: list[list[str]], state: dict) -> None:
    """A table; a first row ``|= 3|12|5|`` gives relative column widths (default: equal)."""
    widths: list[float] | None = None
    if rows and rows[0] and rows[0][0].startswith("="):
        widths = [float(cell.lstrip("= ") or 1) for cell in rows[0]]
        rows = rows[1:]
    width = max(len(row) for row in rows)
    table = document.add_table(rows=0, cols=width)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    section = document.sections[-1]
    usable = section.page_width - section.left_margin - section.right_margin
    if widths:
        widths = (widths + [1.0] * width)[:width]
        total = sum(widths)
        table.autofit = False
        for column, share in zip(table.columns, widths, strict=True):
            column.width = int(usable * share / total)
    for index, cells in enumerate(rows):
        row = table.add_row()
        _row_properties(row, header=index == 0)
        for position, text in enumerate(cells):
            cell = row.cells[position]
            if widths:
                cell.width = table.columns[position].width
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if index == 0 and state.pop("break", False):
                paragraph.paragraph_format.page_break_before = True
            if index == 0:
                run = paragraph.add_run(text)
                run.bold = True
                run.font.size = TABLE_SIZE
            else:
                _runs(paragraph, text, TABLE_SIZE)
            # Amount columns read better right-aligned: a cell that is only a money tag.
            if _MONEY_CELL.fullmatch(text):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph()


def _row_properties(row, *, header: bool) -> None:
    """Rows never split across pages; the header row repeats on each page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(properties.makeelement(qn("w:cantSplit"), {}))
    if header:
        properties.append(properties.makeelement(qn("w:tblHeader"), {}))


def main(argv: list[str]) -> int:
    wanted = argv or sorted(path.name for path in SOURCE.iterdir() if path.is_dir())
    count = 0
    for jurisdiction in wanted:
        for source in sorted((SOURCE / jurisdiction).glob("*.txt")):
            target = TEMPLATES / jurisdiction / f"{source.stem}.docx"
            build_file(source, target)
            count += 1
            print(f"{source.relative_to(TEMPLATES)} -> {target.relative_to(TEMPLATES)}")
    print(f"{count} template(s) built")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
