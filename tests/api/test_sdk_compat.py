"""Behaviour the Meilisearch Python SDK's own test suite relies on (benchmarks/compat)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from sift.config import load_config
from tests.conftest import run_task

MOVIES = [
    {"id": 1, "title": "Dune", "genre": "sf"},
    {"id": 2, "title": "Emma", "genre": "drama", "_vectors": {"default": [0.1, 0.2]}},
]


def _add_movies(client: TestClient, uid: str = "movies") -> dict:
    return run_task(client, "POST", f"/indexes/{uid}/documents", json=MOVIES)


def test_compressed_bodies_are_decoded(client: TestClient) -> None:
    body = orjson.dumps(MOVIES)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    task = run_task(
        client, "POST", "/indexes/movies/documents", content=gzip.compress(body), headers=headers
    )
    assert task["status"] == "succeeded", task
    headers["Content-Encoding"] = "deflate"
    task = run_task(
        client, "POST", "/indexes", content=zlib.compress(b'{"uid": "books"}'), headers=headers
    )
    assert task["status"] == "succeeded", task
    assert client.get("/indexes/movies/documents").json()["total"] == 2


def test_bad_or_unknown_encodings_are_refused(client: TestClient) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    r = client.post("/indexes", content=b"not gzip", headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "malformed_payload"
    headers["Content-Encoding"] = "zstd-ish"
    r = client.post("/indexes", content=b"{}", headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


def test_decoded_size_is_what_the_payload_limit_counts(tmp_path: Path) -> None:
    from tests.conftest import make_client

    with make_client(tmp_path, max_payload_bytes=1000) as c:
        bomb = gzip.compress(b"[" + b" " * 5000 + b"]")
        r = c.post(
            "/indexes/x/documents",
            content=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_custom_metadata_is_echoed_by_tasks(client: TestClient) -> None:
    task = run_task(
        client, "POST", "/indexes/movies/documents?customMetadata=import-7", json=MOVIES
    )
    assert task["customMetadata"] == "import-7"
    task = run_task(client, "DELETE", "/indexes/movies/documents/1?customMetadata=cleanup")
    assert task["customMetadata"] == "cleanup"
    accepted = client.delete("/indexes/movies/documents?customMetadata=wipe").json()
    assert accepted["customMetadata"] == "wipe"
    plain = run_task(client, "DELETE", "/indexes/movies/documents")
    assert "customMetadata" not in plain


def test_retrieve_vectors_always_answers_vectors(client: TestClient) -> None:
    _add_movies(client)
    docs = client.get("/indexes/movies/documents", params={"retrieveVectors": "true"}).json()
    assert [d["_vectors"] for d in docs["results"]] == [{}, {"default": [0.1, 0.2]}]
    one = client.get("/indexes/movies/documents/1", params={"retrieveVectors": "true"}).json()
    assert one["_vectors"] == {}
    assert "_vectors" not in client.get("/indexes/movies/documents/2").json()
    fetched = client.post("/indexes/movies/documents/fetch", json={"retrieveVectors": True})
    assert all("_vectors" in d for d in fetched.json()["results"])
    r = client.get("/indexes/movies/documents", params={"retrieveVectors": "maybe"})
    assert r.json()["code"] == "invalid_document_retrieve_vectors"


def test_stats_sizes_and_formats(client: TestClient) -> None:
    _add_movies(client)
    stats = client.get("/indexes/movies/stats").json()
    assert stats["numberOfDocuments"] == 2
    assert stats["rawDocumentDbSize"] > 0 and stats["indexSize"] == stats["rawDocumentDbSize"]
    assert "internalDatabaseSizes" not in stats
    detailed = client.get(
        "/indexes/movies/stats", params={"showInternalDatabaseSizes": "true", "sizeFormat": "human"}
    ).json()
    assert detailed["internalDatabaseSizes"]["documents"].endswith(" B")
    everything = client.get("/stats", params={"sizeFormat": "human"}).json()
    assert isinstance(everything["databaseSize"], str)
    assert everything["indexes"]["movies"]["numberOfDocuments"] == 2
    assert client.get("/stats", params={"sizeFormat": "kb"}).status_code == 400


def test_batches_group_the_tasks_run_together(client: TestClient) -> None:
    added = _add_movies(client)
    batch_uid = added["batchUid"]
    batch = client.get(f"/batches/{batch_uid}").json()
    assert batch["uid"] == batch_uid
    assert batch["stats"]["totalNbTasks"] >= 1
    assert batch["stats"]["types"] == {"documentAdditionOrUpdate": batch["stats"]["totalNbTasks"]}
    assert batch["details"]["receivedDocuments"] >= 2
    listed = client.get("/batches", params={"uids": str(added["uid"])}).json()
    assert [b["uid"] for b in listed["results"]] == [batch_uid] and listed["total"] == 1
    assert client.get("/batches/999999").json()["code"] == "batch_not_found"
    assert client.get("/batches/x").json()["code"] == "invalid_batch_uid"


def test_swap_with_rename_moves_an_index_to_a_new_uid(client: TestClient) -> None:
    _add_movies(client)
    task = run_task(
        client, "POST", "/swap-indexes", json=[{"indexes": ["movies", "films"], "rename": True}]
    )
    assert task["status"] == "succeeded", task
    uids = [i["uid"] for i in client.get("/indexes").json()["results"]]
    assert uids == ["films"]
    assert client.get("/indexes/films/documents").json()["total"] == 2
    run_task(client, "POST", "/indexes", json={"uid": "other"})
    taken = run_task(
        client, "POST", "/swap-indexes", json=[{"indexes": ["films", "other"], "rename": True}]
    )
    assert taken["error"]["code"] == "index_already_exists"


def test_compact_is_a_task(client: TestClient) -> None:
    _add_movies(client)
    task = run_task(client, "POST", "/indexes/movies/compact")
    assert task["type"] == "indexCompaction" and task["status"] == "succeeded"
    assert client.get("/tasks", params={"types": "indexCompaction"}).json()["total"] == 1


def test_fields_describe_settings_per_field(client: TestClient) -> None:
    _add_movies(client)
    run_task(client, "PATCH", "/indexes/movies/settings", json={"sortableAttributes": ["title"]})
    page = client.post("/indexes/movies/fields", json={}).json()
    assert [f["name"] for f in page["results"]] == ["genre", "id", "title"]
    title = page["results"][2]
    assert title["sortable"] == {"enabled": True} and title["displayed"] == {"enabled": True}
    sortable = client.post("/indexes/movies/fields", json={"filter": {"sortable": True}}).json()
    assert [f["name"] for f in sortable["results"]] == ["title"]
    limited = client.post("/indexes/movies/fields", json={"offset": 1, "limit": 1}).json()
    assert [f["name"] for f in limited["results"]] == ["id"] and limited["total"] == 3


def test_development_env_accepts_a_short_master_key(tmp_path: Path) -> None:
    config = load_config(
        {"master_key": "masterKey", "env": "development", "config_file": str(tmp_path / "x")},
        environ={},
    )
    assert config.master_key == "masterKey"
