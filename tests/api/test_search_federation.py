"""Federated multi-search, performance details, `_vectors` in hits, facet-search flags."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import run_task

MOVIES = [
    {"id": 1, "title": "The Matrix", "genre": "scifi"},
    {"id": 2, "title": "Matrix Reloaded", "genre": "scifi"},
    {"id": 3, "title": "Pride and Prejudice", "genre": "drama"},
]
BOOKS = [
    {"id": 10, "title": "Pride and Prejudice", "genre": "novel"},
    {"id": 11, "title": "Emma", "genre": "novel"},
]


def _indexes(client: TestClient) -> None:
    for uid, docs in (("movies", MOVIES), ("books", BOOKS)):
        run_task(client, "POST", f"/indexes/{uid}/documents", json=docs)
        task = run_task(
            client, "PATCH", f"/indexes/{uid}/settings", json={"filterableAttributes": ["genre"]}
        )
        assert task["status"] == "succeeded", task


def _federated(client: TestClient, queries: list, federation: dict) -> dict:
    response = client.post("/multi-search", json={"queries": queries, "federation": federation})
    assert response.status_code == 200, response.text
    return response.json()


def test_federation_merges_hits_by_weighted_score(client: TestClient) -> None:
    _indexes(client)
    # Placeholder searches score every hit 1.0: ties keep the order of the queries.
    queries = [{"indexUid": "movies", "q": ""}, {"indexUid": "books", "q": ""}]
    result = _federated(client, queries, {})
    assert [h["_federation"]["indexUid"] for h in result["hits"]] == ["movies"] * 3 + ["books"] * 2
    assert result["estimatedTotalHits"] == 5 and result["limit"] == 20
    assert "_rankingScore" not in result["hits"][0]
    # A heavier weight puts the second query's hits first; offset/limit cut the merged list.
    queries[1]["federationOptions"] = {"weight": 2.0}
    result = _federated(client, queries, {"offset": 1, "limit": 2})
    assert [h["id"] for h in result["hits"]] == [11, 1]
    first = result["hits"][0]["_federation"]
    assert first == {"indexUid": "books", "queriesPosition": 1, "weightedRankingScore": 2.0}


def test_federation_facets_by_index_and_merged(client: TestClient) -> None:
    _indexes(client)
    queries = [{"indexUid": "movies", "q": ""}, {"indexUid": "books", "q": ""}]
    by_index = {"movies": ["genre"], "books": ["genre"]}
    result = _federated(client, queries, {"facetsByIndex": by_index})
    assert result["facetsByIndex"]["movies"]["distribution"] == {"genre": {"drama": 1, "scifi": 2}}
    merged = _federated(
        client, queries, {"facetsByIndex": by_index, "mergeFacets": {"maxValuesPerFacet": 2}}
    )
    assert "facetsByIndex" not in merged
    assert merged["facetDistribution"] == {"genre": {"drama": 1, "novel": 2}}


def test_federation_rejects_per_query_pagination_and_bad_weights(client: TestClient) -> None:
    _indexes(client)
    bad = client.post(
        "/multi-search",
        json={"federation": {}, "queries": [{"indexUid": "movies", "limit": 5}]},
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_multi_search_query_pagination"
    bad = client.post(
        "/multi-search",
        json={
            "federation": {},
            "queries": [{"indexUid": "movies", "federationOptions": {"weight": -1}}],
        },
    )
    assert bad.json()["code"] == "invalid_multi_search_weight"
    bad = client.post(
        "/multi-search",
        json={
            "federation": {"facetsByIndex": {"books": ["genre"]}},
            "queries": [{"indexUid": "movies"}],
        },
    )
    assert bad.json()["code"] == "invalid_multi_search_facets_by_index"


def test_show_performance_details_only_when_asked(client: TestClient) -> None:
    _indexes(client)
    asked = client.post("/indexes/movies/search", json={"showPerformanceDetails": True}).json()
    assert asked["performanceDetails"]["search"].endswith("ms")
    assert "performanceDetails" not in client.post("/indexes/movies/search", json={}).json()


def test_vectors_are_returned_only_when_retrieved(client: TestClient) -> None:
    docs = [{"id": 1, "title": "a", "_vectors": {"manual": [0.1, 0.2]}}, {"id": 2, "title": "b"}]
    run_task(client, "POST", "/indexes/v/documents", json=docs)
    plain = client.post("/indexes/v/search", json={"retrieveVectors": False}).json()
    assert all("_vectors" not in h for h in plain["hits"])
    full = client.post("/indexes/v/search", json={"retrieveVectors": True}).json()
    assert [h["_vectors"] for h in full["hits"]] == [{"manual": [0.1, 0.2]}, {}]


def test_facet_search_accepts_exhaustive_facet_count(client: TestClient) -> None:
    _indexes(client)
    body = {"facetName": "genre", "facetQuery": "sci", "exhaustiveFacetCount": True}
    result = client.post("/indexes/movies/facet-search", json=body).json()
    assert result["facetHits"] == [{"value": "scifi", "count": 2}]
    bad = client.post("/indexes/movies/facet-search", json={**body, "exhaustiveFacetCount": 1})
    assert bad.json()["code"] == "invalid_facet_search_exhaustive_facet_count"
