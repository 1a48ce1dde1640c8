"""The worker across a change of leader: what the deposed node loads, what the next one
reruns (SQLite and PostgreSQL)."""

from __future__ import annotations

import io

import orjson
import pytest

from sift.cluster import LeaseLost
from sift.services import Services
from sift.storage import Database
from sift.storage import tasks as task_rows
from tests.contract.conftest import depose, worker_node


def _add(node: Services, doc_id: int, title: str) -> int:
    body = orjson.dumps({"id": doc_id, "title": title})
    return node.enqueue_documents("things", io.BytesIO(body), "ndjson", {}).uid


def _status(db: Database, uid: int) -> str:
    with db.read() as conn:
        task = task_rows.get(conn, uid)
    assert task is not None
    return task.status


def test_a_node_deposed_right_after_its_batch_loads_what_the_next_leader_did(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = worker_node(db)
    second_db = Database(db.url)
    try:
        first.worker.lease.release()
        second = worker_node(second_db)
        second.worker.lease.release()
        assert first.worker._become_leader()
        mine = _add(first, 1, "amber")
        apply = first.worker._apply

        def apply_then_lose_the_lease(*args: object) -> None:
            apply(*args)  # type: ignore[arg-type]
            # Between this batch's commit and whatever the node does next, another node
            # takes over and commits a batch of its own.
            first.worker.lease.release()
            assert second.worker._become_leader()
            _add(second, 2, "birch")
            assert second.worker.run_once()

        monkeypatch.setattr(first.worker, "_apply", apply_then_lose_the_lease)
        assert first.worker.run_once()
        assert _status(db, mine) == "succeeded"
        first.worker.follow()
        assert first.catalog.get("things").document_count() == 2
    finally:
        second_db.dispose()


def test_the_next_leader_reruns_a_batch_the_deposed_one_could_not_commit(db: Database) -> None:
    first = worker_node(db)
    second_db = Database(db.url)
    try:
        task = _add(first, 1, "amber")
        apply = first.worker._apply
        taken: list[int] = []

        def lose_the_lease_mid_batch(*args: object) -> None:
            depose(db)
            second = worker_node(second_db)  # takes the lease and requeues the task
            assert second.worker.run_once()
            taken.append(_batch_of(db, task))
            apply(*args)  # type: ignore[arg-type]

        first.worker._apply = lose_the_lease_mid_batch  # type: ignore[method-assign]
        with pytest.raises(LeaseLost):
            first.worker.run_once()
        # Ran once, by the second node, in a batch of its own; the deposed node's indexes
        # were reloaded from the database.
        assert _status(db, task) == "succeeded"
        assert _batch_of(db, task) == taken[0]
        assert first.catalog.get("things").document_count() == 1
    finally:
        second_db.dispose()


def _batch_of(db: Database, uid: int) -> int | None:
    with db.read() as conn:
        task = task_rows.get(conn, uid)
    assert task is not None
    return task.batch_uid
