from fastapi.testclient import TestClient

from tests.conftest import run_task


def test_health_version_stats(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "available"}
    assert "pkgVersion" in client.get("/version").json()
    run_task(
        client,
        "POST",
        "/indexes/movies/documents",
        json=[{"id": 1, "title": "a", "year": 2000}, {"id": 2, "title": "b"}],
    )
    stats = client.get("/stats").json()
    assert stats["indexes"]["movies"]["numberOfDocuments"] == 2
    assert stats["databaseSize"] > 0
    one = client.get("/indexes/movies/stats").json()
    assert one["numberOfDocuments"] == 2
    assert one["fieldDistribution"] == {"id": 2, "title": 2, "year": 1}
    assert client.get("/indexes/none/stats").status_code == 404


def test_openapi_document_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/indexes", "/indexes/{index_uid}/documents", "/tasks", "/keys", "/health"):
        assert path in spec["paths"]


def test_security_headers(client: TestClient) -> None:
    r = client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_prometheus_metrics(client: TestClient) -> None:
    client.get("/indexes/missing")
    text = client.get("/metrics").text
    assert (
        'sift_http_requests_total{method="GET",route="/indexes/{index_uid}",status="404"}' in text
    )
    assert 'sift_tasks{status="enqueued"}' in text
