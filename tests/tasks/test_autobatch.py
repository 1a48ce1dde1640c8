"""The autobatcher: document additions (replace, update) and deletions of one index run in
one batch, in task order, each task with its own status and details."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_task, wait_task


@pytest.fixture
def held(client: TestClient) -> Iterator[list[int]]:
    """The uids of the tasks a test holds back with pause(); the worker runs again after."""
    uids: list[int] = []
    yield uids
    client.app.state.services.worker.start()  # type: ignore[attr-defined]


def pause(client: TestClient) -> None:
    """Stop the worker: tasks enqueued from now on wait in the queue together."""
    client.app.state.services.worker.stop()  # type: ignore[attr-defined]


def enqueue(client: TestClient, uids: list[int], method: str, url: str, **kw: Any) -> None:
    response = client.request(method, url, **kw)
    assert response.status_code == 202, response.text
    uids.append(response.json()["taskUid"])


def finish(client: TestClient, uids: list[int]) -> list[dict[str, Any]]:
    client.app.state.services.worker.start()  # type: ignore[attr-defined]
    return [wait_task(client, uid) for uid in uids]


def docs(client: TestClient, index: str) -> dict[str, dict[str, Any]]:
    found = client.get(f"/indexes/{index}/documents", params={"limit": 100}).json()["results"]
    return {str(d["id"]): d for d in found}


def test_mixed_tasks_of_one_index_run_in_one_batch_in_order(client: TestClient,
                                                            held: list[int]) -> None:  # fmt: skip
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    url = "/indexes/books/documents"
    pause(client)
    enqueue(client, held, "POST", url, json=[{"id": 1, "t": "dune"}, {"id": 2, "t": "emma"},
                                             {"id": 3, "t": "ubik"}])  # fmt: skip
    enqueue(client, held, "POST", f"{url}/delete-batch", json=[2, 9])
    enqueue(client, held, "PUT", url, json=[{"id": 1, "year": 1965}])  # update: merges
    enqueue(client, held, "POST", url, json=[{"id": 2, "t": "emma again"}])  # back after delete
    enqueue(client, held, "DELETE", f"{url}/3")
    tasks = finish(client, held)

    assert len({t["batchUid"] for t in tasks}) == 1
    assert [t["status"] for t in tasks] == ["succeeded"] * 5
    assert [t["type"] for t in tasks] == ["documentAdditionOrUpdate", "documentDeletion",
                                          "documentAdditionOrUpdate", "documentAdditionOrUpdate",
                                          "documentDeletion"]  # fmt: skip
    assert tasks[0]["details"]["indexedDocuments"] == 3
    assert tasks[1]["details"] == {"providedIds": 2, "deletedDocuments": 1}
    assert tasks[2]["details"]["indexedDocuments"] == 1
    assert tasks[4]["details"]["deletedDocuments"] == 1
    assert docs(client, "books") == {"1": {"id": 1, "t": "dune", "year": 1965},
                                     "2": {"id": 2, "t": "emma again"}}  # fmt: skip
    hits = client.post("/indexes/books/search", json={"q": "emma"}).json()["hits"]
    assert [h["id"] for h in hits] == [2]  # searchable once the batch is done
    batch = client.get(f"/batches/{tasks[0]['batchUid']}").json()
    assert batch["stats"]["types"] == {"documentAdditionOrUpdate": 3, "documentDeletion": 2}
    assert batch["details"]["deletedDocuments"] == 2


def test_a_failing_task_fails_alone_and_changes_nothing(client: TestClient,
                                                        held: list[int]) -> None:  # fmt: skip
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    url = "/indexes/books/documents"
    pause(client)
    enqueue(client, held, "POST", url, json=[{"id": 1, "t": "dune"}, {"id": 2, "t": "emma"}])
    enqueue(client, held, "POST", url, json=[{"id": 3, "t": "ubik"}, {"id": "bad id", "t": "x"}])
    enqueue(client, held, "PUT", f"{url}?primaryKey=t", json=[{"id": 1, "t": "x"}])
    enqueue(client, held, "POST", f"{url}/delete-batch", json=[2])
    enqueue(client, held, "POST", url, json=[{"id": 4, "t": "solaris"}])
    tasks = finish(client, held)

    assert len({t["batchUid"] for t in tasks}) == 1
    assert [t["status"] for t in tasks] == ["succeeded", "failed", "failed", "succeeded",
                                            "succeeded"]  # fmt: skip
    assert tasks[1]["error"]["code"] == "invalid_document_id"
    assert tasks[1]["details"]["indexedDocuments"] == 0
    assert tasks[2]["error"]["code"] == "index_primary_key_already_exists"
    assert set(docs(client, "books")) == {"1", "4"}  # 3 came with the failing task


def test_a_deletion_before_the_index_exists_fails_and_the_addition_creates_it(
    client: TestClient, held: list[int]
) -> None:
    url = "/indexes/fresh/documents"
    pause(client)
    enqueue(client, held, "POST", f"{url}/delete-batch", json=[1])
    enqueue(client, held, "POST", url, json=[{"id": 1, "t": "dune"}])
    enqueue(client, held, "DELETE", url)  # every document
    enqueue(client, held, "POST", url, json=[{"id": 2, "t": "emma"}])
    tasks = finish(client, held)

    assert len({t["batchUid"] for t in tasks}) == 1
    assert [t["status"] for t in tasks] == ["failed", "succeeded", "succeeded", "succeeded"]
    assert tasks[0]["error"]["code"] == "index_not_found"
    assert tasks[2]["details"]["deletedDocuments"] == 1
    assert set(docs(client, "fresh")) == {"2"}


def test_a_delete_by_filter_sees_the_additions_before_it(client: TestClient,
                                                         held: list[int]) -> None:  # fmt: skip
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    run_task(client, "PATCH", "/indexes/books/settings", json={"filterableAttributes": ["t"]})
    url = "/indexes/books/documents"
    pause(client)
    enqueue(client, held, "POST", url, json=[{"id": 1, "t": "old"}, {"id": 2, "t": "keep"}])
    enqueue(client, held, "POST", url, json=[{"id": 3, "t": "old"}])
    enqueue(client, held, "POST", f"{url}/delete", json={"filter": "t = old"})
    enqueue(client, held, "POST", url, json=[{"id": 4, "t": "old"}])
    tasks = finish(client, held)

    assert len({t["batchUid"] for t in tasks}) == 1
    assert tasks[2]["details"]["deletedDocuments"] == 2
    assert set(docs(client, "books")) == {"2", "4"}
    hits = client.post("/indexes/books/search", json={"filter": "t = old"}).json()["hits"]
    assert [h["id"] for h in hits] == [4]


def test_other_indexes_and_other_kinds_end_a_batch(client: TestClient,
                                                   held: list[int]) -> None:  # fmt: skip
    pause(client)
    enqueue(client, held, "POST", "/indexes/a/documents", json=[{"id": 1}])
    enqueue(client, held, "POST", "/indexes/b/documents", json=[{"id": 1}])
    enqueue(client, held, "POST", "/indexes/a/documents/delete-batch", json=[1])
    enqueue(client, held, "PATCH", "/indexes/a/settings", json={"filterableAttributes": ["x"]})
    enqueue(client, held, "POST", "/indexes/a/documents", json=[{"id": 2}])
    tasks = finish(client, held)

    batches = [t["batchUid"] for t in tasks]
    assert len(set(batches)) == 5 and batches == sorted(batches)  # in uid order
    assert [t["status"] for t in tasks] == ["succeeded"] * 5
    assert set(docs(client, "a")) == {"2"}
