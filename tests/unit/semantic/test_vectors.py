from __future__ import annotations

import numpy as np

from sift.semantic.vectors import VectorIndex, search


def _ids(index: VectorIndex, rows: np.ndarray) -> list[str]:
    return [index.view.ids[r] for r in rows]


def test_add_search_replace_delete() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([1.0, 0.0])), ("b", np.array([0.0, 1.0]))])
    rows, scores = search(index.view, np.array([1.0, 0.1]), 2)
    assert _ids(index, rows) == ["a", "b"] and scores[0] > scores[1]
    index.upsert([("a", np.array([0.0, -1.0]))])  # replaced: the old vector is gone
    rows, _ = search(index.view, np.array([1.0, 0.1]), 2)
    assert _ids(index, rows) == ["b", "a"]
    index.delete(["b"])
    rows, _ = search(index.view, np.array([1.0, 0.1]), 5)
    assert _ids(index, rows) == ["a"]


def test_filter_mask_restricts_rows() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([1.0, 0.0])), ("b", np.array([0.9, 0.1]))])
    allowed = np.array([False, True])
    rows, _ = search(index.view, np.array([1.0, 0.0]), 2, allowed)
    assert _ids(index, rows) == ["b"]


def test_several_vectors_per_document_count_once() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([[1.0, 0.0], [0.9, 0.1]])), ("b", np.array([0.0, 1.0]))])
    rows, _ = search(index.view, np.array([1.0, 0.0]), 2)
    assert _ids(index, rows) == ["a", "b"]


def test_readers_keep_their_view_while_writers_publish() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([1.0, 0.0]))])
    view = index.view
    index.delete(["a"])
    assert view.alive.all() and not index.view.alive.any()
