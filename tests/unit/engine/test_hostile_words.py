"""Hostile words through the whole engine (issue: no request may crash the server):
indexes of small corpora whose words have combining marks, letters past uint16, joiners,
right-to-left scripts, digits, case folds that change a word's length, NULs and the
bigram filter's own pad letters, words of 1 letter and past 64, and words that begin many
terms. Every query word's typo search (the compiled kernels behind _typed_hits,
_typo_terms and _typo_completions) must find what rapidfuzz's OSA distance finds over the
whole vocabulary, and every search must answer."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from conftest import build_index, ids, search
from sift.engine.expand import (
    MAX_PREFIX_TERMS,
    MAX_TYPO_TERMS,
    _typed_hits,
    _typo_completions,
    _typo_terms,
)

# Letters that fold (é, ß -> ss, İ -> i̇ -> i, Σ), marks alone and after a letter, past
# uint16 (𝄞), a joiner (a separator), Hebrew and Arabic, digits, CJK (a token a letter),
# NUL and U+10FFFF (separators, nonSeparatorTokens or not: sift.engine.analysis'
# NEVER_LETTERS), the bigram filter's pad letters ^ $ (word letters when
# nonSeparatorTokens says so).
LETTERS = ["a", "b", "ab", "é", "e\u0301", "\u0301", "ß", "İ", "Σ", "ς", "𝄞", "\u200d",
           "א", "ب", "1", "日", "^", "$", "\x00", "\U0010ffff"]
words = st.lists(st.sampled_from(LETTERS), min_size=1, max_size=9).map("".join)
long_words = st.builds(lambda w, k: (w * k)[:70], words, st.integers(8, 40))
texts = st.lists(st.one_of(words, words, long_words), min_size=1, max_size=10).map(" ".join)
typo_settings = st.fixed_dictionaries({
    "oneTypo": st.sampled_from([0, 1, 3, 5]), "twoTypos": st.sampled_from([0, 2, 9, 255])})


def _reference(word: str, terms: list[str], budget: int, any_first: bool
               ) -> tuple[dict[int, int], dict[int, int]]:
    """(term id -> typos) of the whole word and of the word as a beginning, by rapidfuzz
    over every term: the whole word's another first letter a typo more (only with
    ``any_first``, else not compared), a beginning's first letter always the word's."""
    n = len(word)
    whole, heads = {}, {}
    for tid, term in enumerate(terms):
        same = term[:1] == word[:1]
        if same or any_first:
            d = OSA.distance(word, term) + (0 if same else 1)
            if 0 < d <= budget:
                whole[tid] = d
        if same:
            d = min(OSA.distance(word, term[:max(cut, 1)]) for cut in (n - 1, n, n + 1))
            if 0 < d <= budget:
                heads[tid] = d
    return whole, heads


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(texts, min_size=1, max_size=8), queries=st.lists(texts, max_size=3),
       sizes=typo_settings,
       separators=st.sampled_from([[], ["^", "$"], ["^", "$", "\x00", "\U0010ffff"]]))
def test_hostile_words_typo_search_is_rapidfuzz_and_every_search_answers(
        docs: list[str], queries: list[str], sizes: dict[str, int], separators: list[str]
        ) -> None:
    sizes["twoTypos"] = max(sizes["twoTypos"], sizes["oneTypo"])
    index = build_index([{"id": i, "t": t} for i, t in enumerate(docs)],
                        typoTolerance={"enabled": True, "minWordSizeForTypos": sizes},
                        nonSeparatorTokens=separators)
    snap = index.view.snapshot
    terms = list(snap.terms)
    assert "" not in terms
    for tid, term in enumerate(terms):
        assert snap.term_id(term) == tid
    for word in sorted({*index.analyzer.words(" ".join(queries)), *terms}):
        _check_word(word, terms, snap)
    for q in [*queries, *docs[:2]]:
        for body in ({}, {"matchingStrategy": "all"}, {"attributesToHighlight": ["*"],
                                                       "attributesToCrop": ["t:2"]}):
            response = search(index, q, **body)
            assert isinstance(response["hits"], list)


def _check_word(word: str, terms: list[str], snap: Any) -> None:
    assert word
    vocab = snap.vocabulary
    lo, hi = vocab.prefix_range(word)
    assert sorted(vocab.ids[lo:hi].tolist()) == [
        tid for tid, term in enumerate(terms) if term.startswith(word)], word
    for budget in (1, 2):
        for any_first in (False, True):
            whole, heads = _reference(word, terms, budget, any_first)
            ids, typos = _typo_terms(word, budget, snap, any_first)
            if len(whole) <= MAX_TYPO_TERMS:
                assert dict(zip(ids.tolist(), typos.tolist(), strict=True)) == whole
            both = _typed_hits(word, budget, snap, any_first)
            if both is not None:
                found, dist, k = both
                got = dict(zip(found[:k].tolist(), dist[:k].tolist(), strict=True))
                assert got == whole, (word, budget, any_first)
                got = dict(zip(found[k:].tolist(), dist[k:].tolist(), strict=True))
                assert got == heads, (word, budget, any_first)
        heads_ids, head_typos = _typo_completions(word, snap, budget)
        if len(heads) <= MAX_PREFIX_TERMS:
            got = dict(zip(heads_ids.tolist(), head_typos.tolist(), strict=True))
            assert got == _reference(word, terms, budget, False)[1], (word, budget)


def test_a_word_of_marks_alone_is_a_term_and_its_search_answers() -> None:
    """A combining mark alone is a word (the pattern takes marks as letters); folded, it
    was the empty term, and with oneTypo 0 an empty query word's typo search read its
    first letter (IndexError: a 500)."""
    index = build_index([{"id": 1, "t": "\u0301 x\u0301"}],
                        typoTolerance={"minWordSizeForTypos": {"oneTypo": 0, "twoTypos": 0}})
    assert set(index.view.snapshot.terms) == {"1", "\u0301", "x"}
    assert [h["id"] for h in search(index, "\u0301 a")["hits"]] == [1]
    assert [h["id"] for h in search(index, "\u0301\u0301")["hits"]] == [1]


def test_a_term_longer_than_the_code_rows_is_a_typo_completion() -> None:
    """Where every other term is shorter than a typo row's letters, the code rows are that
    narrow and a long term's row held zeros past them: a 25-letter term was no typo
    completion of "baab" (found by this file's property test, hypothesis seed 27)."""
    term = "baaaxyzwvutsrqponmlkjihgf"  # 25 letters: kept in the term table's overflow
    index = build_index([{"id": 1, "t": f"0 {term}"}])
    snap = index.view.snapshot
    tid = snap.term_id(term)
    ids, typos = _typo_completions("baab", snap, 1)
    assert dict(zip(ids.tolist(), typos.tolist(), strict=True)) == {tid: 1}
    # A word long enough for a typo (five letters), searched as it is being typed.
    assert [h["id"] for h in search(index, "baaxyz")["hits"]] == [1]


def test_nul_and_u10ffff_are_never_letters_so_prefixes_find_every_term() -> None:
    """NUL and U+10FFFF as letters (through nonSeparatorTokens) made terms the sorted
    vocabulary misplaced: numpy's order drops trailing NULs ("ab\\x00" was "ab") and a
    prefix's range ended at prefix + U+10FFFF, so "ab" missed "ab\\U0010ffffc" and
    "zz\\x00" missed "zz\\x00\\x00". They separate words as any separator does."""
    docs = [{"id": 1, "t": "ab"}, {"id": 2, "t": "ab\x00\x00x"}, {"id": 3, "t": "ab\U0010ffffc"},
            {"id": 4, "t": "abd\x00"}, {"id": 5, "t": "zz\x00\x00"}]
    index = build_index(docs, nonSeparatorTokens=["\x00", "\U0010ffff"])
    assert set(index.view.snapshot.terms) == {"1", "2", "3", "4", "5", "ab", "x", "c", "abd",
                                              "zz"}
    assert sorted(ids(search(index, "ab"))) == [1, 2, 3, 4]
    assert ids(search(index, "ab\x00\x00 x", matchingStrategy="all")) == [2]
    assert ids(search(index, "ab\U0010ffff c", matchingStrategy="all")) == [3]
    assert sorted(ids(search(index, "zz\x00"))) == [5]
