"""Ids from outside: 1 … 2^31−1 or nothing. Never a 500 for an id, on SQLite or PostgreSQL.

SQLite overflows at 2^63 and PostgreSQL's ``integer`` at 2^31; every route taking an id is walked
from ``url_map`` (like the access matrix), so a new route is covered without a new test.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from portal.ids import MAX_ID, parse_id

from .conftest import login
from .factories import World, token_for

#: Just past PostgreSQL's ``integer``, past SQLite's 64-bit integer, zero and negative.
OUT_OF_RANGE = [str(2**31), str(2**63), str(2**64 + 5), "0"]
OTHER_ARGS = {"external_id": "D-1", "filename": "x", "number": "1"}


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        int_args = [
            name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)
        ]
        if not int_args or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, int_args, method


def _path(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{name}>", values.get(name, OTHER_ARGS.get(name, "1")), path)
    return path


def test_parse_id_bounds():
    # 2^31 − 1 = 2147483647 is the largest key; 2^31 = 2147483648 is not an id.
    assert parse_id("1") == 1 and parse_id(" 2147483647 ") == MAX_ID
    for raw in ("0", "-1", "2147483648", "9" * 40, "1.0", "1e3", "", None, "٣", "0x10"):
        assert parse_id(raw) is None, raw


def test_every_id_route_answers_404_for_ids_out_of_range(app, client, world: World):
    assert login(client, World.EMAILS["admin"]).status_code == 302
    with app.app_context():
        headers = {"Authorization": f"Bearer {token_for(World.EMAILS['admin'])}"}
    checked, failures = 0, []
    for rule, int_args, method in _id_routes(app):
        for bad in OUT_OF_RANGE:
            for name in int_args:
                path = _path(rule, {name: bad})
                api = path.startswith("/api/")
                response = client.open(
                    path,
                    method=method,
                    headers=headers if api else {},
                    json={} if api and method in ("POST", "PUT", "PATCH") else None,
                )
                checked += 1
                if response.status_code != 404:
                    failures.append(f"{method} {path}: {response.status_code}")
    assert failures == []
    assert checked >= 60 * len(OUT_OF_RANGE)


def test_the_largest_id_is_an_id_that_names_nothing(app, client, world: World):
    # 2^31 − 1 passes the converter and reaches the database, which finds no such row: 404.
    assert login(client, World.EMAILS["admin"]).status_code == 302
    assert client.get(f"/cases/{MAX_ID}").status_code == 404
    with app.app_context():
        headers = {"Authorization": f"Bearer {token_for(World.EMAILS['admin'])}"}
    assert client.get(f"/api/v1/cases/{MAX_ID}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/documents/{MAX_ID}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/cases/?lawyer={}", "/cases/?owner={}", "/admin/audit/?before={}", "/admin/rates?edit={}"],
)
def test_id_query_parameters_out_of_range_are_422(client, world: World, path: str):
    assert login(client, World.EMAILS["admin"]).status_code == 302
    for bad in OUT_OF_RANGE + ["abc"]:
        response = client.get(path.format(bad))
        assert response.status_code == 422, (path, bad)
    assert client.get(path.format(MAX_ID)).status_code == 200


def test_api_id_parameters_and_fields_out_of_range_are_422(app, client, world: World):
    with app.app_context():
        headers = {"Authorization": f"Bearer {token_for(World.EMAILS['legal'])}"}
    for bad in OUT_OF_RANGE:
        response = client.get(f"/api/v1/cases?cursor={bad}", headers=headers)
        assert response.status_code == 422, bad
        assert "cursor" in response.json["error"]["fields"]
        response = client.post(
            "/api/v1/documents/bulk",
            json={"kind": "advance_notice", "cases": [int(bad)]},
            headers=headers,
        )
        assert response.status_code == 422, bad
    assert client.get(f"/api/v1/cases?cursor={MAX_ID}", headers=headers).status_code == 200


def test_ids_in_forms_out_of_range_are_refused_without_reaching_the_database(client, world: World):
    assert login(client, World.EMAILS["legal"]).status_code == 302
    for bad in OUT_OF_RANGE:
        response = client.post(
            "/documents/bulk",
            data={"kind": "advance_notice", "mode": "draft", "cases": [bad]},
        )
        assert response.status_code == 422, bad
        assert "Ticked cases: " in response.text and "could not be coerced" in response.text
