"""Embedding survives a crash: chunks finished before it are committed to the cache,
and the rerun of the interrupted task only embeds the rest (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson
import pytest

from sift.semantic import service as semantic
from sift.semantic.embedders import Embedder
from sift.storage import Database
from sift.storage import embeddings as cache_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from tests.contract.conftest import worker_node

EMBEDDER = {
    "source": "rest",
    "url": "http://127.0.0.1:1/embed",
    "dimensions": 3,
    "documentTemplate": "{{doc.title}}",
    "request": {"input": "{{text}}"},
    "response": {"embedding": "{{embedding}}"},
}
DOCS = 300  # 5 chunks of EMBED_BATCH = 64 texts


class Killed(BaseException):
    """Stands for the process dying (kill -9): nothing catches it."""


class Model:
    def __init__(self, die_on_call: int | None = None) -> None:
        self.die_on_call = die_on_call
        self.calls = 0
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.die_on_call:
            raise Killed
        self.seen += texts
        return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def _status(db: Database, uid: int) -> Any:
    with db.read() as conn:
        record = task_rows.get(conn, uid)
    assert record is not None
    return record


def test_a_crash_while_embedding_keeps_finished_chunks(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Model(die_on_call=3)
    monkeypatch.setattr(Embedder, "backend", lambda self, cache_dir=None: model)
    first = worker_node(db)
    task = first.enqueue(
        "settingsUpdate", "things", {}, {"settings": {"embedders": {"default": EMBEDDER}}}
    )
    assert first.worker.run_once()
    assert _status(db, task.uid).status == "succeeded"

    body = b"\n".join(orjson.dumps({"id": i, "title": f"title {i}"}) for i in range(DOCS))
    task = first.enqueue_documents("things", io.BytesIO(body), "ndjson", {"method": "replace"})
    with pytest.raises(Killed):
        first.worker.run_once()
    # The process "died" on its third chunk: two chunks are committed, no document is.
    assert _status(db, task.uid).status == "processing"
    with db.read() as conn:
        record = index_rows.get(conn, "things")
        assert record is not None
        assert cache_rows.count(conn, record.id, "default") == 128
    before = list(model.seen)
    first.worker.lease.release()  # the kernel or PostgreSQL does this for a dead process

    # Restart: a new node reruns the interrupted task and embeds only what is missing.
    model = Model()
    second = worker_node(Database(db.url))
    try:
        assert second.worker.run_once()
        done = _status(second.db, task.uid)
        assert done.status == "succeeded", done.error
        assert done.details == {"receivedDocuments": DOCS, "indexedDocuments": DOCS}
        assert len(model.seen) == DOCS - 128
        assert not set(model.seen) & set(before)
        index = second.catalog.get("things")
        assert len(semantic.of(index).vectors["default"]) == DOCS
        with second.db.read() as conn:
            assert cache_rows.count(conn, record.id, "default") == DOCS
    finally:
        second.db.dispose()


def test_cache_writes_ignore_rows_already_there(db: Database) -> None:
    with db.write() as conn:
        record = index_rows.create(conn, "things", "id", {})
    vectors = {"h1": np.asarray([1.0, 0.0], dtype=np.float32)}
    for _ in range(2):
        with db.write() as conn:
            cache_rows.put_many(db, conn, record.id, "default", vectors)
    with db.read() as conn:
        found = cache_rows.get_many(conn, record.id, "default", ["h1"])
        assert cache_rows.count(conn, record.id) == 1
    assert found["h1"].tolist() == [1.0, 0.0]


def test_stopping_the_worker_while_embedding_leaves_the_rest_to_the_rerun(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Model()
    monkeypatch.setattr(Embedder, "backend", lambda self, cache_dir=None: model)
    node = worker_node(db)
    node.enqueue("settingsUpdate", "things", {}, {"settings": {"embedders": {"default": EMBEDDER}}})
    assert node.worker.run_once()
    body = b"\n".join(orjson.dumps({"id": i, "title": f"title {i}"}) for i in range(DOCS))
    task = node.enqueue_documents("things", io.BytesIO(body), "ndjson", {"method": "replace"})

    real = model.embed_documents

    def embed_then_stop(texts: list[str]) -> np.ndarray:
        if model.calls == 1:  # during the second chunk, as `sift` receives SIGTERM
            processing = node.worker.processing
            assert processing is not None
            processing.stopping = True
        return real(texts)

    monkeypatch.setattr(model, "embed_documents", embed_then_stop)
    assert node.worker.run_once()  # returns without applying the batch
    assert _status(db, task.uid).status == "processing"
    with db.read() as conn:
        record = index_rows.get(conn, "things")
        assert record is not None
        assert cache_rows.count(conn, record.id, "default") == 128
    # The next leader (here: the same node taking its lease again) finishes the task.
    node.worker.lease.release()
    assert node.worker._become_leader()
    assert node.worker.run_once()
    assert _status(db, task.uid).status == "succeeded"
    assert len(model.seen) == DOCS
