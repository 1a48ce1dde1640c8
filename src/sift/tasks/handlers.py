"""One handler per task kind. Each returns the task's outcome; none commits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from sift.engine.settings import apply_patch, default_settings
from sift.errors import IndexNotFound, SiftError
from sift.rules import store as rule_store
from sift.semantic import service as semantic
from sift.storage import batches as batch_rows
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from sift.storage.database import utcnow
from sift.storage.tasks import TaskFilter, TaskRecord
from sift.tasks import documents, forwarding, progress, topology
from sift.tasks.embedding import settings_patch

if TYPE_CHECKING:
    from sift.tasks.worker import Outcome, WorkerContext


def run_batch(ctx: WorkerContext, conn: Connection, batch: list[TaskRecord]) -> list[Outcome]:
    from sift.tasks.worker import Outcome

    if batch[0].type in DOCUMENT_TYPES:
        return document_batch(ctx, conn, batch)
    report = progress.current()
    outcomes = []
    for i, task in enumerate(batch):
        if len(batch) > 1:
            report.enter(1, "task", i, len(batch))
        nested = conn.begin_nested()
        try:
            details = HANDLERS[task.type](ctx, conn, task)
            nested.commit()
            outcomes.append(Outcome("succeeded", details))
        except SiftError as error:
            nested.rollback()
            outcomes.append(Outcome("failed", task.details, error.to_dict()))
    return outcomes


def _index_state(
    ctx: WorkerContext, conn: Connection, uid: str, create_pk: str | None, create: bool
) -> documents.IndexState:
    record = index_rows.get(conn, uid)
    if record is None:
        if not create:
            raise IndexNotFound(uid)
        settings = default_settings(ctx.index_defaults)
        record = index_rows.create(conn, uid, create_pk, settings)
        ctx.catalog.create(uid, settings, create_pk)
    return loaded_state(ctx, record)


def loaded_state(ctx: WorkerContext, record: index_rows.IndexRecord) -> documents.IndexState:
    """The state of an index whose row exists: its search index as this process holds it
    (made from the row where this process has none yet)."""
    uid = record.uid
    search = ctx.catalog.find(uid) or ctx.catalog.create(uid, record.settings, record.primary_key)
    return documents.IndexState(record.id, uid, record.primary_key, search)


def document_batch(ctx: WorkerContext, conn: Connection, batch: list[TaskRecord]) -> list[Outcome]:
    """Additions (replace or update) and deletions of one index, in task order, as the
    autobatcher merged them (worker.select_batch). Each task runs in a savepoint of its own
    and keeps its own outcome: a failing one changes nothing and fails alone, and a later
    task sees what the earlier ones did. The catalog holds the search index for the whole
    batch (IndexCatalog.applying), so it is published once, after the commit."""
    from sift.tasks.worker import Outcome

    received = sum(int((t.details or {}).get("receivedDocuments") or 0) for t in batch)
    progress.current().enter(1, "document", 0, received)
    uid = batch[0].index_uid or ""
    state: documents.IndexState | None = None
    outcomes: list[Outcome] = []
    for task in batch:
        if state is None:
            try:
                # Like Meilisearch, adding documents creates the index even if the task
                # then fails (so outside the task's savepoint); deleting does not.
                create = task.type == "documentAdditionOrUpdate"
                state = _index_state(ctx, conn, uid, None, create=create)
            except SiftError as error:  # a deletion before the index exists fails alone
                outcomes.append(Outcome("failed", task.details, error.to_dict()))
                continue
        if task.type == "documentAdditionOrUpdate":
            outcomes.append(_addition(ctx, conn, state, task))
        else:
            outcomes.append(_deletion(ctx, conn, state, task))
    return outcomes


def _addition(ctx: WorkerContext, conn: Connection, state: documents.IndexState,
              task: TaskRecord) -> Outcome:  # fmt: skip
    from sift.tasks.worker import Outcome

    details = dict(task.details or {})
    nested = conn.begin_nested()
    try:
        primary_key = documents.resolve_primary_key(state, task, conn)
        if primary_key is None:  # an empty payload
            details["indexedDocuments"] = 0
            nested.commit()
            return Outcome("succeeded", details)
        payload = documents.validate(conn, task, primary_key)
        if state.primary_key is None:
            index_rows.update(conn, state.uid, primary_key=primary_key)
            state.primary_key = primary_key
            state.search.primary_key = primary_key
        details["indexedDocuments"] = documents.apply_additions(
            ctx.db, conn, state, task, primary_key, ctx.batch_size, payload
        )
        index_rows.touch(conn, state.uid)
        nested.commit()
    except SiftError as error:
        nested.rollback()
        details["indexedDocuments"] = 0
        return Outcome("failed", details, error.to_dict())
    return forwarded(ctx, conn, task, details, primary_key)


def forwarded(ctx: WorkerContext, conn: Connection, task: TaskRecord,
               details: dict[str, Any], primary_key: str | None) -> Outcome:  # fmt: skip
    """The succeeded task, its share owed to each remote with a database of its own
    (tasks/forwarding.py); their task uids go in its details' `network` once sent
    (cluster/outbox.py), which the task's view shows beside the details as Meilisearch
    does."""
    from sift.tasks.worker import Outcome

    network = forwarding.forward(ctx.forwarder, conn, task, primary_key)
    if network is not None:
        details = {**details, "network": network}
    return Outcome("succeeded", details)


def _deletion(ctx: WorkerContext, conn: Connection, state: documents.IndexState,
              task: TaskRecord) -> Outcome:  # fmt: skip
    from sift.tasks.worker import Outcome

    nested = conn.begin_nested()
    try:
        # A node holding some shards filters over every document, read inside this
        # transaction, so it sees the batch's earlier tasks too (catalog.filter_view).
        everything = (
            ctx.catalog.filter_view(state.uid, conn) if "filter" in task.params else None
        )
        details = documents.apply_deletion(conn, state, task, everything)
        index_rows.touch(conn, state.uid)
        nested.commit()
    except SiftError as error:
        nested.rollback()
        return Outcome("failed", task.details, error.to_dict())
    return forwarded(ctx, conn, task, details, state.primary_key)


def index_creation(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    uid = task.index_uid or ""
    if index_rows.get(conn, uid) is not None:
        raise SiftError(f"Index `{uid}` already exists.", "index_already_exists")
    primary_key = task.params.get("primaryKey")
    settings = default_settings(ctx.index_defaults)
    index_rows.create(conn, uid, primary_key, settings)
    ctx.catalog.create(uid, settings, primary_key)
    return _with_network(ctx, conn, task, {"primaryKey": primary_key})


def index_update(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    uid = task.index_uid or ""
    record = index_rows.get(conn, uid)
    if record is None:
        raise IndexNotFound(uid)
    details = dict(task.details or {})
    primary_key = task.params.get("primaryKey")
    if primary_key is not None and primary_key != record.primary_key:
        search = ctx.catalog.get(uid)
        # The database's count: this node may hold only some shards of the index.
        if record.primary_key is not None and doc_rows.count(conn, record.id) > 0:
            raise SiftError(
                f"Index `{uid}`: Index already has a primary key: `{record.primary_key}`.",
                "index_primary_key_already_exists",
            )
        index_rows.update(conn, uid, primary_key=primary_key)
        search.primary_key = primary_key
    new_uid = task.params.get("newIndexUid")
    if new_uid and new_uid != uid:
        if index_rows.get(conn, new_uid) is not None:
            raise SiftError(f"Index `{new_uid}` already exists.", "index_already_exists")
        _rename_index(ctx, conn, uid, new_uid)
    return _with_network(ctx, conn, task, details)


def index_deletion(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    uid = task.index_uid or ""
    record = index_rows.get(conn, uid)
    if record is None:
        raise IndexNotFound(uid)
    deleted = index_rows.delete(conn, record)
    ctx.catalog.drop(uid)
    return _with_network(ctx, conn, task, {"deletedDocuments": deleted})


def index_swap(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    swaps = (task.details or {}).get("swaps", [])
    # A rename moves the first index to a new uid, so only the first one has to exist.
    missing = [
        uid
        for swap in swaps
        for uid in (swap["indexes"][:1] if swap.get("rename") else swap["indexes"])
        if index_rows.get(conn, uid) is None
    ]
    if missing:
        names = ", ".join(f"`{m}`" for m in dict.fromkeys(missing))
        raise SiftError(f"Indexes {names} not found.", "index_not_found")
    for swap in swaps:
        first, second = swap["indexes"]
        if swap.get("rename"):
            _rename_index(ctx, conn, first, second)
            continue
        index_rows.swap(conn, first, second)
        # Meilisearch also swaps the index uids in the task history.
        task_rows.rename_index(conn, first, "~swap")
        task_rows.rename_index(conn, second, first)
        task_rows.rename_index(conn, "~swap", second)
        ctx.catalog.swap(first, second)
    return _with_network(ctx, conn, task, dict(task.details or {}))


def _rename_index(ctx: WorkerContext, conn: Connection, old: str, new: str) -> None:
    if index_rows.get(conn, new) is not None:
        raise SiftError(
            f"Index `{new}` already exists; a swap with `rename: true` needs a free target uid.",
            "index_already_exists",
        )
    index_rows.rename(conn, old, new)
    task_rows.rename_index(conn, old, new)
    ctx.catalog.rename(old, new)


def index_compaction(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    """Nothing to rewrite: documents live in SQL rows, which the database keeps compact
    itself, and the search index is rebuilt in memory. The task exists for API parity."""
    uid = task.index_uid or ""
    record = index_rows.get(conn, uid)
    if record is None:
        raise IndexNotFound(uid)
    _, size, _ = doc_rows.sizes(conn, record.id)
    return {"preCompactionSize": f"{size} B", "postCompactionSize": f"{size} B"}


def settings_update(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    uid = task.index_uid or ""
    state = _index_state(ctx, conn, uid, None, create=True)
    record = index_rows.get(conn, uid)
    assert record is not None
    # `embedders` merge per embedder, as in Meilisearch (see embedders.merge_patch).
    patch = settings_patch(record.settings, task.params.get("settings", {}))
    settings = apply_patch(record.settings, patch, ctx.index_defaults)
    index_rows.update(conn, uid, settings=settings)
    semantic.on_settings(ctx.db, conn, record.id, state.search, settings)  # validates first
    state.search.set_settings(settings)
    # The leader sends the same patch to the remotes with databases of their own.
    return _with_network(ctx, conn, task, task.details or {})


def _with_network(ctx: WorkerContext, conn: Connection, task: TaskRecord,
                  details: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """``details`` with the remotes the leader owes ``task`` (settings and index tasks go
    to every remote with a database of its own, tasks/forwarding.py)."""
    network = forwarding.forward(ctx.forwarder, conn, task, None)
    return {**details, **({"network": network} if network else {})}


def _filter_from(task: TaskRecord) -> TaskFilter:
    from sift.tasks.filters import task_filter_from_params

    return task_filter_from_params(task.params.get("filter", {}))


def task_cancelation(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    flt = _filter_from(task)
    flt.statuses = [
        s for s in (flt.statuses or ["enqueued", "processing"]) if s in ("enqueued", "processing")
    ]
    uids = [u for u in task_rows.matching_uids(conn, flt) if u != task.uid]
    canceled = task_rows.cancel(conn, uids, task.uid, utcnow())
    task_rows.delete_payloads(conn, uids)
    details = dict(task.details or {})
    details["canceledTasks"] = canceled
    return details


def task_deletion(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    uids = [u for u in task_rows.matching_uids(conn, _filter_from(task)) if u != task.uid]
    deleted = task_rows.delete(conn, uids)
    batch_rows.prune(conn)
    details = dict(task.details or {})
    details["deletedTasks"] = deleted
    return details


def rules_update(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    return rule_store.apply_update(conn, dict(task.details or {}), task.params,
                                   task.started_at or utcnow())


def rules_clear(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    return rule_store.apply_clear(conn, dict(task.details or {}))


DOCUMENT_TYPES = ("documentAdditionOrUpdate", "documentDeletion")

HANDLERS = {
    "indexCreation": index_creation,
    "indexUpdate": index_update,
    "indexDeletion": index_deletion,
    "indexSwap": index_swap,
    "indexCompaction": index_compaction,
    "settingsUpdate": settings_update,
    "taskCancelation": task_cancelation,
    "taskDeletion": task_deletion,
    rule_store.UPDATE: rules_update,
    rule_store.CLEAR: rules_clear,
    topology.TYPE: topology.run,
}
