"""Document batches indexed before their write transaction, then written in a short one.

The worker used to run a document batch (payload parsing, merging with stored
documents, indexing, row writes) inside one write transaction, so this process's
database writer (Database.write) was busy for the whole batch and every `POST
/indexes/x/documents` waited for it to enqueue its task: 1.9 s behind a 200k-document
batch. Here the batch is applied in two steps:

1. :func:`stage`, in a read transaction: each task's documents go into the search
   index (held unpublished by IndexCatalog.applying), and what it must write is kept
   as a :class:`Written`: a replacement's rows are its payload's lines, already stored,
   so none is held; an update's (or a skipCreation's) merged rows are. Stored documents
   are read through an :class:`Overlay` of the batch's earlier writes, so a later task
   sees what the earlier ones did, as in the one-transaction path.
2. :func:`write`, in the worker's fenced write transaction: the rows, deletions, index
   record changes and outbox shares in task order, then (worker._apply) the tasks'
   outcomes, the payloads' deletion and the trace.

Nothing reaches the database before step 2, which commits all or nothing and only while
this node holds the lease, so a crash or a lost lease at any point leaves the tasks
`processing` and the database as it was; the rerun gives the same final state. Only the
worker writes documents and index records, so what step 1 read still holds in step 2
(another node that took the lease meanwhile makes step 2's fence fail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from sift.engine.settings import default_settings
from sift.errors import IndexNotFound, SiftError
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage.tasks import TaskRecord
from sift.tasks import documents, progress
from sift.tasks.handlers import forwarded, loaded_state

if TYPE_CHECKING:
    from sift.tasks.worker import Outcome, WorkerContext

ADDITION = "documentAdditionOrUpdate"
_ABSENT = object()


def eligible(ctx: WorkerContext, batch: list[TaskRecord]) -> bool:
    """Whether ``batch`` is a document batch this path applies. Not on a node holding
    some shards (deleting by filter reads every document from SQL, catalog.filter_view,
    which must see the batch's earlier tasks), nor when an addition would create an index
    whose default settings embed (the vectors' files are named by the index's row id)."""
    if batch[0].type not in (ADDITION, "documentDeletion"):
        return False
    part = ctx.catalog.partition
    if part is not None and part.held is not None:
        return False
    return not default_settings(ctx.index_defaults).get("embedders")


class Overlay:
    """Stored documents as the batch's earlier writes leave them, over what the read
    transaction sees: a document id's body, or None once deleted. A task's own writes
    are kept apart until it succeeds (:meth:`commit`), so a failed task leaves none."""

    def __init__(self, conn: Connection, index_id: int | None) -> None:
        self.conn, self.index_id = conn, index_id
        self.done: dict[str, bytes | None] = {}
        self.task: dict[str, bytes | None] = {}
        self.cleared = index_id is None  # an index the batch creates holds nothing stored
        self.task_cleared = False

    def get_many(self, ids: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        unknown = []
        for doc_id in ids:
            body = self.task.get(doc_id, _ABSENT)
            if body is _ABSENT and not self.task_cleared:
                body = self.done.get(doc_id, _ABSENT)
            if body is _ABSENT:
                unknown.append(doc_id)
            elif body is not None:
                found[doc_id] = body  # type: ignore[assignment]
        if unknown and not (self.cleared or self.task_cleared) and self.index_id is not None:
            found.update(doc_rows.get_many(self.conn, self.index_id, unknown))
        return found

    def put(self, rows: list[tuple[str, bytes]]) -> None:
        self.task.update(rows)

    def delete(self, ids: list[str] | None) -> None:
        if ids is None:
            self.task.clear()
            self.task_cleared = True
        else:
            self.task.update(dict.fromkeys(ids))

    def commit(self) -> None:
        if self.task_cleared:
            self.done.clear()
            self.cleared = True
        self.done.update(self.task)
        self.rollback()

    def rollback(self) -> None:
        self.task = {}
        self.task_cleared = False


class HeldRows:
    """apply_additions' rows (documents.RowSink) for a staged task: kept for the write
    transaction only when they are not the payload's lines (``keep``), and noted in the
    overlay when a later read may need them (``track``)."""

    def __init__(self, overlay: Overlay, keep: bool, track: bool) -> None:
        self.overlay, self.keep, self.track = overlay, keep, track
        self.rows: dict[str, bytes] = {}

    def __enter__(self) -> HeldRows:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def existing(self, ids: list[str]) -> dict[str, bytes]:
        return self.overlay.get_many(ids)

    def write(self, rows: list[tuple[str, bytes]]) -> None:
        if self.keep:
            # A repeated id keeps its first place and its last body (doc_rows.upsert).
            self.rows.update(rows)
        if self.track:
            self.overlay.put(rows)

    def embedding_conn(self) -> Connection | None:
        return None  # a cache miss is written in a short transaction of its own


@dataclass
class Written:
    """A succeeded task's share of the write transaction."""

    task: TaskRecord
    details: dict[str, Any]
    primary_key: str | None
    set_primary_key: str | None = None  # the index's primary key, fixed by this task
    rows: dict[str, bytes] | None = None  # None for a replacement: its payload's lines
    id_lines: list[bytes] = field(default_factory=list)  # their ids, chunk by chunk
    deletion: bool = False
    deleted: list[str] | None = None  # a deletion's ids; None: every document


@dataclass
class Plan:
    """A staged batch: the index it writes and each task's outcome or writes."""

    uid: str
    index_id: int | None = None
    create: dict[str, Any] | None = None  # settings of the index an addition creates
    steps: list[Outcome | Written] = field(default_factory=list)


def _reads_stored(task: TaskRecord) -> bool:
    return task.type == ADDITION and (
        task.params.get("method") == "update" or bool(task.params.get("skipCreation"))
    )


def stage(ctx: WorkerContext, conn: Connection, batch: list[TaskRecord]) -> Plan:
    """Step 1 (the module's docstring), in the read transaction ``conn``: every task's
    changes to the search index, and what each must write."""
    from sift.tasks.worker import Outcome

    received = sum(int((t.details or {}).get("receivedDocuments") or 0) for t in batch)
    progress.current().enter(1, "document", 0, received)
    plan = Plan(batch[0].index_uid or "")
    state: documents.IndexState | None = None
    overlay: Overlay | None = None
    for i, task in enumerate(batch):
        if state is None:
            record = index_rows.get(conn, plan.uid)
            if record is None and task.type != ADDITION:
                # Like Meilisearch, a deletion before the index exists fails alone.
                plan.steps.append(Outcome("failed", task.details,
                                          IndexNotFound(plan.uid).to_dict()))  # fmt: skip
                continue
            if record is None:
                # Adding documents creates the index even if the task then fails.
                plan.create = default_settings(ctx.index_defaults)
                search = ctx.catalog.create(plan.uid, plan.create, None)
                state = documents.IndexState(0, plan.uid, None, search)  # id: made in step 2
            else:
                plan.index_id = record.id
                state = loaded_state(ctx, record)
            overlay = Overlay(conn, plan.index_id)
        assert overlay is not None
        later_reads = any(map(_reads_stored, batch[i + 1 :]))
        if task.type == ADDITION:
            plan.steps.append(_addition(ctx, conn, state, overlay, task, later_reads))
        else:
            plan.steps.append(_deletion(state, overlay, task))
    return plan


def _addition(
    ctx: WorkerContext,
    conn: Connection,
    state: documents.IndexState,
    overlay: Overlay,
    task: TaskRecord,
    later_reads: bool,
) -> Outcome | Written:
    from sift.tasks.worker import Outcome

    details = dict(task.details or {})
    fixes_key = state.primary_key is None
    try:
        primary_key = documents.resolve_primary_key(state, task, conn)
        if primary_key is None:  # an empty payload
            details["indexedDocuments"] = 0
            return Outcome("succeeded", details)
        payload = documents.validate(conn, task, primary_key)
        if fixes_key:
            state.primary_key = state.search.primary_key = primary_key
        keep = _reads_stored(task)
        # A replacement's rows are its payload's lines: step 2 needs only their ids.
        id_lines = [] if keep else [chunk.id_lines for chunk in payload]
        sink = HeldRows(overlay, keep=keep, track=keep or later_reads)
        details["indexedDocuments"] = documents.apply_additions(
            ctx.db, conn, state, task, primary_key, ctx.batch_size, payload, sink
        )
    except SiftError as error:
        overlay.rollback()
        if fixes_key:  # the failed task fixed nothing: a later one may set another key
            state.primary_key = state.search.primary_key = None
        details["indexedDocuments"] = 0
        return Outcome("failed", details, error.to_dict())
    overlay.commit()
    return Written(task, details, primary_key, primary_key if fixes_key else None,
                   sink.rows if keep else None, id_lines)  # fmt: skip


def _deletion(state: documents.IndexState, overlay: Overlay,
              task: TaskRecord) -> Outcome | Written:  # fmt: skip
    from sift.tasks.worker import Outcome

    try:
        ids = documents.delete_from_index(state, task)
    except SiftError as error:
        return Outcome("failed", task.details, error.to_dict())
    overlay.delete(ids)
    overlay.commit()
    return Written(task, dict(task.details or {}), state.primary_key, deletion=True, deleted=ids)


def write(ctx: WorkerContext, conn: Connection, plan: Plan) -> list[Outcome]:
    """Step 2, in the worker's fenced write transaction ``conn``: every task's writes in
    task order; returns the outcomes."""
    from sift.tasks.worker import Outcome

    index_id = plan.index_id
    if plan.create is not None:
        index_id = index_rows.create(conn, plan.uid, None, plan.create).id
    outcomes: list[Outcome] = []
    for step in plan.steps:
        if isinstance(step, Outcome):
            outcomes.append(step)
            continue
        assert index_id is not None
        details = step.details
        if step.set_primary_key is not None:
            index_rows.update(conn, plan.uid, primary_key=step.set_primary_key)
        if step.deletion:
            details["deletedDocuments"] = documents.delete_rows(conn, index_id, step.deleted)
        elif step.rows is not None:
            doc_rows.upsert(ctx.db, conn, index_id, list(step.rows.items()))
        else:
            documents.write_payload_rows(ctx.db, conn, index_id, step.task, step.id_lines)
        index_rows.touch(conn, plan.uid)
        outcomes.append(forwarded(ctx, conn, step.task, details, step.primary_key))
    return outcomes
