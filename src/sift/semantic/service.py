"""Semantic state per search index, kept in step with documents and settings.

Each lexical :class:`SearchIndex` gets a :class:`SemanticIndex` (its embedders and
one :class:`VectorIndex` per embedder), registered by object identity in a weak
map: index swaps and renames move it along with the lexical index, and a dropped
index frees it, without the catalog having to tell this module.

The task worker calls :func:`on_upsert`, :func:`on_delete` and :func:`on_settings`
inside the task's transaction; the catalog calls :func:`load` when it rebuilds an
index from the database. Vectors computed by a model are cached in SQL by content
hash (storage/embeddings.py), so none of these paths recomputes an unchanged one.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.engine import Connection

from sift.errors import SiftError
from sift.semantic.embedders import Embedder, parse
from sift.semantic.vectors import VectorIndex
from sift.storage import embeddings as cache_rows

if TYPE_CHECKING:
    from sift.engine.index import SearchIndex
    from sift.storage.database import Database

log = logging.getLogger("sift.semantic")

EMBED_BATCH = 64
# Where the exported ONNX query graph is kept; beside the data by default.
MODEL_CACHE = Path(os.environ.get("SIFT_MODEL_CACHE", Path.home() / ".cache" / "sift" / "models"))


@dataclass
class SemanticIndex:
    embedders: dict[str, Embedder] = field(default_factory=dict)
    vectors: dict[str, VectorIndex] = field(default_factory=dict)
    # Documents whose vectors the user supplied with `regenerate: false`, per embedder.
    fixed: dict[str, set[str]] = field(default_factory=dict)

    def default_embedder(self) -> str | None:
        """The embedder a search without `hybrid.embedder` uses: the only one, or
        `default`; userProvided ones cannot embed a query, so they never qualify."""
        usable = [n for n, e in self.embedders.items() if not e.user_provided]
        if len(usable) == 1:
            return usable[0]
        return "default" if "default" in usable else None


_REGISTRY: weakref.WeakKeyDictionary[Any, SemanticIndex] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def of(index: SearchIndex) -> SemanticIndex:
    with _LOCK:
        state = _REGISTRY.get(index)
        if state is None:
            state = SemanticIndex()
            _REGISTRY[index] = state
    return state


def configured(index: SearchIndex) -> bool:
    return bool(index.settings.get("embedders"))


def _searchable(index: SearchIndex) -> Any:
    attrs = list(index.searchable)
    if "*" in attrs:
        return lambda _name: True
    return lambda name: any(name == a or a.startswith(name + ".") for a in attrs)


def strip_vectors(index: SearchIndex, docs: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Documents read back from SQL for ``index``: remove `_vectors` if it has embedders."""
    if configured(index):
        for _, doc in docs:
            take_vectors(doc)


def take_vectors(doc: dict[str, Any]) -> dict[str, Any]:
    """Remove `_vectors` from a document bound for the lexical engine (numbers are not
    text to search); the SQL body keeps them. Returns what was removed."""
    value = doc.pop("_vectors", None)
    return value if isinstance(value, dict) else {}


def _user_vectors(name: str, value: Any, dims: int | None, doc_id: str) -> np.ndarray | None:
    """`_vectors.<name>` in any of Meilisearch's shapes -> a 2-D array (None: absent)."""
    regenerate_key = isinstance(value, dict)
    if regenerate_key:
        value = value.get("embeddings")
    if value is None or value == []:
        return None
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        arr = np.empty(0)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0 or (dims is not None and arr.shape[1] != dims):
        raise SiftError(
            f"Invalid `_vectors.{name}` for document `{doc_id}`: expected an array of "
            f"{dims or 'n'} numbers or an array of such arrays.",
            "invalid_vectors_type",
        )
    return arr


def _embed_with_cache(
    db: Database, conn: Connection, index_id: int, embedder: Embedder, texts: dict[str, str]
) -> dict[str, np.ndarray]:
    """doc id -> vector for each rendered text; only cache misses reach the model."""
    hashes = {doc_id: embedder.content_hash(text) for doc_id, text in texts.items()}
    found = cache_rows.get_many(conn, index_id, embedder.name, hashes.values())
    missing = {h: texts[d] for d, h in hashes.items() if h not in found}
    todo = list(missing.items())
    for start in range(0, len(todo), EMBED_BATCH):
        chunk = todo[start : start + EMBED_BATCH]
        vectors = embedder.embed_documents([t for _, t in chunk], MODEL_CACHE)
        fresh = {h: v for (h, _), v in zip(chunk, vectors, strict=True)}
        cache_rows.put_many(db, conn, index_id, embedder.name, fresh)
        found.update(fresh)
        log.info(
            "embedded",
            extra={
                "embedder": embedder.name,
                "done": min(start + EMBED_BATCH, len(todo)),
                "total": len(todo),
            },
        )
    return {doc_id: found[h] for doc_id, h in hashes.items()}


def _vectors_for(
    db: Database | None,
    conn: Connection | None,
    index_id: int,
    index: SearchIndex,
    name: str,
    embedder: Embedder,
    docs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
    state: SemanticIndex,
) -> list[tuple[str, np.ndarray]]:
    """(doc id, vectors) for one embedder; docs are (id, document, its `_vectors`)."""
    out: list[tuple[str, np.ndarray]] = []
    texts: dict[str, str] = {}
    fixed = state.fixed.setdefault(name, set())
    searchable = _searchable(index)
    for doc_id, doc, given in docs:
        value = given.get(name)
        user = _user_vectors(name, value, embedder.dimensions, doc_id)
        regenerate = not (isinstance(value, dict) and value.get("regenerate") is False)
        if embedder.user_provided or (user is not None and not regenerate):
            fixed.add(doc_id)
            out.append((doc_id, user if user is not None else np.empty((0, 0), np.float32)))
            continue
        fixed.discard(doc_id)
        texts[doc_id] = embedder.render(doc, searchable)
    if texts:
        if db is None:
            raise RuntimeError("embedding needs the database")
        if conn is None:  # a rebuild reads in its own transaction: write misses apart
            with db.write() as writer:
                out += list(_embed_with_cache(db, writer, index_id, embedder, texts).items())
        else:
            out += list(_embed_with_cache(db, conn, index_id, embedder, texts).items())
    return out


def on_upsert(
    db: Database,
    conn: Connection,
    index_id: int,
    index: SearchIndex,
    docs: dict[str, dict[str, Any]],
) -> None:
    """Documents about to enter the lexical index: strip `_vectors`, embed, index vectors.

    Everything that can fail (bad vectors, an unreachable embedder) fails before any
    in-memory state changes, so a failed task leaves the vector index as it was."""
    if not configured(index):
        return  # without embedders `_vectors` is an ordinary field, shown as stored
    given = {doc_id: take_vectors(doc) for doc_id, doc in docs.items()}
    state = _sync_embedders(index)
    items = [(doc_id, doc, given[doc_id]) for doc_id, doc in docs.items()]
    planned = {
        name: _vectors_for(db, conn, index_id, index, name, emb, items, state)
        for name, emb in state.embedders.items()
    }
    for name, pairs in planned.items():
        state.vectors[name].upsert(pairs)


def on_delete(index: SearchIndex, doc_ids: Iterable[str] | None) -> None:
    """Deleted documents (None: all of them)."""
    state = _REGISTRY.get(index)
    if state is None:
        return
    ids = None if doc_ids is None else list(doc_ids)
    for vectors in state.vectors.values():
        if ids is None:
            vectors.clear()
        else:
            vectors.delete(ids)


def _sync_embedders(index: SearchIndex, settings: dict[str, Any] | None = None) -> SemanticIndex:
    """Match the SemanticIndex to the `embedders` setting; a changed embedder starts over
    with an empty vector index."""
    state = of(index)
    wanted = parse(settings if settings is not None else index.settings)
    for name in list(state.embedders):
        old, new = state.embedders[name], wanted.get(name)
        if new is None or new.identity() != old.identity():
            del state.embedders[name]
            state.vectors.pop(name, None)
            state.fixed.pop(name, None)
    for name, emb in wanted.items():
        if name not in state.embedders:
            state.embedders[name] = emb
            state.vectors[name] = VectorIndex(emb.dimensions)
    return state


def load(
    db: Database | None,
    conn: Connection | None,
    index_id: int,
    index: SearchIndex,
    docs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
    settings: dict[str, Any] | None = None,
) -> None:
    """(Re)compute the vector index of every embedder from stored documents, through the
    cache: used by rebuilds and settings changes."""
    state = _sync_embedders(index, settings)
    for name, emb in state.embedders.items():
        if len(state.vectors[name]):
            continue  # unchanged embedder: its vectors are still right
        pairs = _vectors_for(db, conn, index_id, index, name, emb, docs, state)
        state.vectors[name].upsert(pairs)


def on_settings(
    db: Database, conn: Connection, index_id: int, index: SearchIndex, settings: dict[str, Any]
) -> None:
    """Before a settings change reaches the lexical index: validate the embedders (a bad
    one fails the task with nothing applied), drop removed embedders' cache rows and
    vectors, and index the new or changed ones. Unchanged embedders keep their vectors."""
    wanted = parse(settings)
    for name in set(of(index).embedders) - set(wanted):
        cache_rows.drop_embedder(conn, index_id, name)
    load(db, conn, index_id, index, stored_documents(conn, index_id) if wanted else [], settings)


def stored_documents(
    conn: Connection, index_id: int
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, document, `_vectors`) of every document, from SQL (the engine's copies have
    no `_vectors`)."""
    import orjson

    from sift.storage import documents as doc_rows

    out = []
    for batch in doc_rows.iter_all(conn, index_id):
        for doc_id, body in batch:
            doc = orjson.loads(body)
            out.append((doc_id, doc, take_vectors(doc)))
    return out


def rebuild(db: Database, conn: Connection, index_id: int, index: SearchIndex) -> None:
    """Called by the catalog after it rebuilt ``index`` from SQL."""
    if configured(index):
        load(db, None, index_id, index, stored_documents(conn, index_id))


def retrieve_vectors(index: SearchIndex, doc_id: str) -> dict[str, Any]:
    """`_vectors` as Meilisearch shows it with `retrieveVectors: true`."""
    state = _REGISTRY.get(index)
    if state is None:
        return {}
    return {
        name: {
            "embeddings": state.vectors[name].vectors_of(doc_id),
            "regenerate": doc_id not in state.fixed.get(name, set()),
        }
        for name in state.embedders
    }
