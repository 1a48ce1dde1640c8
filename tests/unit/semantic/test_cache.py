"""The embedding cache: unchanged documents are never embedded twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sift.engine.index import SearchIndex
from sift.engine.settings import default_settings
from sift.semantic import service
from sift.semantic.embedders import Embedder
from sift.storage import embeddings as cache_rows
from sift.storage import indexes as index_rows
from sift.storage.database import Database


class CountingBackend:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.migrate()
    return database


def _index(backend: CountingBackend, monkeypatch: pytest.MonkeyPatch) -> SearchIndex:
    settings = default_settings()
    settings["embedders"] = {
        "rest": {
            "source": "rest",
            "url": "http://127.0.0.1:1/embed",
            "dimensions": 3,
            "documentTemplate": "{{doc.title}}",
            "request": {"input": "{{text}}"},
            "response": {"embedding": "{{embedding}}"},
        }
    }
    monkeypatch.setattr(Embedder, "backend", lambda self, cache_dir=None: backend)
    return SearchIndex(settings, "id")


def test_unchanged_documents_hit_the_cache(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = CountingBackend()
    index = _index(backend, monkeypatch)
    docs: dict[str, dict[str, Any]] = {
        "1": {"id": 1, "title": "one"},
        "2": {"id": 2, "title": "two"},
    }
    with db.write() as conn:
        record = index_rows.create(conn, "things", "id", index.settings)
        service.on_upsert(db, conn, record.id, index, docs)
        assert sorted(backend.seen) == ["one", "two"]
        # Re-indexing the same content, and a second index object (a restart), embed nothing.
        service.on_upsert(db, conn, record.id, index, {"1": {"id": 1, "title": "one"}})
        fresh = _index(backend, monkeypatch)
        service.on_upsert(db, conn, record.id, fresh, {"2": {"id": 2, "title": "two"}})
        assert sorted(backend.seen) == ["one", "two"]
        # Changed content is embedded again.
        service.on_upsert(db, conn, record.id, index, {"1": {"id": 1, "title": "uno"}})
        assert backend.seen[-1] == "uno"
        assert cache_rows.count(conn, record.id, "rest") == 3


def test_a_new_local_vectors_revision_gives_new_cache_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sift.semantic import embedders

    settings = {"embedders": {"default": {"source": "huggingFace"}}}
    local = embedders.parse(settings)["default"]
    before = local.content_hash("a text")
    monkeypatch.setattr(embedders, "LOCAL_VECTORS_REVISION", embedders.LOCAL_VECTORS_REVISION + 1)
    # Every cached local-model vector is then computed again.
    assert local.content_hash("a text") != before
