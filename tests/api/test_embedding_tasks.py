"""Embedding inside tasks, through the HTTP API: per-embedder settings patches, batch
progress while embedding, and re-embedding only the texts a settings change alters.

The `rest` embedder's backend is replaced by an in-process fake that counts texts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sift.errors import SiftError
from sift.semantic.embedders import Embedder
from tests.conftest import run_task, wait_task

REST = {
    "source": "rest",
    "url": "http://127.0.0.1:1/embed",
    "dimensions": 3,
    "request": {"input": "{{text}}"},
    "response": {"embedding": "{{embedding}}"},
}


class FakeModel:
    """Vectors [len(text), 1, 0]; records every text; can hold or fail calls."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.calls = 0
        self.hold: threading.Event | None = None
        self.entered = threading.Event()
        self.fail = False

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.entered.set()
        if self.hold is not None:
            assert self.hold.wait(20)
        if self.fail:
            raise SiftError("the embedding service is down", "vector_embedding_error")
        self.seen += texts
        return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModel]:
    fake = FakeModel()
    monkeypatch.setattr(Embedder, "backend", lambda self, cache_dir=None: fake)
    yield fake
    if fake.hold is not None:
        fake.hold.set()


def _settings(client: TestClient, patch: dict[str, Any]) -> dict[str, Any]:
    task = run_task(client, "PATCH", "/indexes/things/settings", json=patch)
    assert task["status"] == "succeeded", task
    return client.get("/indexes/things/settings/embedders").json()


def test_patching_one_embedder_field_keeps_the_others(
    open_client: TestClient, model: FakeModel
) -> None:
    first = {**REST, "documentTemplate": "{{doc.title}}", "documentTemplateMaxBytes": 100}
    assert _settings(open_client, {"embedders": {"default": first}}) == {"default": first}
    shown = _settings(
        open_client, {"embedders": {"default": {"documentTemplate": "{{doc.title}}!"}}}
    )
    assert shown == {"default": {**first, "documentTemplate": "{{doc.title}}!"}}
    # A field set to null goes back to its default; other embedders are left alone.
    shown = _settings(
        open_client,
        {
            "embedders": {
                "default": {"documentTemplateMaxBytes": None},
                "manual": {"source": "userProvided", "dimensions": 2},
            }
        },
    )
    assert "documentTemplateMaxBytes" not in shown["default"]
    assert shown["default"]["url"] == REST["url"]
    assert shown["manual"] == {"source": "userProvided", "dimensions": 2}
    # A new source replaces the configuration (a rest `url` would be invalid here).
    shown = _settings(
        open_client, {"embedders": {"default": {"source": "userProvided", "dimensions": 3}}}
    )
    assert shown["default"] == {"source": "userProvided", "dimensions": 3}
    # An embedder set to null is removed.
    assert _settings(open_client, {"embedders": {"default": None}}) == {
        "manual": {"source": "userProvided", "dimensions": 2}
    }


def test_a_partial_patch_of_an_unknown_embedder_fails(
    open_client: TestClient, model: FakeModel
) -> None:
    task = run_task(
        open_client,
        "PATCH",
        "/indexes/things/settings",
        json={"embedders": {"ghost": {"documentTemplate": "{{doc.title}}"}}},
    )
    assert task["status"] == "failed"
    assert task["error"]["code"] == "invalid_settings_embedders"


DOCS = [
    {"id": 1, "title": "alpha", "note": "first"},
    {"id": 2, "title": "beta"},
    {"id": 3, "title": "gamma", "note": "third"},
]


def _text_length(client: TestClient, doc_id: int) -> int:
    """The length of the text document `doc_id`'s vector [len, 1, 0] was computed from
    (vectors are stored normalised)."""
    hits = client.post(
        "/indexes/things/search", json={"filter": f"id = {doc_id}", "retrieveVectors": True}
    ).json()["hits"]
    vector = hits[0]["_vectors"]["default"]["embeddings"][0]
    return round(vector[0] / vector[1])


def test_only_texts_a_settings_change_alters_are_embedded_again(
    open_client: TestClient, model: FakeModel
) -> None:
    # The default document template lists the searchable fields.
    _settings(open_client, {"embedders": {"default": REST}, "filterableAttributes": ["id"]})
    task = run_task(open_client, "POST", "/indexes/things/documents", json=DOCS)
    assert task["status"] == "succeeded", task
    assert sorted(model.seen) == sorted(
        [
            "id: 1\ntitle: alpha\nnote: first\n",
            "id: 2\ntitle: beta\n",
            "id: 3\ntitle: gamma\nnote: third\n",
        ]
    )
    model.seen.clear()

    # `note` stops being searchable: documents 1 and 3 render differently, 2 does not.
    _settings(open_client, {"searchableAttributes": ["id", "title"]})
    assert sorted(model.seen) == ["id: 1\ntitle: alpha\n", "id: 3\ntitle: gamma\n"]
    assert _text_length(open_client, 1) == len("id: 1\ntitle: alpha\n")
    model.seen.clear()

    # Unrelated settings, re-indexing the same documents, and going back to texts seen
    # before embed nothing.
    _settings(open_client, {"sortableAttributes": ["id"], "rankingRules": ["words", "sort"]})
    assert run_task(open_client, "POST", "/indexes/things/documents", json=DOCS)["status"] == (
        "succeeded"
    )
    _settings(open_client, {"searchableAttributes": None})
    assert model.seen == []
    assert _text_length(open_client, 1) == len("id: 1\ntitle: alpha\nnote: first\n")

    # A changed document is embedded again, alone.
    changed = {"id": 2, "title": "beta", "note": "new"}
    assert run_task(open_client, "POST", "/indexes/things/documents", json=[changed])["status"] == (
        "succeeded"
    )
    assert model.seen == ["id: 2\ntitle: beta\nnote: new\n"]


def test_batch_progress_shows_the_embedding_while_it_runs(
    open_client: TestClient, model: FakeModel
) -> None:
    _settings(open_client, {"embedders": {"default": {**REST, "documentTemplate": "{{doc.n}}"}}})
    model.hold = threading.Event()
    docs = [{"id": i, "n": f"text {i}"} for i in range(200)]
    response = open_client.post("/indexes/things/documents", json=docs)
    uid = response.json()["taskUid"]
    assert model.entered.wait(20)
    task = open_client.get(f"/tasks/{uid}").json()
    assert task["status"] == "processing"
    batch = open_client.get(f"/batches/{task['batchUid']}").json()
    steps = batch["progress"]["steps"]
    assert steps[0] == {"currentStep": "embedding documents", "finished": 0, "total": 2}
    assert steps[1]["currentStep"] == "document" and steps[1]["total"] == 200
    assert 0 <= batch["progress"]["percentage"] < 50
    listed = open_client.get("/batches").json()["results"]
    assert listed[0]["uid"] == task["batchUid"] and listed[0]["progress"] is not None
    # The task itself carries the same progress in its details while it runs.
    assert task["details"]["progress"]["steps"][0]["currentStep"] == "embedding documents"

    model.hold.set()
    done = wait_task(open_client, uid)
    assert done["status"] == "succeeded" and "progress" not in done["details"]
    assert open_client.get(f"/batches/{task['batchUid']}").json()["progress"] is None
    assert len(model.seen) == 200


def test_an_embedder_failure_fails_the_task_with_its_error(
    open_client: TestClient, model: FakeModel
) -> None:
    _settings(open_client, {"embedders": {"default": {**REST, "documentTemplate": "{{doc.n}}"}}})
    model.fail = True
    task = run_task(open_client, "POST", "/indexes/things/documents", json=[{"id": 1, "n": "x"}])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "vector_embedding_error"
    assert open_client.get("/indexes/things/documents").json()["total"] == 0
    model.fail = False
    task = run_task(open_client, "POST", "/indexes/things/documents", json=[{"id": 1, "n": "x"}])
    assert task["status"] == "succeeded"


def test_progress_percentage_nests_steps() -> None:
    from sift.tasks.progress import BatchProgress

    report = BatchProgress(7)
    assert report.view() == {"steps": [], "percentage": 0.0}
    report.enter(0, "embedding documents", 0, 2)
    report.enter(1, "document", 0, 100)
    report.advance(50)
    assert report.view()["percentage"] == 25.0
    report.advance(500)  # capped at the total
    assert report.view()["steps"][1]["finished"] == 100
    report.enter(0, "indexing", 1, 2)
    assert report.view() == {
        "steps": [{"currentStep": "indexing", "finished": 1, "total": 2}],
        "percentage": 50.0,
    }


def test_hosted_presets_are_configured_offline_on_an_empty_index(
    open_client: TestClient,
) -> None:
    # What the Meilisearch SDKs' embedder tests send: no service is called until a
    # document or a query needs a vector.
    embedders = {
        "default": {"source": "userProvided", "dimensions": 512},
        "openai": {"source": "openAi"},
        "local": {"source": "ollama", "model": "nomic-embed-text"},
    }
    shown = _settings(open_client, {"embedders": embedders})
    assert {name: e["source"] for name, e in shown.items()} == {
        "default": "userProvided", "openai": "openAi", "local": "ollama"
    }
    task = run_task(open_client, "DELETE", "/indexes/things/settings/embedders")
    assert task["status"] == "succeeded", task
    assert open_client.get("/indexes/things/settings/embedders").json() == {}


def test_embedder_api_keys_are_never_shown(open_client: TestClient, model: FakeModel) -> None:
    secret = "sk-a-very-secret-embedding-key"
    config = {**REST, "apiKey": secret}
    task = run_task(open_client, "PATCH", "/indexes/things/settings", json={"embedders": {
        "default": config}})
    assert task["status"] == "succeeded", task
    shown = [
        open_client.get("/indexes/things/settings/embedders").json(),
        open_client.get("/indexes/things/settings").json()["embedders"],
        task["details"]["embedders"],
    ]
    for embedders in shown:
        assert embedders["default"]["apiKey"] == "sk-XXXXX..."
    assert secret not in open_client.get(f"/tasks/{task['uid']}").text
    # Settings read and written back whole (the dashboard does this) keep the real key.
    everything = open_client.get("/indexes/things/settings").json()
    task = run_task(open_client, "PATCH", "/indexes/things/settings", json=everything)
    assert task["status"] == "succeeded", task
    stored = open_client.app.state.services.catalog.get("things").settings  # type: ignore[attr-defined]
    assert stored["embedders"]["default"]["apiKey"] == secret
