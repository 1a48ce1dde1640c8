"""The idle polls read the database only after a commit (SQLite's ``data_version``), and
still see every commit, this process's or another node's; PostgreSQL reads every poll."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from sift.catalog import IndexCatalog
from sift.cluster import Network
from sift.ops import experimental
from sift.storage import network as network_rows
from sift.storage import tasks as task_rows
from sift.storage.commits import CommitWatch
from sift.storage.database import Database
from sift.tasks.worker import Worker, WorkerContext
from tests.contract.conftest import worker_node


def _counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def _other_node(db: Database) -> Database:
    """The same database through an engine of its own, as another process sees it."""
    return Database(db.url)


def test_the_data_version_moves_on_every_commit_and_only_then(db: Database) -> None:
    if not db.is_sqlite:
        assert db.data_version is None  # no counter: every poll reads
        return
    assert db.data_version is not None
    first = db.data_version.read()
    with db.read() as conn:
        task_rows.has_enqueued(conn)
    assert db.data_version.read() == first  # a read is not a change
    with db.write() as conn:  # a commit of this process, on a pooled connection
        task_rows.enqueue(db, conn, "indexCreation", "a", {}, {})
    second = db.data_version.read()
    assert second != first
    other = _other_node(db)
    with other.write() as conn:  # another process's commit
        task_rows.enqueue(other, conn, "indexCreation", "b", {}, {})
    other.dispose()
    assert db.data_version.read() != second


def test_a_watch_asks_again_until_a_look_succeeds(db: Database) -> None:
    watch = CommitWatch(db.data_version)
    assert watch.changed()
    assert watch.changed()  # the look failed (no caught_up): the next poll reads again
    watch.caught_up()
    assert watch.changed() is (not db.is_sqlite)
    with db.write() as conn:
        task_rows.enqueue(db, conn, "indexCreation", "a", {}, {})
    assert watch.changed()


def test_the_idle_leader_reads_the_queue_only_after_a_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = worker_node(db)
    reads = _counted(monkeypatch, task_rows, "has_enqueued")
    assert node.worker.run_once() is False
    assert node.worker.run_once() is False
    assert len(reads) == (1 if db.is_sqlite else 2)
    other = _other_node(db)
    with other.write() as conn:  # a task another node enqueued, with no wake-up sent
        task = task_rows.enqueue(other, conn, "indexCreation", "books", {}, {"primaryKey": "id"})
    other.dispose()
    assert node.worker.run_once() is True
    with db.read() as conn:
        done = task_rows.get(conn, task.uid)
    assert done is not None and done.status == "succeeded"
    node.worker.lease.release()


def test_a_follower_reloads_only_after_a_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    leader = worker_node(db)
    follower_db = _other_node(db)
    catalog = IndexCatalog(follower_db)
    catalog.rebuild()
    worker = Worker(WorkerContext(db=follower_db, catalog=catalog, index_defaults="sift",
                                  batch_size=100))  # fmt: skip
    follows = _counted(monkeypatch, task_rows, "finished_in_batches_after")
    worker.start()
    try:
        time.sleep(1.2)  # two or three idle polls
        assert len(follows) == 1 if db.is_sqlite else len(follows) >= 2
        with leader.db.write() as conn:
            task_rows.enqueue(leader.db, conn, "indexCreation", "books", {}, {"primaryKey": "id"})
        assert leader.worker.run_once() is True
        deadline = time.monotonic() + 5
        while "books" not in catalog.uids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "books" in catalog.uids()  # followed within the poll, no wake-up sent
    finally:
        worker.stop()
        leader.worker.lease.release()
        follower_db.dispose()


def test_the_network_watcher_reads_only_after_a_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = _counted(monkeypatch, network_rows, "version")
    watching = Network(db, "ms-01", poll=0.02)
    watching.start()
    try:
        time.sleep(0.3)  # ~15 polls
        # SQLite: the first look only; PostgreSQL: a read every poll (a few at least).
        assert len(versions) <= 1 if db.is_sqlite else len(versions) >= 2
        other = _other_node(db)
        experimental.switch(other, {"network": True})
        changer = Network(other, "ms-00")
        changer.refresh()
        changer.update({"remotes": {"ms-00": {"url": "http://a"}, "ms-01": {"url": "http://b"}},
                        "shards": {"y": {"remotes": ["ms-01"]}}})  # fmt: skip
        deadline = time.monotonic() + 5
        while set(watching.topology.shards) != {"y"} and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watching.enabled and set(watching.topology.shards) == {"y"}
        changer.stop()
        other.dispose()
    finally:
        watching.stop()
