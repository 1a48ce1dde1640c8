"""Which documents a query matches: typos, prefixes, synonyms, splits, strategies."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MakeIndex, build_index, ids, search
from sift.engine import match
from sift.engine.match import _members
from sift.engine.tiebreak import tie_keys

DOCS = [
    {"id": 1, "title": "sunflower seeds"},
    {"id": 2, "title": "the sun and the flower"},
    {"id": 3, "title": "batman returns"},
    {"id": 4, "title": "catwoman strikes"},
    {"id": 5, "title": "extraordinary journey"},
    {"id": 6, "title": "new york city guide"},
    {"id": 7, "title": "cat"},
    {"id": 8, "title": "12345 secret code"},
]


def test_words_under_five_letters_allow_no_typo(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "cot ")) == []
    assert ids(search(index, "batmn ")) == [3]  # 5 letters: one typo


def test_two_typos_from_nine_letters(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "extrordnary ")) == [5]  # two deletions, 11 letters
    assert ids(search(index, "jurnye ")) == []  # 6 letters, two typos


def test_a_first_letter_typo_counts_double(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "vatman ")) == []  # 6 letters: budget 1, first letter costs 2
    assert ids(search(index, "xtraordinary ")) == [5]  # budget 2 covers it


def test_min_word_size_for_typos_is_configurable(make_index: MakeIndex) -> None:
    index = make_index(DOCS, typoTolerance={
        "enabled": True, "minWordSizeForTypos": {"oneTypo": 3, "twoTypos": 9},
        "disableOnWords": [], "disableOnAttributes": [], "disableOnNumbers": False})
    assert ids(search(index, "cot ")) == [7]


def test_typo_tolerance_can_be_disabled(make_index: MakeIndex) -> None:
    base = {"minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}, "disableOnWords": [],
            "disableOnAttributes": [], "disableOnNumbers": False}
    assert ids(search(make_index(DOCS, typoTolerance={**base, "enabled": False}), "batmn ")) == []
    off_word = {**base, "enabled": True, "disableOnWords": ["batmn"]}
    assert ids(search(make_index(DOCS, typoTolerance=off_word), "batmn ")) == []
    off_attr = {**base, "enabled": True, "disableOnAttributes": ["title"]}
    assert ids(search(make_index(DOCS, typoTolerance=off_attr), "batmn ")) == []
    numbers = {**base, "enabled": True, "disableOnNumbers": True}
    assert ids(search(make_index(DOCS, typoTolerance=numbers), "12346 ")) == []
    assert ids(search(make_index(DOCS), "12346 ")) == [8]


def test_last_word_is_a_prefix_while_typing(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "bat")) == [3]
    assert ids(search(index, "bat ")) == []  # a trailing space ends the word
    assert set(ids(search(index, "ca"))) == {4, 7}  # catwoman, cat
    assert ids(search(make_index(DOCS, prefixSearch="disabled"), "bat")) == []


def test_concatenated_and_split_words_match(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert 1 in ids(search(index, "sun flower "))
    split = make_index([{"id": 1, "t": "sun flower field"}, {"id": 2, "t": "flower of the sun"}])
    assert ids(search(split, "sunflower ")) == [1]  # halves must be adjacent, in order


def test_synonyms_one_way_multi_way_and_multi_word(make_index: MakeIndex) -> None:
    index = make_index(DOCS, synonyms={"nyc": ["new york"], "film": ["movie"],
                                       "movie": ["film"], "bruce": ["batman"]})
    assert ids(search(index, "nyc ")) == [6]
    assert ids(search(index, "bruce ")) == [3]
    assert ids(search(index, "batman bruce ")) == [3]
    assert ids(search(index, "batman returns", matchingStrategy="all")) == [3]


def test_matching_strategy_all_last_frequency(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "red apple"}, {"id": 2, "t": "red car"}, {"id": 3, "t": "green apple"},
            {"id": 4, "t": "red red tomato"}]
    index = make_index(docs)
    assert ids(search(index, "red apple ", matchingStrategy="all")) == [1]
    last = ids(search(index, "red apple ", matchingStrategy="last"))
    assert last[0] == 1 and set(last) == {1, 2, 4}  # "apple" dropped from the end
    freq = ids(search(index, "red apple ", matchingStrategy="frequency"))
    assert freq[0] == 1 and set(freq) == {1, 3}  # the frequent "red" dropped first


def test_quoted_phrase_must_be_consecutive(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "york new"}, {"id": 2, "t": "new york"}]
    assert ids(search(make_index(docs), '"new york"')) == [2]


def test_stop_words_are_ignored_in_queries(make_index: MakeIndex) -> None:
    index = make_index(DOCS, stopWords=["the"])
    assert ids(search(index, "the batman ")) == [3]
    assert 2 in ids(search(index, "the "))  # only stop words: keep them


def test_attributes_to_search_on_restricts_fields(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "title": "alpha", "body": "omega"}, {"id": 2, "title": "omega", "body": "x"}]
    index = make_index(docs)
    assert ids(search(index, "omega ", attributesToSearchOn=["title"])) == [2]


def test_searchable_attributes_limit_indexing(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "title": "alpha", "secret": "omega"}]
    index = make_index(docs, searchableAttributes=["title"])
    assert ids(search(index, "omega ")) == []
    assert ids(search(index, "alpha ")) == [1]


def test_nested_fields_and_arrays_are_searchable(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "info": {"tags": ["blue", "ocean"], "year": 1999}}]
    index = make_index(docs)
    assert ids(search(index, "ocean ")) == [1]
    assert ids(search(index, "1999 ")) == [1]


def test_placeholder_search_returns_everything_in_tie_key_order(make_index: MakeIndex) -> None:
    """Without words every document ties: they follow the tie key of their id, not the
    order they were indexed in (which a restart from the database does not keep)."""
    index = make_index(DOCS)
    by_tie = [d["id"] for d in sorted(DOCS, key=lambda d: int(tie_keys([str(d["id"])])[0]))]
    assert ids(search(index, None, limit=100)) == by_tie
    assert ids(search(index, "", limit=3)) == by_tie[:3]
    reversed_index = make_index(DOCS[::-1])
    assert ids(search(reversed_index, "", limit=100)) == by_tie


def test_relevance_mode_matches_stems_and_or_semantics(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "running shoes"}, {"id": 2, "t": "a runner"}, {"id": 3, "t": "shoe"}]
    index = make_index(docs, mode="sift")
    result = ids(search(index, "run shoes "))
    assert result[0] == 1 and 3 in result


def test_negative_words_and_phrases_exclude_documents(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "red apple"}, {"id": 2, "t": "green apple"},
            {"id": 3, "t": "apple new york"}]
    index = make_index(docs)
    assert sorted(ids(search(index, "apple -red"))) == [2, 3]
    assert sorted(ids(search(index, 'apple -"new york"'))) == [1, 2]
    assert ids(search(index, "-green")) == [1, 3]
    assert sorted(ids(search(index, "apple-pie"))) == [1, 2, 3]  # inner hyphen: no operator


def test_the_prefix_word_tolerates_typos_too(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "extrordin")) == [5]  # missed letter while typing
    assert ids(search(index, "catwpm")) == [4]  # 6 letters: one typo
    assert ids(search(index, "catw")) == [4]


def test_a_repeated_query_ranks_and_highlights_as_the_first(make_index: MakeIndex) -> None:
    index = make_index(DOCS, rankingRules=["words", "typo", "relevance"])
    body = {"attributesToHighlight": ["title"], "showRankingScoreDetails": True}
    for q in ("sunflowr se", "extrordinary journ", "batmn ret"):
        first = search(index, q, **body)
        again = search(index, q, **body)  # word expansions now come from the cache
        first.pop("processingTimeMs")
        again.pop("processingTimeMs")
        assert again == first


def test_word_expansions_follow_new_documents_and_settings(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    assert ids(search(index, "batmn ")) == [3]
    index.upsert([("9", {"id": 9, "title": "batmen assemble"})])
    assert sorted(ids(search(index, "batmn "))) == [3, 9]  # a new snapshot, new vocabulary
    index.set_settings({**index.settings, "typoTolerance": {
        "enabled": False, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [], "disableOnAttributes": [], "disableOnNumbers": False}})
    assert ids(search(index, "batmn ")) == []


def test_a_run_of_letters_longer_than_a_word_is_cut_as_it_is_read() -> None:
    from sift.engine.analysis import MAX_WORD_CHARS, Analyzer

    words = Analyzer().words("x" * (2 * MAX_WORD_CHARS + 10) + " dune")
    assert [len(w) for w in words] == [MAX_WORD_CHARS, MAX_WORD_CHARS, 10, 4]


def test_query_words_past_the_limit_are_ignored() -> None:
    from sift.engine.analysis import Analyzer
    from sift.engine.expand import MAX_QUERY_WORDS, parse_query

    words, _ = parse_query('"a b" ' + "word " * 100_000, Analyzer(), set())
    assert len(words) == MAX_QUERY_WORDS
    assert words[0].phrase == ["a", "b"]


def test_the_field_masks_kept_per_view_carry_whether_they_exclude_anything(
        make_index: MakeIndex) -> None:
    import numpy as np

    from sift.engine.match import MatchContext
    from sift.engine.pipeline.lexical import _field_masks

    index = make_index([{"id": 1, "title": "batman", "code": "batman"}],
                       typoTolerance={"disableOnAttributes": ["code"]})
    view = index.view
    field_ok, typo_ok, every_field, typos_everywhere = _field_masks(
        view.snapshot, None, view.settings)
    assert every_field and field_ok.all()
    assert not typos_everywhere and not typo_ok.all()  # typos are off in `code`
    _, _, on_title, _ = _field_masks(view.snapshot, ["title"], view.settings)
    assert not on_title
    # Given, the flags are taken as they are; not given, worked out from the masks.
    ctx = MatchContext(view.snapshot.alive, field_ok, typo_ok, every_field=every_field,
                       typos_everywhere=typos_everywhere)
    assert (ctx.every_field, ctx.typos_everywhere) == (True, False)
    worked_out = MatchContext(view.snapshot.alive, field_ok, np.zeros_like(typo_ok))
    assert (worked_out.every_field, worked_out.typos_everywhere) == (True, False)
    # The search itself still keeps typos out of `code` and in `title`.
    assert ids(search(index, "batmn ")) == [1]
    assert ids(search(index, "batmn ", attributesToSearchOn=["code"])) == []
    assert ids(search(index, "batman ", attributesToSearchOn=["code"])) == [1]


def test_a_phrase_is_matched_once_per_snapshot(make_index: MakeIndex) -> None:
    from sift.engine import match

    index = make_index(DOCS)
    snap = index.view.snapshot
    first = match.phrase_occurrences(["sun", "flower"], snap, 1, False, 0.9)
    assert match.phrase_occurrences(["sun", "flower"], snap, 1, False, 0.9) is first
    # Another kind of match of the same words is another entry.
    assert match.phrase_occurrences(["sun", "flower"], snap, 0, True, 1.0) is not first
    assert ids(search(index, "sunflower ")) == [1]  # the split still finds nothing more
    index.upsert([("9", {"id": 9, "title": "a sun flower field"})])
    later = index.view.snapshot
    assert later is not snap
    again = match.phrase_occurrences(["sun", "flower"], later, 1, False, 0.9)
    assert again is not first and again.docs.size == first.docs.size + 1
    assert 9 in ids(search(index, '"sun flower"'))


def test_a_split_gives_its_halves_ids_and_its_phrase_needs_no_lookup(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from sift.engine.expand import best_split

    index = make_index(DOCS)
    snap = index.view.snapshot
    assert best_split("sunflower", snap) is None  # a term of its own
    split = best_split("sunseeds", snap)
    assert split is not None and split.words == ["sun", "seeds"]
    assert split.ids == [snap.term_id(w) for w in split.words]
    expected = match._phrase_occurrences(split.words, snap, 1, False, 0.9)
    # Given the ids, the phrase looks no word up again.
    monkeypatch.setattr(type(snap), "term_id", lambda *_: pytest.fail("looked up"))
    got = match._phrase_occurrences(split.words, snap, 1, False, 0.9, split.ids)
    assert got.docs.tolist() == expected.docs.tolist() and got.pos.tolist() == \
        expected.pos.tolist()


def test_a_phrase_with_many_occurrences_is_not_kept(make_index: MakeIndex,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sift.engine import match

    monkeypatch.setattr(match, "PHRASE_CACHE_ROWS", 1)
    index = make_index([{"id": i, "title": "sun flower sun flower"} for i in range(3)])
    snap = index.view.snapshot
    many = match.phrase_occurrences(["sun", "flower"], snap, 0, True, 1.0)
    assert many.docs.size == 6
    assert match.phrase_occurrences(["sun", "flower"], snap, 0, True, 1.0) is not many


@given(st.lists(st.integers(0, 40), max_size=300), st.lists(st.integers(0, 40), max_size=30))
@settings(max_examples=200, deadline=None)
def test_phrase_rows_are_found_as_np_isin_finds_them(values: list[int], pool: list[int]
                                                     ) -> None:
    """Both ways of _members (a pool compared key by key, or sorted and looked up)."""
    v, p = np.array(values, dtype=np.int64), np.array(pool, dtype=np.int64)
    assert _members(v, p).tolist() == np.isin(v, p).tolist()


def test_a_query_gathers_at_most_its_row_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeats of a word each gather its rows again (bucket rules keep them): the words
    past MAX_QUERY_ROWS are left out, here `b` after four `a` of 201 rows each."""
    index = build_index([{"id": 1, "title": "a " * 200}, {"id": 2, "title": "a b"}])
    q = "a " * 50 + "b"
    assert ids(search(index, q, matchingStrategy="all")) == [2]
    monkeypatch.setattr(match, "MAX_QUERY_ROWS", 1000)
    assert sorted(ids(search(index, q, matchingStrategy="all"))) == [1, 2]
    assert ids(search(index, "a b", matchingStrategy="all")) == [2]  # under 8 words: all


@pytest.mark.parametrize("n_docs", [10_000, 400, 60])  # sparse, marked, dense candidates
def test_features_bring_the_term_frequencies_the_relevance_rule_reads(n_docs: int) -> None:
    """Given the field weights, Features computes the candidates and the relevance rule's
    term frequencies in one call: those term_frequencies gives, for each way to the
    candidates, and the candidates it finds without them."""
    from sift.engine.kernels import term_frequencies

    rng = np.random.default_rng(7)
    occs = []
    for n in (50, 30):
        docs = np.sort(rng.integers(0, 60, n)).astype(np.uint32)
        occs.append(match.Occurrences(
            docs, rng.integers(0, 2, n).astype(np.uint16), rng.integers(0, 9, n).astype(np.uint32),
            np.zeros(n, np.int8), np.ones(n, bool),
            rng.choice(np.array([1.0, 0.6], np.float32), n)))
    field_weight = rng.random(2 * n_docs).astype(np.float32)
    rank = np.zeros(2, np.int64)
    plain = match.Features(occs, rank, n_docs)
    feats = match.Features(occs, rank, n_docs, None,
                           (field_weight, n_docs, np.ones(len(occs), np.bool_)))
    assert plain.frequencies is None and feats.frequencies is not None
    assert np.array_equal(feats.cands, plain.cands)
    assert np.array_equal(feats.index_all, plain.index_all)
    assert np.array_equal(feats.matched, plain.matched)
    tf, df = term_frequencies(plain.index_all, plain.docs, plain.joined("fields"),
                              plain.joined("weight"), plain.offsets, field_weight, n_docs,
                              plain.cands.size)
    assert np.array_equal(feats.frequencies[0], tf) and np.array_equal(feats.frequencies[1], df)


def _relevance_query(docs: list[dict[str, Any]], q: str) -> tuple[Any, ...]:
    """``q`` parsed and expanded on an index of ``docs``, with what gather_found and
    Features take for the relevance rule: (words, snapshot, context, field ranks, field
    weights), every document and field allowed."""
    from sift.engine.expand import ExpandConfig, expand, parse_query
    from sift.engine.ranking import RelevanceParams, field_weights, scored_words

    view = build_index(docs).view
    snap = view.snapshot
    words, _ = parse_query(q, view.analyzer, set())
    expand(words, snap, ExpandConfig.from_settings(view.settings, view.analyzer, True))
    n_fields = max(len(snap.field_names), 1)
    ctx = match.MatchContext(snap.alive, np.ones(n_fields, bool), np.ones(n_fields, bool),
                             every_doc=True)
    rank = np.zeros(n_fields, np.int64)
    weights = (field_weights(RelevanceParams(), snap, None, rank, 1), snap.field_len.shape[0],
               scored_words(words, RelevanceParams()))
    return words, snap, ctx, rank, weights


@pytest.mark.parametrize("q", ["red shoes", "walking sho", "sunflower red"])
def test_occurrences_gathered_with_their_candidates_are_those_gathered_alone(q: str) -> None:
    """gather_found: words without phrases are gathered with their candidates and term
    frequencies in one call, the same occurrences and features as gather then Features;
    a split word ("sunflower": "sun flower") is gathered as before, without them."""
    docs = [{"id": i, "title": f"red shoe {i}", "body": "walking shoes sun flower"}
            for i in range(40)]
    words, snap, ctx, rank, weights = _relevance_query(docs, q)
    occs, flat, found = match.gather_found(words, snap, ctx, weights)
    alone, alone_flat = match.gather(words, snap, ctx)
    assert (found is None) == q.startswith("sunflower") == (flat is None)
    for got, expected in zip(occs, alone, strict=True):
        for name in ("docs", "fields", "pos", "typos", "exact", "weight"):
            assert np.array_equal(getattr(got, name), getattr(expected, name))
    feats = match.Features(occs, rank, snap.alive.size, flat, weights, found)
    expected_feats = match.Features(alone, rank, snap.alive.size, alone_flat, weights)
    for name in ("offsets", "cands", "index_all", "matched"):
        assert np.array_equal(getattr(feats, name), getattr(expected_feats, name))
    assert feats.frequencies is not None and expected_feats.frequencies is not None
    for got_part, expected_part in zip(feats.frequencies, expected_feats.frequencies,
                                       strict=True):
        assert np.array_equal(got_part, expected_part)


def test_word_rows_slice_each_word_when_first_read() -> None:
    """WordRows: word w's occurrences are rows [bounds[w], bounds[w + 1]) of the flat
    buffer, as a list of slices would hold them; a word without rows is empty, and a
    word's occurrences can be replaced (word_totals fills the last one)."""
    flat = match.Occurrences(
        np.arange(7, dtype=np.uint32), np.arange(7, dtype=np.uint16) % 2,
        np.arange(7, dtype=np.uint32) * 3, np.array([0, 1, 0, 0, 2, 0, 1], np.int8),
        np.array([1, 0, 1, 1, 0, 1, 0], bool), np.linspace(0, 1, 7, dtype=np.float32))
    bounds = [0, 3, 3, 7]
    rows = match.WordRows(flat, bounds)
    assert len(rows) == 3
    names = ("docs", "fields", "pos", "typos", "exact", "weight")
    for w, (lo, hi) in enumerate(pairwise(bounds)):
        for name in names:
            assert np.array_equal(getattr(rows[w], name), getattr(flat, name)[lo:hi])
    assert rows[1].docs.size == 0 and rows[-1] is rows[2] and rows[0] is rows[0]
    assert [o.docs.tolist() for o in rows] == [[0, 1, 2], [], [3, 4, 5, 6]]
    assert [o.docs.tolist() for o in rows[1:]] == [[], [3, 4, 5, 6]]
    with pytest.raises(IndexError):
        rows[3]
    rows[2] = match.Occurrences.empty()
    assert rows[2].docs.size == 0 and match.Occurrences.concat(rows).docs.tolist() == [0, 1, 2]


def test_features_index_per_word_is_read_off_the_flat_index() -> None:
    """Features.index: each word's candidate indexes, views of index_all made when first
    read; a caller may set them (word_totals.trailing_word_features)."""
    docs = [{"id": i, "title": f"red shoe {i}", "body": "walking shoes"} for i in range(20)]
    words, snap, ctx, rank, weights = _relevance_query(docs, "red walking")
    occs, flat, found = match.gather_found(words, snap, ctx, weights)
    assert isinstance(occs, match.WordRows) and found is not None
    feats = match.Features(occs, rank, snap.alive.size, flat, weights, found)
    ends = feats.offsets.tolist()
    assert [i.tolist() for i in feats.index] == \
        [feats.index_all[a:b].tolist() for a, b in pairwise(ends)]
    feats.index = [np.empty(0, np.int32)] * 2
    assert [i.size for i in feats.index] == [0, 0]


@given(st.lists(st.lists(st.sampled_from("abcd"), min_size=1, max_size=12), min_size=1,
                max_size=12),
       st.integers(0, 11), st.lists(st.sampled_from("abcde"), min_size=2, max_size=3))
@settings(max_examples=60, deadline=None)
def test_a_phrase_is_found_in_one_call_as_numpy_finds_it(texts: list[list[str]], cut: int,
                                                         phrase: list[str]) -> None:
    """kernels.phrase_rows (one or two segments) finds the rows the numpy way finds, in
    its order: documents indexed in two batches (two segments), words repeated in a
    title and split across title and text ("e" is no term: nothing)."""
    docs = [{"id": i, "title": " ".join(t[: len(t) // 2 + 1]), "text": " ".join(t)}
            for i, t in enumerate(texts)]
    index = build_index(docs[:cut])
    if docs[cut:]:
        index.upsert([(str(d["id"]), d) for d in docs[cut:]])
    snap = index.view.snapshot
    assert 1 <= len(snap.segments) <= 2
    found = match._phrase_occurrences(phrase, snap, 1, False, 0.9)
    ids_ = [snap.term_id(w) for w in phrase]
    if None in ids_:
        assert found.docs.size == 0
        return
    expected = match._phrase_occurrences_numpy(ids_, snap, 1, False, 0.9)
    for name in ("docs", "fields", "pos", "typos", "exact", "weight"):
        got, want = getattr(found, name), getattr(expected, name)
        assert got.dtype == want.dtype and got.tolist() == want.tolist(), name


def test_one_words_pointer_is_its_rows_count() -> None:
    """term_rows of a single word: (0, its rows) whatever lengths came before (the
    pointer is kept per length, expand._one_word_ptr), and the word's own table."""
    from types import SimpleNamespace

    from sift.engine.expand import term_rows

    for n in (3, 1, 3, 0, 7, 1):
        rows = np.zeros((n, 4))
        ptr, got = term_rows([SimpleNamespace(_rows=rows)])  # type: ignore[list-item]
        assert ptr.tolist() == [0, n] and ptr.dtype == np.int64
        assert got is rows
