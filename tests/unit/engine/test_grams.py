"""The bigram shortlist never drops a term the exact typo check would accept."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from sift.engine.grams import GramIndexBuilder, bigrams

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


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=60, unique=True), WORDS, st.integers(1, 2),
       st.booleans())
def test_a_first_letter_shortlist_is_the_one_counting_every_posting(
        vocab: list[str], word: str, budget: int, prefix: bool) -> None:
    """Counting only the postings of terms sharing the word's first letter (split per
    view) finds the shortlist that counting every posting and keeping those terms finds."""
    import numpy as np

    from sift.engine.grams import _EDIT_DESTROYS
    from sift.engine.kernels import shared_grams

    view = _build(vocab).view(len(vocab))
    found = view.candidates(word, budget, prefix=prefix, any_first=False)
    grams = bigrams(word, prefix)
    need = len(grams) - _EDIT_DESTROYS * budget
    if need <= 0:
        assert found is None
        return
    assert found is not None
    lists = [p for g in grams if (p := view._posting(g)) is not None]
    if not lists:
        assert found.size == 0
        return
    n = len(word)
    expected = shared_grams(np.concatenate(lists), view.n_terms, need, view.lengths,
                            view.firsts, max(n - budget, 0), 2**31 if prefix else n + budget,
                            ord(word[0]))
    assert found.tolist() == expected.tolist()


def _same_shortlists(both: tuple[Any, Any] | None, whole: Any, heads: Any, word: str
                     ) -> None:
    """One count's two shortlists are those candidates finds one by one (the same ids in
    the same order); None only where candidates cannot count the completions either."""
    import numpy as np

    if both is None:
        assert heads is None or word[-1] + "$" in bigrams(word, True)
        return
    assert whole is not None and heads is not None
    for got, expected in zip(both, (whole, heads), strict=True):
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcé$", min_size=1, max_size=9), min_size=1, max_size=60,
                unique=True),
       st.text(alphabet="abcé$", min_size=1, max_size=9), st.integers(1, 2),
       st.booleans())
def test_a_typed_word_counts_both_shortlists_at_once(vocab: list[str], word: str,
                                                     budget: int, seen: bool) -> None:
    """typed_candidates: the whole word's and its completions' shortlists from one count,
    as candidates finds each (the same ids, in the same order), whichever was asked first
    (the postings split by first letter are kept per view); None only where it cannot."""
    view = _build(vocab).view(len(vocab))
    if seen:  # a view that split the postings before
        view.candidates(word, budget, prefix=False, any_first=False)
    both = view.typed_candidates(word, budget)
    whole = view.candidates(word, budget, prefix=False, any_first=False)
    heads = view.candidates(word, budget, prefix=True, any_first=False)
    _same_shortlists(both, whole, heads, word)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcé$", min_size=1, max_size=11), min_size=1, max_size=60,
                unique=True),
       st.text(alphabet="abcé$", min_size=1, max_size=11), st.integers(1, 2))
def test_a_typed_word_with_any_first_letter_counts_both_shortlists_at_once(
        vocab: list[str], word: str, budget: int) -> None:
    """typed_candidates_any_first: the whole word's shortlist with any first letter and
    its completions' with its own from one count of every first letter's postings, as
    candidates finds each (the same ids, in the same order); None only where it cannot."""
    view = _build(vocab).view(len(vocab))
    both = view.typed_candidates_any_first(word, budget)
    whole = view.candidates(word, budget, prefix=False, any_first=True)
    heads = view.candidates(word, budget, prefix=True, any_first=False)
    _same_shortlists(both, whole, heads, word)
