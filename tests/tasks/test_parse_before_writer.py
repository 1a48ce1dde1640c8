"""A documents payload is parsed into its stored chunks before the process's one database
writer is taken (services.enqueue_documents): the task worker holds the writer for a
whole batch, and a POST that parsed while holding it could only start once the batch had
committed."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from sift import services as services_module
from tests.conftest import run_task, wait_task


class WatchedBody(io.BytesIO):
    """A request body that records, at each read, whether the reading thread held the
    database's writer (an RLock) then."""

    def __init__(self, body: bytes, writer: Any) -> None:
        super().__init__(body)
        self.writer = writer
        self.writer_held: list[bool] = []

    def read(self, size: int | None = -1) -> bytes:
        self.writer_held.append(self.writer._is_owned())  # by this, the enqueuing thread
        return super().read(size)


def _body(first: int, count: int) -> bytes:
    return b"\n".join(orjson.dumps({"id": i, "title": f"book {i} " + "x" * 200})
                      for i in range(first, first + count))  # fmt: skip


def test_a_payload_is_read_before_the_writer_is_taken(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    body = WatchedBody(_body(0, 300), services.db._write_lock)
    task = services.enqueue_documents("books", body, "ndjson", {"method": "replace"})
    assert body.writer_held and not any(body.writer_held)
    assert wait_task(client, task.uid)["status"] == "succeeded"
    assert client.get("/indexes/books/stats").json()["numberOfDocuments"] == 300


def test_past_the_limit_the_rest_is_read_in_the_transaction_in_order(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_module, "PARSE_AHEAD_BYTES", 1)  # the first chunk only
    monkeypatch.setattr("sift.tasks.payload.CHUNK_BYTES", 4096)  # ~18 documents a chunk
    services = client.app.state.services  # type: ignore[attr-defined]
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    body = WatchedBody(_body(0, 300), services.db._write_lock)
    task = services.enqueue_documents("books", body, "ndjson", {"method": "replace"})
    assert body.writer_held[0] is False and any(body.writer_held)
    done = wait_task(client, task.uid)
    assert done["status"] == "succeeded", done
    assert done["details"] == {"receivedDocuments": 300, "indexedDocuments": 300}
    found = client.get("/indexes/books/documents", params={"limit": 1000}).json()["results"]
    assert sorted(d["id"] for d in found) == list(range(300))


def test_a_malformed_payload_enqueues_nothing(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "books", "primaryKey": "id"})
    before = client.get("/tasks").json()["total"]
    response = client.post("/indexes/books/documents", content=_body(0, 5) + b"\n{oops",
                           headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert client.get("/tasks").json()["total"] == before
