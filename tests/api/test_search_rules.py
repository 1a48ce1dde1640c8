"""/dynamic-search-rules: Meilisearch's search rules (pin, boost, deboost, hide)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_task, wait_task

BOOKS = [
    {"id": 1, "title": "Invoice basics", "kind": "guide", "tenant": "a"},
    {"id": 2, "title": "Invoice templates for teams", "kind": "guide", "tenant": "a"},
    {"id": 3, "title": "Invoice history export", "kind": "faq", "tenant": "b"},
    {"id": 4, "title": "Billing workspace overview", "kind": "guide", "tenant": "a"},
    {"id": 5, "title": "Contact support", "kind": "faq", "tenant": "b"},
]


def _enable(client: TestClient) -> None:
    r = client.patch("/experimental-features", json={"dynamicSearchRules": True})
    assert r.status_code == 200 and r.json()["dynamicSearchRules"] is True


def _books(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents", json=BOOKS)
    task = run_task(client, "PATCH", "/indexes/books/settings",
                    json={"filterableAttributes": ["kind", "tenant"]})
    assert task["status"] == "succeeded", task


def _rule(client: TestClient, uid: str, body: dict[str, Any]) -> dict[str, Any]:
    task = run_task(client, "PATCH", f"/dynamic-search-rules/{uid}", json=body)
    assert task["status"] == "succeeded", task
    return task


def _ids(client: TestClient, body: dict[str, Any], **kwargs: Any) -> list[int]:
    r = client.post("/indexes/books/search", json=body, **kwargs)
    assert r.status_code == 200, r.text
    return [h["id"] for h in r.json()["hits"]]


@pytest.fixture
def books(client: TestClient) -> TestClient:
    _enable(client)
    _books(client)
    return client


def test_routes_are_refused_while_the_switch_is_off(client: TestClient) -> None:
    for method, url in (("POST", "/dynamic-search-rules"), ("GET", "/dynamic-search-rules/x"),
                        ("PATCH", "/dynamic-search-rules/x"),
                        ("DELETE", "/dynamic-search-rules/x"), ("DELETE", "/dynamic-search-rules")):
        r = client.request(method, url, json={})
        assert r.status_code == 400, (method, url, r.text)
        assert r.json()["code"] == "feature_not_enabled"
        assert "dynamicSearchRules" in r.json()["message"]


def test_create_read_list_and_delete_are_tasks(books: TestClient) -> None:
    client = books
    r = client.patch("/dynamic-search-rules/invoice-help", json={
        "description": "Billing first for invoices",
        "precedence": 1,
        "conditions": {"query": {"words": "invoice"}},
        "actions": {"pin": [{"id": "4", "position": 0, "indexUid": "books"}]},
    })
    assert r.status_code == 202
    summary = r.json()
    assert summary["type"] == "dsrUpdate" and summary["indexUid"] is None
    assert summary["status"] == "enqueued"
    done = wait_task(client, summary["taskUid"])
    assert done["status"] == "succeeded" and done["type"] == "dsrUpdate"
    rule = client.get("/dynamic-search-rules/invoice-help").json()
    assert rule == {
        "uid": "invoice-help",
        "description": "Billing first for invoices",
        "precedence": 1,
        "active": True,
        "conditions": {"query": {"isEmpty": None, "words": "invoice"}, "time": None},
        "actions": {"pin": [{"id": "4", "position": 0, "indexUid": "books"}], "scale": []},
        "lastUpdatedAt": done["startedAt"],
    }
    # A partial update keeps what it does not name.
    _rule(client, "invoice-help", {"active": False})
    again = client.get("/dynamic-search-rules/invoice-help").json()
    assert again["active"] is False and again["precedence"] == 1
    _rule(client, "summer", {"description": "Summer sale", "actions": {"pin": []}})
    listed = client.post("/dynamic-search-rules", json={}).json()
    assert [r["uid"] for r in listed["results"]] == ["invoice-help", "summer"]
    assert (listed["offset"], listed["limit"], listed["total"]) == (0, 20, 2)
    assert client.post("/dynamic-search-rules").json()["total"] == 2  # no body at all
    page = client.post("/dynamic-search-rules", json={"offset": 1, "limit": 1}).json()
    assert [r["uid"] for r in page["results"]] == ["summer"] and page["total"] == 2
    found = client.post("/dynamic-search-rules", json={"filter": {"query": "INVOICE"}}).json()
    assert [r["uid"] for r in found["results"]] == ["invoice-help"]
    active = client.post("/dynamic-search-rules", json={"filter": {"active": True}}).json()
    assert [r["uid"] for r in active["results"]] == ["summer"]
    gone = run_task(client, "DELETE", "/dynamic-search-rules/invoice-help")
    assert gone["type"] == "dsrUpdate" and gone["status"] == "succeeded"
    missing = client.get("/dynamic-search-rules/invoice-help")
    assert missing.status_code == 404 and missing.json()["code"] == "dynamic_search_rule_not_found"
    # Deleting a rule that does not exist succeeds (Meilisearch answers no 404 since v1.50).
    assert run_task(client, "DELETE", "/dynamic-search-rules/never")["status"] == "succeeded"
    cleared = run_task(client, "DELETE", "/dynamic-search-rules")
    assert cleared["type"] == "dsrClear" and cleared["details"]["deletedRules"] == 1
    assert client.post("/dynamic-search-rules", json={}).json()["total"] == 0


@pytest.mark.parametrize(("body", "code"), [
    ([], "bad_request"),
    ({"priority": 1}, "bad_request"),
    ({"description": 3}, "invalid_dynamic_search_rule_description"),
    ({"precedence": -1}, "invalid_dynamic_search_rule_precedence"),
    ({"active": "yes"}, "invalid_dynamic_search_rule_active"),
    ({"conditions": [{"scope": "query"}]}, "invalid_dynamic_search_rule_conditions"),
    ({"conditions": {"query": {"isEmpty": True, "words": "x"}}},
     "invalid_dynamic_search_rule_conditions"),
    ({"conditions": {"time": {"start": "tomorrow"}}}, "invalid_dynamic_search_rule_conditions"),
    ({"conditions": {"time": {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}},
     "invalid_dynamic_search_rule_conditions"),
    ({"actions": [{"selector": {"id": "1"}, "action": {"type": "pin", "position": 1}}]},
     "invalid_dynamic_search_rule_actions"),
    ({"actions": {"pin": [{"id": 4, "position": 0}]}}, "invalid_dynamic_search_rule_actions"),
    ({"actions": {"pin": [{"id": "4"}]}}, "invalid_dynamic_search_rule_actions"),
    ({"actions": {"pin": [{"id": "4", "position": 0, "indexUid": "no way"}]}},
     "invalid_dynamic_search_rule_actions"),
    ({"actions": {"scale": [{"weight": -1, "ids": ["1"]}]}}, "invalid_dynamic_search_rule_actions"),
    ({"actions": {"scale": [{"weight": 2, "filter": "kind = "}]}},
     "invalid_dynamic_search_rule_actions"),
])
def test_a_bad_rule_is_refused_before_any_task(books: TestClient, body: Any, code: str) -> None:
    before = books.get("/tasks").json()["total"]
    r = books.patch("/dynamic-search-rules/r", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert books.get("/tasks").json()["total"] == before


def test_a_bad_uid_is_refused(books: TestClient) -> None:
    r = books.patch("/dynamic-search-rules/" + "é", json={})
    assert r.status_code == 400 and r.json()["code"] == "invalid_dynamic_search_rule_uid"


def test_pin_moves_inserts_and_counts_the_pinned_documents(books: TestClient) -> None:
    client = books
    organic = _ids(client, {"q": "invoice"})
    assert set(organic) == {1, 2, 3} and 4 not in organic
    _rule(client, "invoice-help", {
        "conditions": {"query": {"words": "Invoice"}},
        "actions": {"pin": [{"id": "4", "position": 0}, {"id": str(organic[2]), "position": 1}]},
    })
    result = client.post("/indexes/books/search",
                         json={"q": "how to send an invoice?", "facets": ["kind"]}).json()
    assert [h["id"] for h in result["hits"]] == [4, organic[2], organic[0], organic[1]]
    # Pinned documents count as hits of the search (totals and facets).
    assert result["estimatedTotalHits"] == 4
    assert result["facetDistribution"]["kind"] == {"guide": 3, "faq": 1}
    # Pagination pages the curated list; a query without the word is untouched.
    assert _ids(client, {"q": "invoice", "offset": 1, "limit": 1}) == [organic[2]]
    assert _ids(client, {"q": "support"}) == [5]


def test_pins_respect_the_request_filter_and_the_tenant_token(books: TestClient) -> None:
    client = books
    _rule(client, "pin-faq", {"actions": {"pin": [{"id": "5", "position": 0}]}})
    assert _ids(client, {"q": "invoice"})[0] == 5
    assert 5 not in _ids(client, {"q": "invoice", "filter": "kind = guide"})
    keys = client.get("/keys").json()["results"]
    search_key = next(k for k in keys if k["actions"] == ["search"])
    token = jwt.encode({"apiKeyUid": search_key["uid"],
                        "searchRules": {"books": {"filter": "tenant = a"}},
                        "exp": int(time.time()) + 600}, search_key["key"], algorithm="HS256")
    tenant = _ids(client, {"q": "invoice"}, headers={"Authorization": f"Bearer {token}"})
    assert 5 not in tenant and set(tenant) == {1, 2}


def test_boost_deboost_and_hide(books: TestClient) -> None:
    client = books
    organic = _ids(client, {"q": "invoice"})
    first, _, last = organic
    _rule(client, "scale", {"actions": {"scale": [
        {"weight": 100.0, "ids": [str(last)]},
        {"weight": 0.01, "ids": [str(first)]},
    ]}})
    assert _ids(client, {"q": "invoice"}) == [last, organic[1], first]
    _rule(client, "hide", {"precedence": 0, "actions": {"scale": [
        {"weight": 0, "filter": "kind = faq", "indexUid": "books"}]}})
    hidden = _ids(client, {"q": "invoice"})
    assert 3 not in hidden and 5 not in _ids(client, {"q": "support"})
    # A pin wins over a hide.
    _rule(client, "pin-hidden", {"actions": {"pin": [{"id": "3", "position": 0}]}})
    assert _ids(client, {"q": "invoice"})[0] == 3


def test_boosts_leave_a_sorted_order_but_hides_still_apply(books: TestClient) -> None:
    client = books
    run_task(client, "PATCH", "/indexes/books/settings", json={"sortableAttributes": ["id"]})
    _rule(client, "scale", {"actions": {"scale": [{"weight": 50.0, "ids": ["5"]},
                                                  {"weight": 0, "ids": ["2"]}]}})
    assert _ids(client, {"q": "", "sort": ["id:asc"]}) == [1, 3, 4, 5]
    assert _ids(client, {"q": "invoice", "sort": ["id:desc"]}) == [3, 1]
    assert _ids(client, {"q": ""})[0] == 5  # no sort: the placeholder order is boosted


def test_a_rule_for_another_index_does_nothing_here(books: TestClient) -> None:
    _rule(books, "elsewhere", {"actions": {"pin": [{"id": "5", "position": 0,
                                                    "indexUid": "movies"}]}})
    assert 5 not in _ids(books, {"q": "invoice"})


def test_precedence_orders_pins_on_one_position(books: TestClient) -> None:
    client = books
    _rule(client, "b-second", {"precedence": 2, "actions": {"pin": [{"id": "5", "position": 0}]}})
    _rule(client, "a-first", {"precedence": 1, "actions": {"pin": [{"id": "4", "position": 0}]}})
    assert _ids(client, {"q": "invoice"})[:2] == [4, 5]
    # No precedence ranks after every rule that has one.
    _rule(client, "a-first", {"precedence": None})
    assert _ids(client, {"q": "invoice"})[:2] == [5, 4]


def test_empty_query_and_time_window_conditions(books: TestClient) -> None:
    client = books
    _rule(client, "welcome", {"conditions": {"query": {"isEmpty": True}},
                              "actions": {"pin": [{"id": "5", "position": 0}]}})
    assert _ids(client, {"q": ""})[0] == 5
    assert _ids(client, {})[0] == 5
    assert 5 not in _ids(client, {"q": "invoice"})
    _rule(client, "past", {"conditions": {"time": {"end": "2000-01-01T00:00:00Z"}},
                           "actions": {"pin": [{"id": "4", "position": 0}]}})
    assert 4 not in _ids(client, {"q": "invoice"})
    _rule(client, "now", {"conditions": {"time": {"start": "2000-01-01T00:00:00Z",
                                                  "end": "2999-01-01T00:00:00Z"}},
                          "actions": {"pin": [{"id": "4", "position": 0}]}})
    assert _ids(client, {"q": "invoice"})[0] == 4


def test_rules_stop_with_the_switch_and_inactive_rules_never_apply(books: TestClient) -> None:
    client = books
    _rule(client, "pin", {"actions": {"pin": [{"id": "5", "position": 0}]}})
    assert _ids(client, {"q": "invoice"})[0] == 5
    _rule(client, "pin", {"active": False})
    assert 5 not in _ids(client, {"q": "invoice"})
    _rule(client, "pin", {"active": True})
    client.patch("/experimental-features", json={"dynamicSearchRules": False})
    assert 5 not in _ids(client, {"q": "invoice"})


def test_key_actions(books: TestClient) -> None:
    client = books

    def key(actions: list[str]) -> dict[str, str]:
        made = client.post("/keys", json={"actions": actions, "indexes": ["*"],
                                          "expiresAt": None}).json()
        return {"Authorization": f"Bearer {made['key']}"}

    reader, writer = key(["dynamicSearchRules.get"]), key(["dynamicSearchRules.*"])
    assert client.post("/dynamic-search-rules", json={}, headers=reader).status_code == 200
    denied = client.patch("/dynamic-search-rules/x", json={}, headers=reader)
    assert denied.status_code == 403 and denied.json()["code"] == "invalid_api_key"
    assert client.patch("/dynamic-search-rules/x", json={}, headers=writer).status_code == 202
    assert client.delete("/dynamic-search-rules", headers=reader).status_code == 403
    search_only = key(["search"])
    assert client.post("/dynamic-search-rules", json={}, headers=search_only).status_code == 403


def test_rules_apply_to_hybrid_and_semantic_searches(client: TestClient) -> None:
    _enable(client)
    docs = [{"id": i, "title": t, "kind": k, "_vectors": {"manual": v}} for i, t, k, v in (
        (1, "red apple pie", "food", [1.0, 0.0, 0.0]), (2, "green apple", "food", [0.9, 0.1, 0.0]),
        (3, "blue car", "vehicle", [0.0, 1.0, 0.0]))]
    run_task(client, "PATCH", "/indexes/things/settings", json={
        "embedders": {"manual": {"source": "userProvided", "dimensions": 3}},
        "filterableAttributes": ["kind"]})
    assert run_task(client, "POST", "/indexes/things/documents", json=docs)["status"] == "succeeded"
    _rule(client, "cars-first", {"conditions": {"query": {"isEmpty": True}},
                                 "actions": {"pin": [{"id": "3", "position": 0}]}})
    semantic = {"vector": [1.0, 0.0, 0.0], "hybrid": {"embedder": "manual", "semanticRatio": 1.0}}
    hits = client.post("/indexes/things/search", json=semantic).json()["hits"]
    assert [h["id"] for h in hits][:3] == [3, 1, 2]
    filtered = client.post("/indexes/things/search",
                           json={**semantic, "filter": "kind = food"}).json()["hits"]
    assert 3 not in [h["id"] for h in filtered]
    _rule(client, "hide-pie", {"actions": {"scale": [{"weight": 0, "ids": ["1"]}]}})
    hybrid = {"q": "apple", "vector": [1.0, 0.0, 0.0],
              "hybrid": {"embedder": "manual", "semanticRatio": 0.5}}
    assert 1 not in [h["id"] for h in client.post("/indexes/things/search",
                                                  json=hybrid).json()["hits"]]
