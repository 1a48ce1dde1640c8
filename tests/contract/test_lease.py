"""The worker lease and its fence, on SQLite and PostgreSQL (src/sift/cluster/lease.py)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from sift.cluster import LeaseLost, WorkerLease
from sift.storage import Database
from sift.storage import lease as lease_rows
from sift.storage import tasks as task_rows
from sift.storage.database import MIGRATIONS_DIR, utcnow
from tests.contract.conftest import depose

# SQLite's lease is a flock on one host: one write transaction at a time, no takeover to
# interleave with, no timeout.
postgres_only = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


@pytest.fixture
def leases(db: Database) -> Iterator[list[WorkerLease]]:
    """Leases made by a test, each on its own Database (a node), released afterwards."""
    made: list[WorkerLease] = []
    yield made
    for lease in made:
        lease.release()
        if lease.db is not db:
            lease.db.dispose()


def _node(db: Database, made: list[WorkerLease], timeout: float = 5.0) -> WorkerLease:
    lease = WorkerLease(Database(db.url), timeout)
    made.append(lease)
    return lease


def _enqueue(lease: WorkerLease) -> int:
    with lease.fenced() as conn:
        return task_rows.enqueue(lease.db, conn, "indexCreation", "x", None).uid


def _task_uids(db: Database) -> list[int]:
    with db.read() as conn:
        return [t.uid for t in task_rows.next_enqueued(conn, 1000)]


def test_one_holder_at_a_time_and_the_next_takes_over_on_release(
    db: Database, leases: list[WorkerLease]
) -> None:
    first, second = _node(db, leases), _node(db, leases)
    assert first.try_acquire() and first.held
    assert not second.try_acquire()
    epoch = first.epoch
    assert epoch is not None
    first.release()
    assert not first.held
    assert second.try_acquire()
    assert second.epoch == epoch + 1
    with db.read() as conn:
        assert lease_rows.read(conn).holder == second.node


def test_a_deposed_holder_commits_nothing(db: Database, leases: list[WorkerLease]) -> None:
    first, second = _node(db, leases), _node(db, leases)
    assert first.try_acquire()
    kept = _enqueue(first)
    depose(db)
    assert second.try_acquire()
    with pytest.raises(LeaseLost):
        _enqueue(first)
    assert not first.held
    with pytest.raises(LeaseLost), first.fenced() as conn:
        first.next_batch_uid(conn)
    assert _task_uids(db) == [kept]
    assert _enqueue(second) > kept


@postgres_only
def test_a_takeover_during_a_transaction_refuses_its_commit(
    db: Database, leases: list[WorkerLease]
) -> None:
    first, second = _node(db, leases), _node(db, leases)
    assert first.try_acquire()
    locked = _enqueue(first)
    # The deposed node is inside a batch, holding a row lock the new holder needs.
    with pytest.raises((LeaseLost, sa.exc.OperationalError)), first.fenced() as conn:
        task_rows.finish(conn, locked, "succeeded", None, None, utcnow())
        depose(db)
        assert second.try_acquire()
        with second.fenced() as other:
            # Does not wait for the old transaction: taking over ended its session.
            other.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            task_rows.finish(other, locked, "failed", None, None, utcnow())
        task_rows.set_details(conn, locked, {"late": True})
    with db.read() as conn:
        task = task_rows.get(conn, locked)
    assert task is not None and task.status == "failed" and task.details is None


@postgres_only
def test_a_silent_holder_is_replaced_after_the_timeout(
    db: Database, leases: list[WorkerLease]
) -> None:
    paused = _node(db, leases, timeout=600.0)  # alive, but its next heartbeat is 2 minutes off
    other = _node(db, leases, timeout=0.5)
    assert paused.try_acquire()
    assert not other.try_acquire()  # the holder's session lives: wait for the timeout
    time.sleep(0.6)
    assert other.try_acquire()
    assert paused.held  # by its own clock; the fence knows better
    with pytest.raises(LeaseLost):
        _enqueue(paused)
    assert not paused.held


@postgres_only
def test_batch_uids_stay_unique_while_the_lease_keeps_changing_hands(
    db: Database, leases: list[WorkerLease]
) -> None:
    nodes = [_node(db, leases, timeout=0.3) for _ in range(3)]
    stop = threading.Event()
    lost: list[int] = []

    def work(lease: WorkerLease) -> None:
        while not stop.is_set():
            try:
                if not lease.try_acquire():
                    time.sleep(0.02)
                    continue
                with lease.fenced() as conn:
                    uid = lease.next_batch_uid(conn)
                    task = task_rows.enqueue(lease.db, conn, "indexCreation", "x", None)
                    task_rows.mark_processing(conn, [task.uid], uid, utcnow())
            except LeaseLost:
                lost.append(1)
            except sa.exc.OperationalError:  # its session ended by the new holder
                lost.append(1)

    def committed() -> tuple[list[int], int]:
        with db.read() as conn:
            uids = list(conn.execute(sa.text("SELECT batch_uid FROM tasks")).scalars())
            return uids, lease_rows.read(conn).epoch

    threads = [threading.Thread(target=work, args=(n,)) for n in nodes]
    for thread in threads:
        thread.start()
    rng = random.Random(14)
    deadline = time.monotonic() + 60
    try:
        # Until enough batches committed across enough takeovers (a loaded machine is slow).
        while time.monotonic() < deadline:
            uids, epoch = committed()
            if len(uids) >= 30 and epoch >= 8:
                break
            time.sleep(rng.uniform(0.05, 0.25))
            depose(db)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    uids, epoch = committed()
    assert len(uids) >= 30 and epoch >= 8, f"{len(uids)} batches over {epoch} epochs in 60 s"
    assert len(set(uids)) == len(uids), "a batch uid was handed out twice"


def test_batch_uids_continue_after_the_highest_used_before_the_lease_existed(
    db: Database,
) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        task = task_rows.enqueue(db, conn, "indexCreation", "x", None)
        task_rows.mark_processing(conn, [task.uid], 41, utcnow())
    db.migrate()
    lease = WorkerLease(db)
    try:
        assert lease.try_acquire()
        with lease.fenced() as conn:
            assert lease.next_batch_uid(conn) == 42
    finally:
        lease.release()
