"""A typed word's typo search (sift.engine.expand): its whole-word and prefix hits from one
kernel call over both shortlists, as rapidfuzz's OSA distance finds them, for words
within the code rows and words past them (terms in the term table's overflow store)."""

from __future__ import annotations

import numpy as np
import pytest
from rapidfuzz.distance import OSA

from sift.engine.expand import _both_hits
from sift.engine.index import SearchIndex
from sift.engine.settings import with_defaults
from sift.engine.terms import LONG_LETTERS

LONG = "b" * (LONG_LETTERS - 2) + "chemistry"  # a term longer than the rows
WORDS = ["protein", "proteins", "protean", "protien", "proteinase", "prot", "brotein",
         "pretein", "proteinx", LONG, LONG + "s", LONG[:-1] + "x", LONG[:-3]]


@pytest.mark.parametrize("word", ["protein", "protei", "proteiin", LONG, LONG[:-2] + "yx"])
@pytest.mark.parametrize("any_first", [False, True])
def test_a_typed_words_both_searches_in_one_call(word: str, any_first: bool) -> None:
    index = SearchIndex(with_defaults({}), "id")
    index.upsert([(str(i), {"id": str(i), "text": w}) for i, w in enumerate(WORDS)])
    snap = index.view.snapshot
    terms = [snap.terms[t] for t in range(snap.n_terms)]
    ids = np.arange(len(terms), dtype=np.int64)
    whole, heads = ids[::2].copy(), ids[ids % 3 != 1].copy()  # sorted, overlapping
    found, typos, k = _both_hits(word, whole, heads, snap, 2, any_first)
    n = len(word)

    def expected(pool: np.ndarray, prefix: bool) -> list[tuple[int, int]]:
        out = []
        for t in pool.tolist():
            term = terms[t]
            cuts = [term[:max(c, 1)] for c in (n - 1, n, n + 1)] if prefix else [term]
            d = min(OSA.distance(word, c) for c in cuts)
            d += 1 if any_first and not prefix and term[:1] != word[:1] else 0
            if 0 < d <= 2:
                out.append((t, d))
        return out

    hits = list(zip(found.tolist(), typos.tolist(), strict=True))
    assert hits[:k] == expected(whole, False)
    assert hits[k:] == expected(heads, True)
    assert found.dtype == np.int64 and typos.dtype == np.int8
