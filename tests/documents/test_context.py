"""The context builder and the renderer, each alone (no database, no LibreOffice)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from docx import Document as WordDocument

from portal.documents.context import (
    Bank,
    DocumentFacts,
    ExhibitLine,
    Interest,
    InvoiceLine,
    Lawyer,
    Party,
    build_context,
)
from portal.documents.manifest import Field, Manifest
from portal.documents.rendering import missing_fields, prepare, render_docx


def facts(**changes) -> DocumentFacts:
    values = {
        "kind": "demand_letter",
        "title": "Letter before claim",
        "jurisdiction": "ew",
        "language": "en",
        "date": dt.date(2026, 11, 23),
        "reference": "NWC-2026-0007",
        "version": 1,
        "draft": False,
        "case_reference": "AC-2026-0001",
        "creditor": Party("Northwind Components Ltd", "01234567", "1 Dock Road\nBristol BS1 1AA"),
        "bank": Bank("Barclays", "12345678", "20-00-00"),
        "debtor": Party("Smith & Sons <Holdings> Ltd", None, "2 Mill Lane, Leeds, LS1 4AB"),
        "lawyer": Lawyer("Olivia Barrister", "SRA-1", "o@firm.example", "Harcourt LLP", None),
        "sender_name": "Lena Legal",
        "sender_email": "lena@example.com",
        "currency": "GBP",
        "invoices": (
            InvoiceLine(
                "INV-1",
                "SA-17",
                dt.date(2025, 1, 10),
                None,
                dt.date(2025, 2, 9),
                Decimal("12000"),
                Decimal("0"),
                Decimal("1654.33"),
                Decimal("10345.67"),
                Decimal("1180.25"),
            ),
        ),
        "payments": ((dt.date(2025, 3, 1), Decimal("1654.33")),),
        "interest": Interest(
            basis="late_payment_act",
            rate=Decimal("12.000000"),
            daily=Decimal("3.40"),
            amount=Decimal("1180.25"),
            start=dt.date(2025, 2, 10),
            texts=("Statutory interest is claimed on invoice INV-1 under the Act.",),
        ),
        "compensation": Decimal("70.00"),
        "costs": Decimal("0"),
        "deadline": dt.date(2026, 12, 11),
        "deadline_days": 14,
        "evidence": (
            ExhibitLine("Contract SA-17", "contract", dt.date(2024, 5, 1), None, None, 3),
        ),
    }
    values.update(changes)
    return DocumentFacts(**values)


def test_context_formats_money_dates_and_words_for_the_language():
    context = build_context(facts())
    assert context["document"]["date"] == "23 November 2026"
    assert context["deadline"] == {"date": "11 December 2026", "days": 14}
    assert context["invoices"][0]["balance"] == "10,345.67"
    assert context["invoices"][0]["delivery_date"] is None  # missing, not invented
    assert (
        context["invoices"][0]["days_overdue"] == (dt.date(2026, 11, 23) - dt.date(2025, 2, 9)).days
    )
    # total due = outstanding 10,345.67 + interest 1,180.25 + compensation 70.00
    assert context["totals"]["total_due"] == "11,595.92"
    assert context["totals"]["total_due_words"] == (
        "eleven thousand five hundred and ninety-five pounds and ninety-two pence"
    )
    assert context["interest"]["rate"] == "12"
    assert context["creditor"]["address_lines"] == ["1 Dock Road", "Bristol BS1 1AA"]
    assert context["debtor"]["address_lines"] == ["2 Mill Lane", "Leeds", "LS1 4AB"]
    us = build_context(facts(debtor=Party("Prairie Inc.", None, "9 Main St, Joliet, IL 60432")))
    assert us["debtor"]["address_lines"] == ["9 Main St", "Joliet, IL 60432"]
    assert context["debtor"]["registration_id"] is None
    assert context["firm"]["address"] is None
    assert context["evidence"][0]["proves"].startswith("The contract")
    assert context["evidence"][0]["source"] == "Claimant's records"


def test_chinese_context_writes_dates_words_and_the_basis_in_chinese():
    context = build_context(
        facts(
            jurisdiction="cn",
            language="zh",
            currency="CNY",
            interest=Interest(
                basis="prc_lpr",
                rate=Decimal("4.5"),
                amount=Decimal("10.00"),
                start=dt.date(2025, 7, 6),
                lpr_uplift=Decimal("0.5"),
            ),
            compensation=Decimal("0"),
        )
    )
    assert context["document"]["date"] == "2026年11月23日"
    assert context["currency_name"] == "人民币"
    assert context["totals"]["total_due"] == "10,355.67"
    assert context["totals"]["total_due_words"] == "壹万零叁佰伍拾伍元陆角柒分"
    assert "年利率4.5%" in context["interest"]["basis_text"]
    assert "加计50%" in context["interest"]["basis_text"]
    assert context["evidence"][0]["kind"] == "合同"


def test_us_dates_are_month_first():
    assert build_context(facts(jurisdiction="us"))["document"]["date"] == "November 23, 2026"


MANIFEST = Manifest(
    title="t",
    language="en",
    fields=(
        Field("debtor.name", "text", True, "d"),
        Field("debtor.registration_id", "text", True, "d"),
        Field("firm.address_lines", "list", True, "d"),
        Field("invoices", "list", True, "d"),
        Field("invoices[].number", "text", True, "d"),
        Field("invoices[].delivery_date", "date", True, "d"),
        Field("debtor.email", "text", False, "d"),
    ),
)


def test_missing_required_fields_are_named_and_marked_in_a_draft():
    context = build_context(facts())
    assert missing_fields(MANIFEST, context) == [
        "debtor.registration_id",
        "firm.address_lines",
        "invoices[1].delivery_date",
    ]
    marked = prepare(MANIFEST, context)
    assert marked["debtor"]["registration_id"] == "[missing: debtor.registration_id]"
    assert marked["firm"]["address_lines"] == ["[missing: firm.address_lines]"]
    assert marked["invoices"][0]["delivery_date"] == "[missing: invoices[].delivery_date]"
    assert marked["debtor"]["email"] is None  # optional: left empty, not marked
    assert context["debtor"]["registration_id"] is None  # the snapshot itself is untouched


def template(*paragraphs: str) -> bytes:
    word = WordDocument()
    for text in paragraphs:
        word.add_paragraph().add_run(text)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("word/document.xml").decode()


def test_rendering_escapes_values_and_marks_unknown_variables():
    data = template(
        "To {{ debtor.name }}",
        "Email: {{ debtor.email }}.",
        "Ref {{ no_such.thing }}",
    )
    xml = document_xml(render_docx(data, prepare(MANIFEST, build_context(facts()))))
    # "&" and "<" arrive as text, not as broken XML.
    assert "To Smith &amp; Sons &lt;Holdings&gt; Ltd" in xml
    assert "Email: ." in xml
    assert "Ref [missing: thing]" in xml or "Ref [missing: no_such]" in xml
