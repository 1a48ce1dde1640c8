"""How sift.storage.bulk splits a batch into SQLite statements."""

from __future__ import annotations

import pytest

from sift.storage.bulk import chunk_sizes


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 7, 100, 2_000, 4_096, 5_000, 70_001])
def test_chunks_cover_the_batch_in_powers_of_two_largest_first(rows: int) -> None:
    sizes = chunk_sizes(rows, 4_096)
    assert sum(sizes) == rows
    assert all(size & (size - 1) == 0 and 1 <= size <= 4_096 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # One statement per bit of what is left after the full chunks: few, whatever the size.
    assert len(sizes) == rows // 4_096 + (rows % 4_096).bit_count()


def test_every_batch_size_uses_the_same_few_statement_texts() -> None:
    texts = {size for rows in range(1, 3_000) for size in chunk_sizes(rows, 1_024)}
    assert texts == {2**k for k in range(11)}
