"""/experimental-features tells what Sift has; it switches nothing it cannot (the
`network` switch: tests/api/test_network.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import run_task


def test_features_report_what_sift_has(client: TestClient) -> None:
    features = client.get("/experimental-features").json()
    assert features["metrics"] is True and features["containsFilter"] is True
    assert features["network"] is False and features["editDocumentsByFunction"] is False
    assert next(iter(features)) == "metrics"  # Meilisearch's order


def test_patch_accepts_the_state_a_feature_has_and_refuses_others(client: TestClient) -> None:
    same = client.patch("/experimental-features", json={"metrics": True, "network": False})
    assert same.status_code == 200 and same.json()["metrics"] is True
    on = client.patch("/experimental-features", json={"chatCompletions": True})
    assert on.status_code == 400 and on.json()["code"] == "feature_not_enabled"
    off = client.patch("/experimental-features", json={"containsFilter": False})
    assert off.status_code == 400 and off.json()["code"] == "bad_request"
    unknown = client.patch("/experimental-features", json={"warpDrive": True})
    assert unknown.status_code == 400 and unknown.json()["code"] == "bad_request"


def test_the_always_on_features_work(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents",
             json=[{"id": 1, "title": "Moby Dick"}, {"id": 2, "title": "Dune"}])
    run_task(client, "PATCH", "/indexes/books/settings", json={"filterableAttributes": ["title"]})
    hits = client.post("/indexes/books/search", json={"filter": "title CONTAINS ick"}).json()
    assert [h["id"] for h in hits["hits"]] == [1]
    assert client.get("/metrics").status_code == 200
