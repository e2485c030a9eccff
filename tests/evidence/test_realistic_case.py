"""Acceptance: a realistic case's evidence yields exactly the expected findings, and uploading
what is missing clears them — all through the API, as an ERP or a clerk would."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ..factories import World, token_for

GOOD = Path(__file__).resolve().parent.parent / "resources" / "good"


@pytest.fixture
def client(app, world: World):
    with app.app_context():
        tokens = {role: token_for(World.EMAILS[role]) for role in ("finance", "legal")}
    http = app.test_client()

    def call(method, path, role="legal", **kwargs):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        return http.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def upload(client, case_id, name, data, **form):
    response = client(
        "POST",
        f"/cases/{case_id}/evidence",
        role="finance",
        data={**form, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json


def pairs(case, stage):
    return sorted(
        (item["rule"], item.get("invoice") or "", item["severity"])
        for item in case["readiness"][stage]["findings"]
    )


def test_realistic_case(client):
    client("PUT", "/debtors/ACME", role="finance", json={
        "name": "Acme Widgets Ltd", "kind": "company", "registration_id": "01234567",
        "address": "1 Road, Leeds LS1 1AA", "jurisdiction": "ew"})  # fmt: skip
    for key, number, amount in (("A1", "INV-1043", "1200.00"), ("A2", "INV-1044", "800.00")):
        response = client("PUT", f"/invoices/{key}", role="finance", json={
            "debtor": "ACME", "number": number, "issue_date": "2025-03-01",
            "delivery_date": "2025-02-27", "due_date": "2025-03-31", "currency": "GBP",
            "amount": amount})  # fmt: skip
        assert response.status_code == 201
    opened = client("POST", "/cases", json={"debtor": "ACME", "invoices": ["A1", "A2"],
                                           "lawyer": World.EMAILS["lawyer"]})  # fmt: skip
    case_id = opened.json["id"]
    pdf = (GOOD / "two-pages.pdf").read_bytes()
    described = {"source": "debtor", "proves": "the agreed terms", "original_held": "true"}
    upload(client, case_id, "framework-agreement.pdf", pdf, kind="contract",
           document_date="2024-11-01", **described)  # fmt: skip
    upload(client, case_id, "dn-1043.pdf", pdf + b"\n%1043", kind="delivery_note",
           invoices="A1", document_date="2025-02-27", signed_by_debtor="true", sealed="true",
           source="debtor", proves="delivery for INV-1043", original_held="true")  # fmt: skip
    unsigned = upload(client, case_id, "dn-1044.pdf", pdf + b"\n%1044", kind="delivery_note",
                      invoices="A2", document_date="2025-02-27", signed_by_debtor="false",
                      source="courier", proves="delivery for INV-1044",
                      original_held="true")  # fmt: skip
    upload(client, case_id, "balance-confirmation.pdf", pdf + b"\n%rc",
           kind="reconciliation_confirmation", document_date="2025-06-30", sealed="true",
           signed_by_debtor="true", amount="2000.00", currency="GBP", source="debtor",
           proves="the balance", original_held="true")  # fmt: skip
    mail = upload(client, case_id, "mail.eml", (GOOD / "mail.eml").read_bytes(),
                  kind="correspondence", document_date="2025-04-02", source="debtor",
                  proves="the debtor knew of the invoices")  # fmt: skip
    upload(client, case_id, "warehouse.jpg", (GOOD / "rotated.jpg").read_bytes(),
           kind="asset_photo", document_date="2025-05-05", source="site visit",
           proves="stock on the debtor's premises")  # fmt: skip

    items = client("GET", f"/cases/{case_id}/evidence").json["items"]
    attachments = [item for item in items if item["parent"] == mail["id"]]
    assert attachments and all(item["rendition_status"] == "done" for item in items)

    case = client("GET", f"/cases/{case_id}").json
    assert case["readiness"]["reconciliation"]["ready"] is True
    # Notice: INV-1044's delivery note is not signed by the debtor (R5, blocker); neither
    # invoice has proof that the invoice itself reached the debtor (R18, warning).
    assert pairs(case, "notice") == [
        ("R18", "A1", "warning"),
        ("R18", "A2", "warning"),
        ("R5", "A2", "blocker"),
    ]
    r5 = next(item for item in case["readiness"]["notice"]["findings"] if item["rule"] == "R5")
    assert "INV-1044" in r5["message"] and "INV-1044" in r5["remedy"]
    refused = client("PATCH", f"/cases/{case_id}", json={"stage": "notice"})
    assert refused.status_code == 409
    assert [item["rule"] for item in refused.json["error"]["findings"]] == ["R5"]

    # The missing pieces arrive: the signed note for INV-1044 and both invoice delivery proofs.
    upload(client, case_id, "dn-1044-signed.pdf", pdf + b"\n%1044s", kind="delivery_note",
           invoices="A2", document_date="2025-02-27", signed_by_debtor="true", sealed="true",
           source="debtor", proves="delivery for INV-1044", original_held="true")  # fmt: skip
    for key in ("A1", "A2"):
        upload(client, case_id, f"proof-{key}.pdf", pdf + key.encode(),
               kind="invoice_delivery_proof", invoices=key, document_date="2025-03-02",
               source="courier", proves="the invoice reached the debtor")  # fmt: skip
    case = client("GET", f"/cases/{case_id}").json
    assert case["readiness"]["notice"] == {"ready": True, "findings": []}
    assert client("PATCH", f"/cases/{case_id}", json={"stage": "notice"}).status_code == 200
    assert unsigned["id"] in [item["id"] for item in items]
