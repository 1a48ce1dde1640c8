"""The vector index of one embedder: exact cosine search over a float32 matrix.

Exact search was chosen by measurement (docs/semantic.md): a matrix product over
100k x 384 float32 takes a few milliseconds on two cores, is exact (no recall
loss to tune away), filters for free (a boolean mask on the scores) and deletes
for free (a dead row is masked), where HNSW libraries need over-fetching or
callbacks for filters and leave tombstones on delete. Past a few hundred thousand
documents per index an approximate index would pay off; this class is the one
place to swap.

Writers (the task worker) and readers (searches) share the object: writers build
new arrays and publish them with one assignment, like the lexical engine's
snapshots, so a reader always sees a consistent (matrix, ids, alive) triple.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VectorView:
    """One consistent state; rows of several vectors of one document share its id."""

    matrix: np.ndarray  # float32 [rows, dims], L2-normalised
    ids: tuple[str, ...]  # external document id per row
    alive: np.ndarray  # bool per row
    version: int


class VectorIndex:
    def __init__(self, dimensions: int | None = None) -> None:
        self.dimensions = dimensions
        self._lock = threading.Lock()
        self._rows: dict[str, list[int]] = {}
        self.view = VectorView(np.zeros((0, dimensions or 0), np.float32), (), np.zeros(0, bool), 0)

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
            view = self.view
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
            self._publish(matrix, ids, alive, view.version + 1)

    def delete(self, doc_ids: Iterable[str]) -> None:
        with self._lock:
            view = self.view
            alive = view.alive.copy()
            changed = False
            for doc_id in doc_ids:
                for row in self._rows.pop(doc_id, []):
                    alive[row] = False
                    changed = True
            if changed:
                self._publish(view.matrix, list(view.ids), alive, view.version + 1)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            dims = self.dimensions or 0
            self.view = VectorView(
                np.zeros((0, dims), np.float32), (), np.zeros(0, bool), self.view.version + 1
            )

    def _publish(self, matrix: np.ndarray, ids: list[str], alive: np.ndarray, version: int) -> None:
        # Compact once dead rows dominate, so replaced documents do not leak memory.
        if alive.size > 1024 and alive.sum() * 2 < alive.size:
            keep = np.nonzero(alive)[0]
            matrix, ids = matrix[keep], [ids[i] for i in keep]
            alive = np.ones(keep.size, dtype=bool)
            self._rows = {}
            for row, doc_id in enumerate(ids):
                self._rows.setdefault(doc_id, []).append(row)
        self.view = VectorView(np.ascontiguousarray(matrix), tuple(ids), alive, version)

    def memory_bytes(self) -> int:
        return int(self.view.matrix.nbytes + self.view.alive.nbytes)


def search(
    view: VectorView, query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` rows by cosine, one per document: (rows, scores), best first.

    ``allowed`` is a bool mask over rows (filters, tenant rules), ANDed with liveness.
    """
    if view.matrix.shape[0] == 0 or k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    q = np.asarray(query, dtype=np.float32)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    scores = view.matrix @ q
    mask = view.alive if allowed is None else (view.alive & allowed)
    scores = np.where(mask, scores, -np.inf)
    n_ok = int(mask.sum())
    if n_ok == 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    # Over-fetch a little: a document with several vectors may take several top rows.
    fetch = min(n_ok, 2 * k)
    top = np.argpartition(-scores, fetch - 1)[:fetch]
    top = top[np.argsort(-scores[top], kind="stable")]
    seen: set[str] = set()
    rows = []
    for row in top.tolist():
        doc_id = view.ids[row]
        if doc_id not in seen:
            seen.add(doc_id)
            rows.append(row)
            if len(rows) == k:
                break
    out = np.asarray(rows, dtype=np.int64)
    return out, scores[out].astype(np.float32)
