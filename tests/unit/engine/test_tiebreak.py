"""The tie key: a fixed function of a document's id, so that every node, database and
restart orders exact ties alike."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MakeIndex, ids, search
from sift.engine import tiebreak
from sift.engine.tiebreak import hit_id, tie_key, tie_keys


def test_tie_keys_are_a_fixed_function_of_the_id() -> None:
    # Pinned: another function would reorder every tie of every index.
    assert tie_keys(["1", "4", "a", ""]).tolist() == [
        5082256738353065951, 1159357551991767959, 198367012849983736, 17665956581633026203]
    assert tie_key("é") == int(tie_keys(["x", "é", "y"])[1])  # non-ASCII: by its bytes
    assert tie_keys([]).dtype == np.uint64


def test_an_integer_id_keys_as_its_decimal_string() -> None:
    assert hit_id(12) == "12" and hit_id("12") == "12"
    assert hit_id(True) is None and hit_id(None) is None and hit_id(1.5) is None


def test_exact_ties_follow_the_tie_key_whatever_the_indexing_order(
        make_index: MakeIndex) -> None:
    """Every document scores the same for "shoe": the order must not depend on which
    was indexed first (a node rebuilt from the database loads them in another order)."""
    docs = [{"id": i, "t": "red shoe"} for i in range(40)]
    expected = sorted(range(40), key=lambda i: tie_key(str(i)))
    for order in (docs, docs[::-1], docs[1::2] + docs[::2]):
        for mode in ("sift", "meilisearch"):
            index = make_index(order, mode)
            assert ids(search(index, "shoe", limit=40)) == expected
            assert ids(search(index, "shoe", limit=5)) == expected[:5]
            assert ids(search(index, "shoe", offset=7, limit=5)) == expected[7:12]


def test_ties_break_only_after_every_rule(make_index: MakeIndex) -> None:
    """The tie key never overrides a rule: a better score or a sort value still wins."""
    docs = [{"id": i, "t": "red shoe" if i % 3 else "red shoe shoe shoe", "p": i % 4}
            for i in range(24)]
    index = make_index(docs, "sift", sortableAttributes=["p"],
                       rankingRules=["sort", "relevance"])
    hits = search(index, "shoe", limit=24, sort=["p:desc"], showRankingScore=True)["hits"]
    keys = [(-h["p"], -h["_rankingScore"], tie_key(str(h["id"]))) for h in hits]
    assert keys == sorted(keys)
    assert len({h["_rankingScore"] for h in hits}) == 2


def test_a_search_without_words_lists_documents_by_tie_key(make_index: MakeIndex) -> None:
    """Filtered, paged or needing every row in order (distinct), a placeholder search
    lists its documents in tie-key order."""
    docs = [{"id": i, "t": "x", "n": i % 3, "g": i % 7} for i in range(50)]
    by_tie = sorted(range(50), key=lambda i: tie_key(str(i)))
    index = make_index(docs[::-1], filterableAttributes=["n", "g"])
    assert ids(search(index, "", limit=50)) == by_tie
    assert ids(search(index, "", offset=5, limit=4)) == by_tie[5:9]
    assert ids(search(index, "", filter="n = 1", limit=50)) == [i for i in by_tie if i % 3 == 1]
    firsts = list({i % 7: i for i in by_tie[::-1]}.values())  # each group's first by tie
    assert ids(search(index, "", distinct="g", limit=50)) == sorted(firsts, key=by_tie.index)


def test_few_documents_sort_their_own_keys_into_the_snapshot_order(
    make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search with few documents sorts their tie keys itself; the page is the one the
    snapshot's cached order gives, whatever the filter's size and the page's."""
    index = make_index([{"id": i, "t": "x"} for i in range(300)][::-1])
    snap = index.snapshot
    rng = np.random.default_rng(7)
    cases = []
    for share in (0.003, 0.05, 0.5, 1.0):
        mask = snap.alive & (rng.random(snap.alive.size) < share)
        docids = np.nonzero(mask)[0].astype(np.uint32)
        for need in (None, 0, 1, 5, docids.size, docids.size + 3):
            cases.append((mask, docids, need))

    def pages() -> list[list[int]]:
        out = []
        for mask, docids, need in cases:
            order = tiebreak.all_tied(snap, mask, docids, need)
            shown = order if need is None else order[:need]
            out.append(docids[shown].tolist())
        return out

    few = pages()
    monkeypatch.setattr(tiebreak, "FEW_TIED", -1)  # every search walks the cached order
    assert pages() == few
