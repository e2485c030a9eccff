"""A realistic messy PRC case: the exact findings at each stage."""

from __future__ import annotations

from decimal import Decimal

from portal.jurisdictions.rules import evaluate, readiness

from .builders import day, demand_letter, event, evidence, facts, invoice, limitation, summary


def messy():
    """Shenzhen Huaxin owes four invoices; finance and legal left a few things undone.

    - HX-2021-017 is time-barred (a warning letter was posted in 2024, never proven delivered);
    - HX-2023-088: the delivery note is signed but neither sealed nor the signer named, and the
      balance confirmation of 2024-06-30 does not match the ledger;
    - HX-2024-005 is disputed, yet the payment-order route is chosen and property was preserved;
    - HX-2024-031 has no delivery note, no proof the invoice reached the debtor, and the scanned
      invoice shows 8,080.00 where the ledger has 8,800.00;
    - the framework contract is a copy, a scan was uploaded twice, a chat log is undescribed,
      the debtor acknowledged only 20,000.00, and the lawyer's licence number is missing.
    """

    def cny(key, number, amount, due, **overrides):
        values = {
            "currency": "CNY",
            "number": number,
            "amount": Decimal(amount),
            "paid": Decimal(0),
            "outstanding": Decimal(amount),
            "due_date": day(due),
            "reductions": (),
            "limitation": limitation("2027-12-31", set_by=f"due date {due}"),
        }
        values.update(overrides)
        return invoice(key, **values)

    invoices = (
        cny(
            "INV-101",
            "HX-2021-017",
            "50000.00",
            "2021-09-30",
            limitation=limitation("2024-09-30", set_by="due date 2021-09-30"),
        ),
        cny(
            "INV-102",
            "HX-2023-088",
            "30000.00",
            "2023-12-31",
            credited=Decimal("2000.00"),
            paid=Decimal("10000.00"),
            outstanding=Decimal("18000.00"),
            reductions=(
                (day("2024-02-01"), Decimal("2000.00")),
                (day("2024-08-01"), Decimal("10000.00")),
            ),
        ),
        cny("INV-103", "HX-2024-005", "12000.00", "2024-09-30", disputed=True),
        cny("INV-104", "HX-2024-031", "8800.00", "2024-12-31"),
    )
    items = (
        evidence(11, "contract", original_held=False),
        evidence(12, "delivery_note", "INV-102", sealed=False, signer=None),
        evidence(13, "delivery_note", "INV-101"),
        evidence(14, "invoice", "INV-102", amount=Decimal("30000.00"), currency="CNY"),
        evidence(15, "invoice", "INV-104", amount=Decimal("8080.00"), currency="CNY"),
        evidence(16, "invoice_delivery_proof", "INV-101", "INV-102"),
        evidence(
            17,
            "reconciliation_confirmation",
            "INV-101",
            "INV-102",
            document_date=day("2024-06-30"),
            amount=Decimal("75000.00"),
            currency="CNY",
        ),
        evidence(18, "dispatch_proof", document_date=day("2025-05-12"), source="SF Express"),
        evidence(19, "invoice", "INV-102", amount=Decimal("30000.00"), duplicate_of=14),
        evidence(20, "other", "INV-104", description=None, proves=None, source="WeChat"),
    )
    events = (
        event(40, "dispute", "2024-10-15", details={"invoices": ["INV-103"], "reason": "damaged"}),
        event(
            41,
            "dispatch",
            "2024-06-01",
            details={"document": "warning_letter", "courier": "EMS", "tracking": "EB1"},
        ),
        event(
            42,
            "acknowledgment",
            "2025-01-15",
            amount=Decimal("20000.00"),
            details={"signed": True, "amount": "20000.00", "currency": "CNY"},
        ),
        demand_letter(43, "2025-05-10", "2025-05-12", enclosures=[]),
        event(44, "preservation", "2025-06-01"),
    )
    return facts(
        "cn",
        debtor_name="Shenzhen Huaxin Electronics Co., Ltd.",
        debtor_address="8 Keji Road, Nanshan District, Shenzhen",
        lawyer=("Zhang Min", "Dacheng Law Offices", None),
        route="payment_order",
        invoices=invoices,
        evidence=items,
        events=events,
        interest_basis="prc_lpr",
        reply_days=15,
    )


def test_messy_case_at_prosecution():
    assert summary(evaluate(messy(), "prosecution")) == [
        ("R1", "blocker", "INV-101", None),
        ("R3", "blocker", "INV-104", None),
        ("R7", "blocker", "INV-104", 15),
        ("R8", "blocker", "INV-104", 20),
        ("R9", "blocker", "INV-101", None),
        ("R17", "blocker", "INV-103", None),
        ("R17", "blocker", None, None),
        ("R19", "blocker", None, None),
        ("R4", "warning", "INV-102", 12),
        ("R6", "warning", None, 11),
        ("R11", "warning", None, None),
        ("R12", "warning", None, 17),
        ("R18", "warning", "INV-104", None),
        ("R20", "warning", "INV-102", 19),
    ]


def test_messy_case_stage_by_stage():
    stages = readiness(messy())
    rules = {stage: [f.rule for f in entry["findings"]] for stage, entry in stages.items()}
    assert rules == {
        "reconciliation": ["R1", "R12", "R20"],
        "notice": ["R1", "R3", "R4", "R12", "R18", "R20"],
        "warning": ["R1", "R3", "R4", "R12", "R18", "R20"],
        "demand_letter": ["R1", "R3", "R7", "R19", "R4", "R6", "R11", "R12", "R18", "R20"],
        "prosecution": [
            "R1",
            "R3",
            "R7",
            "R8",
            "R9",
            "R17",
            "R17",
            "R19",
            "R4",
            "R6",
            "R11",
            "R12",
            "R18",
            "R20",
        ],
    }  # blockers first, then by rule number
    assert not any(entry["ready"] for entry in stages.values())


def test_messy_case_messages_name_invoice_numbers():
    findings = {(f.rule, f.invoice): f for f in evaluate(messy(), "prosecution")}
    assert findings["R1", "INV-101"].message == (
        "Limitation for invoice HX-2021-017 expired on 2024-09-30 (set by due date 2021-09-30)."
    )
    assert findings["R9", "INV-101"].message == (
        "Limitation for invoice HX-2021-017 expired on 2024-09-30; the warning letter sent on "
        "2024-06-01 (event #41) would interrupt it, but there is no proof that it reached the "
        "debtor."
    )
    assert findings["R12", None].message == (
        "The reconciliation confirmation #17 (reconciliation_confirmation-17.pdf) confirms "
        "CNY 75,000.00 on 2024-06-30; the ledger balance of invoices HX-2021-017, HX-2023-088 "
        "on that date was CNY 78,000.00."
    )
    assert findings["R11", None].message == (
        "The debtor's acknowledgment of 2025-01-15 (event #42) covers CNY 20,000.00, less than "
        "the CNY 76,800.00 claimed."
    )
