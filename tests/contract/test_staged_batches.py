"""A document batch is indexed before its write transaction (tasks/staged.py): an enqueue
does not wait for the indexing, and a crash or a lost lease between the indexing and the
write leaves the database as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from sift.cluster import LeaseLost
from sift.services import Services
from sift.storage import Database
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from sift.tasks import documents
from tests.contract.conftest import depose, worker_node

WAIT_S = 30.0  # a bound on what must happen at once, never a timing


class Crash(BaseException):
    """The process dies here: not an error the worker records (tasks stay `processing`)."""


def _add(node: Services, docs: list[dict[str, Any]], **params: Any) -> int:
    body = b"\n".join(orjson.dumps(d) for d in docs)
    return node.enqueue_documents("things", io.BytesIO(body), "ndjson", params).uid


def _delete(node: Services, ids: list[int]) -> int:
    details = {"providedIds": len(ids), "deletedDocuments": None}
    return node.enqueue("documentDeletion", "things", details, {"ids": ids}).uid


def _task(db: Database, uid: int) -> task_rows.TaskRecord:
    with db.read() as conn:
        task = task_rows.get(conn, uid)
    assert task is not None
    return task


def _rows(db: Database) -> dict[str, Any]:
    with db.read() as conn:
        record = index_rows.get(conn, "things")
        if record is None:
            return {}
        return {doc_id: orjson.loads(body) for batch in doc_rows.iter_all(conn, record.id)
                for doc_id, body in batch}  # fmt: skip


def _mixed_batch(node: Services) -> list[int]:
    """Tasks of one batch, each seeing the earlier ones: a replacement, an update of one of
    its documents, a deletion, a skipCreation update that finds the deleted one gone."""
    return [
        _add(node, [{"id": 1, "t": "amber"}, {"id": 2, "t": "birch"}, {"id": 3, "t": "cedar"}]),
        _add(node, [{"id": 2, "year": 1990}], method="update"),
        _delete(node, [3]),
        _add(node, [{"id": 3, "t": "gone"}, {"id": 1, "year": 2000}],
             method="update", skipCreation=True),
    ]


MIXED = {"1": {"id": 1, "t": "amber", "year": 2000}, "2": {"id": 2, "t": "birch", "year": 1990}}


def test_an_enqueue_completes_while_a_batch_is_being_indexed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = worker_node(db)
    first = _add(node, [{"id": i, "t": f"doc {i}"} for i in range(50)])
    indexing, release = threading.Event(), threading.Event()
    apply = documents.apply_additions

    def held_mid_indexing(*args: Any, **kwargs: Any) -> int:
        indexing.set()
        assert release.wait(WAIT_S)
        return apply(*args, **kwargs)

    monkeypatch.setattr(documents, "apply_additions", held_mid_indexing)
    outcome: list[bool] = []
    batch = threading.Thread(target=lambda: outcome.append(node.worker.run_once()))
    batch.start()
    try:
        assert indexing.wait(WAIT_S)
        enqueued: list[int] = []
        enqueue = threading.Thread(target=lambda: enqueued.append(_add(node, [{"id": 99}])))
        enqueue.start()
        # The enqueue commits while the batch is still held mid-indexing.
        enqueue.join(WAIT_S / 3)
        done_while_indexing = not enqueue.is_alive()
    finally:
        release.set()
        batch.join(WAIT_S)
    enqueue.join(WAIT_S)
    assert done_while_indexing
    assert outcome == [True]
    assert _task(db, first).status == "succeeded"
    assert _task(db, enqueued[0]).status == "enqueued"
    assert node.worker.run_once()
    assert _task(db, enqueued[0]).status == "succeeded"
    assert node.catalog.get("things").document_count() == 51


def test_a_crash_between_indexing_and_writing_changes_nothing_and_the_rerun_converges(
    db: Database,
) -> None:
    node = worker_node(db)
    _add(node, [{"id": 3, "t": "old"}, {"id": 4, "t": "kept"}])
    assert node.worker.run_once()
    before = _rows(db)
    uids = _mixed_batch(node)

    def crash() -> None:
        raise Crash

    node.worker.staged_hook = crash
    with pytest.raises(Crash):
        node.worker.run_once()
    assert _rows(db) == before
    assert [_task(db, uid).status for uid in uids] == ["processing"] * 4
    node.worker.lease.release()

    restarted_db = Database(db.url)
    try:
        restarted = worker_node(restarted_db)  # requeues the interrupted tasks
        assert restarted.worker.run_once()
        tasks = [_task(db, uid) for uid in uids]
        assert [t.status for t in tasks] == ["succeeded"] * 4
        assert len({t.batch_uid for t in tasks}) == 1
        assert [(t.details or {}).get("indexedDocuments") for t in tasks] == [3, 1, None, 1]
        assert (tasks[2].details or {})["deletedDocuments"] == 1
        assert _rows(db) == {**MIXED, "4": {"id": 4, "t": "kept"}}
        assert restarted.catalog.get("things").document_count() == 3
    finally:
        restarted_db.dispose()


def test_a_lost_lease_at_the_write_commits_nothing(db: Database) -> None:
    node = worker_node(db)
    uids = _mixed_batch(node)  # the first addition creates the index
    other_db = Database(db.url)
    try:
        nodes: list[Services] = []

        def deposed() -> None:
            depose(db)
            _wait_lease_sessions_gone(db)
            nodes.append(worker_node(other_db))  # takes the lease, requeues the tasks

        node.worker.staged_hook = deposed
        with pytest.raises(LeaseLost):
            node.worker.run_once()
        assert _rows(db) == {}
        with db.read() as conn:
            assert index_rows.get(conn, "things") is None
        assert [_task(db, uid).status for uid in uids] == ["enqueued"] * 4
        # The deposed node's indexes were reloaded from the database: no index.
        assert node.catalog.find("things") is None
        assert nodes[0].worker.run_once()
        assert [_task(db, uid).status for uid in uids] == ["succeeded"] * 4
        assert _rows(db) == MIXED
    finally:
        other_db.dispose()


def _wait_lease_sessions_gone(db: Database) -> None:
    """PostgreSQL: pg_terminate_backend returns before the session has ended and let go
    of its lease; another node can take the lease only once it has."""
    if db.is_sqlite:
        return
    deadline = time.monotonic() + WAIT_S
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name LIKE 'sift-lease %'")  # fmt: skip
    while True:
        with db.engine.connect() as conn:
            if not conn.execute(query).scalar():
                return
        assert time.monotonic() < deadline, "the deposed lease session never ended"
        time.sleep(0.01)


def test_a_failing_task_of_a_staged_batch_fails_alone(db: Database) -> None:
    node = worker_node(db)
    uids = [
        _add(node, [{"id": 1, "t": "amber"}]),
        _add(node, [{"id": "not valid!", "t": "x"}]),
        _add(node, [{"id": 1, "year": 1990}], method="update"),
    ]
    assert node.worker.run_once()
    tasks = [_task(db, uid) for uid in uids]
    assert [t.status for t in tasks] == ["succeeded", "failed", "succeeded"]
    assert (tasks[1].error or {})["code"] == "invalid_document_id"
    assert _rows(db) == {"1": {"id": 1, "t": "amber", "year": 1990}}
