"""The outbox of the leader's writes to remotes (cluster/outbox.py): each remote gets its
writes in order, a failed one holds back the later ones and is tried again after a
growing delay, and the leader's task shows each remote's answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sift.cluster.outbox import BACKOFF_FIRST, BACKOFF_MAX, Outbox, backoff
from sift.storage import outbox as rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database, utcnow

DOWN = {"taskUid": None, "error": {"message": "down", "code": "remote_could_not_be_reached",
                                   "type": "system"}}  # fmt: skip
REFUSED = {"taskUid": None, "error": {"message": "no", "code": "invalid_api_key",
                                      "type": "auth"}}  # fmt: skip


class Remotes:
    """Stands in for the Forwarder: answers as each remote is set to, and notes what
    each was sent (the task uid of the write)."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.refusing: set[str] = set()
        self.sent: list[tuple[str, int]] = []
        self.versions: list[str | None] = []
        self.changes: list[bool] = []

    def deliver(self, name: str, task_uid: int, request: Any, part: int | None = None,
                network_version: str | None = None,
                network_change: bool = False) -> dict[str, Any] | None:  # fmt: skip
        assert part is not None  # each row is a part of its own: enqueued once remotely
        self.sent.append((name, task_uid))
        self.versions.append(network_version)
        self.changes.append(network_change)
        if name in self.down:
            return DOWN
        if name in self.refusing:
            return REFUSED
        return {"taskUid": 1000 + task_uid, "error": None}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'sift.db'}")
    database.migrate()
    yield database
    database.dispose()


VERSION = "5b3c8f44-2f7e-4d2b-9a51-0c6f1d1b2a77"


def owe(db: Database, *remotes: str, version: str = VERSION,
        task_type: str = "documentDeletion") -> int:  # fmt: skip
    """A leader's task owing each of ``remotes`` a write, as the worker commits it."""
    pending = {"remoteTasks": {r: {"taskUid": None, "error": None} for r in remotes}}
    with db.write() as conn:
        task = task_rows.enqueue(db, conn, task_type, "books", {"network": pending})
        rows.add(conn, task.uid, {r: ("DELETE", "/indexes/books/documents", None)
                                  for r in remotes}, version)  # fmt: skip
    return task.uid


def remote_tasks(db: Database, uid: int) -> dict[str, Any]:
    with db.read() as conn:
        task = task_rows.get(conn, uid)
    assert task is not None and task.details is not None
    return dict(task.details["network"]["remoteTasks"])


def make_due(db: Database) -> None:
    """Let every postponed write's time come (instead of waiting for it)."""
    with db.write() as conn:
        for head in rows.heads(conn):
            rows.postpone(conn, head.id, head.attempts, utcnow() - timedelta(seconds=1))


def test_a_remote_gets_its_writes_in_order_and_a_failed_one_holds_back_the_rest(
    db: Database,
) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True)  # type: ignore[arg-type]
    remotes.down.add("ms-01")
    first, second, third = owe(db, "ms-01", "ms-02"), owe(db, "ms-01"), owe(db, "ms-01")
    assert outbox.pending() == {"ms-01": 3, "ms-02": 1}
    assert outbox.deliver_due() == 1
    # ms-01's first write failed: its later ones were not sent past it; ms-02 got its own.
    assert remotes.sent == [("ms-01", first), ("ms-02", first)]
    assert remote_tasks(db, first) == {"ms-01": DOWN, "ms-02": {"taskUid": 1000 + first,
                                                                "error": None}}  # fmt: skip
    assert remote_tasks(db, second)["ms-01"] == {"taskUid": None, "error": None}
    assert outbox.pending() == {"ms-01": 3}

    remotes.down.clear()
    make_due(db)
    remotes.sent.clear()
    assert outbox.deliver_due() == 3
    assert remotes.sent == [("ms-01", first), ("ms-01", second), ("ms-01", third)]
    for uid in (first, second, third):
        assert remote_tasks(db, uid)["ms-01"] == {"taskUid": 1000 + uid, "error": None}
    assert outbox.pending() == {}


def test_a_failed_write_waits_longer_after_each_failure(db: Database) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True)  # type: ignore[arg-type]
    remotes.down.add("ms-01")
    owe(db, "ms-01")
    waits = []
    for attempts in (1, 2, 3):
        before = utcnow()
        assert outbox.deliver_due() == 0
        assert outbox.deliver_due() == 0  # not due yet: not sent again
        with db.read() as conn:
            (head,) = rows.heads(conn)
        assert head.attempts == attempts
        waits.append((head.due_at - before).total_seconds())
        make_due(db)
    assert len(remotes.sent) == 3
    assert waits[0] >= BACKOFF_FIRST and waits[1] >= 2 * BACKOFF_FIRST
    assert waits[2] >= 4 * BACKOFF_FIRST and waits[2] < 4 * BACKOFF_FIRST + 5
    assert [backoff(n) for n in (1, 2, 3)] == [BACKOFF_FIRST * 2**n for n in range(3)]
    assert backoff(40) == BACKOFF_MAX


def test_a_refused_write_is_not_asked_again_and_the_next_one_goes(db: Database) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True)  # type: ignore[arg-type]
    remotes.refusing.add("ms-01")
    first, second = owe(db, "ms-01"), owe(db, "ms-01")
    assert outbox.deliver_due() == 2
    assert remotes.sent == [("ms-01", first), ("ms-01", second)]
    assert remote_tasks(db, first)["ms-01"] == REFUSED
    assert outbox.pending() == {}


def test_a_remote_on_the_leaders_database_leaves_the_task(db: Database) -> None:
    class SameDatabase(Remotes):
        def deliver(self, name: str, task_uid: int, request: Any, part: int | None = None,
                    network_version: str | None = None,
                    network_change: bool = False) -> dict[str, Any] | None:  # fmt: skip
            if name == "ms-01":
                return None
            return super().deliver(name, task_uid, request, part, network_version,
                                   network_change)  # fmt: skip

    outbox = Outbox(db, SameDatabase(), lambda: True)  # type: ignore[arg-type]
    uid = owe(db, "ms-01", "ms-02")
    only = owe(db, "ms-01")
    outbox.deliver_due()
    assert remote_tasks(db, uid) == {"ms-02": {"taskUid": 1000 + uid, "error": None}}
    with db.read() as conn:
        task = task_rows.get(conn, only)
    assert task is not None and "network" not in (task.details or {})


def _wait_for(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_empty_outbox_is_not_polled_until_a_batch_or_a_new_lease_wakes_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = []
    heads = rows.heads
    monkeypatch.setattr(rows, "heads", lambda conn: looks.append(1) or heads(conn))
    remotes, leading = Remotes(), [True]
    outbox = Outbox(db, remotes, lambda: leading[0], poll=0.01)  # type: ignore[arg-type]
    outbox.start()
    try:
        _wait_for(lambda: len(looks) >= 1)
        time.sleep(0.2)  # ~20 rounds: nothing owed, so no further query
        assert len(looks) == 1
        uid = owe(db, "ms-01")
        outbox.notify()  # the worker's wake after the batch committed
        _wait_for(lambda: remotes.sent == [("ms-01", uid)])
        time.sleep(0.1)  # one more look finds the outbox drained
        settled = len(looks)
        time.sleep(0.2)
        assert len(looks) == settled  # drained: quiet again
        leading[0] = False
        time.sleep(0.05)
        leading[0] = True  # leadership regained: writes may have been left behind
        _wait_for(lambda: len(looks) > settled)
    finally:
        outbox.stop()


class WakeAfterTimeout(threading.Event):
    """The outbox's wake-up, with one notify landing in the window a real one can: after
    a wait has timed out, before the loop looks at what it returned."""

    def __init__(self) -> None:
        super().__init__()
        self.notify_in_window = False

    def wait(self, timeout: float | None = None) -> bool:
        woke = super().wait(timeout)
        if not woke and self.notify_in_window:
            self.notify_in_window = False
            self.set()
        return woke


def test_a_notify_between_a_timed_out_wait_and_the_next_is_not_lost(db: Database) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True, poll=0.01)  # type: ignore[arg-type]
    wake = outbox._wake = WakeAfterTimeout()
    outbox.start()
    try:
        time.sleep(0.1)  # the first look found nothing owed: it now waits for a notify
        uid = owe(db, "ms-01")
        wake.notify_in_window = True  # the batch's notify, racing the poll's timeout
        _wait_for(lambda: remotes.sent == [("ms-01", uid)], seconds=2.0)
    finally:
        outbox.stop()


def test_each_write_is_sent_with_the_network_version_it_was_routed_under(db: Database) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True)  # type: ignore[arg-type]
    later = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    owe(db, "ms-01")
    owe(db, "ms-01", version=later)  # the network changed between the two tasks
    assert outbox.deliver_due() == 2
    assert remotes.versions == [VERSION, later]


def test_a_topology_changes_writes_are_sent_as_its_imports(db: Database) -> None:
    remotes = Remotes()
    outbox = Outbox(db, remotes, lambda: True)  # type: ignore[arg-type]
    owe(db, "ms-01")
    owe(db, "ms-01", task_type="networkTopologyChange")
    owe(db, "ms-01")
    assert outbox.deliver_due() == 3
    assert remotes.changes == [False, True, False]
