"""The OpenAPI document tells the truth: every operation has its request body and answer
schemas, unique operation ids, no 422 (bad input gets Meilisearch's codes), and real
answers of the API validate against the models the routes declare."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from sift.http.schemas import requests, responses
from tests.conftest import make_client, run_task

NO_BODY = {
    ("post", "/dumps"),
    ("post", "/snapshots"),
    ("post", "/tasks/cancel"),  # the filter is in the query string
    ("post", "/indexes/{index_uid}/compact"),
    ("post", "/sources/{name}/resnapshot"),
}
EMPTY_ANSWER = {("post", "/events")}  # 201 without a body, as Meilisearch answers
# Meilisearch's PATCH /network answers the network (200) without a leader and the
# summary of a `networkTopologyChange` task (202) with one; its SDKs branch on it.
TWO_ANSWERS = {("patch", "/network"): ["200", "202"]}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def test_every_operation_has_its_schemas_and_a_unique_id(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) >= 60
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        assert "422" not in op["responses"], where
        success = [code for code in op["responses"] if code.startswith("2")]
        assert sorted(success) == TWO_ANSWERS.get((method, path), success[:1]), where
        for code in success:
            if code != "204" and (method, path) not in EMPTY_ANSWER:
                content = op["responses"][code]["content"]
                assert all("schema" in media for media in content.values()), where
        if method in ("post", "put", "patch") and (method, path) not in NO_BODY:
            assert op["requestBody"]["content"], where
        if path != "/health":
            error = op["responses"]["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, where
    schemas = spec["components"]["schemas"]
    refs = {r for r in _refs(spec["paths"])}
    assert refs <= {f"#/components/schemas/{name}" for name in schemas}
    assert "HTTPValidationError" not in schemas


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_bodies_name_every_accepted_content_type(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/indexes/{index_uid}/documents"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson", "text/csv"}


def test_the_document_is_public_and_docs_are_not_served(tmp_path: Any) -> None:
    with make_client(tmp_path, master_key="a-master-key-0123456789") as anonymous:
        assert anonymous.get("/openapi.json").status_code == 200
        assert anonymous.get("/docs").status_code == 404


def _valid(kind: Any, value: Any) -> None:
    TypeAdapter(kind).validate_python(value)


def test_real_answers_match_the_declared_models(client: TestClient) -> None:
    docs = [{"id": 1, "title": "Dune", "n": 3}, {"id": 2, "title": "Emma", "n": 5}]
    _valid(requests.Documents, docs)
    added = client.post("/indexes/books/documents", json=docs)
    _valid(responses.TaskSummary, added.json())
    settings = {"filterableAttributes": ["n"], "sortableAttributes": ["n"]}
    _valid(requests.SettingsUpdate, settings)
    run_task(client, "PATCH", "/indexes/books/settings", json=settings)
    search = {"q": "dune", "filter": "n > 1", "facets": ["n"], "attributesToHighlight": ["*"]}
    _valid(requests.SearchQuery, search)
    multi = {"queries": [{"indexUid": "books", "q": "emma"}]}
    _valid(requests.MultiSearch, multi)
    key = {"actions": ["search"], "indexes": ["books"], "expiresAt": None, "name": "k"}
    _valid(requests.KeyCreate, key)
    created = client.post("/keys", json=key).json()
    webhook = {"url": "http://127.0.0.1:9/hook", "headers": {"X-A": "b"}}
    _valid(requests.WebhookCreate, webhook)
    hook = client.post("/webhooks", json=webhook).json()
    features = {"renderRoute": True, "dynamicSearchRules": True}
    _valid(requests.ExperimentalFeatures, features)
    client.patch("/experimental-features", json=features)
    rendering = {"template": {"kind": "inlineDocumentTemplate", "inline": "{{doc.title}}"},
                 "input": {"kind": "indexDocument", "indexUid": "books", "id": "1"}}
    _valid(requests.RenderTemplate, rendering)
    rule = {"precedence": 1, "conditions": {"query": {"words": "dune"}, "time": None},
            "actions": {"pin": [{"id": "2", "position": 0, "indexUid": "books"}],
                        "scale": [{"weight": 0.5, "filter": "n > 4"}]}}
    _valid(requests.SearchRuleUpdate, rule)
    run_task(client, "PATCH", "/dynamic-search-rules/dune", json=rule)
    listing = {"limit": 5, "filter": {"query": "dune", "active": True}}
    _valid(requests.SearchRuleListQuery, listing)
    answers = [
        (responses.Task, client.get(f"/tasks/{added.json()['taskUid']}")),
        (responses.TaskPage, client.get("/tasks")),
        (responses.BatchPage, client.get("/batches")),
        (responses.Batch, client.get("/batches/0")),
        (responses.IndexPage, client.get("/indexes")),
        (responses.Index, client.get("/indexes/books")),
        (responses.DocumentPage, client.get("/indexes/books/documents")),
        (responses.DocumentPage, client.post("/indexes/books/documents/fetch", json={"limit": 1})),
        (responses.Document, client.get("/indexes/books/documents/1")),
        (responses.SearchResult, client.post("/indexes/books/search", json=search)),
        (responses.SearchResult, client.get("/indexes/books/search?q=dune")),
        (responses.MultiSearchResult, client.post("/multi-search", json=multi)),
        (
            responses.FacetSearchResult,
            client.post("/indexes/books/facet-search", json={"facetName": "n"}),
        ),
        (responses.Settings, client.get("/indexes/books/settings")),
        (responses.Setting, client.get("/indexes/books/settings/filterable-attributes")),
        (responses.Key, client.get(f"/keys/{created['uid']}")),
        (responses.KeyPage, client.get("/keys")),
        (responses.Webhook, client.get(f"/webhooks/{hook['uuid']}")),
        (responses.WebhookList, client.get("/webhooks")),
        (responses.Health, client.get("/health")),
        (responses.Version, client.get("/version")),
        (responses.Stats, client.get("/stats")),
        (responses.IndexStats, client.get("/indexes/books/stats")),
        (responses.Features, client.get("/experimental-features")),
        (responses.SearchRule, client.get("/dynamic-search-rules/dune")),
        (responses.SearchRuleList, client.post("/dynamic-search-rules", json=listing)),
        (responses.RenderedTemplate, client.post("/render-template", json=rendering)),
        (responses.FieldPage, client.post("/indexes/books/fields", json={})),
        (responses.Analytics, client.get("/analytics/searches")),
        (responses.Error, client.get("/indexes/missing")),
    ]
    for model, answer in answers:
        assert answer.status_code < 500, answer.text
        _valid(model, answer.json())


def test_the_document_routes_document_use_network(spec: dict[str, Any]) -> None:
    for path in ("/indexes/{index_uid}/documents", "/indexes/{index_uid}/documents/{document_id}"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["useNetwork"]["in"] == "query", path
        assert params["useNetwork"]["schema"] == {"type": "boolean"}, path
        assert params["index_uid"]["in"] == "path", path  # FastAPI's own still there
    fetch = spec["components"]["schemas"]["DocumentsFetch"]["properties"]
    assert "useNetwork" in fetch
