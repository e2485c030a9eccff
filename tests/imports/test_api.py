"""``POST /api/v1/imports``: status codes, the report as the body, the OpenAPI document."""

from __future__ import annotations

import io

import pytest

from ..factories import World, token_for
from .conftest import counts, import_audits, invoice_row, write_csv
from .test_files import PNG


@pytest.fixture
def bearer(app, world: World, ledger):
    def headers(role: str) -> dict[str, str]:
        with app.app_context():
            return {"Authorization": f"Bearer {token_for(World.EMAILS[role])}"}

    return headers


def post(client, headers, data: bytes, kind="invoices", filename="invoices.csv", **form):
    body = {"kind": kind, "file": (io.BytesIO(data), filename), **form}
    return client.post(
        "/api/v1/imports", data=body, headers=headers, content_type="multipart/form-data"
    )


def state(app) -> dict[str, int]:
    with app.app_context():
        return counts()


def test_import_dry_run_then_real_then_again(app, client, bearer, tmp_path):
    data = write_csv(tmp_path / "i.csv", [invoice_row(n) for n in range(1, 21)]).read_bytes()
    headers = bearer("finance")
    before = state(app)

    dry = post(client, headers, data, dry_run="true")
    assert dry.status_code == 200
    assert dry.json == {"rows": 20, "created": 20, "updated": 0, "errors": []}
    assert state(app) == before

    real = post(client, headers, data)
    assert real.status_code == 200
    assert real.json == {"rows": 20, "created": 20, "updated": 0, "errors": []}
    after = state(app)
    assert after["invoices"] == before["invoices"] + 20
    with app.app_context():
        (audit,) = import_audits()
        assert audit.actor_label == World.EMAILS["finance"]
        assert audit.changes["after"]["filename"] == "invoices.csv"

    again = post(client, headers, data, dry_run="false")
    assert again.json == {"rows": 20, "created": 0, "updated": 0, "errors": []}
    assert state(app) == after


def test_bad_rows_are_422_with_the_report(app, client, bearer, tmp_path):
    rows = [invoice_row(1), invoice_row(2, debtor="NOPE"), invoice_row(3, amount="1.005")]
    data = write_csv(tmp_path / "i.csv", rows).read_bytes()
    headers = bearer("legal")
    before = state(app)
    response = post(client, headers, data)
    assert response.status_code == 422
    assert response.json == {
        "rows": 3,
        "created": 0,
        "updated": 0,
        "errors": [
            {"row": 3, "field": "debtor", "message": "Unknown debtor 'NOPE'."},
            {"row": 4, "field": "amount", "message": "GBP amounts have at most 2 decimal places."},
        ],
    }
    assert state(app) == before


def test_xlsx_upload(app, client, bearer, tmp_path):
    from .conftest import INVOICE_HEADER, write_xlsx

    row = list(invoice_row(1).values())
    path = write_xlsx(tmp_path / "i.xlsx", INVOICE_HEADER, [row])
    response = post(client, bearer("admin"), path.read_bytes(), filename="export.xlsx")
    assert (response.status_code, response.json["created"]) == (200, 1)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (PNG, "invoices.csv"),
        (b"<!doctype html><html><title>Login</title></html>", "invoices.csv"),
        (b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n", "invoices.xlsx"),
    ],
)
def test_other_file_types_are_415(app, client, bearer, data, filename):
    headers = bearer("finance")
    before = state(app)
    response = post(client, headers, data, filename=filename)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert "Upload an XLSX workbook, or a CSV file" in response.json["error"]["message"]
    assert state(app) == before


def test_too_large_is_413(app, client, bearer, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 1024
    data = write_csv(tmp_path / "i.csv", [invoice_row(n) for n in range(1, 50)]).read_bytes()
    response = post(client, bearer("finance"), data)
    assert response.status_code == 413
    assert response.json == {
        "error": {
            "code": "too_large",
            "message": "The file is larger than 1,024 bytes; split it into parts.",
        }
    }


def test_no_token_is_401_and_a_lawyer_is_403(app, client, bearer):
    assert post(client, {}, b"external_id\n").status_code == 401
    response = post(client, bearer("lawyer"), b"external_id\n")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_malformed_requests_are_422_in_the_error_shape(client, bearer):
    headers = bearer("finance")
    response = post(client, headers, b"x", kind="creditors")
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["kind"]
    response = client.post(
        "/api/v1/imports", data={"kind": "debtors", "file": "not a file"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"file": ["Send the file as a multipart file part."]}
    response = client.post("/api/v1/imports", data={"kind": "debtors"}, headers=headers)
    assert response.json["error"]["fields"] == {"file": ["Missing data for required field."]}


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/imports"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    request = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert request["properties"]["file"] == {
        "description": "CSV (UTF-8) or XLSX",
        "type": "string",
        "format": "binary",
        "minLength": 1,
    }
    assert request["properties"]["kind"]["enum"] == ["debtors", "invoices", "payments"]
    assert request["required"] == ["file", "kind"]
    assert {"200", "401", "403", "413", "415", "422"} <= set(operation["responses"])
    report = operation["responses"]["422"]["content"]["application/json"]["schema"]
    # The 422 is the row report, or the error shape when the request itself is refused.
    assert report == {
        "oneOf": [
            {"$ref": "#/components/schemas/ImportReport"},
            {"$ref": "#/components/schemas/ApiError"},
        ]
    }


def test_the_session_is_clean_after_a_refused_import(app, client, bearer, tmp_path):
    """A 422 rolls back: a later request in the same app sees the ledger unchanged."""
    bad = write_csv(tmp_path / "bad.csv", [invoice_row(1, debtor="NOPE")]).read_bytes()
    good = write_csv(tmp_path / "good.csv", [invoice_row(1)]).read_bytes()
    headers = bearer("finance")
    before = state(app)
    assert post(client, headers, bad).status_code == 422
    assert state(app) == before
    assert post(client, headers, good).json["created"] == 1
    assert state(app)["invoices"] == before["invoices"] + 1


def test_debtor_details_are_kept_unless_the_file_has_their_column(app, client, bearer):
    """A 法定代表人 or an individual's title and surname, once imported, survive an ERP file
    that has no such column; a file with the column sets (or clears) them."""
    headers = bearer("finance")
    base = "external_id,name,kind,registration_id,address,email,phone,jurisdiction"
    row = "CN-X,杭州明远机电设备有限公司,company,91330106MA2H2B8K1X,杭州市,,,cn"
    with_rep = f"{base},legal_representative\n{row},周明远\n".encode()
    assert post(client, headers, with_rep, kind="debtors", filename="d.csv").status_code == 200
    without = f"{base}\n{row}\n".encode()
    again = post(client, headers, without, kind="debtors", filename="d.csv")
    assert again.status_code == 200 and again.json["updated"] == 0
    got = client.get("/api/v1/debtors/CN-X", headers=headers).get_json()
    assert got["legal_representative"] == "周明远"
    # The API's PUT works the same way: a body without the field keeps it.
    put = client.put(
        "/api/v1/debtors/CN-X",
        json={"name": "杭州明远机电设备有限公司", "kind": "company", "jurisdiction": "cn"},
        headers=headers,
    )
    assert put.status_code == 200, put.get_json()
    got = client.get("/api/v1/debtors/CN-X", headers=headers).get_json()
    assert got["legal_representative"] == "周明远"
    # An empty cell says nothing either; an explicit null through the API clears the field.
    blank = f"{base},legal_representative\n{row},\n".encode()
    assert post(client, headers, blank, kind="debtors", filename="d.csv").status_code == 200
    got = client.get("/api/v1/debtors/CN-X", headers=headers).get_json()
    assert got["legal_representative"] == "周明远"
    put = client.put(
        "/api/v1/debtors/CN-X",
        json={"name": "杭州明远机电设备有限公司", "kind": "company", "jurisdiction": "cn",
              "legal_representative": None},
        headers=headers,
    )  # fmt: skip
    assert put.status_code == 200
    got = client.get("/api/v1/debtors/CN-X", headers=headers).get_json()
    assert got["legal_representative"] is None
