"""Vocabulary stem groups: each stem's terms, whichever batch brought them and in
whichever order (a term that is its own stem is kept without an entry of its own)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sift.engine import vocab as vocab_module
from sift.engine.analysis import stem_words
from sift.engine.kernels.typos import ROW_LETTERS, WIDE
from sift.engine.terms import LONG_LETTERS, TermTable
from sift.engine.vocab import Vocabulary, VocabularyBuilder, typo_rows

WORDS = ["runs", "run", "running", "runner", "paris", "pari", "berlin", "12", "connect",
         "connected", "connection", "connections", "caresses", "cares", "care", "ponies",
         "poni", "pony"]


def _expected(terms: list[str], stem: str) -> list[int]:
    return [tid for tid, s in enumerate(stem_words(terms)) if s == stem]


def _grow(order: list[str], cuts: list[int]) -> tuple[list[str], list[Vocabulary]]:
    """The terms of ``order`` added in batches ending at ``cuts``, a view after each."""
    table = TermTable()
    builder, terms, views = VocabularyBuilder(table), [], []
    for end in [*cuts, len(order)]:
        terms.extend(order[len(terms):end])
        table.add(terms[len(table):])
        builder.extend()
        views.append(builder.view())
    return terms, views


@pytest.mark.parametrize("seed", range(8))
def test_stem_groups_are_the_terms_with_that_stem(seed: int) -> None:
    rng = random.Random(seed)
    order = rng.sample(WORDS, len(WORDS))
    cuts = sorted(rng.sample(range(1, len(order)), 3))
    terms, views = _grow(order, cuts)
    stems = set(stem_words(terms)) | {"nothing"}
    for view in views:  # an earlier view sees only its own terms
        seen = terms[: view.n_terms]
        for stem in stems:
            assert view.stem_group(stem) == _expected(seen, stem), (order, stem)
            # The stem's own id given (a query word that is its stem): the same group.
            own = seen.index(stem) if stem in seen else None
            assert view.stem_group(stem, own) == _expected(seen, stem), (order, stem)


@pytest.mark.parametrize("seed", range(6))
def test_a_view_keeps_its_sorted_terms_while_later_batches_grow_the_buffers(
        seed: int) -> None:
    """Later batches write past a view's rows, double the buffers (INITIAL_ROWS) and
    widen them (a longer term): each view still sees exactly its own terms, sorted,
    with their code points and lengths."""
    rng = random.Random(seed)
    letters = "abcxyzé€𝄞"
    order = list(dict.fromkeys(
        "".join(rng.choice(letters) for _ in range(rng.randint(1, 4 + i // 600)))
        for i in range(3000)))
    cuts = sorted(rng.sample(range(1, len(order)), 6))
    terms, views = _grow(order, cuts)
    for view in views:
        seen = terms[: view.n_terms]
        assert view.by_id.tolist() == seen
        assert view.by_id[view.ids].tolist() == sorted(seen)
        assert view.lengths_by_id.tolist() == [len(t) for t in seen]
        assert ["".join(map(chr, row[:n])) for row, n in
                zip(view.codes, view.lengths_by_id, strict=True)] == seen
        for prefix in ("a", "x", "zz", "é€", "𝄞", "b" * 9):
            lo, hi = view.prefix_range(prefix)
            assert view.by_id[view.ids[lo:hi]].tolist() == \
                sorted(t for t in seen if t.startswith(prefix))


@pytest.mark.parametrize("seed", range(4))
def test_a_views_typo_rows_hold_each_terms_first_letters_and_length_in_sorted_order(
        seed: int) -> None:
    """kernels.typo_hits reads a term at ``rows[rank[id]]``: its first ROW_LETTERS
    letters and its length, rows in the terms' sorted order; WIDE in place of the length
    where a letter or the length does not fit 16 bits (then it reads the code row)."""
    rng = random.Random(seed)
    order = list(dict.fromkeys("".join(rng.choice("abé€𝄞") for _ in range(rng.randint(1, 11)))
                               for _ in range(500)))
    terms, views = _grow(order, sorted(rng.sample(range(1, len(order)), 3)))
    for view in views:
        rank, rows = view.typo_rows
        assert rank.dtype == np.int32 and rows.dtype == np.uint16 and rows.shape[1] == 8
        assert (rank[view.ids] == np.arange(view.n_terms)).all()
        for tid, term in enumerate(terms[: view.n_terms]):
            row = rows[rank[tid]].tolist()
            if "𝄞" in term[:ROW_LETTERS]:
                assert row[ROW_LETTERS] == WIDE
            else:
                head = [ord(c) for c in term[:ROW_LETTERS]]
                assert row == [*head, *[0] * (ROW_LETTERS - len(head)), len(term)]
    codes = np.array([[97, 98]], dtype=np.uint32)
    _, rows = typo_rows(codes, np.array([WIDE], dtype=np.int64), np.zeros(1, dtype=np.int64))
    assert rows[0, ROW_LETTERS] == WIDE  # a length that does not fit


def test_words_of_digits_are_their_own_stems() -> None:
    """The builder does not ask the stemmer about words of digits only (vocab._stems_of):
    true of every character Python calls a digit, alone and repeated."""
    digits = [chr(c) for c in range(0x110000) if chr(c).isdigit()]
    words = [d * n for d in digits for n in (1, 2, 7)] + [str(i) for i in range(0, 10**6, 97)]
    assert stem_words(words) == words


@pytest.mark.parametrize("seed", range(6))
def test_terms_longer_than_the_rows_are_sorted_and_found_by_their_prefixes(
        seed: int) -> None:
    """Terms past LONG_LETTERS keep only their first letters in the rows (sift.engine.
    terms): the sorted order and the prefix ranges are still those of the whole terms, for
    prefixes shorter than the rows, as long and longer."""
    rng = random.Random(seed)
    heads = ["a" * LONG_LETTERS, "a" * (LONG_LETTERS - 1) + "b", "ab" * 12, "b" * 5, ""]
    order = list(dict.fromkeys(
        rng.choice(heads) + "".join(rng.choice("abé𝄞") for _ in range(rng.randint(0, 30)))
        for _ in range(2000)))
    order = [t for t in order if t]
    cuts = sorted(rng.sample(range(1, len(order)), 5))
    terms, views = _grow(order, cuts)
    for view in views:
        seen = terms[: view.n_terms]
        assert view.words_at(view.ids) == sorted(seen)
        assert view.words_at(np.arange(view.n_terms)) == seen
        for prefix in ("a", "ab", "b" * 5, "a" * (LONG_LETTERS - 1), "a" * LONG_LETTERS,
                       "a" * (LONG_LETTERS + 1), "a" * LONG_LETTERS + "é", "ab" * 12,
                       "ab" * 12 + "𝄞", "a" * (LONG_LETTERS - 1) + "ba", "c" * 40):
            lo, hi = view.prefix_range(prefix)
            assert view.words_at(view.ids[lo:hi]) == \
                sorted(t for t in seen if t.startswith(prefix)), prefix


def _built_at_once(order: list[str]) -> VocabularyBuilder:
    table = TermTable()
    builder = VocabularyBuilder(table)
    table.add(order)
    builder.extend()
    return builder


def _state(builder: VocabularyBuilder) -> tuple[object, ...]:
    grams = builder._grams
    return (builder._ids.tolist(), dict(builder._stems), bytes(builder._own_stem),
            {key: list(ids) for key, ids in builder._by_first.items()},
            {key: list(ids) for key, ids in builder._by_length.items()},
            {gram: list(ids) for gram, ids in grams.postings.items()},
            list(grams.lengths), list(grams.firsts))


@pytest.mark.parametrize("seed", range(6))
def test_terms_extended_a_slice_of_strings_at_a_time_build_the_same_vocabulary(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import's views extend the vocabulary by all of its terms at once, their strings
    made a slice at a time: stems whose terms fall in different slices, buckets and
    bigrams come out as from one slice."""
    rng = random.Random(seed)
    order = rng.sample(WORDS, len(WORDS)) + [f"w{i}x" for i in range(40)]
    whole = _state(_built_at_once(order))
    monkeypatch.setattr(vocab_module, "GRAM_SLICE", rng.choice([1, 2, 3, 5]))
    assert _state(_built_at_once(order)) == whole
