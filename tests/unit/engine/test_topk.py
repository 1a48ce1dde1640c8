import numpy as np
import pytest

from sift.engine.topk import largest_k, smallest_k


def test_ties_at_the_boundary_go_to_the_lowest_indexes() -> None:
    key = np.array([5.0, 1.0, 3.0, 3.0, 0.0, 3.0, 3.0, 9.0])
    # 0.0 and 1.0 are in; two of the four 3.0s fill the cut: indexes 2 and 3.
    assert smallest_k(key, 4).tolist() == [1, 2, 3, 4]
    assert largest_k(key, 3).tolist() == [0, 2, 7]


def test_edge_sizes() -> None:
    key = np.array([2, 1, 2])
    assert smallest_k(key, 0).tolist() == []
    assert smallest_k(key, -1).tolist() == []
    assert smallest_k(key, 3).tolist() == [0, 1, 2]
    assert smallest_k(key, 7).tolist() == [0, 1, 2]
    assert smallest_k(np.array([], np.float64), 2).tolist() == []


def test_nan_counts_as_the_largest() -> None:
    key = np.array([np.nan, 2.0, np.nan, 1.0, np.nan])
    assert smallest_k(key, 3).tolist() == [0, 1, 3]
    assert smallest_k(key, 2).tolist() == [1, 3]
    assert largest_k(key, 1).tolist() == [1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint64])
def test_same_set_as_a_stable_sort(dtype: type) -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        key = rng.integers(0, int(rng.integers(1, 12)), n).astype(dtype)  # many ties
        if dtype in (np.float64, np.float32) and rng.random() < 0.3:
            key[rng.random(n) < 0.2] = np.nan
        k = int(rng.integers(0, n + 2))
        expected = np.sort(np.argsort(key, kind="stable")[:k])
        assert smallest_k(key, k).tolist() == expected.tolist()


def test_largest_matches_a_stable_sort_of_the_negation() -> None:
    rng = np.random.default_rng(11)
    key = rng.integers(0, 5, 1000).astype(np.float64)
    expected = np.sort(np.argsort(-key, kind="stable")[:137])
    assert largest_k(key, 137).tolist() == expected.tolist()
