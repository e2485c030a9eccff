"""Layout of every template in every jurisdiction with 1, 8 and 30 invoices.

Each rendition is read back with poppler's ``pdftotext`` page by page: every page carries its
"Page X of Y" (第 X 页 共 Y 页) footer, and every signature block (the paragraphs a template keeps
together: closing, signature line, name, seal, date) falls whole on one page that also holds
body text — never split across a page break, never alone on a page.

One batched LibreOffice run converts all 57 documents (3 jurisdictions × 6 kinds × 3 sizes, plus
the PAP-Debt letter to an individual in each size).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess

import pytest
from docx import Document as WordDocument
from docx.oxml.ns import qn

from portal.accounts.models import User
from portal.cases.services import open_case, set_agreement
from portal.documents.models import DocumentKind
from portal.documents.services import convert_all, prepare_document
from portal.extensions import db

from ..factories import ACTOR, World, make_debtor, make_individual, make_invoice

SIZES = (1, 8, 30)
CURRENCY = {"ew": "GBP", "cn": "CNY", "us": "USD"}
FOOTER = {
    "en": re.compile(r"Page (\d+) of (\d+)"),
    "zh": re.compile(r"第 ?(\d+) ?页 ?共 ?(\d+) ?页"),
}


def pages_of(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return out.split("\f")[:-1]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def signature_blocks(docx: bytes) -> list[list[str]]:
    """The texts of the paragraphs marked keep-lines-together, one list per table cell."""
    blocks = []
    for cell in WordDocument(io.BytesIO(docx)).element.body.iter(qn("w:tc")):
        lines = []
        for paragraph in cell.iterchildren(qn("w:p")):
            properties = paragraph.pPr
            if properties is None or properties.find(qn("w:keepLines")) is None:
                continue
            text = "".join(node.text or "" for node in paragraph.iter(qn("w:t")))
            if text.strip():
                lines.append(text)
        if lines:
            blocks.append(lines)
    return blocks


@pytest.fixture
def rendered(app, world: World) -> list[tuple[str, int, str, bytes, bytes]]:
    """(jurisdiction, invoices, kind, docx, pdf) for every template, jurisdiction and size."""
    with app.app_context():
        lawyer = db.session.get(User, world.lawyer)
        lawyer.firm_address = "1 Chancery Lane\nLondon WC2A 1LS"
        owner = db.session.get(User, world.legal)
        made: list[tuple[str, int, str, bytes]] = []
        for jurisdiction in ("ew", "cn", "us"):
            for size in SIZES:
                debtor = make_debtor(f"L-{jurisdiction}-{size}", jurisdiction)
                cases = [(debtor, DocumentKind)]
                if jurisdiction == "ew":
                    person = make_individual(f"L-person-{size}")
                    cases.append((person, [DocumentKind.DEMAND_LETTER]))
                for who, kinds in cases:
                    invoices = [
                        make_invoice(
                            f"{who.external_id}-{number}",
                            who.external_id,
                            currency=CURRENCY[jurisdiction],
                            amount=f"{1000 + 37 * number}.50",
                            issue=dt.date(2025, 1, 1) + dt.timedelta(days=number),
                            due=dt.date(2025, 2, 1) + dt.timedelta(days=number),
                            delivery=dt.date(2024, 12, 30) + dt.timedelta(days=number),
                        )
                        for number in range(1, size + 1)
                    ]
                    case = open_case(
                        ACTOR, debtor=who, owner=owner, lawyer=lawyer, invoices=invoices
                    )
                    set_agreement(
                        ACTOR,
                        case,
                        {
                            "agreement_form": "written",
                            "agreement_date": dt.date(2024, 11, 1),
                            "agreement_parties": f"Creditor Trading Ltd and {who.name}",
                        },
                    )
                    for kind in kinds:
                        prepared = prepare_document(case, kind, final=False)
                        made.append((jurisdiction, size, prepared.spec.relative, prepared.docx))
        db.session.commit()
        pdfs = convert_all([(f"{index}.docx", item[3]) for index, item in enumerate(made)])
    assert all(pdf for pdf, _error in pdfs), [error for _pdf, error in pdfs if error]
    return [(*item, pdf) for item, (pdf, _error) in zip(made, pdfs, strict=True)]


def test_every_page_is_numbered_and_every_signature_block_stays_whole_with_body_text(rendered):
    templates = {template for _j, _n, template, _d, _p in rendered}
    # 6 kinds in each of 3 jurisdictions, and the PAP-Debt variant of the E&W demand letter.
    assert len(templates) == 19 and len(rendered) == 19 * len(SIZES)
    checked_blocks = 0
    longest = 0
    for jurisdiction, size, template, docx, pdf in rendered:
        where = f"{template} with {size} invoice(s)"
        pages = pages_of(pdf)
        longest = max(longest, len(pages))
        footer = FOOTER["zh" if jurisdiction == "cn" else "en"]
        for number, page in enumerate(pages, 1):
            found = footer.findall(page)
            assert (str(number), str(len(pages))) in found, f"{where}: page {number} unnumbered"
        blocks = signature_blocks(docx)
        assert blocks, f"{where}: the template marks no signature block"
        for block in blocks:
            lines = [flat(line) for line in block]
            holding = [
                index
                for index, page in enumerate(pages)
                if all(line in flat(page) for line in lines)
            ]
            assert holding, f"{where}: the block {block[:2]}… is split across pages"
            page = flat(pages[holding[-1]])
            for line in lines:
                page = page.replace(line, "", 1)
            body = (
                footer.sub("", page)
                if jurisdiction != "cn"
                else re.sub(r"第\d+页共\d+页", "", page)
            )
            body = re.sub(r"Page\d+of\d+", "", body)
            assert len(body) >= 20, f"{where}: the block {block[:2]}… stands alone on a page"
            checked_blocks += 1
    # 30 invoices push the letters and claims onto several pages: the check is not vacuous.
    assert longest >= 3
    assert checked_blocks >= 3 * 21
