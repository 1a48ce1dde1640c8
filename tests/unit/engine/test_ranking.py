"""Ranking rules: each Meilisearch rule breaks the ties of the one before it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MakeIndex, ids, search


def test_words_rule_puts_more_matched_words_first(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "quick fox"}, {"id": 2, "t": "quick brown fox"}]
    assert ids(search(make_index(docs), "quick brown fox ")) == [2, 1]


def test_typo_rule_prefers_fewer_typos(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "hallo world"}, {"id": 2, "t": "hello world"}]
    assert ids(search(make_index(docs), "hello ")) == [2, 1]


def test_proximity_rule_prefers_close_words_in_order(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "new shoes are in york"}, {"id": 2, "t": "york new"},
            {"id": 3, "t": "new york"}]
    assert ids(search(make_index(docs), "new york ")) == [3, 2, 1]


def test_attribute_rule_follows_searchable_attribute_order(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "title": "other", "body": "dragon"},
            {"id": 2, "title": "dragon", "body": "other"}]
    index = make_index(docs, searchableAttributes=["title", "body"])
    assert ids(search(index, "dragon ")) == [2, 1]
    index = make_index(docs, searchableAttributes=["body", "title"])
    assert ids(search(index, "dragon ")) == [1, 2]


def test_word_position_rule(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "a b c d dragon"}, {"id": 2, "t": "dragon a b c d"}]
    index = make_index(docs, rankingRules=["words", "wordPosition"])
    assert ids(search(index, "dragon ")) == [2, 1]


def test_exactness_rule_prefers_exact_words_over_prefixes(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "catalog"}, {"id": 2, "t": "cat"}]
    index = make_index(docs, rankingRules=["words", "exactness"])
    assert ids(search(index, "cat")) == [2, 1]


def test_sort_parameter_and_custom_rules(make_index: MakeIndex) -> None:
    docs = [{"id": i, "t": "shoe", "price": p} for i, p in ((1, 30), (2, 10), (3, 20))]
    index = make_index(docs, sortableAttributes=["price"])
    assert ids(search(index, "shoe ", sort=["price:asc"])) == [2, 3, 1]
    assert ids(search(index, "shoe ", sort=["price:desc"])) == [1, 3, 2]
    custom = make_index(docs, sortableAttributes=["price"],
                        rankingRules=["words", "price:desc"])
    assert ids(search(custom, "shoe ")) == [1, 3, 2]


def test_sift_mode_sort_is_exact_when_requested(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "shoe shoe", "price": 3}, {"id": 2, "t": "shoe", "price": 1}]
    index = make_index(docs, mode="sift", sortableAttributes=["price"])
    assert ids(search(index, "shoe ", sort=["price:asc"])) == [2, 1]


def test_ranking_scores_are_ordered_and_bounded(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "quick fox"}, {"id": 2, "t": "quick brown fox"},
            {"id": 3, "t": "brown dog"}]
    for mode in ("meilisearch", "sift"):
        res = search(make_index(docs, mode=mode), "quick brown fox ", showRankingScore=True)
        scores = [h["_rankingScore"] for h in res["hits"]]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_ranking_score_details_name_every_rule(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "quick brown fox"}]
    res = search(make_index(docs), "quick fox ", showRankingScoreDetails=True)
    details = res["hits"][0]["_rankingScoreDetails"]
    assert list(details) == [
        "words", "typo", "proximity", "attributeRank", "wordPosition", "exactness"
    ]
    assert details["words"]["matchingWords"] == 2
    sift = search(make_index(docs, mode="sift"), "quick fox ", showRankingScoreDetails=True)
    assert set(sift["hits"][0]["_rankingScoreDetails"]["relevance"]) >= {"order", "score",
                                                                         "bm25f"}


@pytest.mark.parametrize("mode", ["meilisearch", "sift"])
def test_ranking_score_threshold_drops_weak_hits(make_index: MakeIndex, mode: str) -> None:
    docs = [{"id": 1, "t": "quick brown fox"}, {"id": 2, "t": "slow brown dog"}]
    index = make_index(docs, mode=mode)
    everything = search(index, "quick brown fox ", showRankingScore=True)
    cut = everything["hits"][0]["_rankingScore"] - 1e-9
    kept = search(index, "quick brown fox ", rankingScoreThreshold=cut)
    assert ids(kept) == [1] and kept["estimatedTotalHits"] == 1


def test_relevance_rule_prefers_title_matches_and_rare_words(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "title": "gardening", "text": "a guide about tomatoes"},
            {"id": 2, "title": "tomatoes", "text": "a guide about gardening"},
            {"id": 3, "title": "guide", "text": "guide guide"}]
    index = make_index(docs, mode="sift", searchableAttributes=["title", "text"])
    assert ids(search(index, "tomatoes guide "))[0] == 2


def test_short_prefix_queries_rank_in_sift_mode(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "application form"}, {"id": 2, "t": "apple pie"},
            {"id": 3, "t": "banana"}]
    assert set(ids(search(make_index(docs, mode="sift"), "ap"))) == {1, 2}


def test_proximity_precision_by_attribute(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "new shoes are in york"}, {"id": 2, "t": "new york"}]
    index = make_index(docs, proximityPrecision="byAttribute",
                       rankingRules=["words", "proximity"])
    res = search(index, "new york ", showRankingScore=True)
    assert res["hits"][0]["_rankingScore"] == res["hits"][1]["_rankingScore"]


def test_a_sentence_end_separates_words_for_proximity(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "we left new. york was next"}, {"id": 2, "t": "new big york"}]
    index = make_index(docs, rankingRules=["words", "proximity"])
    assert ids(search(index, "new york ")) == [2, 1]


def test_pseudo_relevance_feedback_favours_the_feedback_vocabulary(
        make_index: MakeIndex) -> None:
    from sift.engine.pipeline import search as run_search
    from sift.engine.query import SearchParams
    from sift.engine.ranking import RelevanceParams

    docs = [{"id": 1, "t": "solar panel energy storage battery"},
            {"id": 2, "t": "solar panel roof energy"},
            {"id": 4, "t": "energy cooking pasta"},
            {"id": 3, "t": "energy battery storage"}]
    index = make_index(docs, mode="sift")
    params = SearchParams.from_dict({"q": "solar panel energy "})
    plain = run_search(index.view, params, relevance=RelevanceParams())
    fed = run_search(index.view, params,
                     relevance=RelevanceParams(prf_weight=1.0, prf_docs=2, prf_min_words=2))
    assert set(ids(plain)[:2]) == set(ids(fed)[:2]) == {1, 2}
    assert ids(plain)[2:] == [4, 3]  # a tie without feedback: by tie key
    assert ids(fed)[2:] == [3, 4]  # "battery storage" came from the best document


def test_search_cutoff_stops_refining_the_ranking(make_index: MakeIndex) -> None:
    """Past searchCutoffMs only the rules already applied order the hits; every
    matching document is still returned."""
    docs = [{"id": 1, "t": "hallo world"}, {"id": 2, "t": "hello world"}]
    index = make_index(docs, rankingRules=["words", "typo"])
    assert ids(search(index, "hello ")) == [2, 1]
    index = make_index(docs, rankingRules=["words", "typo"], searchCutoffMs=0)
    assert ids(search(index, "hello ")) == [1, 2]


def test_relevance_reads_every_word_of_a_long_query(make_index: MakeIndex) -> None:
    # A pasted paragraph whose only word the index knows comes late (it used to be cut
    # at 48 words).
    docs = [{"id": 1, "t": "zebra crossing"}, {"id": 2, "t": "pelican crossing"}]
    filler = " ".join(f"filler{i}" for i in range(80))
    index = make_index(docs, mode="sift")
    assert ids(search(index, f"{filler} zebra.")) == [1]


def test_a_repeated_query_word_weighs_more(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "zebra grass"}, {"id": 2, "t": "lion grass"}]
    index = make_index(docs, mode="sift")
    assert ids(search(index, "zebra zebra lion ")) == [1, 2]
    assert ids(search(index, "zebra lion lion ")) == [2, 1]


def test_repeats_scored_once_give_the_score_of_every_repeat(make_index: MakeIndex) -> None:
    # Sift's default collapses repeated words; a bucket rule after relevance keeps every
    # word as written (and cannot reorder what relevance already told apart).
    docs = [{"id": 1, "t": "zebra zebra grass lion near grass"}, {"id": 2, "t": "lion grass"},
            {"id": 3, "t": "zebra and lion crossing"}]
    q = "zebra lion zebra grass lion zebra grass "
    details = {"showRankingScoreDetails": True}
    collapsed = search(make_index(docs, mode="sift"), q, **details)["hits"]
    written = search(make_index(docs, mode="sift", rankingRules=["relevance", "exactness"]),
                     q, **details)["hits"]
    assert [h["id"] for h in collapsed] == [h["id"] for h in written]
    for a, b in zip(collapsed, written, strict=True):
        assert a["_rankingScoreDetails"]["relevance"]["bm25f"] == pytest.approx(
            b["_rankingScoreDetails"]["relevance"]["bm25f"], rel=1e-5)


def test_a_long_query_gets_at_most_sixteen_pairs_of_proximity_bonus(
        make_index: MakeIndex) -> None:
    from sift.engine.pipeline.lexical import match_and_rank
    from sift.engine.pipeline.request import parse
    from sift.engine.query import SearchParams
    from sift.engine.ranking import RelevanceParams

    words = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]
    docs = [{"id": 1, "t": " ".join(words)}, {"id": 2, "t": "other text"}]
    index = make_index(docs, mode="sift")
    view = index.view

    def bm25f(params: RelevanceParams) -> float:
        request = parse(view, SearchParams(q=" ".join(words) + "."), relevance=params)
        plan = match_and_rank(request, [], None)
        assert plan.ranked is not None
        return float(plan.ranked.details(int(plan.order[0]))["relevance"]["bm25f"])

    base = bm25f(RelevanceParams(proximity=0.0))
    capped = bm25f(RelevanceParams()) - base
    uncapped = bm25f(RelevanceParams(proximity_pairs=0)) - base
    # 39 adjacent pairs, each worth the same bonus: the cap keeps 16 of them.
    assert uncapped > 0
    assert capped == pytest.approx(uncapped * 16 / 39, rel=1e-3)


def _filler(n: int) -> str:
    return " ".join(f"filler{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(n))


def test_in_a_long_query_stop_words_make_no_match(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "the zebra of the plain"}, {"id": 2, "t": "the end of it"}]
    index = make_index(docs, mode="sift")
    assert ids(search(index, "the zebra of ")) == [1, 2]
    assert ids(search(index, f"the zebra of {_filler(20)}.")) == [1]


def test_in_a_long_query_a_known_word_gets_no_typo_variants(make_index: MakeIndex) -> None:
    docs = [{"id": 1, "t": "zebra"}, {"id": 2, "t": "zebre"}]
    index = make_index(docs, mode="sift")
    assert ids(search(index, "zebra ")) == [1, 2]
    assert ids(search(index, f"zebra {_filler(20)}.")) == [1]
    # An unknown word is still corrected.
    assert set(ids(search(index, f"zebrq {_filler(20)}."))) == {1, 2}


def test_a_rule_is_continuous_only_with_infinite_buckets() -> None:
    import numpy as np

    from sift.engine.ranking import _continuous

    assert _continuous(float("inf"))
    assert _continuous(np.float64("inf")) and _continuous(np.array(float("inf")))
    assert not _continuous(7.0) and not _continuous(7) and not _continuous(np.array(7.0))
    assert not _continuous(np.array([float("inf"), float("inf")]))  # per candidate


def test_combine_keeps_scores_in_range_uncopied_and_clips_a_copy_otherwise() -> None:
    """A continuous rule's scores within [0, 1] are the ranking's as they are (at 1M
    products a copy of 800k scores pushed a search's arrays past its malloc arena's top);
    others are clipped in a copy, the rule's own left as its details read them."""
    import numpy as np

    from sift.engine.ranking import RuleOutput, Ties, combine

    docids, table = np.arange(3, dtype=np.uint32), np.arange(3, dtype=np.uint64)
    inside = np.array([0.25, 1.0, 0.0])
    ranked = combine([RuleOutput(-inside, inside, float("inf"), lambda c: {"order": 0})],
                     None, Ties(docids, table), ["relevance"], 1)
    assert ranked.score is inside and ranked.order[0] == 1
    outside = np.array([1.5, -0.5, 0.5])
    ranked = combine([RuleOutput(-outside, outside, float("inf"), lambda c: {"order": 0})],
                     None, Ties(docids, table), ["relevance"], 1)
    assert ranked.score.tolist() == [1.0, 0.0, 0.5] and outside.tolist() == [1.5, -0.5, 0.5]


def test_relevance_details_give_the_raw_score_its_key_negates(make_index: MakeIndex
                                                              ) -> None:
    """The relevance key is the raw score negated in place: the details' bm25f is still
    the raw score (the key's negation), and the hits' order is by it."""
    index = make_index([{"id": 1, "title": "red shoes"}, {"id": 2, "title": "red"},
                        {"id": 3, "title": "blue shoes red red"}], mode="sift")
    hits = search(index, "red shoes", showRankingScoreDetails=True)["hits"]
    raw = [h["_rankingScoreDetails"]["relevance"]["bm25f"] for h in hits]
    assert all(r > 0 for r in raw) and raw == sorted(raw, reverse=True)


def test_a_page_only_ranking_adds_the_bonus_only_where_it_can_reach_the_page(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """match_and_rank with ``page_scores_only``: the same page, order and page scores as
    without, and rows the proximity bonus could not lift onto the page keep their score
    without it (lower); lexical_candidates asks for it only without a click signal,
    which re-ranks with every row's score."""
    import numpy as np

    from sift.engine.clicks import ClickSignal
    from sift.engine.pipeline import lexical
    from sift.engine.pipeline.request import parse
    from sift.engine.query import SearchParams

    # Three short documents full of both words set the bar; the long ones, whose words
    # are as close, score far below it, bonus and all.
    docs = [{"id": i, "t": "alpha beta " * 4} for i in range(3)]
    docs += [{"id": 10 + i, "t": "alpha beta " + _filler(200 + i)} for i in range(10)]
    docs += [{"id": 100 + i, "t": _filler(3 + i)} for i in range(30)]
    view = make_index(docs, mode="sift").view
    request = parse(view, SearchParams(q="alpha beta", limit=2))
    every = lexical.match_and_rank(request, [], 2)
    page = lexical.match_and_rank(request, [], 2, page_scores_only=True)
    assert np.array_equal(page.order, every.order)
    assert np.array_equal(page.docids, every.docids)
    assert np.array_equal(page.scores[:2], every.scores[:2])
    assert (page.scores <= every.scores).all() and (page.scores < every.scores).any()

    asked: list[bool] = []

    def spy(request: object, sort: list[str], need: int | None,
            page_scores_only: bool = False) -> lexical.LexicalCandidates:
        asked.append(page_scores_only)
        return lexical.NO_CANDIDATES

    monkeypatch.setattr(lexical, "match_and_rank", spy)
    lexical.lexical_candidates(request)
    clicks = ClickSignal(np.array([1], np.uint32), np.array([1.0]), np.array([3]), 0.5)
    lexical.lexical_candidates(parse(view, SearchParams(q="alpha beta", limit=2),
                                     clicks=clicks))
    assert asked == [True, False]


def test_one_content_word_among_stop_words_skips_the_depth_cut(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """A several-word query with fewer than two content words ("alpha the") has no word
    pair, so no proximity bonus: the relevance kernel gets no depth (no cut of the best
    300 rows, no reachable_rows), and answers as it did with one, bit for bit; a query
    with two content words still gets its depth."""
    from sift.engine import ranking
    from sift.engine.pipeline import lexical
    from sift.engine.pipeline.request import parse
    from sift.engine.query import SearchParams

    docs = [{"id": i, "t": f"the alpha {_filler(i % 7)} of beta the"} for i in range(40)]
    view = make_index(docs, mode="sift").view
    ranked = ranking.relevance_ranked
    depths: list[int] = []

    def spy(tf: np.ndarray, idfs: np.ndarray, k1: float, depth: int, *rest: object
            ) -> tuple[object, ...]:
        depths.append(depth)
        got = ranked(tf, idfs, k1, depth, *rest)
        if depth == 0:  # as before: the cut of min(rerank_depth, n) rows, a bonus of 0
            before = ranked(tf, idfs, k1, min(300, tf.shape[1]), *rest)
            for g, b in zip(got, before, strict=True):
                assert np.array_equal(g, b) if isinstance(g, np.ndarray) else g == b
        return got

    monkeypatch.setattr(ranking, "relevance_ranked", spy)
    for q in ("alpha the", "the alpha of", "alpha beta"):
        lexical.match_and_rank(parse(view, SearchParams(q=q, limit=3)), [], 3,
                               page_scores_only=True)
    assert depths == [0, 0, 40]


def test_stop_words_get_no_term_frequencies_and_rank_the_same(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop word at stop_weight 0 (positive k1) gets no term frequencies summed
    (scored_words) and only its rows' docids copied (relevance alone reads no more of
    them), and every search ranks and scores as with every word scored and copied; with
    a stop weight, or k1 0, every word is scored."""
    from dataclasses import replace

    from sift.engine import ranking
    from sift.engine.expand import parse_query
    from sift.engine.pipeline import lexical
    from sift.engine.pipeline.request import parse
    from sift.engine.query import SearchParams

    docs = [{"id": i, "t": f"the alpha {_filler(i % 5)} of the beta {'of ' * (i % 3)}"}
            for i in range(60)]
    docs += [{"id": 100 + i, "t": f"{_filler(i + 3)} the end"} for i in range(20)]
    index = make_index(docs, mode="sift")
    words, _ = parse_query("the alpha of", index.view.analyzer, set())
    params = ranking.RelevanceParams()
    assert ranking.scored_words(words, params).tolist() == [False, True, False]
    for other in (replace(params, stop_weight=0.1), replace(params, k1=0.0)):
        assert ranking.scored_words(words, other).all()

    def page(q: str) -> tuple[list[int], list[float]]:
        found = lexical.match_and_rank(parse(index.view, SearchParams(q=q, limit=80)), [], 80)
        return found.docids.tolist(), found.scores.tolist()

    queries = ("the alpha of", "the alpha", "of the", "alpha beta of", "the", "the al", "of")
    gathered = lexical.gather_found
    copied: list[list[bool] | None] = []

    def spy(words: object, snap: object, ctx: object, weights: object,
            rows: np.ndarray | None = None) -> object:
        copied.append(None if rows is None else rows.tolist())
        return gathered(words, snap, ctx, weights, rows)

    monkeypatch.setattr(lexical, "gather_found", spy)
    pages = [page(q) for q in queries]
    # Only the scored words' rows are copied whole: relevance alone reads the rest's docs.
    assert copied[0] == [False, True, False]
    every = ranking.scored_words
    monkeypatch.setattr(lexical, "scored_words", lambda words, p: np.ones_like(every(words, p)))
    assert [page(q) for q in queries] == pages
    assert copied[len(queries)] == [True, True, True]


@given(st.lists(st.floats(0.0, 50.0), min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_weights_sum_is_numpys_reduction(weights: list[float]) -> None:
    """The query's word weights summed as ``np.add.reduce`` sums them, bit for bit: one
    after the other below eight values (numpy's first pairwise block), numpy's own past."""
    from sift.engine.ranking import weights_sum

    array = np.array(weights)
    assert weights_sum(array) == float(np.add.reduce(array))


def test_a_page_cut_by_the_kernel_ranks_and_explains_as_combine_does() -> None:
    """rank's return of a page its kernel cut (without combine): the same order, scores
    and `_rankingScoreDetails` as combine gives that rule output."""
    from sift.engine.ranking import RuleOutput, Ties, _page_ranked, combine

    order = np.array([2, 0, 1], np.int64)
    score = np.array([0.5, 0.25, 1.0])
    page = (order, np.array([7, 5, 6], np.uint32), score[order])
    out = RuleOutput(-score, score, float("inf"), lambda c: {"order": 1, "score": score[c]},
                     True, page)
    rules = ["sort", "relevance"]
    fast = _page_ranked(out, rules)
    slow = combine([out], None, Ties(np.array([5, 6, 7], np.uint32), np.zeros(8, np.uint64)),
                   rules, 2)
    assert np.array_equal(fast.order, slow.order) and fast.score is slow.score
    assert fast.taken is not None and slow.taken is not None
    assert all(np.array_equal(a, b) for a, b in zip(fast.taken, slow.taken, strict=True))
    assert [fast.details(c) for c in range(3)] == [slow.details(c) for c in range(3)]
