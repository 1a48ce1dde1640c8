"""Document writes on the writer thread while the worker indexes (tasks/background.py):
what an import stores, in which order, and what an error leaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from sift.tasks import documents
from sift.tasks.background import WriteBehind
from tests.conftest import fresh_postgres_database, make_client, run_task

BATCH = 150  # above WRITE_BEHIND_ROWS: every batch of these imports is written behind
DOCS = 1_000  # 7 batches


def test_writes_run_one_at_a_time_beside_the_caller() -> None:
    log: list[tuple[str, int, str]] = []
    started, slow = threading.Event(), threading.Event()

    def write(n: int) -> None:
        log.append(("start", n, threading.current_thread().name))
        if n == 0:
            started.set()
            slow.wait(5)  # the caller goes on meanwhile
        log.append(("end", n, threading.current_thread().name))

    with WriteBehind() as writes:
        writes.submit(lambda: write(0))
        assert started.wait(5)
        log.append(("caller", -1, threading.current_thread().name))
        slow.set()
        writes.submit(lambda: write(1))  # waits for write 0 first
    assert [(what, n) for what, n, _ in log] == [
        ("start", 0), ("caller", -1), ("end", 0), ("start", 1), ("end", 1)]
    assert {name for what, _, name in log if what != "caller"} != {
        threading.current_thread().name}


def test_a_write_error_is_raised_and_an_indexing_error_waits_for_the_write() -> None:
    def fail() -> None:
        raise ValueError("the write failed")

    with pytest.raises(ValueError, match="the write failed"), WriteBehind() as writes:
        writes.submit(fail)
    finished: list[str] = []

    def write() -> None:
        time.sleep(0.2)
        finished.append("written")

    # The caller's own error leaves the block only once the helper has let go of the
    # connection (the transaction is rolled back after), and is the error reported.
    with pytest.raises(KeyError), WriteBehind() as writes:
        writes.submit(write)
        raise KeyError("indexing failed")
    assert finished == ["written"]


def _docs(version: str) -> list[dict[str, Any]]:
    return [{"id": i, "title": f"{version} {i}", "n": i} for i in range(DOCS)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """No setting (SQLite in the data directory), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "sift_behind") as (
        _, _, url,
    ):
        yield {"database_url": url}


# A chunk whose ids are read from its bytes is parsed once, when applied ("scanned");
# without that scan, the chunks of a payload past PARSED_AHEAD_BYTES are parsed again
# when applied: 0 applies every chunk that way.
@pytest.mark.parametrize("scan, parsed_ahead", [(True, documents.PARSED_AHEAD_BYTES),
                                                (False, documents.PARSED_AHEAD_BYTES),
                                                (False, 0)],
                         ids=["scanned", "parsed-once", "parsed-again"])
def test_imports_written_behind_store_and_index_every_batch(
    tmp_path: Path, database: dict[str, str], scan: bool, parsed_ahead: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert BATCH >= documents.WRITE_BEHIND_ROWS
    monkeypatch.setattr(documents, "PARSED_AHEAD_BYTES", parsed_ahead)
    if not scan:
        monkeypatch.setattr(documents, "scanned_id_lines", lambda chunk, key: None)
    with make_client(tmp_path, batch_size=BATCH, **database) as client:
        run_task(client, "POST", "/indexes", json={"uid": "w", "primaryKey": "id"})
        task = run_task(client, "POST", "/indexes/w/documents", json=_docs("first"))
        assert task["status"] == "succeeded" and task["details"]["indexedDocuments"] == DOCS
        # Replace the odd ids, update the multiples of 3, skip-create ids past the end.
        odd = [{"id": i, "title": f"second {i}"} for i in range(1, DOCS, 2)]
        run_task(client, "POST", "/indexes/w/documents", json=odd)
        third = [{"id": i, "extra": "x"} for i in range(0, DOCS + 300, 3)]
        task = run_task(client, "PUT", "/indexes/w/documents", json=third)
        assert task["details"]["indexedDocuments"] == len(third)
        task = run_task(client, "PUT", "/indexes/w/documents?skipCreation=true",
                        json=[{"id": i, "late": True} for i in range(DOCS - 200, DOCS + 200)])
        stored_late = [i for i in range(DOCS - 200, DOCS + 200) if i < DOCS or i % 3 == 0]
        assert task["details"]["indexedDocuments"] == len(stored_late)
        listed = client.get("/indexes/w/documents", params={"limit": 2 * DOCS}).json()
        hits = client.post("/indexes/w/search", json={"q": "second", "limit": 0}).json()
    expected = []
    for i in range(DOCS):
        doc: dict[str, Any] = ({"id": i, "title": f"second {i}"} if i % 2
                               else {"id": i, "title": f"first {i}", "n": i})
        if i % 3 == 0:
            doc["extra"] = "x"
        if i >= DOCS - 200:
            doc["late"] = True
        expected.append(doc)
    expected += [{"id": i, "extra": "x", **({"late": True} if i in stored_late else {})}
                 for i in range(DOCS, DOCS + 300) if i % 3 == 0]
    assert listed["results"] == expected  # first insertion order, last version
    assert hits["estimatedTotalHits"] == DOCS // 2


def test_a_replacement_hands_the_index_its_payload_lines(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The document table keeps a replaced document's payload line (orjson wrote it for the
    same document) instead of writing the document again; a merged one it writes."""
    from sift.engine.index import SearchIndex

    given: list[list[bytes] | None] = []
    upsert = SearchIndex.upsert

    def recorded(self: SearchIndex, docs: Any, encoded: list[bytes] | None = None) -> None:
        given.append(encoded)
        upsert(self, docs, encoded)

    monkeypatch.setattr(SearchIndex, "upsert", recorded)
    docs = _docs("first")
    with make_client(tmp_path, batch_size=BATCH) as client:
        run_task(client, "POST", "/indexes", json={"uid": "w", "primaryKey": "id"})
        run_task(client, "POST", "/indexes/w/documents", json=docs)
        replaced = list(given)
        given.clear()
        run_task(client, "PUT", "/indexes/w/documents", json=[{"id": 1, "extra": "x"}])
        listed = client.get("/indexes/w/documents", params={"limit": 3}).json()["results"]
    assert [line for lines in replaced for line in lines or []] == [
        orjson.dumps(doc) for doc in docs]
    assert given == [None]
    assert listed[1] == {**docs[1], "extra": "x"}


@pytest.mark.parametrize("parsed_ahead", [documents.PARSED_AHEAD_BYTES, 0],
                         ids=["scanned", "parsed-again"])
def test_a_replacement_parsed_part_by_part_keeps_the_last_version_of_a_repeated_id(
    tmp_path: Path, parsed_ahead: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A replacement parses a chunk's lines a batch's part at a time: an id repeated in
    a later part, or in the same part, is stored and indexed in its last version."""
    monkeypatch.setattr(documents, "PARSED_AHEAD_BYTES", parsed_ahead)
    if not parsed_ahead:
        monkeypatch.setattr(documents, "scanned_id_lines", lambda chunk, key: None)
    payload = ([{"id": i, "title": f"early {i}"} for i in range(400)]
               + [{"id": i, "title": f"late {i}"} for i in range(0, 400, 2)]
               + [{"id": 7, "title": "last 7"}])
    with make_client(tmp_path, batch_size=BATCH) as client:
        task = run_task(client, "POST", "/indexes/r/documents", json=payload)
        assert task["status"] == "succeeded"
        listed = client.get("/indexes/r/documents", params={"limit": 1000}).json()
        late = client.post("/indexes/r/search", json={"q": "late", "limit": 0}).json()
        last = client.post("/indexes/r/search", json={"q": "last"}).json()
    titles = {doc["id"]: doc["title"] for doc in listed["results"]}
    assert len(titles) == 400 and titles[7] == "last 7"
    assert all(titles[i] == (f"late {i}" if i % 2 == 0 else f"early {i}")
               for i in range(400) if i != 7)
    assert late["estimatedTotalHits"] == 200
    assert [hit["id"] for hit in last["hits"]] == [7]
