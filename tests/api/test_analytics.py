from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import run_task


def _search(client: TestClient, *queries: str) -> None:
    run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    for q in queries:
        assert client.post("/indexes/books/search", json={"q": q}).status_code == 200


def test_searches_are_recorded_and_reported(client: TestClient) -> None:
    _search(client, "dune", "Dune ", "zzz")
    top = client.get("/analytics/top-queries").json()["results"]
    assert top[0] == {"query": "dune", "count": 2, "averageHits": 1.0}
    zero = client.get("/analytics/zero-result-queries", params={"index": "books"}).json()
    assert zero["results"] == [{"query": "zzz", "count": 1}]
    over_time = client.get("/analytics/searches").json()
    assert over_time["total"] == 3 and over_time["zeroResults"] == 1
    assert over_time["interval"] == "day" and len(over_time["buckets"]) >= 7
    latency = client.get("/analytics/latency").json()
    assert latency["count"] == 3 and latency["p50"] <= latency["p99"] <= latency["max"]


def test_range_and_limits_are_validated(client: TestClient) -> None:
    bad = client.get("/analytics/searches", params={"from": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_analytics_range"
    now = datetime.now(UTC)
    reversed_ = {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}
    assert client.get("/analytics/latency", params=reversed_).json()["code"] == (
        "invalid_analytics_range"
    )
    assert client.get("/analytics/top-queries", params={"limit": "0"}).status_code == 400


def test_only_keys_with_analytics_action(client: TestClient) -> None:
    _search(client, "dune")
    search_only = client.post(
        "/keys", json={"actions": ["search"], "indexes": ["*"], "expiresAt": None}
    ).json()["key"]
    reader = client.post(
        "/keys", json={"actions": ["analytics.get"], "indexes": ["other"], "expiresAt": None}
    ).json()["key"]
    denied = client.get("/analytics/searches", headers={"Authorization": f"Bearer {search_only}"})
    assert denied.status_code == 403
    scoped = client.get("/analytics/searches", headers={"Authorization": f"Bearer {reader}"})
    assert scoped.status_code == 200 and scoped.json()["total"] == 0


def test_old_rows_are_purged(client: TestClient) -> None:
    _search(client, "dune")
    analytics = client.app.state.services.analytics
    analytics.flush()
    assert analytics.purge(now=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=31)) == 1


def test_a_report_does_not_wait_for_a_busy_writer(client: TestClient) -> None:
    """A long batch holds the database's writer (SQLite has one): a report then answers
    from what is stored instead of waiting, and nothing buffered is lost."""
    _search(client, "dune")
    services = client.app.state.services
    services.analytics.flush()
    client.post("/indexes/books/search", json={"q": "emma"})
    with services.db.write():  # what a running batch holds
        import threading

        answers: list[int] = []
        asking = threading.Thread(
            target=lambda: answers.append(client.get("/analytics/searches").json()["total"])
        )
        asking.start()
        asking.join(timeout=10)
        assert answers == [1]  # answered while the writer was busy, without "emma" yet
    assert client.get("/analytics/searches").json()["total"] == 2  # kept, stored later
