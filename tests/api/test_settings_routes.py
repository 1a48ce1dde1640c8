"""Settings sub-routes added with newer Meilisearch versions, and defaults of old records."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import run_task


def test_foreign_keys_route_round_trips(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "fk"})
    assert client.get("/indexes/fk/settings/foreign-keys").json() == []
    keys = [{"foreignIndexUid": "actors", "fieldName": "actors"}]
    task = run_task(client, "PUT", "/indexes/fk/settings/foreign-keys", json=keys)
    assert task["status"] == "succeeded", task
    assert client.get("/indexes/fk/settings/foreign-keys").json() == keys
    assert client.get("/indexes/fk/settings").json()["foreignKeys"] == keys
    run_task(client, "DELETE", "/indexes/fk/settings/foreign-keys")
    assert client.get("/indexes/fk/settings/foreign-keys").json() == []


def test_chat_setting_patches_merge(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "c"})
    run_task(client, "PATCH", "/indexes/c/settings/chat", json={"description": "Movies"})
    chat = client.get("/indexes/c/settings/chat").json()
    assert chat["description"] == "Movies" and chat["documentTemplateMaxBytes"] == 400


def test_sort_facet_values_by_keeps_the_wildcard(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "f"})
    body = {"maxValuesPerFacet": 42, "sortFacetValuesBy": {"genre": "count"}}
    run_task(client, "PATCH", "/indexes/f/settings/faceting", json=body)
    faceting = client.get("/indexes/f/settings/faceting").json()
    assert faceting == {
        "maxValuesPerFacet": 42,
        "sortFacetValuesBy": {"*": "alpha", "genre": "count"},
    }


def test_stored_only_settings_appear_once_set(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "fk"})
    whole = client.get("/indexes/fk/settings").json()
    assert "foreignKeys" not in whole and "chat" not in whole  # as Meilisearch, features off
    assert client.get("/indexes/fk/settings/foreign-keys").json() == []
    keys = [{"foreignIndexUid": "actors", "fieldName": "actors"}]
    run_task(client, "PUT", "/indexes/fk/settings/foreign-keys", json=keys)
    assert client.get("/indexes/fk/settings").json()["foreignKeys"] == keys
