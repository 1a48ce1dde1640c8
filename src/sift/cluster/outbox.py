"""Delivers the writes the leader owes its remotes, in order, until each is answered.

The worker adds a document or settings task's request for each remote with a database of
its own to the outbox (storage/outbox.py) in the transaction of the task's outcome, so a
write is owed exactly when its task committed, and a crash loses none. This sender, on
the worker-lease holder, sends them once the batch has committed (the worker wakes it),
off the worker's thread: the database writer is never held while a remote is waited on.

Each remote gets its writes in the leader's task order: only its earliest pending write
is sent, and the later ones wait behind it (an update after a deletion must not overtake
it). A remote that does not answer, or answers with a 5xx, is tried again after a
backoff that doubles from ``BACKOFF_FIRST`` up to ``BACKOFF_MAX`` seconds, for as long as
it takes; a remote that refuses the write (a 4xx) is not asked again, its error recorded.
The leader's task shows each remote's task uid, or the error of the last try, as
Meilisearch's ``network.remoteTasks`` (``taskUid`` null and no error: not sent yet).
Resending after a crash is safe: the remote deduplicates by origin (the leader's task and the
outbox row that owed the request, cluster/origin.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from sift.cluster.forward import Forwarder, is_network_change
from sift.cluster.rebalance import TASK_TYPE as TOPOLOGY_CHANGE
from sift.storage import outbox as rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database, error_summary, utcnow

log = logging.getLogger("sift.network")

BACKOFF_FIRST = 0.5  # seconds before the second try of a remote's write
BACKOFF_MAX = 30.0
POLL = 1.0  # seconds between looks at an outbox that owes writes (retries come due)


def backoff(attempts: int) -> float:
    """Seconds to wait after a write's ``attempts``-th failed try."""
    return min(BACKOFF_FIRST * 2 ** (attempts - 1), BACKOFF_MAX)


class Outbox:
    def __init__(self, db: Database, forwarder: Forwarder, leading: Callable[[], bool],
                 poll: float = POLL) -> None:  # fmt: skip
        self.db = db
        self.forwarder = forwarder
        self.leading = leading
        self.poll = poll
        self._changes: dict[int, bool] = {}  # task uid -> a networkTopologyChange's
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """New writes may be owed (a batch committed): send them now."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sift-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def pending(self) -> dict[str, int]:
        """How many writes each remote is owed."""
        with self.db.read() as conn:
            return rows.counts(conn)

    def _run(self) -> None:
        owed = True  # unknown until looked: a new lease holder may inherit writes
        while not self._stop.is_set():
            woke = self._wake.wait(self.poll)
            if woke:
                # Cleared only when seen: a notify landing after a timed-out wait and
                # before this line would otherwise be wiped, and with nothing owed the
                # batch's writes would wait for the next batch or lease.
                self._wake.clear()
            if self._stop.is_set():
                break
            if not self.leading():
                owed = True  # whoever leads meanwhile may leave writes behind
                continue
            if not owed and not woke:
                continue  # nothing was owed and no batch has committed since: no query
            try:
                owed = self.deliver_due() is not None
            except Exception as exc:  # the database away: the next round tries again
                owed = True
                log.warning("the outbox was not delivered: %s", error_summary(exc))

    def deliver_due(self) -> int | None:
        """Send every remote its pending writes, in order, up to the first that fails or
        whose retry is not due yet; how many were delivered, or None when nothing was
        owed at all (the sender then waits for a batch to wake it instead of polling)."""
        delivered = 0
        with self.db.read() as conn:
            heads = rows.heads(conn)
        if not heads:
            return None
        for head in heads:
            row: rows.Pending | None = head
            while row is not None and row.due_at <= utcnow() and not self._stop.is_set():
                if not self._deliver(row):
                    break
                delivered += 1
                row = self._next(row.remote)
        self._changes.clear()
        return delivered

    def _of_topology_change(self, task_uid: int) -> bool:
        """Whether the leader's task ``task_uid`` is a ``networkTopologyChange`` (its
        document writes are the remote's imports of that change)."""
        if is_network_change(task_uid):
            return False
        if task_uid not in self._changes:
            with self.db.read() as conn:
                task = task_rows.get(conn, task_uid)
            self._changes[task_uid] = task is not None and task.type == TOPOLOGY_CHANGE
        return self._changes[task_uid]

    def _next(self, remote: str) -> rows.Pending | None:
        with self.db.read() as conn:
            return next((h for h in rows.heads(conn) if h.remote == remote), None)

    def _deliver(self, row: rows.Pending) -> bool:
        """Send one write; whether the remote is done with it (taken, refused, or it
        shares the leader's database)."""
        # The row names the request (its part): a task may owe a remote several (a
        # topology change), each to be enqueued there once however often it is sent.
        answer = self.forwarder.deliver(row.remote, row.task_uid,
                                        (row.method, row.path, row.body), part=row.id,
                                        network_version=row.network_version,
                                        network_change=self._of_topology_change(
                                            row.task_uid))  # fmt: skip
        retry = answer is not None and (answer["error"] or {}).get("type") == "system"
        with self.db.write() as conn:
            if retry:
                attempts = row.attempts + 1
                due = utcnow() + timedelta(seconds=backoff(attempts))
                rows.postpone(conn, row.id, attempts, due)
            else:
                rows.done(conn, row.id)
            _show(conn, row.task_uid, row.remote, answer)
        return not retry


def _show(conn: Connection, task_uid: int, remote: str, answer: dict[str, Any] | None) -> None:
    """Put the remote's answer in the leader task's ``network.remoteTasks`` (None: the
    remote shares the leader's database, so it is left out)."""
    if is_network_change(task_uid):
        return  # no task to show it on: the leader's GET /network is the record
    task = task_rows.get(conn, task_uid)
    if task is None:
        return  # deleted since (a taskDeletion): nothing to show it on
    details = dict(task.details or {})
    network = dict(details.get("network") or {})
    remote_tasks = dict(network.get("remoteTasks") or {})
    if answer is None:
        remote_tasks.pop(remote, None)
    else:
        remote_tasks[remote] = answer
    if remote_tasks:
        details["network"] = {**network, "remoteTasks": remote_tasks}
    else:
        details.pop("network", None)
    task_rows.set_details(conn, task_uid, details)
