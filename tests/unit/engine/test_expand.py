"""A word's own expansions (expand.py): the shortcuts a first sight takes give what the
general kernels give."""

from __future__ import annotations

import random
from itertools import product

import numpy as np

from conftest import MakeIndex
from sift.engine.expand import (
    _NO_TERMS,
    _NO_TYPOS,
    _NO_WEIGHTS,
    COMMON_PREFIX_LETTERS,
    MAX_PREFIX_TERMS,
    _common_completions,
    _completion_table,
    _completions,
    _letters,
    term_frequencies,
)
from sift.engine.kernels import expansion_table, prefix_completions


def _crowded_index(make_index: MakeIndex):  # type: ignore[no-untyped-def]
    """Over MAX_PREFIX_TERMS terms under "a", "ab" and "abc" (and the prefixes' own terms,
    frequent ones among them), counts with many ties at the cut, and a few sparse letters."""
    rng = random.Random(3)
    words = ["a", "ab", "abc", "b", "bq"]
    words += ["abc" + "".join(t) for t in product("defgh", repeat=4)][:260]
    words += ["ab" + "".join(t) for t in product("pqrs", repeat=3)]
    words += ["a" + "".join(t) for t in product("xyz", repeat=4)]
    words += ["b" + "".join(t) for t in product("mn", repeat=3)]
    docs = [{"id": j, "text": " ".join(w for w in words if rng.random() < 0.3)
             + " a a ab ab abc"} for j in range(12)]
    return make_index(docs).view.snapshot


def test_a_short_prefixs_completions_are_the_kernels_answer(make_index: MakeIndex) -> None:
    """A prefix of up to COMMON_PREFIX_LETTERS letters that begins more than
    MAX_PREFIX_TERMS terms takes its completions from the snapshot's table: the same ids in
    the same order as kernels.prefix_completions', the prefix's own term left out."""
    snap = _crowded_index(make_index)
    vocab = snap.vocabulary
    common = _common_completions(snap)
    assert {"a", "ab", "abc"} <= set(common)
    assert not {"b", "bq"} & set(common)  # too few terms: the kernel is asked
    prefixes = {t[:n] for t in snap.term_list[:snap.n_terms]
                for n in range(1, COMMON_PREFIX_LETTERS + 2)}
    for prefix in sorted(prefixes):
        for tid in (snap.term_id(prefix), None):
            got, _ = _completions(prefix, tid, snap, 0.6)
            want = prefix_completions(_letters(prefix), vocab.ids, vocab.codes,
                                      vocab.lengths_by_id, term_frequencies(snap),
                                      MAX_PREFIX_TERMS, -1 if tid is None else tid)
            assert got.dtype == want.dtype and got.tolist() == want.tolist(), prefix
    own = snap.term_id("ab")
    assert own in common["ab"].tolist()  # the own term was among the most frequent
    assert own not in _completions("ab", own, snap, 0.6)[0].tolist()


def test_a_prefix_without_other_kinds_is_tabled_as_the_kernel_tables_it() -> None:
    """A word of its own term (or none) and its completions: the rows and highlighted ids
    kernels.expansion_table makes of them, byte for byte."""
    rng = random.Random(5)
    for _ in range(200):
        completions = np.array(rng.sample(range(1000), rng.randint(1, 40)), dtype=np.int64)
        tid = rng.choice([None, 1000 + rng.randrange(50)])
        weight = rng.random()
        rows, named = _completion_table(tid, completions, weight)
        want_rows, want_named = expansion_table(
            -1 if tid is None else tid, 1.0, completions, weight, _NO_TERMS, 1.0,
            _NO_TERMS, _NO_TYPOS, _NO_WEIGHTS, _NO_TERMS, _NO_TYPOS, _NO_WEIGHTS)
        assert rows.shape == want_rows.shape and rows.tobytes() == want_rows.tobytes()
        assert named.dtype == want_named.dtype and named.tolist() == want_named.tolist()
