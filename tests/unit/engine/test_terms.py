"""TermTable: term <-> id as a dict and a list would answer, without an object per term."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sift.engine.terms import TermTable

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
