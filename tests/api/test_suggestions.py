"""Query suggestions: an index of the source index's popular queries that found results,
refreshed from the search log through the task queue, searchable as you type."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_client, run_task, wait_task

META = {"Meili-Include-Metadata": "true"}
RULE = "/indexes/books/query-suggestions"


def _searches(client: TestClient, counts: dict[str, int]) -> dict[str, str]:
    uids = {}
    for q, n in counts.items():
        for _ in range(n):
            answer = client.post("/indexes/books/search", json={"q": q}, headers=META).json()
            uids[q] = answer["metadata"]["queryUid"]
    return uids


def _refresh(client: TestClient) -> None:
    client.app.state.services.suggestions.refresh_all()
    last = client.get("/tasks", params={"limit": 1}).json()["results"][0]["uid"]
    assert wait_task(client, last)["status"] == "succeeded"


def _suggest(client: TestClient, q: str) -> list[dict[str, Any]]:
    return client.post("/indexes/books-suggest/search", json={"q": q}).json()["hits"]


def test_popular_queries_with_results_become_suggestions(client: TestClient) -> None:
    books = [{"id": 1, "title": "Dune"}, {"id": 2, "title": "Emma"}, {"id": 3, "title": "Rare"}]
    run_task(client, "POST", "/indexes/books/documents", json=books)
    assert client.get(RULE).json()["code"] == "query_suggestions_not_found"
    rule = client.patch(RULE, json={"destination": "books-suggest"})
    assert rule.status_code == 200
    assert rule.json() == {
        "source": "books",
        "destination": "books-suggest",
        "maxQueries": 1000,
        "minSearches": 2,
        "windowDays": 30,
    }
    uids = _searches(client, {"dune": 3, "emma": 2, "zzz": 3, "rare": 1})
    click = {"eventType": "click", "eventName": "c", "indexUid": "books", "userId": "u",
             "queryUid": uids["dune"], "objectId": "1", "position": 0}  # fmt: skip
    assert client.post("/events", json=click).status_code == 201
    _refresh(client)
    assert _suggest(client, "du") == [{"q": "dune", "searches": 3, "clicks": 1}]
    # Every query searched twice or more that found something; the most searched first.
    assert [h["q"] for h in _suggest(client, "")] == ["dune", "emma"]
    # Smaller and fresh: past `maxQueries`, a suggestion is deleted at the next refresh.
    assert client.patch(RULE, json={"maxQueries": 1}).json()["maxQueries"] == 1
    _refresh(client)
    assert [h["q"] for h in _suggest(client, "")] == ["dune"]
    assert client.delete(RULE).status_code == 204
    assert client.get(RULE).status_code == 404


def test_bad_rules_are_refused_and_change_nothing(client: TestClient) -> None:
    bad = [
        ({}, "invalid_query_suggestions"),  # no destination yet
        ({"destination": "books"}, "invalid_query_suggestions"),
        ({"destination": "bad uid"}, "invalid_query_suggestions"),
        ({"destination": "s", "maxQueries": 0}, "invalid_query_suggestions"),
        ({"destination": "s", "windowDays": "30"}, "invalid_query_suggestions"),
        ({"destination": "s", "other": 1}, "bad_request"),
    ]
    for body, code in bad:
        answer = client.patch(RULE, json=body)
        assert answer.status_code == 400 and answer.json()["code"] == code, body
    assert client.get(RULE).status_code == 404


def test_without_analytics_there_are_no_suggestions(tmp_path: Any) -> None:
    with make_client(tmp_path, no_analytics=True) as client:
        answer = client.patch(RULE, json={"destination": "s"})
        assert answer.status_code == 400 and answer.json()["code"] == "feature_not_enabled"
