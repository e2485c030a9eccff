"""``/api/v1`` base: health, identity, error shape, OpenAPI, case scoping."""

from __future__ import annotations

import pytest

from ..factories import World, token_for


def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and body["database"] == "ok" and body["queue"] == "ok"
    assert body["worker"] == "ok" and body["store"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer ap_not-a-real-token", "Basic dXNlcjpwYXNz", "ap_x"]
)
def test_missing_or_bad_token_is_401_in_the_error_shape(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json == {
        "error": {"code": "unauthorized", "message": "A valid API token is required."}
    }


def test_me(client, bearer):
    assert client.get("/api/v1/me", headers=bearer("lawyer")).json == {
        "email": World.EMAILS["lawyer"],
        "role": "lawyer",
        "name": "Lawyer User",
        "firm": "Test Chambers LLP",
        "licence_number": "L-1",
    }


def test_unknown_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.post("/api/v1/health")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_invalid_query_is_422_with_fields(client, bearer):
    response = client.get("/api/v1/cases?limit=0", headers=bearer("legal"))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert list(response.json["error"]["fields"]) == ["limit"]


def test_lawyer_lists_only_assigned_cases_and_gets_404_for_others(client, bearer, world):
    lawyer = bearer("lawyer")
    listed = client.get("/api/v1/cases", headers=lawyer).json
    assert [item["id"] for item in listed["items"]] == [world.assigned_case]
    assert listed["next"] is None
    assert client.get(f"/api/v1/cases/{world.assigned_case}", headers=lawyer).status_code == 200
    hidden = client.get(f"/api/v1/cases/{world.other_case}", headers=lawyer)
    missing = client.get("/api/v1/cases/999999", headers=lawyer)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json == missing.json


def test_staff_list_pages_with_cursor(client, bearer, world):
    first = client.get("/api/v1/cases?limit=1", headers=bearer("legal")).json
    assert [item["id"] for item in first["items"]] == [world.other_case]
    second = client.get(f"/api/v1/cases?limit=1&cursor={first['next']}", headers=bearer("legal"))
    assert [item["id"] for item in second.json["items"]] == [world.assigned_case]
    assert second.json["next"] is None
    item = second.json["items"][0]
    assert item["lawyer"] == World.EMAILS["lawyer"] and item["stage"] == "reconciliation"


def test_openapi_is_generated_from_the_code(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/health", "/api/v1/me", "/api/v1/cases", "/api/v1/cases/{case_id}"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "ApiError" in spec["components"]["schemas"]


def test_role_not_allowed_is_403_json_and_too_large_is_413(tmp_path):
    from portal.api.auth import token_required
    from portal.extensions import db
    from portal.security import Permission

    from ..conftest import build_app
    from ..factories import build_world

    for app in build_app(tmp_path, MAX_CONTENT_LENGTH=1024):

        @app.post("/api/v1/probe")
        @token_required(Permission.MANAGE_USERS)
        def probe():
            from flask import request

            return {"ok": True, "bytes": len(request.get_data())}

        with app.app_context():
            build_world()
            db.session.commit()
            lawyer, admin = token_for(World.EMAILS["lawyer"]), token_for(World.EMAILS["admin"])
        client = app.test_client()
        denied = client.post("/api/v1/probe", headers={"Authorization": f"Bearer {lawyer}"})
        assert denied.status_code == 403
        assert denied.json["error"]["code"] == "forbidden"
        allowed = client.post("/api/v1/probe", headers={"Authorization": f"Bearer {admin}"})
        assert allowed.json == {"ok": True, "bytes": 0}
        too_large = client.post(
            "/api/v1/probe", data=b"x" * 4096, headers={"Authorization": f"Bearer {admin}"}
        )
        assert too_large.status_code == 413
        assert too_large.json["error"]["code"] == "too_large"
