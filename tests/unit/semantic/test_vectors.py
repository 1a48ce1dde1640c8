from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sift.semantic.vectors import VectorIndex, search, usearch_available


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


def test_a_replacing_vector_index_never_reuses_a_view_version() -> None:
    # Readers cache per-view data on the lexical snapshot under the view's version, so a
    # new index for a changed embedder must not repeat the old one's versions.
    old, new = VectorIndex(2), VectorIndex(2)
    old.upsert([("a", np.array([1.0, 0.0]))])
    new.upsert([("a", np.array([1.0, 0.0])), ("b", np.array([0.0, 1.0]))])
    assert new.view.version != old.view.version


def test_readers_keep_their_view_while_writers_publish() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([1.0, 0.0]))])
    view = index.view
    index.delete(["a"])
    assert view.alive.all() and not index.view.alive.any()


needs_usearch = pytest.mark.skipif(not usearch_available(), reason="needs usearch (semantic extra)")


def _random(n: int, dims: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dims)).astype(np.float32)


def _exact_ids(matrix: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray) -> list[int]:
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = np.where(allowed, unit @ query, -np.inf)
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k] if allowed[i]]


@needs_usearch
def test_graph_search_matches_exact_search() -> None:
    data = _random(3000)
    index = VectorIndex(16, graph_min_rows=1000, background=False)
    index.upsert([(str(i), v) for i, v in enumerate(data)])
    assert index.view.graph is not None and index.view.graph.rows == 3000
    hits = 0
    for query in _random(20, seed=1):
        rows, scores = search(index.view, query, 10)
        expected = _exact_ids(data, query / np.linalg.norm(query), 10, np.ones(3000, bool))
        hits += len(set(rows.tolist()) & set(expected))
        assert np.all(np.diff(scores) <= 1e-6)  # exact cosines, best first
    assert hits >= 0.95 * 200


@needs_usearch
def test_graph_search_obeys_filters_exactly() -> None:
    data = _random(3000)
    index = VectorIndex(16, graph_min_rows=1000, background=False)
    index.upsert([(str(i), v) for i, v in enumerate(data)])
    query = _random(1, seed=2)[0]
    for allowed in (np.arange(3000) % 3 == 0, np.arange(3000) == 17, np.arange(3000) < 40):
        rows, _ = search(index.view, query, 10, allowed)
        assert allowed[rows].all()
        assert len(rows) == min(10, int(allowed.sum()))  # none lost to over-fetching
    index.delete([str(i) for i in range(0, 3000, 2)])  # dead rows never come back
    rows, _ = search(index.view, query, 50)
    assert all(int(index.view.ids[r]) % 2 == 1 for r in rows) and len(rows) == 50


@needs_usearch
def test_rows_past_the_graph_are_searched_until_it_is_extended() -> None:
    data = _random(3000)
    index = VectorIndex(16, graph_min_rows=1000, background=False)
    index.upsert([(str(i), v) for i, v in enumerate(data[:2000])])
    index.upsert([("new", data[2500])])  # a small tail: not in the graph yet
    assert index.view.graph is not None and index.view.graph.rows == 2000
    rows, _ = search(index.view, data[2500], 1)
    assert index.view.ids[rows[0]] == "new"


@needs_usearch
def test_graph_is_saved_and_loaded_when_the_rows_match(tmp_path: Path) -> None:
    data = _random(3000)
    path = tmp_path / "default.usearch"
    items = [(str(i), v) for i, v in enumerate(data)]
    first = VectorIndex(16, path=path, graph_min_rows=1000, background=False)
    first.upsert(items)
    saved = path.stat().st_mtime_ns
    second = VectorIndex(16, path=path, graph_min_rows=1000)
    second.upsert(items)
    second.wait()
    assert second.view.graph is not None and second.view.graph.rows == 3000
    assert path.stat().st_mtime_ns == saved  # loaded, not rebuilt
    query = data[42]
    assert second.view.ids[search(second.view, query, 1)[0][0]] == "42"
    # Other vectors: the fingerprint differs, the graph is rebuilt and saved again.
    third = VectorIndex(16, path=path, graph_min_rows=1000, background=False)
    third.upsert([(str(i), v) for i, v in enumerate(_random(3000, seed=5))])
    assert path.stat().st_mtime_ns != saved


@needs_usearch
def test_saved_graph_covering_a_prefix_is_extended(tmp_path: Path) -> None:
    data = _random(3000)
    path = tmp_path / "default.usearch"
    first = VectorIndex(16, path=path, graph_min_rows=1000, background=False)
    first.upsert([(str(i), v) for i, v in enumerate(data[:2000])])
    second = VectorIndex(16, path=path, graph_min_rows=1000, background=False)
    second.upsert([(str(i), v) for i, v in enumerate(data)])
    assert second.view.graph is not None and second.view.graph.rows == 3000
    assert second.view.ids[search(second.view, data[2999], 1)[0][0]] == "2999"


def test_held_vectors_reach_readers_only_when_released() -> None:
    index = VectorIndex(2)
    index.upsert([("a", np.array([1.0, 0.0]))])
    index.hold()
    index.upsert([("b", np.array([0.0, 1.0]))])
    index.delete(["a"])
    assert index.view.ids == ("a",) and bool(index.view.alive.all())
    index.release()
    assert [index.view.ids[r] for r in np.nonzero(index.view.alive)[0]] == ["b"]
