"""TermTable: term <-> id as a dict and a list would answer, without an object per term."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sift.engine.terms import LONG_LETTERS, TermTable

# Letters of every width: ASCII, Latin-1, the BMP, past it, and NUL (numpy's unicode
# arrays drop trailing NULs: the lengths must keep them).
WORDS = st.text(alphabet=st.sampled_from("ab1é€𝄞\x00"), max_size=6)
BATCHES = st.lists(st.lists(WORDS, max_size=40), min_size=1, max_size=8)


def _reference(batches: list[list[str]]) -> tuple[dict[str, int], list[str]]:
    ids: dict[str, int] = {}
    for batch in batches:
        for word in batch:
            ids.setdefault(word, len(ids))
    return ids, list(ids)


@settings(max_examples=150, deadline=None)
@given(BATCHES, st.lists(WORDS, max_size=20))
def test_ids_and_terms_are_a_dict_and_a_list(batches: list[list[str]],
                                             others: list[str]) -> None:
    table, counts = TermTable(), []
    for batch in batches:
        before = len(table)
        added = table.add(batch)
        ref, _ = _reference(batches[: len(counts) + 1])
        assert added.dtype == np.int64 and added.tolist() == [ref[w] for w in batch]
        assert all(t >= before or t == ref[w] for w, t in zip(batch, added.tolist(), strict=True))
        counts.append(len(table))
    ids, terms = _reference(batches)
    assert len(table) == len(ids) and table.strings() == terms
    assert [table[t] for t in range(len(terms))] == terms
    words = [*terms, *others]
    assert table.ids(words).tolist() == [ids.get(w, -1) for w in words]
    assert [table.get(w) for w in words] == [ids.get(w) for w in words]
    # A reader's view: ids at or past its count are not there.
    for n in counts:
        assert [table.get(w, n) for w in words] == \
            [ids[w] if ids.get(w, n) < n else None for w in words]
        assert table.ids(words, n).tolist() == \
            [ids[w] if ids.get(w, n) < n else -1 for w in words]
    again = pickle.loads(pickle.dumps(table))
    assert again.strings() == terms and again.ids(words).tolist() == table.ids(words).tolist()
    assert again.add(["new word"]).tolist() == [len(terms) if "new word" not in ids
                                                else ids["new word"]]


def test_many_terms_grow_the_slots_and_the_rows() -> None:
    """Past the first table and the first rows (INITIAL_ROWS), and wider rows later: ids
    stay those given, and a view's rows (``codes`` taken earlier) are never rewritten."""
    table = TermTable()
    first = [str(i) for i in range(5000)]
    table.add(first)
    codes = table.codes
    kept = codes.copy()
    longer = [f"word{i}-{'x' * (i % 40)}" for i in range(20000)]
    assert table.add(longer).tolist() == list(range(5000, 25000))
    assert np.array_equal(codes, kept)
    assert table.ids(first + longer).tolist() == list(range(25000))
    assert table.get("word19999-" + "x" * (19999 % 40)) == 24999 and table.get("nope") is None
    assert table.strings(4998, 5002) == ["4998", "4999", "word0-", "word1-x"]


# Terms longer than the rows (LONG_LETTERS): their letters in the overflow store. Long
# words sharing their first row of letters, and ones ending in NUL.
HEADS = st.sampled_from(["a" * LONG_LETTERS, "a" * (LONG_LETTERS - 1) + "b", "ab" * 12,
                         "é" * (LONG_LETTERS - 2), ""])
LONG_WORDS = st.one_of(WORDS, st.builds(str.__add__, HEADS, WORDS),
                       st.text(alphabet=st.sampled_from("ab𝄞\x00"), min_size=LONG_LETTERS - 2,
                               max_size=LONG_LETTERS + 12))
LONG_BATCHES = st.lists(st.lists(LONG_WORDS, max_size=30), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(LONG_BATCHES, st.lists(LONG_WORDS, max_size=20))
def test_terms_longer_than_the_rows_are_a_dict_and_a_list(batches: list[list[str]],
                                                          others: list[str]) -> None:
    test_ids_and_terms_are_a_dict_and_a_list.hypothesis.inner_test(batches, others)
    table = TermTable()
    for batch in batches:
        table.add(batch)
    _, terms = _reference(batches)
    assert table.codes.shape[1] <= LONG_LETTERS
    assert table.strings_at(np.arange(len(terms))[::-1]) == terms[::-1]


def test_one_long_term_does_not_widen_the_rows() -> None:
    """Issue #18: one 255-letter term among short ones keeps the rows as wide as the short
    ones; its letters are in the overflow store."""
    short = [f"w{i}x" for i in range(5000)]
    plain, one_long = TermTable(), TermTable()
    plain.add(short)
    long = "a" * 250 + "\x00" + "b" * 4
    assert one_long.add([*short[:10], long, *short[10:]]).tolist()[10] == 10
    assert one_long.codes.shape[1] == plain.codes.shape[1] == len("w4999x")
    assert one_long.codes.nbytes == plain.codes.nbytes * 5001 // 5000  # a row more
    assert one_long[10] == long and one_long.get(long) == 10 and one_long.ids([long]) == [10]
    assert one_long.get(long[:-1]) is None and one_long.get(long + "\x00") is None
    assert one_long.strings(9, 12) == [short[9], long, short[10]]
    again = pickle.loads(pickle.dumps(one_long))
    assert again[10] == long and again.ids([long, short[0]]).tolist() == [10, 0]
    # Later wider rows get the long term's letters that now fit.
    one_long.add(["c" * 20])
    assert one_long.codes.shape[1] == 20
    assert "".join(map(chr, one_long.codes[10])) == "a" * 20 and one_long[10] == long
