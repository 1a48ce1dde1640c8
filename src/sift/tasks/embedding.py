"""Embedding ahead of a batch's transaction: durable, resumable, with progress.

A batch is applied in one write transaction (worker.py), all or nothing. Embedding
can take hours (a CPU model does a few hundred texts a second), and a vector
computed inside that transaction would be lost with it on a crash. So, before the
worker opens the transaction, :func:`prepare` computes the vectors the batch will
need and caches them by content hash (storage/embeddings.py), committing every
chunk of ``EMBED_BATCH`` texts in its own short transaction; the batch itself then
finds them all in the cache.

Why this is safe:

* cache rows are a pure function of (embedder configuration, rendered text): writing
  them outside the task's transaction changes no visible state, a task that fails
  afterwards only leaves reusable rows, and inserts ignore rows already there;
* nothing else holds a write transaction on this thread meanwhile, so each chunk's
  commit takes SQLite's single writer lock briefly (the API's enqueues interleave)
  and on PostgreSQL simply commits;
* reads happen in short transactions too (one per page), so a long warm-up never pins
  an old snapshot (SQLite's WAL could not be checkpointed past it);
* the warm-up is only a forecast: the batch renders and looks up every text again
  inside its transaction and embeds any miss there (a document merged twice in one
  batch, an embedder that failed here), so a wrong or partial forecast costs time,
  never correctness. Errors here are logged and left to the batch to report.

After a crash the interrupted tasks run again (the worker requeues them); their
warm-up finds the chunks already committed and only embeds the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from sift.engine.settings import apply_patch
from sift.errors import SiftError
from sift.semantic import service as semantic
from sift.semantic.embedders import Embedder, merge_patch
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.schema import documents as documents_table
from sift.storage.tasks import TaskRecord
from sift.tasks import progress
from sift.tasks.documents import document_id, infer_primary_key, pend
from sift.tasks.payload import parse_chunk

if TYPE_CHECKING:
    from sift.tasks.worker import WorkerContext

log = logging.getLogger("sift.worker")

PAGE = 256  # documents rendered, looked up and embedded together
STEP = "embedding documents"


def settings_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A settings patch with its `embedders` merged per embedder into the current ones."""
    if isinstance(patch.get("embedders"), dict):
        merged = merge_patch(current.get("embedders") or {}, patch["embedders"])
        return {**patch, "embedders": merged}
    return patch


def prepare(ctx: WorkerContext, batch: list[TaskRecord]) -> bool:
    """Cache the vectors ``batch`` will need (see the module's docstring). Returns whether
    it had anything to embed (then the progress shows it as the batch's first step)."""
    kind = batch[0].type
    # A document batch may mix deletions in (worker.compatible): only additions embed.
    additions = [t for t in batch if t.type == "documentAdditionOrUpdate"]
    try:
        if additions:
            return _prepare_additions(ctx, additions)
        if kind == "settingsUpdate":
            return _prepare_settings(ctx, batch[0])
    except progress.Interrupted:
        raise
    except SiftError as exc:  # the batch meets the same error and fails the task with it
        log.warning("embedding ahead of the batch stopped", extra={"reason": exc.message})
    except Exception:  # a bug here must not keep the batch from running
        log.exception("embedding ahead of the batch failed")
    return bool(progress.current().view()["steps"])


def _embedders(ctx: WorkerContext, uid: str, settings: dict[str, Any]) -> dict[str, Embedder]:
    index = ctx.catalog.find(uid)
    found = semantic.current_embedders(index, settings) if index is not None else {}
    return {name: emb for name, emb in found.items() if not emb.user_provided}


def _prepare_additions(ctx: WorkerContext, batch: list[TaskRecord]) -> bool:
    db = ctx.db
    uid = batch[0].index_uid or ""
    with db.read() as conn:
        record = index_rows.get(conn, uid)
    if record is None or not record.settings.get("embedders"):
        return False  # a new index has no embedders yet: nothing to embed
    embedders = _embedders(ctx, uid, record.settings)
    if not embedders:
        return False
    report = progress.current()
    total = sum(int((t.details or {}).get("receivedDocuments") or 0) for t in batch)
    report.enter(0, STEP, 0, 2)
    report.enter(1, "document", 0, total * len(embedders))
    searchable = semantic.searchable_predicate(semantic.searchable_of(record.settings))
    primary_key = record.primary_key
    for task in batch:
        merge = task.params.get("method") == "update"
        try:
            for docs in _pages(_payload_docs(db, task.uid)):
                key = primary_key or task.params.get("primaryKey") or infer_primary_key(docs[0])
                primary_key = key
                pending: dict[str, dict[str, Any]] = {}
                for doc in docs:
                    pend(pending, document_id(doc, key), doc, merge)
                if merge:
                    with db.read() as conn:
                        existing = doc_rows.get_many(conn, record.id, list(pending))
                    for doc_id, body in existing.items():
                        pending[doc_id] = {**orjson.loads(body), **pending[doc_id]}
                items = [(i, d, semantic.take_vectors(d)) for i, d in pending.items()]
                semantic.warm_cache(db, record.id, embedders, searchable, items)
                report.advance((len(docs) - len(pending)) * len(embedders))
        except SiftError as exc:
            if exc.code == "vector_embedding_error":
                raise
            continue  # an invalid task: the batch fails it, with nothing to embed
    return True


def _prepare_settings(ctx: WorkerContext, task: TaskRecord) -> bool:
    db = ctx.db
    uid = task.index_uid or ""
    index = ctx.catalog.find(uid)
    with db.read() as conn:
        record = index_rows.get(conn, uid)
        count = doc_rows.count(conn, record.id) if record is not None else 0
    if record is None or index is None or count == 0:
        return False
    try:
        patch = settings_patch(record.settings, task.params.get("settings", {}))
        settings = apply_patch(record.settings, patch, ctx.index_defaults)
        stale = semantic.stale_embedders(index, settings)
    except SiftError:
        return False  # invalid settings: the task fails without embedding anything
    stale = {name: emb for name, emb in stale.items() if not emb.user_provided}
    if not stale:
        return False
    report = progress.current()
    report.enter(0, STEP, 0, 2)
    report.enter(1, "document", 0, count * len(stale))
    searchable = semantic.searchable_predicate(semantic.searchable_of(settings))
    for page in _stored_pages(db, record.id):
        items = []
        for doc_id, body in page:
            doc = orjson.loads(body)
            items.append((doc_id, doc, semantic.take_vectors(doc)))
        semantic.warm_cache(db, record.id, stale, searchable, items)
    return True


def _payload_docs(db: Database, task_uid: int) -> Iterator[dict[str, Any]]:
    """The task's documents, reading each payload chunk in a short transaction."""
    seq = -1
    while True:
        with db.read() as conn:
            row = task_rows.next_payload_chunk(conn, task_uid, seq)
        if row is None:
            return
        seq = row.seq
        yield from parse_chunk(row.data)


def _pages(docs: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    for doc in docs:
        page.append(doc)
        if len(page) >= PAGE:
            yield page
            page = []
    if page:
        yield page


def _stored_pages(db: Database, index_id: int) -> Iterator[list[tuple[str, bytes]]]:
    """Every stored document of the index, a page per short read transaction."""
    last = -1
    table = documents_table
    while True:
        with db.read() as conn:
            rows = conn.execute(
                sa.select(table.c.id, table.c.doc_id, table.c.body)
                .where(table.c.index_id == index_id, table.c.id > last)
                .order_by(table.c.id)
                .limit(PAGE)
            ).all()
        if not rows:
            return
        last = rows[-1].id
        yield [(r.doc_id, r.body) for r in rows]
