"""Semantic state per search index, kept in step with documents and settings.

Each lexical :class:`SearchIndex` gets a :class:`SemanticIndex` (its embedders and
one :class:`VectorIndex` per embedder), registered by object identity in a weak
map: index swaps and renames move it along with the lexical index, and a dropped
index frees it, without the catalog having to tell this module.

The task worker calls :func:`on_upsert`, :func:`on_delete` and :func:`on_settings`
inside the task's transaction; the catalog calls :func:`load` when it rebuilds an
index from the database. Vectors computed by a model are cached in SQL by content
hash (storage/embeddings.py), so none of these paths recomputes an unchanged one.
Before the task's transaction opens, the worker calls :func:`warm_cache`
(tasks/embedding.py), which embeds the misses and commits them chunk by chunk, so a
crash mid-embedding keeps the finished chunks and the rerun only embeds the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.engine import Connection

from sift.errors import SiftError
from sift.semantic.embedders import Embedder, parse
from sift.semantic.vectors import VectorIndex
from sift.storage import embeddings as cache_rows
from sift.tasks import progress

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


def searchable_predicate(attrs: Iterable[str]) -> Callable[[str], bool]:
    """`field.is_searchable` of the document template, for these searchableAttributes."""
    attrs = list(attrs)
    if "*" in attrs:
        return lambda _name: True
    return lambda name: any(name == a or a.startswith(name + ".") for a in attrs)


def searchable_of(settings: dict[str, Any]) -> list[str]:
    """searchableAttributes as the lexical index reads them (missing: every field)."""
    return list(settings.get("searchableAttributes") or ["*"])


def _searchable(index: SearchIndex) -> Callable[[str], bool]:
    return searchable_predicate(index.searchable)


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
    """doc id -> vector for each rendered text; only cache misses reach the model.

    Runs inside the task's transaction, so misses are cached in it (a second connection
    would wait on SQLite's one writer). :func:`warm_cache`, run by the worker before that
    transaction opens, leaves no misses here in the common case."""
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
        progress.current().count_embeddings(len(chunk), 0)
        log.info(
            "embedded",
            extra={
                "embedder": embedder.name,
                "done": min(start + EMBED_BATCH, len(todo)),
                "total": len(todo),
            },
        )
    return {doc_id: found[h] for doc_id, h in hashes.items()}


def _plan(
    name: str,
    embedder: Embedder,
    docs: Iterable[tuple[str, dict[str, Any], dict[str, Any]]],
    searchable: Callable[[str], bool],
    fixed: set[str],
) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    """Split docs (id, document, its `_vectors`) into those whose vectors the user gave
    (returned as pairs; their ids added to ``fixed``) and the texts to embed (id -> text).
    Raises on malformed `_vectors`."""
    out: list[tuple[str, np.ndarray]] = []
    texts: dict[str, str] = {}
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
    return out, texts


def _vectors_for(
    db: Database | None,
    conn: Connection | None,
    index_id: int,
    searchable: Callable[[str], bool],
    name: str,
    embedder: Embedder,
    docs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
    fixed: set[str],
) -> list[tuple[str, np.ndarray]]:
    """(doc id, vectors) for one embedder; docs are (id, document, its `_vectors`)."""
    out, texts = _plan(name, embedder, docs, searchable, fixed)
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
    conn: Connection | None,
    index_id: int,
    index: SearchIndex,
    docs: dict[str, dict[str, Any]],
) -> None:
    """Documents about to enter the lexical index: strip `_vectors`, embed, index vectors.
    ``conn``: the write transaction that caches embeddings; None (a document batch indexed
    before its write transaction, tasks/staged.py): misses cached in short ones of their own.

    Everything that can fail (bad vectors, an unreachable embedder) fails before any
    in-memory state changes, so a failed task leaves the vector index as it was."""
    if not configured(index):
        return  # without embedders `_vectors` is an ordinary field, shown as stored
    given = {doc_id: take_vectors(doc) for doc_id, doc in docs.items()}
    state = _sync_embedders(index, index_id)
    items = [(doc_id, doc, given[doc_id]) for doc_id, doc in docs.items()]
    searchable = _searchable(index)
    planned: dict[str, tuple[list[tuple[str, np.ndarray]], set[str]]] = {}
    for name, emb in state.embedders.items():
        fixed = set(state.fixed.get(name, set()))
        pairs = _vectors_for(db, conn, index_id, searchable, name, emb, items, fixed)
        planned[name] = (pairs, fixed)
    for name, (pairs, fixed) in planned.items():
        state.vectors[name].upsert(pairs)
        state.fixed[name] = fixed


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


# Where HNSW graphs are saved (configure()); None: kept in memory only.
_GRAPH_DIR: Path | None = None


def configure(graph_dir: Path | None) -> None:
    """Save vector graphs under ``graph_dir`` (the server passes <data_dir>/vectors)."""
    global _GRAPH_DIR
    _GRAPH_DIR = graph_dir


def _new_vectors(index_id: int | None, emb: Embedder) -> VectorIndex:
    """A vector index whose graph file is named by index, embedder and the embedder's
    identity, so a changed embedder never loads another's graph."""
    if _GRAPH_DIR is None or index_id is None:
        return VectorIndex(emb.dimensions)
    digest = hashlib.sha256(repr(emb.identity()).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in emb.name)
    return VectorIndex(emb.dimensions, path=_GRAPH_DIR / f"{index_id}-{safe}-{digest}.usearch")


def _sync_embedders(index: SearchIndex, index_id: int | None = None) -> SemanticIndex:
    """Match the SemanticIndex to the index's `embedders` setting; a changed embedder
    starts over with an empty vector index."""
    state = of(index)
    wanted = parse(index.settings)
    for name in list(state.embedders):
        old, new = state.embedders[name], wanted.get(name)
        if new is None or new.identity() != old.identity():
            del state.embedders[name]
            state.vectors.pop(name, None)
            state.fixed.pop(name, None)
    for name, emb in wanted.items():
        if name not in state.embedders:
            state.embedders[name] = emb
            state.vectors[name] = _new_vectors(index_id, emb)
    return state


def current_embedders(index: SearchIndex, settings: dict[str, Any]) -> dict[str, Embedder]:
    """The embedders ``settings`` describe, reusing the index's own objects (and so their
    loaded model or HTTP client) where the configuration is unchanged."""
    state = _REGISTRY.get(index)
    out = parse(settings)
    for name, emb in out.items():
        old = None if state is None else state.embedders.get(name)
        if old is not None and old.identity() == emb.identity():
            out[name] = old
    return out


def stale_embedders(
    index: SearchIndex, settings: dict[str, Any], *, rebuild: bool = False
) -> dict[str, Embedder]:
    """The embedders of ``settings`` whose vectors must be (re)computed from the stored
    documents when ``settings`` replace the index's current ones: new or changed
    embedders (another model, URL, template...), embedders with no vectors yet, and,
    when searchableAttributes change, those whose template reads `field.is_searchable`
    (the default one does) since their rendered texts may change. Re-rendering is cheap:
    unchanged texts are found in the cache by content hash and never reach the model.
    Raises SiftError for an invalid `embedders` setting."""
    wanted = parse(settings)
    state = _REGISTRY.get(index)
    searchable_changed = searchable_of(settings) != list(index.searchable)
    stale: dict[str, Embedder] = {}
    for name, emb in wanted.items():
        old = None if state is None or rebuild else state.embedders.get(name)
        same = old is not None and old.identity() == emb.identity()
        has_vectors = state is not None and len(state.vectors.get(name) or ()) > 0
        if same and has_vectors and not (searchable_changed and emb.reads_searchable()):
            continue
        stale[name] = old if same and old is not None else emb
    return stale


def load(
    db: Database | None,
    conn: Connection | None,
    index_id: int,
    index: SearchIndex,
    docs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
    settings: dict[str, Any] | None = None,
    *,
    rebuild: bool = False,
) -> None:
    """(Re)compute the vector index of every stale embedder (:func:`stale_embedders`)
    from stored documents, through the cache: used by rebuilds and settings changes.
    All the work (and every possible failure) happens before the index's semantic
    state changes, so a failed settings task leaves it as it was."""
    settings = settings if settings is not None else index.settings
    wanted = parse(settings)
    stale = stale_embedders(index, settings, rebuild=rebuild)
    searchable = searchable_predicate(searchable_of(settings))
    built: dict[str, tuple[Embedder, VectorIndex, set[str]]] = {}
    for name, emb in stale.items():
        fixed: set[str] = set()
        pairs = _vectors_for(db, conn, index_id, searchable, name, emb, docs, fixed)
        vectors = _new_vectors(index_id, emb)
        vectors.upsert(pairs)
        built[name] = (emb, vectors, fixed)
    state = of(index)
    with _LOCK:
        for name in list(state.embedders):
            if name not in wanted:
                del state.embedders[name]
                state.vectors.pop(name, None)
                state.fixed.pop(name, None)
        for name, (emb, vectors, fixed) in built.items():
            state.embedders[name] = emb
            state.vectors[name] = vectors
            state.fixed[name] = fixed


def on_settings(
    db: Database, conn: Connection, index_id: int, index: SearchIndex, settings: dict[str, Any]
) -> None:
    """Before a settings change reaches the lexical index: validate the embedders (a bad
    one fails the task with nothing applied), drop removed embedders' cache rows and
    vectors, and index the new, changed or re-rendered ones. Others keep their vectors."""
    wanted = parse(settings)
    for name in set(of(index).embedders) - set(wanted):
        cache_rows.drop_embedder(conn, index_id, name)
    docs = stored_documents(conn, index_id) if stale_embedders(index, settings) else []
    load(db, conn, index_id, index, docs, settings)


def warm_cache(
    db: Database,
    index_id: int,
    embedders: dict[str, Embedder],
    searchable: Callable[[str], bool],
    docs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
) -> None:
    """Make sure the cache holds the vectors ``docs`` need, committing every
    ``EMBED_BATCH`` freshly computed vectors in a short transaction of its own.

    The worker calls this before it opens a batch's transaction, with no write
    transaction open on this thread (on SQLite, a second writer would wait on the first).
    Cache rows only map a content hash to what the model returns for that text, so
    writing them outside the task's transaction is safe: a task that then fails leaves
    harmless rows, and a crash keeps every finished chunk, so the rerun of the
    interrupted task only embeds the rest. Advances the current progress by one unit
    per document and embedder."""
    report = progress.current()
    for name, emb in embedders.items():
        if emb.user_provided:
            report.advance(len(docs))
            continue
        _, texts = _plan(name, emb, docs, searchable, set())
        report.advance(len(docs) - len(texts))  # vectors the user gave
        by_hash: dict[str, tuple[str, int]] = {}  # content hash -> (text, documents)
        for text in texts.values():
            key = emb.content_hash(text)
            by_hash[key] = (text, by_hash.get(key, (text, 0))[1] + 1)
        with db.read() as reader:
            found = cache_rows.get_many(reader, index_id, name, by_hash)
        hits = sum(by_hash[h][1] for h in found)
        report.count_embeddings(0, hits)
        report.advance(hits)
        todo = [(h, text, n) for h, (text, n) in by_hash.items() if h not in found]
        for start in range(0, len(todo), EMBED_BATCH):
            report.check()  # a stopping worker leaves the rest to the rerun
            chunk = todo[start : start + EMBED_BATCH]
            vectors = emb.embed_documents([t for _, t, _ in chunk], MODEL_CACHE)
            fresh = {h: v for (h, _, _), v in zip(chunk, vectors, strict=True)}
            with db.write() as writer:
                cache_rows.put_many(db, writer, index_id, name, fresh)
            report.count_embeddings(len(chunk), 0)
            report.advance(sum(n for _, _, n in chunk))


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
        load(db, None, index_id, index, stored_documents(conn, index_id), rebuild=True)


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
