"""Tenant tokens whose claims are null, as the official clients sign them."""

from typing import Any

import jwt
from fastapi.testclient import TestClient

from tests.conftest import run_task


def _search_as(client: TestClient, payload: dict[str, Any], key: str) -> Any:
    token = jwt.encode(payload, key, algorithm="HS256")
    return client.post(
        "/indexes/movies/search", json={}, headers={"Authorization": f"Bearer {token}"}
    )


def test_null_claims_read_as_meilisearch_reads_them(client: TestClient) -> None:
    docs = [{"id": 1, "genre": "drama"}, {"id": 2, "genre": "scifi"}]
    run_task(client, "POST", "/indexes/movies/documents", json=docs)
    run_task(client, "PATCH", "/indexes/movies/settings", json={"filterableAttributes": ["genre"]})
    key = next(k for k in client.get("/keys").json()["results"] if k["actions"] == ["search"])
    uid, value = key["uid"], key["key"]

    # What meilisearch-python signs when no expiry is given: null means "never expires".
    signed_by_python_client = {"apiKeyUid": uid, "searchRules": ["*"], "exp": None}
    r = _search_as(client, signed_by_python_client, value)
    assert r.status_code == 200, r.text
    assert {h["id"] for h in r.json()["hits"]} == {1, 2}
    # A null rule or a null filter: the index is searchable, unfiltered.
    for rules in ({"movies": None}, {"movies": {"filter": None}}):
        r = _search_as(client, {"apiKeyUid": uid, "searchRules": rules, "exp": None}, value)
        assert r.status_code == 200 and len(r.json()["hits"]) == 2, (rules, r.text)
    # The filter still applies when the expiry is null.
    filtered = {"apiKeyUid": uid, "searchRules": {"movies": {"filter": "genre = drama"}}}
    r = _search_as(client, {**filtered, "exp": None, "iat": None, "nbf": None}, value)
    assert [h["id"] for h in r.json()["hits"]] == [1]
    # The claims a token cannot do without, and a time that is not a time, stay refused.
    for refused in (
        {"apiKeyUid": uid, "searchRules": None},
        {"apiKeyUid": None, "searchRules": ["*"]},
        {"apiKeyUid": uid, "searchRules": ["*"], "exp": "never"},
        {"apiKeyUid": uid, "searchRules": ["*"], "exp": True},
    ):
        r = _search_as(client, refused, value)
        assert r.status_code == 403 and r.json()["code"] == "invalid_api_key", refused
    # A real expiry in the past is still an expired token.
    r = _search_as(client, {"apiKeyUid": uid, "searchRules": ["*"], "exp": 1}, value)
    assert r.status_code == 403 and r.json()["message"].startswith("Tenant token expired.")
