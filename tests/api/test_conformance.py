"""``/api/v1`` against its OpenAPI document: what the document says (required and nullable
fields, rules across fields, every body sent) and what the server refuses to match it
(no body to a PATCH, JSON values of the wrong type). ``make api-fuzz`` checks the rest with
schemathesis against a live portal."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.api.schemas import AMOUNT_PATTERN, CENTS_PATTERN, RATE_PATTERN, WHOLE_PATTERN
from portal.cases.models import Case, CaseEvent
from portal.extensions import db


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").json


def component(spec: dict, ref: dict) -> dict:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def body_schema(spec: dict, path: str, method: str, media: str = "application/json") -> dict:
    body = spec["paths"][path][method]["requestBody"]
    assert body["required"] is True
    return component(spec, body["content"][media]["schema"])


# --- PATCH needs something to change ---------------------------------------------------------


@pytest.mark.parametrize("body", [None, {}])
def test_patching_a_case_with_nothing_is_422_and_changes_nothing(app, client, bearer, world, body):
    with app.app_context():
        before = db.session.get(Case, world.assigned_case).updated_at
    kwargs = {"json": body} if body is not None else {}
    response = client.patch(
        f"/api/v1/cases/{world.assigned_case}", headers=bearer("legal"), **kwargs
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert response.json["error"]["fields"] == {"_schema": ["Send at least one field to change."]}
    with app.app_context():
        assert db.session.get(Case, world.assigned_case).updated_at == before


def test_patching_evidence_with_nothing_is_422(client, bearer, world):
    response = client.patch(
        f"/api/v1/evidence/{world.assigned_evidence}", json={}, headers=bearer("legal")
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"_schema": ["Send at least one field to change."]}


def test_a_patch_body_has_at_least_one_field_in_the_document(spec):
    for path in ("/api/v1/cases/{case_id}", "/api/v1/evidence/{evidence_id}"):
        assert body_schema(spec, path, "patch")["minProperties"] == 1


# --- JSON values of the documented type only -----------------------------------------------


def test_a_boolean_must_be_json_true_or_false(app, client, bearer, world):
    response = client.post(
        f"/api/v1/cases/{world.assigned_case}/events",
        json={"type": "acknowledgment", "date": "2025-01-10", "signed": 0},
        headers=bearer("legal"),
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"signed": ["Not a valid boolean."]}
    with app.app_context():
        acknowledged = select(CaseEvent).where(CaseEvent.type == "acknowledgment")
        assert db.session.scalar(acknowledged) is None


def test_an_event_type_that_is_no_string_is_422_not_500(client, bearer, world):
    response = client.post(
        f"/api/v1/cases/{world.assigned_case}/events",
        json={"type": {}, "date": "2025-01-10", "text": "x"},
        headers=bearer("legal"),
    )
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["type"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/invoices/INV-T1",
            {"debtor": "D-1", "number": "T-1", "issue_date": "2025-01-01",
             "due_date": "2025-02-01", "currency": "GBP", "amount": 1234},
            "amount",
        ),
        (
            "/api/v1/invoices/INV-T2",
            {"debtor": "D-1", "number": "T-2", "issue_date": "2025-01-01",
             "due_date": "2025-02-01", "currency": "GBP", "amount": "10.00", "interest_rate": 8},
            "interest_rate",
        ),
    ],
)  # fmt: skip
def test_amounts_and_rates_are_strings(client, bearer, path, body, field):
    response = client.put(path, json=body, headers=bearer("finance"))
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {field: ["Not a valid string."]}


def test_ids_in_a_body_are_json_integers(client, bearer, world):
    response = client.post(
        "/api/v1/documents/bulk",
        json={"kind": "demand_letter", "cases": [str(world.assigned_case)]},
        headers=bearer("legal"),
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"cases.0": ["Not a valid integer."]}


# --- the document ------------------------------------------------------------------------------


def test_evidence_upload_is_one_multipart_body_with_its_required_fields(spec):
    operation = spec["paths"]["/api/v1/cases/{case_id}/evidence"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    upload = body_schema(spec, "/api/v1/cases/{case_id}/evidence", "post", "multipart/form-data")
    assert upload["required"] == ["file", "kind"]
    assert upload["properties"]["file"] == {
        "description": "the document (PDF, image, …)",
        "format": "binary",
        "minLength": 1,
        "type": "string",
    }
    assert "delivery_note" in upload["properties"]["kind"]["enum"]
    assert set(upload["properties"]["sealed"]["enum"]) >= {"true", "false", ""}


@pytest.mark.parametrize(
    ("path", "required"),
    [
        ("/api/v1/users/me/certificate", ["file"]),
        ("/api/v1/verify", ["file"]),
        ("/api/v1/documents/{document_id}/docx", ["file"]),
    ],
)
def test_other_uploads_are_one_multipart_body(spec, path, required):
    upload = body_schema(spec, path, "post", "multipart/form-data")
    assert upload["required"] == required


def test_aging_rows_may_have_no_creditor(spec):
    item = spec["components"]["schemas"]["AgingItem"]
    assert item["properties"]["creditor"]["type"] == ["string", "null"]
    assert "creditor" in item["required"]


def test_the_import_refusal_is_documented_in_both_shapes(spec):
    refused = spec["paths"]["/api/v1/imports"]["post"]["responses"]["422"]
    schema = refused["content"]["application/json"]["schema"]
    assert schema == {
        "oneOf": [
            {"$ref": "#/components/schemas/ImportReport"},
            {"$ref": "#/components/schemas/ApiError"},
        ]
    }


def test_the_verify_answer_is_documented(spec):
    answer = spec["paths"]["/api/v1/verify"]["post"]["responses"]["200"]
    verdict = component(spec, answer["content"]["application/json"]["schema"])
    assert {"known", "sha256", "signatures"} <= set(verdict["required"])


def test_errors_document_the_findings_a_refusal_names(spec):
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "fields", "findings"}


def test_money_is_a_patterned_string_with_its_currency_s_decimals(spec):
    invoice = spec["components"]["schemas"]["InvoiceIn"]
    assert invoice["properties"]["amount"]["type"] == "string"
    assert invoice["properties"]["interest_rate"]["pattern"] == RATE_PATTERN
    (places,) = invoice["allOf"]
    assert places["then"]["properties"]["amount"]["pattern"] == WHOLE_PATTERN
    assert places["else"]["properties"]["amount"]["pattern"] == CENTS_PATTERN
    amount = re.compile(AMOUNT_PATTERN)
    assert all(amount.match(text) for text in ("1234.50", "0.01", "1", "99999999999999.9999"))
    assert not any(amount.match(text) for text in ("0", "0.00", "-1", "1e3", "1,234.50", "1."))


def test_rules_across_fields_are_in_the_document(spec):
    patch = body_schema(spec, "/api/v1/cases/{case_id}", "patch")
    closing = patch["allOf"][0]
    assert closing["if"]["properties"]["status"] == {"const": "closed"}
    assert closing["then"]["required"] == ["outcome"]
    generate = body_schema(spec, "/api/v1/cases/{case_id}/documents", "post")
    (override,) = generate["allOf"]
    assert override["then"]["properties"]["mode"] == {"const": "final"}
    assert generate["properties"]["fields"]["propertyNames"]["enum"] == [
        "court.name",
        "court.address",
        "claim.facts",
    ]
    bulk = body_schema(spec, "/api/v1/documents/bulk", "post")
    assert bulk["anyOf"][0] == {"required": ["bucket"]}


def test_each_event_type_has_its_own_body(spec):
    body = spec["paths"]["/api/v1/cases/{case_id}/events"]["post"]["requestBody"]
    branches = body["content"]["application/json"]["schema"]["oneOf"]
    types = [component(spec, branch)["properties"]["type"]["const"] for branch in branches]
    assert "promise" in types and "note" in types and len(types) == len(set(types))
    promise = spec["components"]["schemas"]["PromiseEvent"]
    assert set(promise["required"]) == {"type", "date", "amount", "currency", "due"}


def test_optional_bodies_are_not_required(spec):
    for path in ("/api/v1/documents/{document_id}/submit", "/api/v1/cases/{case_id}/bundles"):
        assert spec["paths"][path]["post"]["requestBody"]["required"] is False


def test_answers_mark_the_fields_always_sent(spec):
    schemas = spec["components"]["schemas"]
    assert {"id", "stage", "status", "lawyer", "invoices", "readiness"} <= set(
        schemas["CaseOut"]["required"]
    )
    assert schemas["CaseOut"]["properties"]["lawyer"]["type"] == ["string", "null"]
    assert "rendition_status" in schemas["EvidenceOut"]["required"]
    assert "renamed_from" not in schemas["EvidenceOut"]["required"]
    assert "result" not in schemas["JobOut"]["required"]


def test_external_ids_in_paths_are_described(spec):
    (parameter,) = spec["paths"]["/api/v1/debtors/{external_id}"]["parameters"]
    assert parameter["schema"]["maxLength"] == 64
    pattern = re.compile(parameter["schema"]["pattern"])
    assert pattern.match("EW-0001") and pattern.match(" ID 7 ")
    assert not pattern.match("   ") and not pattern.match("a\x01b")
