"""The task worker: takes enqueued tasks in uid order, batches, runs, records.

One worker runs per data store: the holder of the worker lease (src/sift/cluster).
It marks a batch `processing` in one transaction, then applies the batch and records
every task's outcome in a second one; both are fenced by the lease, so a node that lost
it commits neither. A crash between the two leaves tasks `processing`; the next holder
(the same node after a restart, or another) puts them back to `enqueued` and they run
again from scratch, which is safe because the second transaction is all-or-nothing.

A document batch is indexed before that second transaction opens (tasks/staged.py):
its documents enter the unpublished search index while only a read transaction is open,
and the write transaction holds just the rows, the outcomes and the payloads' deletion.
This process's database writer is therefore free while a batch is indexed, and a `POST
/indexes/x/documents` enqueues without waiting for it (it waited for the whole batch:
1.9 s behind a 200k-document one). Other batches (settings, index and task operations,
and document batches on a node holding some shards) still run inside the transaction.

Between the two, embeddings the batch needs are computed and cached chunk by chunk
in short transactions of their own (tasks/embedding.py), so a crash while
embedding loses at most one chunk of work: the rerun finds the rest in the cache.
While a batch runs, :attr:`Worker.processing` holds its progress (tasks/progress.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from sift.catalog import IndexCatalog
from sift.cluster import LeaseLost, WorkerLease
from sift.cluster.forward import Forwarder
from sift.errors import SiftError
from sift.ops import backups
from sift.rules import store as rule_store
from sift.storage import batches as batch_rows
from sift.storage import tasks as task_rows
from sift.storage.commits import CommitWatch
from sift.storage.database import Database, error_summary, is_transient, utcnow
from sift.storage.tasks import TaskRecord
from sift.tasks import cores as worker_cores
from sift.tasks import embedding, handlers, memory, staged, stagetrace
from sift.tasks.progress import BatchProgress, Interrupted, reporting

log = logging.getLogger("sift.worker")

PRIORITY_TYPES = ("taskCancelation", "taskDeletion")
BATCHABLE = {"documentAdditionOrUpdate", "documentDeletion"}
MAX_BATCH_TASKS = 100
# A merge of every segment waits for the queue to stay empty this long: a steady stream
# (a sync source's windows, a snapshot's batches) leaves the worker idle for moments
# between batches, and merging the whole index in them (py-spy, a 200k-row snapshot: 7 %
# of the server's samples) delayed the next batch; tiered merging bounds the segments.
OPTIMIZE_IDLE_S = 1.0


@dataclass
class Outcome:
    status: str
    details: dict[str, Any] | None
    error: dict[str, Any] | None = None


@dataclass
class WorkerContext:
    db: Database
    catalog: IndexCatalog
    index_defaults: str
    batch_size: int
    on_change: Callable[[], None] = field(default=lambda: None)
    # Called once a batch that changed search rules is committed or followed (sift.rules).
    on_rules_change: Callable[[], None] = field(default=lambda: None)
    dump_dir: Path = Path("dumps")
    snapshot_dir: Path = Path("snapshots")
    # Called with the task uids of each batch once its outcome is committed (webhooks).
    on_batch: Callable[[list[int]], None] = field(default=lambda uids: None)
    lease_timeout: float = 5.0  # seconds without a heartbeat before another node takes over
    # Sends the leader's document tasks to remotes with databases of their own.
    forwarder: Forwarder | None = None


def compatible(first: TaskRecord, other: TaskRecord) -> bool:
    """Whether `other` may run in the same batch as `first`: document additions (replace
    or update) and deletions of one index merge, in order, as Meilisearch's autobatcher
    merges them; handlers.document_batch keeps each task's own outcome."""
    return (other.index_uid == first.index_uid
            and first.type in BATCHABLE and other.type in BATCHABLE)  # fmt: skip


def select_batch(conn: Connection) -> list[TaskRecord]:
    enqueued = task_rows.next_enqueued(conn, 1000)
    if not enqueued:
        return []
    for task in enqueued:
        if task.type in PRIORITY_TYPES:
            return [task]
    first = enqueued[0]
    batch = [first]
    if first.type in BATCHABLE:
        for task in enqueued[1:]:
            if len(batch) >= MAX_BATCH_TASKS or not compatible(first, task):
                break
            batch.append(task)
    return batch


class Worker:
    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease = WorkerLease(ctx.db, ctx.lease_timeout)
        # The progress of the batch this process is applying, for GET /batches.
        self.processing: BatchProgress | None = None
        # A batch ran since the indexes were last optimized and warmed (not at the start:
        # Catalog.rebuild merged and warmed the indexes it loaded before serving them).
        self._dirty = False
        # A batch was published since the filter and facet views and the typo rows were
        # last built (Catalog.warm_views): once the queue is empty, without
        # OPTIMIZE_IDLE_S.
        self._views_stale = False
        self._worked_at = 0.0  # when the last batch ended (time.monotonic)
        # The idle polls read only after a commit (storage/commits.py): the leader's of
        # the queue, a follower's of the batches another node finished.
        self._queue_commits = CommitWatch(ctx.db.data_version)
        # Called between a staged batch's indexing and its write transaction (tests
        # inject a crash or a lost lease there).
        self.staged_hook: Callable[[], None] = lambda: None
        self._follow_commits = CommitWatch(ctx.db.data_version)
        with ctx.db.read() as conn:
            # The last batch whose changes this process's indexes hold.
            self._seen_batch = task_rows.last_finished_batch(conn)

    def start(self) -> None:
        memory.freeze_startup()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sift-worker", daemon=True)
        self._thread.start()

    def _become_leader(self) -> bool:
        """Take the worker lease if free; the new leader reruns interrupted tasks."""
        if self.lease.held:
            return True
        if not self.lease.try_acquire():
            return False
        with self.lease.fenced() as conn:
            requeued = task_rows.requeue_interrupted(conn)
        if requeued:
            log.warning("requeued interrupted tasks", extra={"tasks": requeued})
        # Whatever a previous leader did since this process last looked must be loaded.
        self.follow()
        return True

    def follow(self) -> None:
        """Load changes that another process's worker committed into this process's indexes."""
        with self.ctx.db.read() as conn:
            changed = task_rows.finished_in_batches_after(conn, self._seen_batch)
        if not changed:
            return
        self._seen_batch = max(t.batch_uid for t in changed if t.batch_uid is not None)
        touched: set[str] = set()
        if any(t.type in rule_store.TASK_TYPES and t.status == "succeeded" for t in changed):
            self.ctx.on_rules_change()
        for task in changed:
            if task.status != "succeeded":
                continue
            if task.index_uid:
                touched.add(task.index_uid)
            touched.update(
                uid for swap in (task.details or {}).get("swaps", []) for uid in swap["indexes"]
            )
            if task.type == "indexUpdate":
                touched.add((task.details or {}).get("newIndexUid") or "")
        for uid in sorted(touched - {""}):
            self.ctx.catalog.rebuild(uid)

    def progress_of(self, batch_uid: int | None) -> dict[str, Any] | None:
        """The live progress view of batch ``batch_uid`` if this process is applying it
        (in memory: with several nodes only the lease holder knows it), else None."""
        current = self.processing
        if current is None or batch_uid is None or current.batch_uid != batch_uid:
            return None
        return current.view()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        current = self.processing
        if current is not None:
            current.stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lease.release()

    def _run(self) -> None:
        worker_cores.unpin_thread()  # indexing and embedding may use every core
        while not self._stop.is_set():
            try:
                # The /network topology moved this node's shards: rebuild between batches.
                self.ctx.catalog.apply_requested_partition()
                if not self._become_leader():
                    if self._follow_commits.changed():
                        self.follow()
                        self._follow_commits.caught_up()
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                worked = self.run_once()
            except LeaseLost as exc:
                # Another node leads now: it reruns whatever this one left unfinished.
                log.warning("stepping down: %s", exc)
                self.lease.release()
                worked = False
            except Exception as exc:  # a bug must not kill the worker; the batch reruns
                if is_transient(exc):
                    # The database went away mid-batch: start over as a contender, so that
                    # the next holder (likely this node) requeues the interrupted tasks.
                    log.warning("database error, stepping down: %s", error_summary(exc))
                    self.lease.release()
                else:
                    log.exception("task batch crashed")
                worked = False
                self._stop.wait(1.0)
            if not worked:
                if self._views_stale:
                    # The queue is empty: rebuild the filter and facet views and the typo
                    # rows the batches dropped now, not in the first search that needs them.
                    self._views_stale = False
                    self.ctx.catalog.warm_views()
                if self._dirty and time.monotonic() - self._worked_at >= OPTIMIZE_IDLE_S:
                    # Idle: merge the segments the batches left (the leader is the
                    # only writer of its in-memory indexes).
                    self._dirty = False
                    # The batches' freed heap goes back first: the merge's transient (a
                    # second copy of the postings) then starts from a lower RSS (-2 MiB
                    # of a 200k import's peak, docs/benchmarks/memory.md "Peak RSS of a 200k
                    # import, third pass").
                    memory.release()
                    self.ctx.catalog.optimize()
                    if not self._stop.is_set():
                        # One-letter searches' totals, once per version; not for a stop
                        # waiting on this pass: the image holds none of it (IndexCatalog
                        # merges what it writes, and the next start warms what it loads).
                        self.ctx.catalog.warm()
                    # The batches' replaced arrays (and a deleted index) were freed:
                    # hand the pages back rather than keep them in malloc's arenas.
                    memory.collect_garbage(idle=True)
                    memory.release()
                self._wake.wait(0.5)
                self._wake.clear()
            else:
                self._dirty = self._views_stale = True
                self._worked_at = time.monotonic()

    def run_once(self) -> bool:
        """Process one batch. Returns False when nothing was enqueued."""
        db = self.ctx.db
        if not self._queue_commits.changed():
            return False  # nothing committed since the queue was last seen empty
        with db.read() as conn:  # the idle poll: no write transaction, no fence to renew
            if not task_rows.has_enqueued(conn):
                self._queue_commits.caught_up()
                return False
        with self.lease.fenced() as conn:
            batch = select_batch(conn)
            if not batch:
                return False
            started = utcnow()
            batch_uid = self.lease.next_batch_uid(conn)
            task_rows.mark_processing(conn, [t.uid for t in batch], batch_uid, started)
        picked = time.time()
        for task in batch:
            task.status, task.started_at, task.batch_uid = "processing", started, batch_uid
        report = BatchProgress(batch_uid)
        self.processing = report
        try:
            with reporting(report):
                stamps = self._apply(batch, batch_uid, report)
            if stamps and stagetrace.enabled():
                stagetrace.write({"e": "batch", "tasks": [t.uid for t in batch],
                                  "picked": picked, **stamps})  # fmt: skip
        except Interrupted:
            # Stopping while embedding ahead of the batch: what was embedded is cached,
            # the tasks stay `processing` and the next leader reruns them.
            log.warning("batch interrupted by shutdown", extra={"batch": batch_uid})
            return True
        finally:
            self.processing = None
        if report.embedded or report.cached:
            log.info(
                "batch embeddings",
                extra={"batch": batch_uid, "embedded": report.embedded, "cached": report.cached},
            )
        # This process applied the batch itself: following must not reload it. (Not the
        # newest batch in the database: another node may have taken over and run more.)
        self._seen_batch = batch_uid
        if any(t.type in rule_store.TASK_TYPES for t in batch):
            self.ctx.on_rules_change()
        self.ctx.on_change()
        self.ctx.on_batch([t.uid for t in batch])
        return True

    def _apply(self, batch: list[TaskRecord], batch_uid: int,
               report: BatchProgress) -> dict[str, float] | None:  # fmt: skip
        """Run the batch; returns when it was applied, committed and published (epoch
        seconds, for stagetrace), or None for a backup or a failed batch."""
        if batch[0].type in backups.TASK_TYPES:
            report.enter(0, "writing the backup", 0, 1)
            self._backup(batch[0], batch_uid, report)
            return None
        embedded = embedding.prepare(self.ctx, batch)  # commits as it goes, before the batch
        step = "applying settings" if batch[0].type == "settingsUpdate" else "indexing"
        report.enter(0, step, int(embedded), 1 + int(embedded))
        try:
            # Searches see the batch once it has committed, all at once (catalog.py).
            # The collection that ends the pause runs after the commit and publication:
            # the batch is visible without waiting for it.
            with memory.cyclic_gc_paused():
                with self.ctx.catalog.applying() as committing:
                    plan: staged.Plan | None = None
                    if staged.eligible(self.ctx, batch):
                        # Indexed outside the write transaction: enqueues are not held
                        # up by it (tasks/staged.py).
                        with self.ctx.db.read() as reading:
                            plan = staged.stage(self.ctx, reading, batch)
                        self.staged_hook()
                    with self.lease.fenced() as conn:
                        if plan is not None:
                            # The index is final: its views are built while the rows
                            # are written (IndexCatalog.applying); task reads wait only
                            # from the commit on.
                            committing(lock=False)
                            outcomes = staged.write(self.ctx, conn, plan)
                        else:
                            outcomes = handlers.run_batch(self.ctx, conn, batch)
                        applied = time.time()
                        finished = utcnow()
                        for task, outcome in zip(batch, outcomes, strict=True):
                            task_rows.finish(conn, task.uid, outcome.status, outcome.details,
                                             outcome.error, finished)  # fmt: skip
                        task_rows.delete_payloads(conn, [t.uid for t in batch])
                        batch_rows.record_trace(conn, batch_uid, report.trace())
                        committing()
                    committed = time.time()
                published = time.time()
            return {"applied": applied, "committed": committed, "published": published}
        except Exception as exc:
            # The transaction rolled back: the search indexes may hold part of
            # the batch, so rebuild them from the database, then record the failure
            # so that a deterministic bug does not rerun the same batch forever.
            self.ctx.catalog.rebuild()
            if isinstance(exc, LeaseLost) or is_transient(exc):
                raise  # nothing the tasks did: they run again (worker._run)
            log.exception("task batch failed", extra={"batch": batch_uid})
            error = SiftError(f"Internal error while processing the task: {exc}", "internal")
            with self.lease.fenced() as conn:
                for task in batch:
                    task_rows.finish(
                        conn, task.uid, "failed", task.details, error.to_dict(), utcnow()
                    )
                task_rows.delete_payloads(conn, [t.uid for t in batch])
            return None

    def _backup(self, task: TaskRecord, batch_uid: int, report: BatchProgress) -> None:
        """A dump or a snapshot: read outside the write transaction (see sift.ops.backups),
        then the outcome recorded in a short one."""
        uid = backups.backup_uid(task.started_at or utcnow())
        try:
            if task.type == "dumpCreation":
                backups.write_dump(self.ctx.db, self.ctx.dump_dir, uid)
                outcome = Outcome("succeeded", {"dumpUid": uid})
            else:
                backups.write_snapshot(self.ctx.db, self.ctx.snapshot_dir, uid)
                # Named like a dump's `dumpUid`: the file is `<snapshotUid>.snapshot`.
                outcome = Outcome("succeeded", {"snapshotUid": uid})
        except SiftError as error:
            outcome = failure(error, task.details)
        except Exception as exc:  # a bug must not leave the task `processing` forever
            log.exception("backup crashed", extra={"task": task.uid})
            outcome = failure(SiftError(f"Internal error while writing the backup: {exc}",
                                        "internal"), task.details)  # fmt: skip
        log.info("backup written" if outcome.status == "succeeded" else "backup failed",
                 extra={"task": task.uid, "type": task.type, "backup": uid})
        with self.lease.fenced() as conn:
            task_rows.finish(conn, task.uid, outcome.status, outcome.details, outcome.error,
                             utcnow())
            task_rows.delete_payloads(conn, [task.uid])
            batch_rows.record_trace(conn, batch_uid, report.trace())


def failure(error: SiftError, details: dict[str, Any] | None) -> Outcome:
    return Outcome("failed", details, error.to_dict())
