"""The compiled search loops against plain numpy formulations of the same computation,
on random occurrence lists (hypothesis): results must be identical, floats bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from conftest import build_index, search
from sift.engine import kernels
from sift.engine.kernels.typos import ROW_LETTERS
from sift.engine.kernels_guard import Guarded
from sift.engine.match import POS_BITS, sorted_distinct
from sift.engine.terms import TermTable
from sift.engine.topk import smallest_k
from sift.engine.vocab import VocabularyBuilder, typo_rows

N_DOCS = 40
N_FIELDS = 3


@st.composite
def occurrence_lists(draw: st.DrawFn) -> list[dict[str, np.ndarray]]:
    """1-4 words, each with 0-60 occurrences (docid, field, position, weight)."""
    words = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 60))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        words.append({
            "docs": rng.integers(0, N_DOCS, n).astype(np.uint32),
            "fields": rng.integers(0, N_FIELDS, n).astype(np.uint16),
            "pos": rng.integers(0, 12, n).astype(np.uint32),
            "weight": rng.choice(np.array([1.0, 0.6, 0.45, 0.25], np.float32), n),
        })
    return words


def _flat(words: list[dict[str, np.ndarray]], key: str) -> np.ndarray:
    return np.concatenate([w[key] for w in words])


def _offsets(words: list[dict[str, np.ndarray]]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([w["docs"].size for w in words])]).astype(np.int64)


@given(occurrence_lists())
@settings(max_examples=150, deadline=None)
def test_candidates_match_unique_and_searchsorted(words: list[dict[str, np.ndarray]]) -> None:
    docs, offsets = _flat(words, "docs"), _offsets(words)
    cands = np.unique(docs).astype(np.uint32)
    # The sparse path's candidates (match.Features): np.unique's, by sorting.
    assert np.array_equal(sorted_distinct(docs), cands)
    assert sorted_distinct(docs).dtype == np.uint32
    index, matched = kernels.candidate_index(cands, docs, offsets, N_DOCS)
    for together in (kernels.dense_candidates(docs, offsets, N_DOCS),
                     kernels.marked_candidates(docs, offsets, N_DOCS)):
        for one, other in zip(together, (cands, index, matched), strict=True):
            assert np.array_equal(one, other) and one.dtype == other.dtype
    assert np.array_equal(index, np.searchsorted(cands, docs))
    for w, word in enumerate(words):
        assert np.array_equal(np.flatnonzero(matched[w]),
                              np.unique(np.searchsorted(cands, word["docs"])))


@given(st.lists(st.lists(st.integers(0, 700), max_size=300), min_size=1, max_size=4),
       st.integers(701, 900))
@settings(max_examples=150, deadline=None)
def test_marked_candidates_across_bitset_words(per_word: list[list[int]], n_docs: int) -> None:
    """Docids spanning several 64-bit words of the bitset (and their edges, 63 and 64):
    the candidates, indexes and matches of the docid pass."""
    docs = np.array([d for word in per_word for d in word], dtype=np.uint32)
    offsets = np.cumsum([0] + [len(word) for word in per_word]).astype(np.int64)
    expected = kernels.dense_candidates(docs, offsets, n_docs)
    for one, other in zip(kernels.marked_candidates(docs, offsets, n_docs), expected,
                          strict=True):
        assert np.array_equal(one, other) and one.dtype == other.dtype
    assert np.array_equal(expected[0], np.unique(docs))


@given(occurrence_lists())
@settings(max_examples=150, deadline=None)
def test_bm25f_matches_bincount_bit_for_bit(words: list[dict[str, np.ndarray]]) -> None:
    docs, offsets = _flat(words, "docs"), _offsets(words)
    cands = np.unique(docs).astype(np.uint32)
    index, _ = kernels.candidate_index(cands, docs, offsets, N_DOCS)
    field_weight = np.random.default_rng(0).random(N_DOCS * N_FIELDS).astype(np.float32)
    tf, df = kernels.term_frequencies(index, docs, _flat(words, "fields"),
                                      _flat(words, "weight"), offsets, field_weight, N_DOCS,
                                      cands.size)
    idfs = np.linspace(0.5, 2.0, len(words))
    k1, n = 1.6, cands.size
    expected = np.zeros(n)
    for w, word in enumerate(words):
        idx = np.searchsorted(cands, word["docs"])
        # df: candidates with a full-weight occurrence, else with any occurrence.
        full = word["weight"] >= 0.99
        assert df[w] == (np.unique(idx[full]).size if full.any() else np.unique(idx).size)
        # Field-major factors (ranking.field_weights): field * n_docs + docid.
        x = word["weight"] * field_weight[word["fields"].astype(np.int64) * N_DOCS
                                          + word["docs"]]
        word_tf = np.bincount(idx, weights=x, minlength=n)
        assert np.array_equal(tf[w], word_tf)  # same products, same summation order
        expected += idfs[w] * word_tf / (k1 + word_tf)
    assert np.array_equal(kernels.saturated_sum(tf, idfs, k1), expected)


def _brute_proximity(a: dict[str, np.ndarray], b: dict[str, np.ndarray], subset: np.ndarray,
                     by_attribute: bool) -> np.ndarray:
    """Every a/b pair in the same document and field: b after a costs the gap, b before
    a the gap + 1, clipped to 1..7 (1 for any pair by attribute); 8 without a pair."""
    cost = np.full(N_DOCS, 8, np.int16)
    for da, fa, pa in zip(a["docs"], a["fields"], a["pos"], strict=True):
        for db, fb, pb in zip(b["docs"], b["fields"], b["pos"], strict=True):
            if da != db or fa != fb or not subset[da]:
                continue
            gap = int(pb) - int(pa)
            dist = 1 if by_attribute else min(max(gap if gap >= 0 else -gap + 1, 1), 7)
            cost[da] = min(cost[da], dist)
    return cost


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=150, deadline=None)
def test_proximity_is_the_closest_pair(words: list[dict[str, np.ndarray]], seed: int,
                                       by_attribute: bool) -> None:
    a, b = words[0], words[-1]
    # Candidate indices are docids here (every docid a candidate), so costs compare 1:1.
    subset = np.random.default_rng(seed).random(N_DOCS) < 0.7
    keys, n_fields = kernels.proximity_keys(a["docs"].astype(np.int32), a["fields"], a["pos"],
                                            b["docs"].astype(np.int32), b["fields"], b["pos"],
                                            subset, POS_BITS)
    keys.sort()
    got = kernels.proximity_costs(keys, N_DOCS, n_fields, POS_BITS, by_attribute)
    assert np.array_equal(got, _brute_proximity(a, b, subset, by_attribute))
    bonus = np.linspace(0.0, 1.0, N_DOCS)
    expected = bonus + np.where(got < 8, 1.7 / got, 0.0)
    if not by_attribute:
        kernels.add_proximity_bonus(a["docs"].astype(np.int32), a["fields"], a["pos"],
                                    b["docs"].astype(np.int32), b["fields"], b["pos"], subset,
                                    bonus, POS_BITS, 1.7)
        assert np.array_equal(bonus, expected)


def _segment(words: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """A segment: each word is a term, its rows one contiguous slice."""
    return _offsets(words), _flat(words, "docs"), _flat(words, "fields"), _flat(words, "pos")


def _kept_rows(segment: tuple[np.ndarray, ...], tid: int, ty: int, doc_mask: np.ndarray,
               field_ok: np.ndarray, typo_ok: np.ndarray, checks: tuple[bool, bool, bool]
               ) -> np.ndarray:
    term_ptr, docs, fields, _ = segment
    if tid >= term_ptr.size - 1:
        return np.empty(0, np.int64)
    rows = np.arange(term_ptr[tid], term_ptr[tid + 1])
    keep = np.ones(rows.size, bool)
    if checks[0]:
        keep &= doc_mask[docs[rows]]
    if checks[1]:
        keep &= field_ok[fields[rows]]
    if checks[2] and ty:
        keep &= typo_ok[fields[rows]]
    return rows[keep]


@given(occurrence_lists(), occurrence_lists(), st.integers(0, 2**32 - 1), st.booleans(),
       st.booleans(), st.booleans())
@settings(max_examples=150, deadline=None)
def test_gather_words_masks_like_numpy(first: list[dict[str, np.ndarray]],
                                       second: list[dict[str, np.ndarray]], seed: int,
                                       check_docs: bool, check_fields: bool,
                                       check_typos: bool) -> None:
    segments = (_segment(first), _segment(second))
    rng = np.random.default_rng(seed)
    # Query words of 0-3 terms each, term ids up to one past the larger vocabulary.
    n_words = int(rng.integers(1, 4))
    sizes = rng.integers(0, 4, n_words)
    word_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    term_ids = rng.integers(0, max(len(first), len(second)) + 1, int(sizes.sum()))
    t_typos = rng.integers(0, 3, term_ids.size).astype(np.int8)
    t_exact = t_typos == 0
    t_weight = rng.random(term_ids.size).astype(np.float32)
    doc_mask = rng.random(N_DOCS) < 0.5
    field_ok = rng.random(N_FIELDS) < 0.7
    typo_ok = rng.random(N_FIELDS) < 0.5
    checks = (check_docs, check_fields, check_typos)
    *got, offsets = kernels.gather_words(*segments[0], *segments[1], word_ptr,
                                         term_ids.astype(np.int64), t_typos, t_exact,
                                         t_weight, doc_mask, field_ok, typo_ok, *checks)
    parts: list[list[np.ndarray]] = [[] for _ in range(6)]
    ends, total = [0], 0
    for w in range(n_words):
        for segment in segments:  # a word's rows: the first segment's, then the second's
            _, docs, fields, pos = segment
            for t in range(word_ptr[w], word_ptr[w + 1]):
                rows = _kept_rows(segment, int(term_ids[t]), int(t_typos[t]), doc_mask,
                                  field_ok, typo_ok, checks)
                for k, values in enumerate((docs[rows], fields[rows], pos[rows],
                                            np.full(rows.size, t_typos[t]),
                                            np.full(rows.size, t_exact[t]),
                                            np.full(rows.size, t_weight[t]))):
                    parts[k].append(values)
                total += rows.size
        ends.append(total)
    assert offsets.tolist() == ends
    for g, p in zip(got, parts, strict=True):
        expected = np.concatenate(p) if p else np.empty(0)
        assert np.array_equal(g, expected.astype(g.dtype))


@given(occurrence_lists(), occurrence_lists(), st.integers(0, 2**32 - 1), st.booleans(),
       st.sampled_from([1, 4, 16, 1 << 20]))
@settings(max_examples=100, deadline=None)
def test_gather_candidates_is_gather_words_then_candidates_and_frequencies(
        first: list[dict[str, np.ndarray]], second: list[dict[str, np.ndarray]], seed: int,
        check_docs: bool, ratio: int) -> None:
    """The rows table's columns as numpy's astype makes them, gather_words, then
    candidates_and_frequencies the way match.Features picks: the same twelve arrays, but
    for the columns past the docids of a word not copied (gather_rows leaves them)."""
    segments = (_segment(first), _segment(second))
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 4, int(rng.integers(1, 4)))
    word_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(sizes.sum())
    table = np.empty((n, 4))
    table[:, 0] = rng.integers(0, max(len(first), len(second)) + 1, n)
    table[:, 1] = rng.integers(0, 3, n)
    table[:, 2] = table[:, 1] == 0
    table[:, 3] = rng.random(n).astype(np.float32)
    masks = (rng.random(N_DOCS) < 0.5, np.ones(N_FIELDS, bool), np.ones(N_FIELDS, bool))
    field_weight = rng.random(N_DOCS * N_FIELDS).astype(np.float32)
    scored = rng.random(sizes.size) < 0.7
    copied = scored | (rng.random(sizes.size) < 0.5)
    got = kernels.gather_candidates(*segments[0], *segments[1], word_ptr, table, *masks,
                                    check_docs, False, False, N_DOCS, ratio, ratio // 4 or 1,
                                    field_weight, N_DOCS, scored, copied)
    gathered = kernels.gather_words(
        *segments[0], *segments[1], word_ptr, table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int8), table[:, 2].astype(bool), table[:, 3].astype(np.float32),
        *masks, check_docs, False, False)
    occurrences = int(gathered[6][-1])
    way = kernels.SPARSE_CANDIDATES if occurrences * ratio < N_DOCS else \
        kernels.MARKED_CANDIDATES if occurrences * (ratio // 4 or 1) < N_DOCS else \
        kernels.DENSE_CANDIDATES
    found = kernels.candidates_and_frequencies(gathered[0], gathered[1], gathered[5],
                                               gathered[6], N_DOCS, field_weight, N_DOCS,
                                               scored, way)
    ends = gathered[6]
    read = np.repeat(copied, np.diff(ends))  # the rows whose every column is written
    for column, (g, e) in enumerate(zip(got, (*gathered, *found), strict=True)):
        assert g.dtype == e.dtype and g.shape == e.shape
        if 0 < column < 6:
            assert np.array_equal(g[read], e[read])
        else:
            assert np.array_equal(g, e)


KERNELS = ("gather_words", "gather_candidates", "dense_candidates", "candidate_index",
           "term_frequencies",
           "saturated_sum", "proximity_keys", "proximity_costs", "add_proximity_bonus",
           "shared_grams", "typed_word_grams", "typo_hits", "top_by_key", "put_first",
           "largest_rows",
           "add_where_all", "trailing_union", "take_ranked", "coded_sum",
           "largest_rows_binned", "add_pair_bonuses", "in_unit_range",
           "candidates_and_frequencies", "relevance_raw", "relevance_ranked",
           "prefix_completions",
           "fresh_entries", "expansion_table")


@pytest.mark.parametrize("mode", ["sift", "meilisearch"])
def test_searches_use_the_warmed_up_signatures(mode: str) -> None:
    """A dtype that drifts (an int64 docid array, a float64 weight) would make numba
    compile another version in the middle of a request; warm_up covers what searches pass."""
    kernels.warm_up()
    if kernels.AHEAD is not None:  # compiled ahead of time: no call may leave the module
        for name in KERNELS:
            getattr(kernels, name).warned = False
    before = {name: _signatures(name) for name in KERNELS}
    docs = [{"id": i, "title": f"red shoe {i} sunflower", "body": "walking shoes for trails",
             "n": i % 5} for i in range(300)]
    index = build_index(docs, mode, filterableAttributes=["n"],
                        typoTolerance={"disableOnAttributes": ["body"]})
    for q in ("red shoe", "shoes walkng", '"red shoe" trails', "sun flower", "wal", "sho red"):
        for body in ({}, {"filter": "n < 3"}, {"attributesToSearchOn": ["title"]},
                     {"matchingStrategy": "all"}):
            search(index, q, **body)
    for name in KERNELS:
        assert _signatures(name) == before[name], name


def _signatures(name: str) -> set[object]:
    """The JIT's compiled versions of a kernel; with the module, whether a call had
    arguments it was not built for (and went to the JIT)."""
    kernel = getattr(kernels, name)
    if isinstance(kernel, Guarded):
        return {"called the JIT"} if kernel.warned else set()
    return set(kernel.signatures)


# 𝄞 is past uint16: a term with it in its first letters is read from its code row.
@given(st.text(alphabet="abcé日𝄞", min_size=1, max_size=9),
       st.lists(st.text(alphabet="abcé日𝄞", max_size=12), min_size=1, max_size=20),
       st.integers(1, 2), st.booleans(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_typo_hits_are_the_terms_rapidfuzz_finds_within_the_budget(
        word: str, terms: list[str], budget: int, prefix: bool, any_first: bool) -> None:
    _check_typo_hits(word, terms, budget, prefix, any_first)


@given(st.text(alphabet="ab日", min_size=60, max_size=70), st.data(), st.integers(1, 2),
       st.booleans(), st.booleans())
@settings(max_examples=100, deadline=None)
def test_typo_hits_of_words_past_64_letters_too(word: str, data: st.DataObject, budget: int,
                                                prefix: bool, any_first: bool) -> None:
    """Up to 64 letters a word's positions are bits (_osa_bits), past them a table's cells
    (_osa_within): terms a few edits from the word, and longer, on either side of 64."""
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 69), st.sampled_from("ab日")),
                     max_size=3)
    terms = []
    for ops in data.draw(st.lists(edits, min_size=1, max_size=6)):
        terms.append(_edited(word, ops) + data.draw(st.text(alphabet="ab", max_size=3)))
    _check_typo_hits(word, terms, budget, prefix, any_first)


@given(st.text(alphabet="abé日𝄞", min_size=ROW_LETTERS, max_size=14), st.data(),
       st.integers(1, 2), st.booleans(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_typo_hits_of_words_longer_than_a_row(word: str, data: st.DataObject, budget: int,
                                              prefix: bool, any_first: bool) -> None:
    """A word of ROW_LETTERS letters and more: its terms' rows reject those more than
    the budget away within their first letters (_row_bound) before any code row is read;
    terms zero to three edits from the word, anywhere in it, with suffixes, and letters
    past uint16 (WIDE rows, never bounded)."""
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 14), st.sampled_from("abé日𝄞")),
                     max_size=3)
    terms = [_edited(word, ops) + data.draw(st.text(alphabet="ab日", max_size=4))
             for ops in data.draw(st.lists(edits, min_size=1, max_size=12))]
    _check_typo_hits(word, terms, budget, prefix, any_first)


@given(st.text(alphabet="abé𝄞", min_size=kernels.SHORTLIST_LETTERS, max_size=9), st.data())
@settings(max_examples=400, deadline=None)
def test_a_typed_words_shortlists_keep_every_term_typo_hits_accepts(word: str,
                                                                    data: st.DataObject) -> None:
    """typed_word_shortlists (two ranges of the sorted order and one bigram's posting)
    against every term sharing the word's first letter: typo_hits finds the same terms
    with one typo in both, whole and as a beginning, on terms one edit (or two) from the
    word, longer, shorter, and letters past uint16 (WIDE rows)."""
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9), st.sampled_from("abé𝄞")),
                     min_size=1, max_size=2)
    terms = {word}
    for ops in data.draw(st.lists(edits, min_size=1, max_size=30)):
        if term := _edited(word, ops):
            terms.add(term + data.draw(st.text(alphabet="ab𝄞", max_size=3)))
    term_list = sorted(terms, key=hash)  # ids in another order than the sorted one
    table = TermTable()
    table.add(term_list)
    builder = VocabularyBuilder(table)
    builder.extend()
    vocab = builder.view()
    rank, rows = vocab.typo_rows
    letters = np.array([ord(c) for c in word], np.uint32)
    shared = vocab.grams.starting_with(word[3:5], word[0])
    whole, heads = kernels.typed_word_shortlists(letters, vocab.ids, vocab.codes,
                                                 vocab.lengths_by_id, shared, rank, rows)
    # Its two ranges are vocab.prefix_range's (numpy's search of the sorted terms): the
    # terms starting with W[:3] and with W[0] W[1] W[3], with the shared bigram's posting.
    pool = {int(t) for t in shared} | {
        int(t) for first in (word[:3], word[:2] + word[3])
        for t in vocab.ids[slice(*vocab.prefix_range(first))]}
    n = len(word)
    assert heads.tolist() == sorted(t for t in pool if len(term_list[t]) >= n - 1)
    assert whole.tolist() == sorted(t for t in pool if n - 1 <= len(term_list[t]) <= n + 1)
    same_first = np.array([i for i, t in enumerate(term_list) if t[0] == word[0]], np.int64)
    empty = np.empty(0, np.int64)
    hits_apart = []
    for shortlist, prefix in ((whole, False), (heads, True)):
        assert shortlist.dtype == np.int64 and np.all(np.diff(shortlist) > 0)
        hits = []
        for ids in (shortlist, same_first):
            lists = (empty, ids) if prefix else (ids, empty)
            hits.append(kernels.typo_hits(letters, *lists, rank, rows, vocab.codes,
                                          vocab.lengths_by_id, vocab.grams.firsts, 1,
                                          False)[0].tolist())
        assert hits[0] == hits[1]
        hits_apart.append(hits[0])
    # Both shortlists in one call: each one's hits, as apart.
    found, _, k = kernels.typo_hits(letters, whole, heads, rank, rows, vocab.codes,
                                    vocab.lengths_by_id, vocab.grams.firsts, 1, False)
    assert found[:k].tolist() == hits_apart[0] and found[k:].tolist() == hits_apart[1]
    # And with the shortlists made in the same call (typed_word_hits): the same answer.
    fused = kernels.typed_word_hits(letters, vocab.ids, vocab.codes, vocab.lengths_by_id,
                                    vocab.grams.firsts, shared, rank, rows)
    assert fused[0].tolist() == found.tolist() and fused[2] == k
    assert fused[1].tolist() == kernels.typo_hits(letters, whole, heads, rank, rows,
                                                  vocab.codes, vocab.lengths_by_id,
                                                  vocab.grams.firsts, 1, False)[1].tolist()


def _edited(word: str, ops: list[tuple[int, int, str]]) -> str:
    """``word`` after each (op, at, letter): 0 substitutes, 1 deletes, 2 inserts, 3 swaps
    the letter at ``at`` with the next (``at`` wrapped to the word's length)."""
    term = list(word)
    for op, at, letter in ops:
        at %= len(term) + 1
        if op == 0 and at < len(term):
            term[at] = letter
        elif op == 1 and at < len(term):
            del term[at]
        elif op == 2:
            term.insert(at, letter)
        elif at + 1 < len(term):
            term[at], term[at + 1] = term[at + 1], term[at]
    return "".join(term)


def _check_typo_hits(word: str, terms: list[str], budget: int, prefix: bool,
                     any_first: bool) -> None:
    """typo_hits over every term, as the whole word's list or the heads' (where
    ``any_first`` does not apply), and over both lists at once: rapidfuzz's OSA distance."""
    vocab = np.array(sorted(set(terms)))
    ids = np.arange(vocab.size, dtype=np.int64)
    codes = vocab.view(np.uint32).reshape(vocab.size, -1)
    lengths = np.char.str_len(vocab).astype(np.int64)
    firsts = np.array([ord(t[0]) if t else 0 for t in vocab.tolist()], dtype=np.uint32)
    letters = np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32).copy()
    # The compact rows in another order than the ids' (the vocabulary's sorted order,
    # there): a term is found through its rank.
    rank, rows = typo_rows(codes, lengths, ids[::-1].copy())
    empty = np.empty(0, np.int64)
    expected = {p: _typos_expected(word, vocab.tolist(), budget, p, any_first and not p)
                for p in (False, True)}
    lists = (empty, ids) if prefix else (ids, empty)
    found, typos, k = kernels.typo_hits(letters, *lists, rank, rows, codes, lengths, firsts,
                                        budget, any_first)
    assert k == (0 if prefix else found.size)
    assert list(zip(found.tolist(), typos.tolist(), strict=True)) == expected[prefix]
    assert found.dtype == np.int64 and typos.dtype == np.int8
    # Two sorted lists at once (a typed word's shortlists): each one's hits, in its order.
    whole, heads = ids[::2].copy(), ids[ids % 3 != 1].copy()
    found, typos, k = kernels.typo_hits(letters, whole, heads, rank, rows, codes, lengths,
                                        firsts, budget, any_first)
    hits = list(zip(found.tolist(), typos.tolist(), strict=True))
    assert hits[:k] == [(t, d) for t, d in expected[False] if t in set(whole.tolist())]
    assert hits[k:] == [(t, d) for t, d in expected[True] if t in set(heads.tolist())]


def _typos_expected(word: str, terms: list[str], budget: int, prefix: bool, any_first: bool
                    ) -> list[tuple[int, int]]:
    """(term id, typos) of the terms within ``budget`` of ``word``, by rapidfuzz."""
    n = len(word)
    expected = []
    for tid, term in enumerate(terms):
        heads = [term[:max(cut, 1)] for cut in (n - 1, n, n + 1)] if prefix else [term]
        d = min(OSA.distance(word, h) for h in heads)
        d += 1 if any_first and term[:1] != word[:1] else 0
        if 0 < d <= budget:
            expected.append((tid, d))
    return expected


@given(st.lists(st.sampled_from([0.0, -1.5, -2.25, 3.0, float("nan")]), min_size=2,
                max_size=150), st.data())  # pages up to 149 rows: sorted past SMALL_PAGE
@settings(max_examples=200, deadline=None)
def test_top_by_key_orders_by_key_then_tie_key(values: list[float], data: st.DataObject
                                               ) -> None:
    key = np.array(values)
    need = data.draw(st.integers(1, key.size - 1))
    # Docids in any order; tie keys with repeats, so that equal tie keys fall back to
    # the position.
    docids = np.array(data.draw(st.permutations(range(key.size))), np.uint32)
    tie = np.array(data.draw(st.lists(st.integers(0, 5), min_size=key.size,
                                      max_size=key.size)), np.uint64)
    got = kernels.top_by_key(key, need, docids, tie)
    if np.isnan(np.partition(key, need - 1)[need - 1]):
        assert got.size == 0  # the caller sorts everything
        return
    expected = np.lexsort([tie[docids], key])
    assert np.array_equal(got[:need], expected[:need])
    # The rest: every other position once.
    assert np.array_equal(np.sort(got), np.arange(key.size))


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_put_first_puts_the_page_first_and_keeps_every_position(data: st.DataObject
                                                                ) -> None:
    n = data.draw(st.integers(0, 40))
    top = np.array(data.draw(st.permutations(range(n)))[:data.draw(st.integers(0, n))],
                   np.int64)
    got = kernels.put_first(top, n)
    assert np.array_equal(got[:top.size], top)
    assert np.array_equal(np.sort(got), np.arange(n))


def test_kernels_compile_without_a_writable_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only install with no home directory: numba finds no cache location, and
    the kernel is compiled per process instead of failing the import."""
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])

    def double(x: np.ndarray) -> np.ndarray:
        return x * 2

    kernel = kernels.compiled(double)
    assert np.array_equal(kernel(np.arange(3)), [0, 2, 4])


@given(st.integers(0, 2**32 - 1), st.integers(0, 80))
@settings(max_examples=50, deadline=None)
def test_facet_counts_equal_bincount_over_the_candidates_values(seed: int, n_cands: int
                                                                ) -> None:
    rng = np.random.default_rng(seed)
    n_values = 5
    codes = rng.integers(-1, n_values, N_DOCS).astype(np.int32)  # -1: no value
    # Candidates may lie past the field's last docid (documents without the field).
    docs = np.unique(rng.integers(0, N_DOCS + 10, n_cands)).astype(np.uint32)
    inside = docs[docs < N_DOCS]
    found = codes[inside]
    expected = np.bincount(found[found >= 0], minlength=n_values)
    assert kernels.count_single_values(docs, codes, n_values).tolist() == expected.tolist()
    # Several distinct values per document, as a CSR by docid.
    lens = rng.integers(0, 3, N_DOCS)
    ptr = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    value_index = np.concatenate([rng.permutation(n_values)[:k] for k in lens]).astype(np.int64)
    rows = [value_index[ptr[d]:ptr[d + 1]] for d in inside]
    multi = np.bincount(np.concatenate([np.zeros(0, np.int64), *rows]), minlength=n_values)
    assert (kernels.count_multi_values(docs, ptr, value_index, n_values).tolist()
            == multi.tolist())
    # The same counts from per-value bitsets ANDed with the candidates' bitset, whatever
    # the two bitsets' lengths (candidates past the field's last docid).
    order = np.argsort(value_index, kind="stable")
    ids = np.repeat(np.arange(N_DOCS), lens)[order]
    offsets = np.concatenate(([0], np.cumsum(np.bincount(value_index, minlength=n_values))))
    bits = kernels.value_bits(ids.astype(np.int64), offsets.astype(np.int64),
                              (int(ids.max()) >> 6) + 1 if ids.size else 0)
    for n_words in (0, 1, (N_DOCS + 10 >> 6) + 1):
        cand_bits = kernels.docid_bits(docs, n_words)
        inside_bits = docs[docs < n_words * 64]
        rows = [value_index[ptr[d]:ptr[d + 1]] for d in inside_bits if d < N_DOCS]
        expected = np.bincount(np.concatenate([np.zeros(0, np.int64), *rows]),
                               minlength=n_values)
        assert kernels.count_bits(cand_bits, bits).tolist() == expected.tolist()


@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.25]), min_size=2, max_size=60),
       st.integers(1, 59))
@settings(max_examples=200, deadline=None)
def test_largest_rows_is_the_cut_of_smallest_k(values: list[float], k: int) -> None:
    """The top-300 cut's heap picks the set smallest_k picks from the negated scores,
    ties at the boundary by the lower position (a few distinct values: many ties)."""
    raw = np.array(values)
    k = min(k, raw.size - 1)
    assert kernels.largest_rows(raw, k).tolist() == smallest_k(-raw, k).tolist()


@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.25, 1e-300, 2e-300, 7.1, 9e9]),
                min_size=2, max_size=400), st.integers(1, 399), st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_largest_rows_binned_picks_what_the_heap_picks(values: list[float], k: int,
                                                       seed: int) -> None:
    """Few distinct values (ties at the boundary), values a bin apart or far apart, and
    random ones: the histogram's cut is the heap's."""
    raw = np.array(values)
    k = min(k, raw.size - 1)
    assert kernels.largest_rows_binned(raw, k).tolist() == kernels.largest_rows(raw, k).tolist()
    noisy = raw + np.random.default_rng(seed).random(raw.size)
    assert kernels.largest_rows_binned(noisy, k).tolist() == \
        kernels.largest_rows(noisy, k).tolist()


def test_largest_rows_binned_leaves_a_nan_and_takes_infinities() -> None:
    assert kernels.largest_rows_binned(np.array([1.0, np.nan, 2.0]), 1).size == 0
    raw = np.array([1.0, np.inf, 2.0, -np.inf, 2.0])
    assert kernels.largest_rows_binned(raw, 2).tolist() == [1, 2]
    assert kernels.largest_rows_binned(np.full(5, 2.5), 3).tolist() == [0, 1, 2]
    many = np.round(np.random.default_rng(3).random(kernels.BINNED_MAX_ROWS + 7), 3)
    assert kernels.largest_rows_binned(many, 300).tolist() == \
        kernels.largest_rows(many, 300).tolist()


def test_largest_rows_binned_outside_its_range_cuts_nothing() -> None:
    """k of 0 or at least the rows: no bin search (which would read past its buffers)."""
    raw = np.array([3.0, 1.0, 2.0])
    assert kernels.largest_rows_binned(raw, 0).tolist() == []
    assert kernels.largest_rows_binned(raw, 3).tolist() == [0, 1, 2]
    assert kernels.largest_rows_binned(raw, 5).tolist() == [0, 1, 2]


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
@settings(max_examples=200, deadline=None)
def test_add_pair_bonuses_is_add_proximity_bonus_per_pair(words: list[dict[str, np.ndarray]],
                                                           seed: int, shuffled: bool,
                                                           far: bool) -> None:
    """Every neighbouring pair of words (and one repeated) in one call: the bonus of the
    per-pair calls, added to the top rows as numpy adds it; for top rows in order (keys
    sorted by radix passes, or by np.sort when positions need many bits) or not."""
    rng = np.random.default_rng(seed)
    top = np.flatnonzero(rng.random(N_DOCS) < 0.6).astype(np.int64)
    if shuffled:
        top = rng.permutation(top)
    if far:  # positions near the 2 ** 20 clip: keys too wide for three radix passes
        for w in words:
            w["pos"] = w["pos"] + np.uint32((1 << POS_BITS) - 20)
    raw = rng.random(N_DOCS)
    pairs = [(a, a + 1) for a in range(len(words) - 1)] + [(0, len(words) - 1)]
    weights = rng.random(len(pairs))
    subset = np.zeros(N_DOCS, bool)
    subset[top] = True
    bonus = np.zeros(N_DOCS)
    for (a, b), w in zip(pairs, weights, strict=True):
        kernels.add_proximity_bonus(
            words[a]["docs"].astype(np.int32), words[a]["fields"], words[a]["pos"],
            words[b]["docs"].astype(np.int32), words[b]["fields"], words[b]["pos"], subset,
            bonus, POS_BITS, float(w))
    expected = raw.copy()
    expected[top] += 0.3 * bonus[top]
    kernels.add_pair_bonuses(raw, top, _flat(words, "docs").astype(np.int32),
                             _flat(words, "fields"), _flat(words, "pos"), _offsets(words),
                             np.array(pairs, np.int64), weights, 0.3, POS_BITS)
    assert raw.tobytes() == expected.tobytes()


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_subset_rows_are_the_rows_of_subset_candidates_in_order(
        words: list[dict[str, np.ndarray]], seed: int, share: float) -> None:
    """The pair bonuses' row scan (_subset_rows) over a word's rows in any order (the
    gather's are term after term, each term's by candidate): the rows whose candidate is
    in the subset, in row order, and one more than their largest field (1 when none). The
    contract a faster scan must keep (a bisection per term was tried and not taken:
    docs/benchmarks/engine-speed.md, branch ``pair1``)."""
    rng = np.random.default_rng(seed)
    subset = rng.random(N_DOCS) < share
    index = _flat(words, "docs").astype(np.int32)
    fields = _flat(words, "fields")
    rows = np.full(index.size, -1, np.int64)
    n, n_fields = kernels._subset_rows(index, fields, subset, rows)
    expected = np.flatnonzero(subset[index])
    assert rows[:n].tolist() == expected.tolist()
    assert n_fields == (int(fields[expected].max()) + 1 if expected.size else 1)


def test_in_unit_range_is_min_and_max_within_0_and_1() -> None:
    for values in ([0.0, 1.0, 0.5], [-0.0, 1.0], [], [1.0, 1.0000001], [-1e-300, 0.5],
                   [0.5, np.nan], [np.inf]):
        array = np.array(values, dtype=np.float64)
        expected = bool(array.size and array.min() >= 0.0 and array.max() <= 1.0)
        assert kernels.in_unit_range(array) == expected


def test_largest_rows_leaves_a_nan_to_smallest_k() -> None:
    assert kernels.largest_rows(np.array([1.0, np.nan, 2.0]), 1).size == 0
    assert kernels.largest_rows(np.array([1.0, 2.0, np.nan, 0.5]), 2).size == 0


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=40))
def test_add_where_all_adds_where_every_word_matched(cells: list[tuple[bool, ...]]) -> None:
    matched = np.array(cells, dtype=bool).reshape(-1, 3).T.copy()
    raw = np.linspace(0.0, 2.0, matched.shape[1])
    expected = raw.copy()
    np.add(expected, 0.5, out=expected, where=matched.all(axis=0))
    kernels.add_where_all(raw, matched, 0.5)
    assert raw.tobytes() == expected.tobytes()


@given(st.lists(st.lists(st.integers(0, 199), max_size=40), min_size=1, max_size=3),
       st.sets(st.integers(0, 199), min_size=1, max_size=150),
       st.lists(st.booleans(), min_size=200, max_size=200))
def test_trailing_union_is_the_union_with_each_words_rows(head_docs: list[list[int]],
                                                          last_set: set[int],
                                                          mask: list[bool]) -> None:
    """What filter_totals, candidate_index and term_frequencies give the parts, merged:
    the sorted union of the other words' (filtered) documents and the last word's that
    pass the mask, each word's row of term frequencies and matches there."""
    doc_mask = np.array(mask)
    # The other words' occurrences, filtered as gather filters them; docids repeat.
    words = [np.array(sorted(d for d in ds if doc_mask[d]), dtype=np.uint32)
             for ds in head_docs]
    docs = np.concatenate(words)
    offsets = np.cumsum([0, *(w.size for w in words)], dtype=np.int64)
    fields = (docs % 3).astype(np.uint16)
    weight = np.where(docs % 4 == 0, 0.6, 1.0).astype(np.float32)
    field_weight = np.linspace(0.5, 1.5, 3 * 200).astype(np.float32)
    last = np.array(sorted(last_set), dtype=np.uint32)
    bits = kernels.docid_bits(last, 4)
    values = np.array([0.25, 0.5, 1.5])
    codes = ((last % 3) << 1 | (last % 5 == 0)).astype(np.uint16)
    cands, index, tf, df, matched, last_tf, n_last, n_full, union_bits = kernels.trailing_union(
        docs, offsets, fields, weight, field_weight, 200, bits, codes, values, doc_mask)
    last_cands, _, expected_full, kept = kernels.filter_totals(bits, codes, values, doc_mask)
    assert kept.tolist() == kernels.docid_bits(last_cands, 4).tolist()
    union = np.union1d(docs, last_cands).astype(np.uint32)
    assert cands.dtype == np.uint32 and cands.tolist() == union.tolist()
    assert union_bits.tolist() == kernels.docid_bits(union, 4).tolist()
    assert (n_last, n_full) == (last_cands.size, expected_full)
    expected_index, expected_matched = kernels.candidate_index(union, docs, offsets, 200)
    assert index.tolist() == expected_index.tolist()
    head_tf, head_df = kernels.term_frequencies(expected_index, docs, fields, weight, offsets,
                                                field_weight, 200, union.size)
    assert tf.tobytes() == head_tf.tobytes() and df.tolist() == head_df.tolist()
    # The last word's term frequencies as indexes into values (values.size: absent).
    expected_last = np.full(union.size, values.size)
    expected_last[np.searchsorted(union, last_cands)] = codes[doc_mask[last]] >> 1
    assert last_tf.dtype == np.uint16 and last_tf.tolist() == expected_last.tolist()
    assert np.array_equal(matched[:-1], expected_matched)
    assert matched[-1].tolist() == np.isin(union, last_cands).tolist()


@given(st.lists(st.floats(allow_nan=True), min_size=1, max_size=50), st.randoms())
def test_take_ranked_is_both_gathers(scores: list[float], rng: Any) -> None:
    order = np.arange(len(scores), dtype=np.int64)
    rng.shuffle(order)
    cands = (np.arange(len(scores)) * 7 + 3).astype(np.uint32)
    values = np.array(scores)
    docids, ranked = kernels.take_ranked(order, cands, values)
    assert docids.dtype == np.uint32 and docids.tolist() == cands[order].tolist()
    assert ranked.tobytes() == values[order].tobytes()


@given(st.sets(st.integers(0, 299), max_size=200),
       st.lists(st.booleans(), min_size=300, max_size=300))
def test_filter_totals_keeps_the_documents_the_mask_passes(docs: set[int],
                                                          mask: list[bool]) -> None:
    every = np.array(sorted(docs), dtype=np.uint32)
    values = np.array([0.5, 1.25, 3.0])
    codes = ((every % 3) << 1 | (every % 7 == 0)).astype(np.uint16)
    doc_mask = np.array(mask)
    cands, tf, n_full, kept = kernels.filter_totals(kernels.docid_bits(every, 5), codes,
                                                    values, doc_mask)
    passing = doc_mask[every]
    assert cands.tolist() == every[passing].tolist()
    assert tf.tobytes() == values[codes[passing] >> 1].tobytes()
    assert n_full == int((codes[passing] & 1).sum())
    assert kept.tolist() == kernels.docid_bits(every[passing], 5).tolist()



# Chunks of 65,536 docids, each sparse (an array container), at the 4,096 boundary
# either way, or dense (a bitset container): the docids drawn per chunk, in any order.
@given(st.lists(st.sampled_from([0, 1, 7, 4095, 4096, 4097, 30_000, 65_536]),
                min_size=1, max_size=4), st.integers(0, 2**32 - 1), st.booleans())
def test_roaring_portable_deserializes_to_the_bitmap_of_the_docids(per_chunk: list[int],
                                                                    seed: int,
                                                                    short: bool) -> None:
    from pyroaring import BitMap

    rng = np.random.default_rng(seed)
    docs = np.concatenate([c << 16 | rng.choice(1 << 16, n, replace=False)
                           for c, n in enumerate(per_chunk)]).astype(np.uint32)
    rng.shuffle(docs)
    n_words = (len(per_chunk) << 10) - short  # the last chunk may be short of 1,024 words
    docs = docs[docs < n_words * 64]
    serialized = kernels.roaring_portable(docs, n_words).tobytes()
    assert BitMap.deserialize(serialized) == BitMap(docs.tolist())


@given(st.lists(st.tuples(st.floats(0, 50), st.integers(0, 3)), min_size=1, max_size=40),
       st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_coded_sum_is_saturated_sum_of_the_decoded_row(rows: list[tuple[float, int]],
                                                       idf_head: float, idf_last: float) -> None:
    """A last word coded as indexes into its distinct term frequencies (3: absent, 0.0)
    sums to saturated_sum's floats over its decoded row, bit for bit."""
    values = np.array([0.25, 1.5, 7.0])
    head = np.array([[tf for tf, _ in rows]])
    last = np.array([code for _, code in rows], dtype=np.uint16)
    decoded = np.append(values, 0.0)[last]
    idfs = np.array([idf_head, idf_last])
    expected = kernels.saturated_sum(np.vstack([head, decoded]), idfs, 1.6)
    got = kernels.coded_sum(head, idfs, 1.6, last, values)
    assert got.tobytes() == expected.tobytes()


@given(st.lists(st.text(alphabet="ab0 ", max_size=6), max_size=30))
def test_distinct_words_numbers_words_by_first_appearance(texts: list[str]) -> None:
    """The words between [first, end) byte offsets, numbered as dict.fromkeys would."""
    text = " ".join(texts).encode("ascii")
    spans = [(m.start(), m.end()) for m in __import__("re").finditer(rb"[ab0]+", text)]
    firsts = np.array([a for a, _ in spans], dtype=np.int64)
    ends = np.array([b for _, b in spans], dtype=np.int64)
    codes, reps = kernels.distinct_words(np.frombuffer(text, dtype=np.uint8), firsts, ends,
                                         64)
    words = [text[a:b] for a, b in spans]
    distinct = list(dict.fromkeys(words))
    assert [words[r] for r in reps.tolist()] == distinct
    assert codes.tolist() == [distinct.index(w) for w in words]


def test_distinct_words_tells_apart_words_of_one_slot() -> None:
    """4,000 words, 2,000 distinct, in a table of 16,384 slots: words land in slots other
    words hold (the probe goes on), and each is still numbered by its bytes."""
    words = [format(i, "x") for i in range(2000)] * 2
    text = " ".join(words).encode("ascii")
    lens = np.array([len(w) for w in words], dtype=np.int64)
    firsts = np.cumsum(lens + 1) - (lens + 1)
    codes, reps = kernels.distinct_words(np.frombuffer(text, dtype=np.uint8), firsts,
                                         firsts + lens, 2000)
    assert reps.tolist() == list(range(2000))
    assert codes.tolist() == list(range(2000)) * 2
    # No probe allowed: the first word that lands on another's slot ends the pass.
    codes, reps = kernels.distinct_words(np.frombuffer(text, dtype=np.uint8), firsts,
                                         firsts + lens, 0)
    assert codes.size == reps.size == 0


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.booleans())
def test_rows_by_term_is_lexsort_for_rows_in_document_order(seed: int, n: int,
                                                            in_order: bool) -> None:
    """Rows in (doc, field, pos) order: the counting sort's order is lexsort's; other rows:
    an empty order (Segment.build then sorts with lexsort)."""
    rng = np.random.default_rng(seed)
    terms = rng.integers(0, 12, n)
    docs = rng.integers(0, 5, n).astype(np.uint32)
    fields = rng.integers(0, 3, n).astype(np.uint16)
    pos = rng.integers(0, 6, n).astype(np.uint32)
    if in_order:
        by_row = np.lexsort((pos, fields, docs))
        terms, docs, fields, pos = terms[by_row], docs[by_row], fields[by_row], pos[by_row]
    order = kernels.rows_by_term(terms, docs, fields, pos, 12)
    rows = list(zip(docs.tolist(), fields.tolist(), pos.tolist(), strict=True))
    if rows == sorted(rows):
        assert order.tolist() == np.lexsort((pos, fields, docs, terms)).tolist()
    else:
        assert order.size == 0


@given(occurrence_lists(), st.sampled_from([kernels.SPARSE_CANDIDATES,
                                            kernels.MARKED_CANDIDATES,
                                            kernels.DENSE_CANDIDATES]),
       st.integers(0, 15))
@settings(max_examples=150, deadline=None)
def test_candidates_and_frequencies_are_the_two_calls_it_replaces(
        words: list[dict[str, np.ndarray]], way: int, unscored: int) -> None:
    """Each way to the candidates (sorted_distinct and candidate_index, marked or dense),
    then term_frequencies: the same arrays, bit for bit; a word not scored (bit w of
    ``unscored``) with a tf row of zeros and as df the candidates holding it."""
    docs, fields, weight = _flat(words, "docs"), _flat(words, "fields"), _flat(words, "weight")
    offsets = _offsets(words)
    field_weight = np.random.default_rng(1).random(N_DOCS * N_FIELDS).astype(np.float32)
    if way == kernels.SPARSE_CANDIDATES:
        cands = sorted_distinct(docs)
        index, matched = kernels.candidate_index(cands, docs, offsets, N_DOCS)
    else:
        ways = {kernels.MARKED_CANDIDATES: kernels.marked_candidates,
                kernels.DENSE_CANDIDATES: kernels.dense_candidates}
        cands, index, matched = ways[way](docs, offsets, N_DOCS)
    tf, df = kernels.term_frequencies(index, docs, fields, weight, offsets, field_weight,
                                      N_DOCS, cands.size)
    scored = np.array([not unscored >> w & 1 for w in range(len(words))], np.bool_)
    tf[~scored] = 0.0
    df[~scored] = matched[~scored].sum(axis=1)
    got = kernels.candidates_and_frequencies(docs, fields, weight, offsets, N_DOCS,
                                             field_weight, N_DOCS, scored, way)
    for g, e in zip(got, (cands, index, matched, tf, df), strict=True):
        assert g.dtype == e.dtype and np.array_equal(g, e)


def _relevance_by_steps(tf: np.ndarray, idfs: np.ndarray, depth: int, words: list[dict],
                        pairs: np.ndarray, pair_weights: np.ndarray, matched: np.ndarray,
                        bonus: float, max_score: float) -> tuple[np.ndarray, np.ndarray]:
    """What ranking.relevance_scores computed with one call per step."""
    docs, offsets = _flat(words, "docs"), _offsets(words)
    index, _ = kernels.candidate_index(np.arange(N_DOCS, dtype=np.uint32), docs, offsets,
                                       N_DOCS)
    raw = kernels.saturated_sum(tf, idfs, 1.6)
    if depth:
        top = kernels.largest_rows_binned(raw, depth) if depth < raw.size else \
            np.arange(raw.size, dtype=np.int64)
        kernels.add_pair_bonuses(raw, top, index, _flat(words, "fields"),
                                 _flat(words, "pos"), offsets, pairs, pair_weights, 0.25,
                                 POS_BITS)
    if bonus:
        kernels.add_where_all(raw, matched, bonus)
    score = raw / max_score
    return np.negative(raw, out=raw), score


def _relevance_inputs(words: list[dict[str, np.ndarray]], seed: int) -> tuple[Any, ...]:
    """Seeded term frequencies (half of them 0), idfs, the matched mask, neighbouring
    pairs and their weights, each occurrence's candidate and the words' offsets, as the
    relevance kernels take them: (rng, tf, idfs, matched, pairs, pair_weights, index,
    offsets)."""
    rng = np.random.default_rng(seed)
    tf = rng.random((len(words), N_DOCS)) * (rng.random((len(words), N_DOCS)) < 0.5)
    idfs = rng.random(len(words)) * 3
    matched = tf > 0
    pairs = np.array([(a, a + 1) for a in range(len(words) - 1)], np.int64).reshape(-1, 2)
    pair_weights = rng.random(pairs.shape[0])
    docs, offsets = _flat(words, "docs"), _offsets(words)
    index, _ = kernels.candidate_index(np.arange(N_DOCS, dtype=np.uint32), docs, offsets,
                                       N_DOCS)
    return rng, tf, idfs, matched, pairs, pair_weights, index, offsets


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 7, N_DOCS]),
       st.sampled_from([0.0, 0.5]))
@settings(max_examples=150, deadline=None)
def test_relevance_raw_is_the_calls_it_replaces(words: list[dict[str, np.ndarray]],
                                                seed: int, depth: int, bonus: float) -> None:
    """saturated_sum, the cut and pair bonuses of the best ``depth`` rows, the every-word
    bonus, the division by the maximum score and the negation: the same floats as the
    calls one after the other, and whether every score lies in [0, 1]."""
    rng, tf, idfs, matched, pairs, pair_weights, index, offsets = _relevance_inputs(words,
                                                                                     seed)
    max_score = float(rng.choice([0.5, 100.0]))
    key, score, in_unit, done = kernels.relevance_raw(
        tf, idfs, 1.6, depth, index, _flat(words, "fields"), _flat(words, "pos"), offsets,
        pairs, pair_weights, 0.25, POS_BITS, matched, bonus, max_score, 0)
    expected_key, expected_score = _relevance_by_steps(tf, idfs, depth, words, pairs,
                                                       pair_weights, matched, bonus, max_score)
    assert done
    assert np.array_equal(key, expected_key) and np.array_equal(score, expected_score)
    assert in_unit == kernels.in_unit_range(expected_score)


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 7, N_DOCS]),
       st.sampled_from([0, 1, 10, N_DOCS - 1, N_DOCS]), st.sampled_from([0.5, 100.0]))
@settings(max_examples=150, deadline=None)
def test_relevance_ranked_is_relevance_raw_then_the_page(
        words: list[dict[str, np.ndarray]], seed: int, depth: int, need: int,
        max_score: float) -> None:
    """relevance_raw's arrays, then, for 0 < need < candidates and every score in [0, 1],
    top_by_key's order and take_ranked's docids and scores; else no page."""
    rng, tf, idfs, matched, pairs, pair_weights, index, offsets = _relevance_inputs(words,
                                                                                     seed)
    cands = rng.permutation(N_DOCS).astype(np.uint32)
    tie = rng.integers(0, 4, N_DOCS).astype(np.uint64)
    rows = (index, _flat(words, "fields"), _flat(words, "pos"), offsets, pairs, pair_weights,
            0.25, POS_BITS, matched, 0.5, max_score)
    key, score, in_unit, done, order, ranked_docids, ranked_scores = \
        kernels.relevance_ranked(tf, idfs, 1.6, depth, *rows, need, cands, tie, False)
    expected = kernels.relevance_raw(tf, idfs, 1.6, depth, *rows, 0)
    assert np.array_equal(key, expected[0]) and np.array_equal(score, expected[1])
    assert (in_unit, done) == expected[2:]
    if not (done and in_unit and 0 < need < N_DOCS):
        assert order.size == ranked_docids.size == ranked_scores.size == 0
        return
    assert np.array_equal(order, kernels.top_by_key(key, need, cands, tie))
    taken = kernels.take_ranked(order, cands, score)
    assert np.array_equal(ranked_docids, taken[0]) and np.array_equal(ranked_scores, taken[1])
    assert ranked_docids.dtype == np.uint32


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.sampled_from([1, 7, N_DOCS]),
       st.sampled_from([1, 3, 10, N_DOCS - 1]), st.sampled_from([0.0, 0.5]),
       st.sampled_from([0.5, 2.0, 100.0]))
@settings(max_examples=200, deadline=None)
def test_relevance_ranked_page_only_gives_the_same_page(
        words: list[dict[str, np.ndarray]], seed: int, depth: int, need: int, bonus: float,
        max_score: float) -> None:
    """With ``page_only`` (the bonus only for rows reachable_rows keeps): the same page,
    order, docids and page scores, in_unit and done, as with every top row's bonus; the
    keys and scores of the page's rows the same too. ``matched`` is the occurrences'
    (as gather_candidates makes it), which the bound reads."""
    rng, tf, idfs, _, pairs, pair_weights, index, offsets = _relevance_inputs(words, seed)
    index, matched = kernels.candidate_index(np.arange(N_DOCS, dtype=np.uint32),
                                             _flat(words, "docs"), offsets, N_DOCS)
    # Weights large against the scores: the bonus decides the page, and few rows drop.
    weight = float(rng.choice([0.25, 4.0]))
    cands = rng.permutation(N_DOCS).astype(np.uint32)
    tie = rng.integers(0, 4, N_DOCS).astype(np.uint64)
    rows = (index, _flat(words, "fields"), _flat(words, "pos"), offsets, pairs, pair_weights,
            weight, POS_BITS, matched, bonus, max_score)
    every = kernels.relevance_ranked(tf, idfs, 1.6, depth, *rows, need, cands, tie, False)
    page = kernels.relevance_ranked(tf, idfs, 1.6, depth, *rows, need, cands, tie, True)
    assert page[2:4] == every[2:4]
    assert np.array_equal(page[4], every[4]) and np.array_equal(page[5], every[5])
    assert np.array_equal(page[6][:need], every[6][:need])
    first = every[4][:need]
    assert np.array_equal(page[0][first], every[0][first])
    assert np.array_equal(page[1][first], every[1][first])


@given(occurrence_lists(), st.integers(0, 2**32 - 1), st.sampled_from([1, 7, N_DOCS]),
       st.sampled_from([0, 1, 10, N_DOCS]), st.sampled_from([0.0, 0.5]),
       st.sampled_from([0.5, 100.0]), st.booleans())
@settings(max_examples=150, deadline=None)
def test_relevance_ranked_without_pairs_is_the_same_without_a_depth(
        words: list[dict[str, np.ndarray]], seed: int, depth: int, need: int, bonus: float,
        max_score: float, page_only: bool) -> None:
    """No word pair (ranking.relevance_scores: fewer than two content words), no bonus:
    every array and flag is the same with depth 0 as with the depth cut it skips."""
    rng, tf, idfs, matched, _, _, index, offsets = _relevance_inputs(words, seed)
    cands = rng.permutation(N_DOCS).astype(np.uint32)
    tie = rng.integers(0, 4, N_DOCS).astype(np.uint64)
    rows = (index, _flat(words, "fields"), _flat(words, "pos"), offsets,
            np.empty((0, 2), np.int64), np.empty(0), 0.25, POS_BITS, matched, bonus,
            max_score)
    cut = kernels.relevance_ranked(tf, idfs, 1.6, depth, *rows, need, cands, tie, page_only)
    none = kernels.relevance_ranked(tf, idfs, 1.6, 0, *rows, need, cands, tie, page_only)
    for c, n in zip(cut, none, strict=True):
        assert np.array_equal(c, n) and np.asarray(c).dtype == np.asarray(n).dtype


def test_reachable_rows_drops_rows_the_bonus_cannot_lift_onto_the_page() -> None:
    """reach 1, the best raw score 5.0 (no bonus counted): a row whose raw score plus
    ``weight`` times its pairs' weights stays below it goes; a row whose bound reaches it
    stays, as does one lacking a word of the pair only where it holds both, and one whose
    bound's score would pass 1 (in_unit must not change)."""
    raw = np.array([5.0, 1.0, 4.9, 4.9, 4.0])
    matched = np.ones((2, raw.size), np.bool_)
    matched[1, 3] = False  # row 3 holds word 0 alone: no pair bonus, bound 4.9
    pairs = np.array([[0, 1]], np.int64)
    none = np.empty(0, np.bool_)

    def kept(raw: np.ndarray, depth: int, every: np.ndarray, bonus: float, reach: int,
             max_score: float) -> tuple[list[int], bool]:
        rows, found = kernels.reachable_rows(raw, depth, every, bonus, matched[:, :raw.size],
                                             pairs, np.ones(1), 0.25, reach, max_score)
        return rows.tolist(), found

    assert kept(raw, 5, none, 0.0, 1, 10.0) == ([0, 2], True)
    # Row 3's bound, 4.9, over a maximum score of 4.5 leaves [0, 1]: it stays (row 4's,
    # 4.25, does not).
    assert kept(raw, 5, none, 0.0, 1, 4.5) == ([0, 2, 3], True)
    # The every-word bonus counts in the bar and the bounds: row 1, holding every word,
    # sets the bar at 5.5, which no other row's bound (5.25 at most) reaches.
    every = np.array([False, True, False, False, False])
    assert kept(raw, 5, every, 4.5, 1, 100.0) == ([1], True)
    # The kept rows' lowest raw score, 4.9, is reached by 3 rows: among the 3 best they
    # are; among the best 2 no count can tell which of rows 2 and 3 the cut takes.
    assert kept(raw, 3, none, 0.0, 1, 10.0) == ([0, 2], True)
    assert kept(raw, 2, none, 0.0, 1, 10.0) == ([], False)
    # Nothing told where the page takes every row, a score is NaN, or the maximum score
    # is not positive (whether a quotient lies in [0, 1] is then not told by comparing).
    assert kept(raw, 5, none, 0.0, 5, 10.0) == ([], False)
    # A page deeper than REACH_MAX rows: the depth cut, as before (the bar's cost grows with
    # the page).
    deepest = kernels.scoring.REACH_MAX
    deep = np.arange(float(deepest + 2))
    both = np.ones((2, deep.size), np.bool_)
    assert not kernels.reachable_rows(deep, deep.size, none, 0.0, both, pairs, np.ones(1),
                                      0.25, deepest + 1, 100.0)[1]
    assert kernels.reachable_rows(deep, deep.size, none, 0.0, both, pairs, np.ones(1), 0.25,
                                  deepest, 100.0)[1]
    assert kept(raw, 5, none, 0.0, 1, 0.0) == ([], False)
    assert kept(np.array([5.0, np.nan, 1.0]), 3, none, 0.0, 1, 10.0) == ([], False)
    # A NaN after many rows below the bar is still seen, and a row there that the bonus
    # may lift onto the page still kept.
    late = np.r_[5.0, np.full(32, 1.0), np.nan]
    wide = np.ones((2, late.size), np.bool_)
    assert not kernels.reachable_rows(late, late.size, none, 0.0, wide, pairs, np.ones(1),
                                      0.25, 1, 10.0)[1]
    late[-1] = 4.9
    assert kernels.reachable_rows(late, late.size, none, 0.0, wide, pairs, np.ones(1), 0.25,
                                  1, 10.0)[0].tolist() == [0, late.size - 1]


def test_relevance_raw_leaves_a_nan_cut_to_the_caller() -> None:
    """A NaN score: no cut, the bonuses left out, saturated_sum's scores handed back."""
    tf = np.array([[1.0, np.nan, 2.0, 0.5]])
    empty = np.empty(0, np.int32)
    raw, _, in_unit, done = kernels.relevance_raw(
        tf, np.ones(1), 1.6, 2, empty, np.empty(0, np.uint16), np.empty(0, np.uint32),
        np.zeros(2, np.int64), np.empty((0, 2), np.int64), np.empty(0), 0.25, POS_BITS,
        np.ones((1, 4), np.bool_), 0.5, 1.0, 1)
    expected = kernels.saturated_sum(tf, np.ones(1), 1.6)
    assert not done and not in_unit
    assert np.array_equal(raw, expected, equal_nan=True)
@given(st.lists(st.text(alphabet="abcé日\U0010ffff", max_size=5), min_size=1, max_size=40),
       st.text(alphabet="abcé日\U0010ffff", max_size=7), st.integers(1, 8),
       st.lists(st.integers(0, 3), min_size=40, max_size=40), st.booleans())
@settings(max_examples=300, deadline=None)
def test_prefix_completions_are_the_numpy_range_cut_to_the_most_frequent(
        terms: list[str], prefix: str, k: int, counts: list[int], drop_own: bool) -> None:
    """prefix_completions: the terms numpy's searchsorted of the sorted vocabulary finds for
    the prefix, the k most frequent of them (ties by the sorted order, topk.largest_k), the
    prefix's own term left out, in sorted order."""
    from sift.engine.topk import largest_k
    from sift.engine.vocab import VocabularyBuilder

    words = list(dict.fromkeys(t for t in terms if t))
    if not words:
        return
    table = TermTable()
    table.add(words)
    builder = VocabularyBuilder(table)
    builder.extend()
    vocab = builder.view()
    freq = np.array(counts[: len(words)], dtype=np.int64)
    lo, hi = np.searchsorted(vocab.by_id, [prefix, prefix + "\U0010ffff"], sorter=vocab.ids)
    expected = vocab.ids[lo:hi]
    if expected.size > k:
        expected = expected[largest_k(freq[expected], k)]
    own = words.index(prefix) if drop_own and prefix in words else -1
    expected = expected[expected != own]
    letters = np.frombuffer(prefix.encode("utf-32-le"), dtype=np.uint32).copy()
    found = kernels.prefix_completions(letters, vocab.ids, vocab.codes, vocab.lengths_by_id,
                                       freq, k, own)
    assert found.tolist() == expected.tolist()


@given(st.lists(st.lists(st.integers(0, 40), max_size=14), min_size=5, max_size=5),
       st.integers(-1, 40))
@settings(max_examples=300, deadline=None)
def test_an_expansion_table_is_its_kinds_added_one_after_another(
        kinds: list[list[int]], own: int) -> None:
    """expansion_table: the table QueryWord.add builds from the same kinds in order (a
    term's first entry kept), and the ids of the highlighted terms: all but completions;
    up to 32 entries (repeats found one by one) and past them (by a sort)."""
    from sift.engine.expand import QueryWord, _columns

    prefix, stems, typo_ids, head_ids = (list(dict.fromkeys(k)) for k in kinds[1:])
    rng = np.random.default_rng(len(typo_ids) + 7 * len(head_ids))
    typo_typos = rng.integers(1, 3, len(typo_ids)).astype(np.int8)
    head_typos = rng.integers(1, 3, len(head_ids)).astype(np.int8)
    typo_weights = rng.random(len(typo_ids)).astype(np.float32)
    head_weights = rng.random(len(head_ids)).astype(np.float32)
    word = QueryWord("w", 0)
    names = [f"t{i}" for i in range(41)]
    if own >= 0:
        word.add([own], 0, True, 1.0, [names[own]])
    word.add(prefix, 0, False, 0.7, [])
    for ids, typos, weights in ((stems, 0, 0.9), (typo_ids, typo_typos, typo_weights),
                                (head_ids, head_typos, head_weights)):
        word.add(ids, typos, False, weights, [names[t] for t in ids])
    i64 = np.int64
    table = kernels.expansion_table(own, 1.0, np.array(prefix, i64), 0.7, np.array(stems, i64),
                                    0.9, np.array(typo_ids, i64), typo_typos, typo_weights,
                                    np.array(head_ids, i64), head_typos, head_weights)
    assert [a.tolist() for a in _columns(table[0])] == [a.tolist() for a in word._table()]
    assert {names[t] for t in table[1].tolist()} == word.highlight_words
