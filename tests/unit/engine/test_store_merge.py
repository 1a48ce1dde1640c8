"""merge_segments writes each live row to its place: the same segment as concatenating
the segments and sorting them on the term (what it did before)."""

from __future__ import annotations

import numpy as np
import pytest

from sift.engine.store import Segment, merge_segments


def _reference(segments: list[Segment], alive: np.ndarray, n_terms: int) -> Segment:
    terms = np.concatenate([np.repeat(np.arange(s.term_ptr.size - 1), np.diff(s.term_ptr))
                            for s in segments])
    docs = np.concatenate([s.docs for s in segments])
    fields = np.concatenate([s.fields for s in segments])
    pos = np.concatenate([s.pos for s in segments])
    keep = alive[docs]
    terms, docs, fields, pos = terms[keep], docs[keep], fields[keep], pos[keep]
    order = np.argsort(terms, kind="stable")
    ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=n_terms), out=ptr[1:])
    return Segment(ptr, docs[order], fields[order], pos[order])


def _segments(rng: np.random.Generator, count: int) -> tuple[list[Segment], int, int]:
    """``count`` segments of growing docids, each built with the terms known by then."""
    segments, n_docs, n_terms = [], 0, 0
    for _ in range(count):
        rows = int(rng.integers(0, 400))
        n_terms += int(rng.integers(0, 30))
        batch_docs = int(rng.integers(1, 40))
        segments.append(Segment.build(
            rng.integers(0, max(n_terms, 1), rows), n_docs + rng.integers(0, batch_docs, rows),
            rng.integers(0, 4, rows), rng.integers(0, 1000, rows), max(n_terms, 1)))
        n_docs += batch_docs
    return segments, n_docs, max(n_terms, 1)


@pytest.mark.parametrize("seed", range(32))
def test_merge_equals_concatenate_and_stable_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    segments, n_docs, n_terms = _segments(rng, int(rng.integers(1, 6)))
    alive = rng.random(n_docs) < (0.3 if seed % 2 else 0.9)
    n_terms += int(rng.integers(0, 5))  # terms no segment has yet
    got, want = merge_segments(segments, alive, n_terms), _reference(segments, alive, n_terms)
    for name in ("term_ptr", "docs", "fields", "pos"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_an_lru_reads_and_writes_a_batch_as_one_at_a_time() -> None:
    from sift.engine.store import LRU

    lru = LRU(3)
    lru.put_many([("a", 1), ("b", 2), ("c", 3)])
    assert lru.get_many(["a", "x", "c"]) == [1, None, 3]  # "a" and "c" used: "b" is oldest
    lru.put_many([("d", 4)])
    assert lru.get_many(["b", "a", "c", "d"]) == [None, 1, 3, 4]
    lru.put_many([("e", 5), ("f", 6), ("a", 7)])  # past the size the oldest go, in order
    assert [lru.get(k) for k in "cdefa"] == [None, None, 5, 6, 7]
