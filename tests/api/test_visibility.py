"""A batch becomes searchable all at once, when its task reports `succeeded`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_client, run_task

DOCS = 6_000
CHUNK = 200  # documents per write inside the task: 30 chunks, each once published


def _docs(marker: str) -> list[dict[str, Any]]:
    return [{"id": i, "title": f"{marker} {i}", "city": "paris"} for i in range(DOCS)]


def _create(client: TestClient, settings: dict[str, Any]) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "places", "primaryKey": "id"})
    # Totals counted exactly past Meilisearch's default 1,000.
    settings = {"pagination": {"maxTotalHits": 2 * DOCS}, **settings}
    run_task(client, "PATCH", "/indexes/places/settings", json=settings)


def _watch(client: TestClient, task_uid: int, search: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(status before, hits, status after) for each search made until the task ends."""
    seen = []
    while True:
        before = client.get(f"/tasks/{task_uid}").json()["status"]
        hits = client.post("/indexes/places/search", json=search).json()["estimatedTotalHits"]
        after = client.get(f"/tasks/{task_uid}").json()["status"]
        seen.append((before, hits, after))
        if before in ("succeeded", "failed"):
            return seen


def test_documents_of_a_processing_batch_are_not_searchable(tmp_path: Path) -> None:
    with make_client(tmp_path, batch_size=CHUNK) as client:
        _create(client, {})
        task = client.post("/indexes/places/documents", json=_docs("lutetia")).json()["taskUid"]
        seen = _watch(client, task, {"q": "lutetia", "limit": 0})
    during = [hits for _, hits, after in seen if after in ("enqueued", "processing")]
    assert during, "the import ended before any search could run: nothing was checked"
    assert set(during) == {0}, f"part of the batch was searchable early: {sorted(set(during))}"
    done = [hits for before, hits, _ in seen if before == "succeeded"]
    assert done == [DOCS]


def test_replaced_documents_stay_filterable_while_their_batch_runs(tmp_path: Path) -> None:
    with make_client(tmp_path, batch_size=CHUNK) as client:
        _create(client, {"filterableAttributes": ["city"]})
        run_task(client, "POST", "/indexes/places/documents", json=_docs("lutetia"))
        task = client.post("/indexes/places/documents", json=_docs("paname")).json()["taskUid"]
        seen = _watch(client, task, {"q": "", "filter": "city = paris", "limit": 0})
        renamed = client.post("/indexes/places/search", json={"q": "paname", "limit": 0})
    # The old versions answer the filter until the new ones replace them, all at once.
    assert {hits for _, hits, _ in seen} == {DOCS}
    assert len(seen) > 1
    assert renamed.json()["estimatedTotalHits"] == DOCS
