"""The vector index of one embedder: exact cosine search over a float32 matrix, plus a
usearch HNSW graph once the index is large enough for it to pay.

Chosen by measurement (docs/semantic.md, "Runtime"):

* **Exact search** (one matrix-vector product) below :data:`GRAPH_MIN_ROWS` rows, and
  whenever a filter leaves few rows: it is exact, it filters with a mask, deletes for
  free, and at scifact's 5k documents it costs a fraction of a millisecond.
* **usearch HNSW** (int8 vectors, cosine) above it, searched with over-fetching and
  re-scored with the float32 rows, so scores stay exact cosines. A filter or dead rows
  are applied to what the graph returns; when that leaves fewer documents than asked
  for, the search falls back to exact over the allowed rows, so a filter never lets an
  excluded document through and never loses an allowed one for lack of over-fetching.
  Rows added after the graph was built (the "tail") are searched exactly until a
  background thread extends the graph.
* **Persistence**: the graph is the only part that is costly to rebuild (about a
  minute per 100k vectors), so with ``path`` set it is saved there, with a fingerprint
  of the rows it covers (count, dimensions and a hash of the ids and vectors); at start
  the service refills the matrix from the database's embedding cache and the graph is
  loaded from the file when the fingerprints match, rebuilt otherwise.

Writers (the task worker) and readers (searches) share the object: writers build new
arrays and publish them with one assignment, like the lexical engine's snapshots, so a
reader always sees a consistent view. A graph is never changed once published: it is
extended on a copy.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sift.engine.topk import largest_k
from sift.tasks import cores as worker_cores

log = logging.getLogger("sift.semantic")

GRAPH_MIN_ROWS = 30_000  # below this, exact search is as fast as the graph (Runtime table)
GRAPH_TAIL = 0.10  # extend the graph once rows past it exceed this share (or 5,000 rows)
GRAPH_TAIL_MIN = 5_000
EXACT_SHARE = 0.25  # a filter leaving a smaller share of the rows goes exact (over-fetch)
GRAPH_DTYPE = "i8"  # re-scored in float32, so int8 costs no recall worth measuring
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64
BUILD_THREADS = 1  # the graph is built beside live searches on two cores
BLAS_ROWS = 20_000  # exact scoring of more rows goes to (multi-threaded) BLAS
FORMAT = 1  # bump when the saved layout changes: old files are then ignored
# View versions are unique in the process, not per index: readers cache per-view data on
# the lexical snapshot under the version, and an embedder replaced by a new one (a new
# VectorIndex) must never find the old one's entries there.
_VERSIONS = itertools.count(1)


try:  # usearch's SIMD kernels (a dependency of usearch)
    import numkong as _numkong
except ImportError:  # pragma: no cover - without the semantic extra
    _numkong = None


def dots(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``matrix @ query`` (float32).

    OpenBLAS runs a matrix-vector product of this size on every core, and on two shared
    cores, with the lexical leg on the other one, waking its threads costs more than the
    product: 9.1 ms against 0.66 ms for numkong's single-threaded SIMD kernel (usearch's
    own) at 5,183 x 384 under load (docs/semantic.md, "Runtime"). Past
    :data:`BLAS_ROWS` rows the threads pay for themselves again."""
    if _numkong is not None and 0 < matrix.shape[0] < BLAS_ROWS and matrix.flags.c_contiguous:
        return np.asarray(_numkong.dot(matrix, query), dtype=np.float32)
    return np.asarray(matrix @ query, dtype=np.float32)


@functools.cache
def usearch_available() -> bool:
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Graph:
    """An HNSW graph over rows ``[0, rows)`` of the matrix of one ``generation``; keys
    are row numbers."""

    index: Any  # usearch.index.Index
    rows: int
    generation: int
    min_rows: int = 0  # searches allowing fewer rows than this go exact


@dataclass(frozen=True)
class VectorView:
    """One consistent state; rows of several vectors of one document share its id."""

    matrix: np.ndarray  # float32 [rows, dims], L2-normalised
    ids: tuple[str, ...]  # external document id per row
    alive: np.ndarray  # bool per row
    version: int
    generation: int = 0  # changes when rows are renumbered (compaction, clear)
    graph: Graph | None = None
    single: bool = False  # every live document has one row: no de-duplication needed


class VectorIndex:
    def __init__(
        self,
        dimensions: int | None = None,
        path: Path | str | None = None,
        graph_min_rows: int = GRAPH_MIN_ROWS,
        background: bool = True,
    ) -> None:
        """``path``: where the HNSW graph is saved and looked for (a file; a sibling
        ``.json`` holds its fingerprint). None: never persisted. ``background``: build
        and extend the graph on a thread (False: inline, for tests and benchmarks)."""
        self.dimensions = dimensions
        self.path = Path(path) if path is not None else None
        self.graph_min_rows = graph_min_rows
        self.background = background
        self._lock = threading.Lock()
        self._graph_lock = threading.Lock()  # one graph build at a time
        self._builder: threading.Thread | None = None
        self._rows: dict[str, list[int]] = {}
        self.view = VectorView(np.zeros((0, dimensions or 0), np.float32), (), np.zeros(0, bool), 0)
        # The writer's state; `view` (what readers use) lags it while held (hold()).
        self._latest = self.view
        self._held = False

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._rows

    def vectors_of(self, doc_id: str) -> list[list[float]]:
        view = self.view
        return [view.matrix[r].tolist() for r in self._rows.get(doc_id, [])]

    def upsert(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        """Replace the vectors of each document (a 1-D array or a 2-D array of several)."""
        if not items:
            return
        with self._lock:
            view = self._latest
            alive = view.alive.copy()
            blocks: list[np.ndarray] = [view.matrix]
            ids = list(view.ids)
            for doc_id, vectors in items:
                for row in self._rows.pop(doc_id, []):
                    alive[row] = False
                block = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
                if block.size == 0:
                    continue
                if self.dimensions is None:
                    self.dimensions = block.shape[1]
                    blocks[0] = blocks[0].reshape(0, self.dimensions)
                norms = np.linalg.norm(block, axis=1, keepdims=True)
                block = block / np.maximum(norms, 1e-12)
                self._rows[doc_id] = list(range(len(ids), len(ids) + len(block)))
                ids.extend([doc_id] * len(block))
                blocks.append(block)
            matrix = np.concatenate(blocks) if len(blocks) > 1 else view.matrix
            alive = np.concatenate([alive, np.ones(len(ids) - alive.size, dtype=bool)])
            self._publish(matrix, ids, alive, next(_VERSIONS))
        self._maybe_index()

    def delete(self, doc_ids: Iterable[str]) -> None:
        with self._lock:
            view = self._latest
            alive = view.alive.copy()
            changed = False
            for doc_id in doc_ids:
                for row in self._rows.pop(doc_id, []):
                    alive[row] = False
                    changed = True
            if changed:
                self._publish(view.matrix, list(view.ids), alive, next(_VERSIONS))
        self._maybe_index()

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            dims = self.dimensions or 0
            view = self._latest
            self._set(VectorView(
                np.zeros((0, dims), np.float32),
                (),
                np.zeros(0, bool),
                next(_VERSIONS),
                view.generation + 1,
            ))

    def _publish(self, matrix: np.ndarray, ids: list[str], alive: np.ndarray, version: int) -> None:
        view = self._latest
        generation, graph = view.generation, view.graph
        # Compact once dead rows dominate, so replaced documents do not leak memory.
        if alive.size > 1024 and alive.sum() * 2 < alive.size:
            keep = np.nonzero(alive)[0]
            matrix, ids = matrix[keep], [ids[i] for i in keep]
            alive = np.ones(keep.size, dtype=bool)
            self._rows = {}
            for row, doc_id in enumerate(ids):
                self._rows.setdefault(doc_id, []).append(row)
            generation, graph = generation + 1, None  # row numbers changed: rebuild
        single = len(self._rows) == int(np.count_nonzero(alive))
        self._set(VectorView(
            np.ascontiguousarray(matrix), tuple(ids), alive, version, generation, graph, single
        ))

    def _set(self, view: VectorView) -> None:
        """The writer's newest state; readers get it now, or at release() when held."""
        self._latest = view
        if not self._held:
            self.view = view

    def hold(self) -> None:
        """Keep changes from readers until :meth:`release` (a task batch being applied)."""
        with self._lock:
            self._held = True

    def release(self, publish: bool = True) -> None:
        """Publish what changed while held (``publish=False``: readers keep the old view;
        the caller throws this index away, as after a rolled-back batch)."""
        with self._lock:
            self._held = False
            if publish:
                self.view = self._latest

    def memory_bytes(self) -> int:
        view = self.view
        graph = int(view.graph.index.memory_usage) if view.graph is not None else 0
        return int(view.matrix.nbytes + view.alive.nbytes) + graph

    # ---------------------------------------------------------------- the graph

    def _needs_graph(self, view: VectorView) -> bool:
        rows = view.matrix.shape[0]
        if rows < self.graph_min_rows or not usearch_available():
            return False
        covered = view.graph.rows if view.graph is not None else 0
        return rows - covered > max(GRAPH_TAIL_MIN, GRAPH_TAIL * rows) or covered == 0

    def _maybe_index(self) -> None:
        if not self._needs_graph(self._latest):
            return
        if not self.background:
            self.build_graph()
            return
        with self._lock:
            if self._builder is not None and self._builder.is_alive():
                return  # the running build looks again when it is done
            self._builder = threading.Thread(
                target=self._build_loop, name="sift-vector-graph", daemon=True
            )
            self._builder.start()

    def _build_loop(self) -> None:
        worker_cores.unpin_thread()  # the graph's build may use every core
        try:
            while self._needs_graph(self._latest):
                if not self.build_graph():
                    break
        except Exception:  # the exact search goes on serving; the next write tries again
            log.exception("building the vector graph failed")

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background graph build (tests, benchmarks, shutdown)."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)

    def build_graph(self) -> bool:
        """Build or extend the HNSW graph over the current rows and publish it; False
        when the rows were renumbered meanwhile (the caller may try again)."""
        from usearch.index import Index

        with self._graph_lock:
            view = self._latest
            rows = view.matrix.shape[0]
            if rows == 0:
                return True
            old = view.graph if view.graph is not None else None
            if old is not None and old.generation != view.generation:
                old = None
            graph: Any = None
            start = 0
            if old is not None:
                graph, start = old.index.copy(), old.rows
            else:
                graph, start = self._load_saved(view)
            if graph is None:
                graph, start = (
                    Index(
                        ndim=view.matrix.shape[1],
                        metric="cos",
                        dtype=GRAPH_DTYPE,
                        connectivity=CONNECTIVITY,
                        expansion_add=EXPANSION_ADD,
                        expansion_search=EXPANSION_SEARCH,
                    ),
                    0,
                )
            if start < rows:
                graph.add(
                    np.arange(start, rows, dtype=np.uint64),
                    view.matrix[start:rows],
                    threads=BUILD_THREADS,
                )
                self._save(graph, view, rows)
            built = Graph(graph, rows, view.generation, self.graph_min_rows)
            with self._lock:
                current = self._latest
                if current.generation != built.generation:
                    return False
                self._set(replace(current, graph=built))
            return True

    # ---------------------------------------------------------------- persistence

    def _fingerprint(self, view: VectorView, rows: int) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{FORMAT}\0{GRAPH_DTYPE}\0{CONNECTIVITY}\0{rows}\0".encode())
        digest.update("\0".join(view.ids[:rows]).encode())
        digest.update(np.ascontiguousarray(view.matrix[:rows]).tobytes())
        return digest.hexdigest()

    def _meta_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".json")

    def _save(self, graph: Any, view: VectorView, rows: int) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Per-process names: several server processes may save the same graph.
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
            graph.save(str(partial))
            meta = {"format": FORMAT, "rows": rows, "fingerprint": self._fingerprint(view, rows)}
            meta_partial = self._meta_path().with_name(
                f"{self._meta_path().name}.{os.getpid()}.partial")
            meta_partial.write_text(json.dumps(meta))
            # Graph first, then its fingerprint: a crash between the two leaves a
            # fingerprint that no longer matches, never a graph trusted wrongly.
            self._meta_path().unlink(missing_ok=True)
            os.replace(partial, self.path)
            os.replace(meta_partial, self._meta_path())
        except OSError:
            log.warning(
                "could not save the vector graph", exc_info=True, extra={"path": str(self.path)}
            )

    def _load_saved(self, view: VectorView) -> tuple[Any, int]:
        """The saved graph and the rows it covers, when they are a prefix of this view's
        rows (documents added since it was saved are then added to it); (None, 0)."""
        if self.path is None or not self.path.exists() or not self._meta_path().exists():
            return None, 0
        try:
            meta = json.loads(self._meta_path().read_text())
            rows = int(meta.get("rows", -1))
            if meta.get("format") != FORMAT or not 0 < rows <= view.matrix.shape[0]:
                return None, 0
            if meta.get("fingerprint") != self._fingerprint(view, rows):
                return None, 0
            from usearch.index import Index

            graph = Index.restore(str(self.path))
            if graph is None or len(graph) != rows or graph.ndim != view.matrix.shape[1]:
                return None, 0
            log.info("vector graph loaded", extra={"path": str(self.path), "rows": rows})
            return graph, rows
        except (OSError, ValueError, RuntimeError):
            log.warning("ignoring an unreadable vector graph", exc_info=True)
            return None, 0


def _exact(
    view: VectorView, q: np.ndarray, mask: np.ndarray, n_ok: int, fetch: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``fetch`` allowed rows by cosine (rows, scores), best first."""
    rows_total = view.matrix.shape[0]
    if n_ok * 4 < rows_total:  # few rows allowed: score only those
        rows = np.nonzero(mask)[0]
        scores = dots(view.matrix[rows], q)
    else:
        rows = None
        scores = np.where(mask, dots(view.matrix, q), np.float32(-np.inf))
    fetch = min(fetch, scores.size)
    top = np.arange(scores.size)
    if fetch < scores.size:
        top = largest_k(scores, fetch)  # equal scores: the lower rows
    top = top[np.argsort(-scores[top], kind="stable")]
    found = top if rows is None else rows[top]
    return found, scores[top]


def _approximate(
    view: VectorView, graph: Graph, q: np.ndarray, mask: np.ndarray, share: float, fetch: int
) -> tuple[np.ndarray, np.ndarray]:
    """Graph search over-fetched by the allowed share, plus the rows past the graph;
    re-scored in float32 and masked."""
    want = min(graph.rows, int(np.ceil(fetch / max(share, 1e-9))) + 16)
    found = graph.index.search(q, want, threads=1)
    rows = np.asarray(found.keys, dtype=np.int64)
    rows = rows[mask[rows]]
    if view.matrix.shape[0] > graph.rows:  # the tail, not in the graph yet
        tail = np.nonzero(mask[graph.rows :])[0] + graph.rows
        rows = np.concatenate([rows, tail])
    scores = dots(view.matrix[rows], q)
    order = np.argsort(-scores, kind="stable")
    return rows[order], scores[order]


def search(
    view: VectorView, query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` rows by cosine, one per document: (rows, scores), best first.

    ``allowed`` is a bool mask over rows (filters, tenant rules), ANDed with liveness:
    no row outside it is ever returned."""
    if view.matrix.shape[0] == 0 or k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    q = np.asarray(query, dtype=np.float32)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    mask = view.alive if allowed is None else (view.alive & allowed)
    n_ok = int(np.count_nonzero(mask))
    if n_ok == 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    # Over-fetch a little: a document with several vectors may take several top rows.
    fetch = min(n_ok, 2 * k)
    graph = view.graph
    share = n_ok / view.matrix.shape[0]
    rows = scores = None
    use_graph = (
        graph is not None
        and graph.generation == view.generation
        and share >= EXACT_SHARE
        and n_ok >= graph.min_rows  # scoring fewer rows exactly is as fast
    )
    if use_graph and graph is not None:
        rows, scores = _approximate(view, graph, q, mask, share, fetch)
        if _distinct_count(view, rows, k) < min(k, n_ok):
            rows = None  # the graph gave too few allowed documents: go exact
    if rows is None or scores is None:
        rows, scores = _exact(view, q, mask, n_ok, fetch)
    return _one_per_document(view, rows, scores, k)


def _distinct_count(view: VectorView, rows: np.ndarray, k: int) -> int:
    if view.single:
        return min(k, rows.size)
    seen: set[str] = set()
    for row in rows.tolist():
        seen.add(view.ids[row])
        if len(seen) >= k:
            break
    return len(seen)


def _one_per_document(
    view: VectorView, rows: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    if view.single:  # live rows are documents already (rows here are all live)
        return rows[:k].astype(np.int64), scores[:k].astype(np.float32)
    seen: set[str] = set()
    keep: list[int] = []
    for i, row in enumerate(rows.tolist()):
        doc_id = view.ids[row]
        if doc_id not in seen:
            seen.add(doc_id)
            keep.append(i)
            if len(keep) == k:
                break
    picked = np.asarray(keep, dtype=np.int64)
    return rows[picked].astype(np.int64), scores[picked].astype(np.float32)
