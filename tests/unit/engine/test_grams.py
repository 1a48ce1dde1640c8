"""The bigram shortlist never drops a term the exact typo check would accept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from sift.engine.grams import GramIndexBuilder, bigrams
from sift.engine.kernels import shared_grams

WORDS = st.text(alphabet="abcdeé", min_size=1, max_size=12)


def _build(vocab: list[str]) -> GramIndexBuilder:
    builder = GramIndexBuilder()
    for tid, word in enumerate(vocab):
        builder.add(tid, word)
    return builder


def test_bigrams_pad_both_ends_unless_prefix() -> None:
    assert bigrams("ab") == {"^a", "ab", "b$"}
    assert bigrams("ab", prefix=True) == {"^a", "ab"}


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=60, unique=True), WORDS, st.integers(1, 2))
def test_shortlist_keeps_every_word_within_budget(vocab: list[str], word: str,
                                                  budget: int) -> None:
    view = _build(vocab).view(len(vocab))
    shortlist = view.candidates(word, budget, prefix=False, any_first=True)
    expected = {t for t, w in enumerate(vocab) if OSA.distance(word, w) <= budget}
    if shortlist is None:  # too short to filter: the caller checks every term
        return
    assert expected <= set(shortlist.tolist())


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=60, unique=True), WORDS, st.integers(1, 2))
def test_prefix_shortlist_keeps_every_term_with_a_close_prefix(vocab: list[str], word: str,
                                                               budget: int) -> None:
    view = _build(vocab).view(len(vocab))
    shortlist = view.candidates(word, budget, prefix=True, any_first=False)
    expected = {
        t for t, w in enumerate(vocab)
        if w[:1] == word[:1]
        and min(OSA.distance(word, w[:cut]) for cut in range(len(w) + 1)) <= budget
    }
    if shortlist is None:
        return
    assert expected <= set(shortlist.tolist())


def test_view_ignores_terms_added_after_it() -> None:
    builder = _build(["garden", "gardens"])
    view = builder.view(1)
    builder.add(2, "gardem")
    found = view.candidates("gardem", 1, prefix=False, any_first=False)
    assert found is not None and set(found.tolist()) == {0}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ab日\x00é", max_size=8), max_size=30), st.integers(0, 5))
def test_adding_words_together_equals_adding_them_one_by_one(words: list[str],
                                                            first: int) -> None:
    together, alone = GramIndexBuilder(), GramIndexBuilder()
    together.add_many(first, words)
    for offset, word in enumerate(words):
        alone._add_one(first + offset, word)
    assert {g: p.tolist() for g, p in together.postings.items()} == \
        {g: p.tolist() for g, p in alone.postings.items()}
    assert together.lengths == alone.lengths and together.firsts == alone.firsts


def _count_filter(vocab: list[str], word: str, budget: int) -> list[int]:
    """The q-gram count filter by its definition (any first letter, not a prefix)."""
    grams = bigrams(word)
    need = len(grams) - 3 * budget
    return [t for t, w in enumerate(vocab)
            if len(grams & bigrams(w)) >= need
            and len(word) - budget <= len(w) <= len(word) + budget]


@settings(max_examples=100, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=60, unique=True),
       st.lists(WORDS, min_size=1, max_size=8), st.integers(1, 2))
def test_shortlists_in_a_row_each_equal_the_count_filter(vocab: list[str], words: list[str],
                                                         budget: int) -> None:
    # The counts are a scratch array reused from call to call: a count left behind by
    # one word would let a term through, or keep one out, for the next.
    view = _build(vocab).view(len(vocab))
    for word in words:
        shortlist = view.candidates(word, budget, prefix=False, any_first=True)
        if shortlist is not None:
            assert shortlist.tolist() == _count_filter(vocab, word, budget)


def test_shared_grams_leaves_the_scratch_counts_zero() -> None:
    ids = np.array([1, 3, 1, 4, 3, 1], dtype=np.uint32)
    counts = np.zeros(6, dtype=np.uint16)
    lengths = np.full(6, 5, dtype=np.uint32)
    found = shared_grams(ids, counts, 2, lengths, lengths, 0, 10, -1)
    assert found.tolist() == [1, 3]
    assert not counts.any()


def test_threads_each_get_the_same_shortlists() -> None:
    vocab = [f"{a}{b}{c}ing" for a in "abcdefgh" for b in "aeiou" for c in "lmnrst"]
    view = _build(vocab).view(len(vocab))
    words = ["bating", "celing", "dumting", "hasring", "gelling"] * 40
    alone = [view.candidates(w, 1, prefix=False, any_first=True).tolist() for w in words]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(
            lambda w: view.candidates(w, 1, prefix=False, any_first=True).tolist(), words))
    assert together == alone
