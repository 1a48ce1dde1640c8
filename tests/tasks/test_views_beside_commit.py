"""A batch's views are built on a helper thread while its transaction commits
(catalog.IndexCatalog.applying): what a reader sees, and what a failure leaves."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from sift.engine.index import SearchIndex
from tests.conftest import make_client, run_task

DOCS = [{"id": i, "title": f"violet {i}"} for i in range(50)]


def test_views_are_built_beside_the_commit(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    prepare = SearchIndex.prepare

    def recorded(self: SearchIndex) -> None:
        threads.append(threading.current_thread().name)
        prepare(self)

    monkeypatch.setattr(SearchIndex, "prepare", recorded)
    with make_client(tmp_path) as client:
        task = run_task(client, "POST", "/indexes/v/documents", json=DOCS)
        hits = client.post("/indexes/v/search", json={"q": "violet"}).json()
    assert task["status"] == "succeeded"
    assert hits["estimatedTotalHits"] == len(DOCS)  # seen once the task is seen succeeded
    assert threads and all(name.startswith("sift-views") for name in threads)


def test_views_failing_after_the_commit_leave_the_tasks_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is committed before its views are known to be built: a failure there
    (a bug, memory) rebuilds the indexes from the database, which holds the batch."""
    failures: list[Any] = []
    prepare = SearchIndex.prepare

    def failing_once(self: SearchIndex) -> None:
        if not failures:
            failures.append(self)
            raise MemoryError("no room for the view")
        prepare(self)

    monkeypatch.setattr(SearchIndex, "prepare", failing_once)
    with make_client(tmp_path) as client:
        task = run_task(client, "POST", "/indexes/v/documents", json=DOCS)
        assert failures
        hits = client.post("/indexes/v/search", json={"q": "violet"}).json()
        listed = client.get("/indexes/v/documents", params={"limit": 100}).json()
    assert task["status"] == "succeeded" and task["details"]["indexedDocuments"] == len(DOCS)
    assert hits["estimatedTotalHits"] == len(DOCS)
    assert listed["total"] == len(DOCS)


def test_the_helper_thread_ends_with_the_server(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        run_task(client, "POST", "/indexes/v/documents", json=DOCS)
        builder = client.app.state.services.catalog._views_builder  # type: ignore[attr-defined]
        assert builder is not None
        helpers = set(builder._threads)
        assert helpers and all(t.is_alive() for t in helpers)
    assert not any(t.is_alive() for t in helpers)
