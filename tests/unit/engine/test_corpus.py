"""Corpus statistics: shards scoring with their summed statistics give every document
the score one index holding all of them gives it, to the last bit."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sift.engine.corpus.stats import SLOTS, TRUSTED, TYPOS, CorpusStats, WordFacts, add, word_counts
from sift.engine.index import SearchIndex
from sift.engine.partition import Partition
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings
from sift.errors import SiftError

SHARDS = ("shard-a", "shard-b", "shard-c")
WORDS = ("river", "stone", "cloud", "ember", "field", "harbor", "riverside", "stones",
         "lantern", "meadow", "the", "of")


def documents(count: int = 280) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(7)
    docs = []
    for i in range(count):
        title = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
        body = " ".join(rng.choices(WORDS, k=rng.randint(0, 30)))
        # quartz: 32 documents, trusted as spelled (20+) on one node but not on a shard of
        # a third; quartx, a typo away, would match it where quartz is not trusted.
        title += " quartz" * (i % 9 == 0) + " quartx" * (i % 25 == 0)
        doc: dict[str, Any] = {"id": i, "title": title, "kind": rng.choice(WORDS[:3])}
        if body:
            doc["body"] = body
        docs.append((str(i), doc))
    return docs


def index_of(partition: Partition | None) -> SearchIndex:
    settings = {**default_settings("sift"), "filterableAttributes": ["kind"]}
    index = SearchIndex(settings, "id", partition)
    index.upsert(documents())
    return index


@pytest.fixture(scope="module")
def whole() -> SearchIndex:
    return index_of(None)


@pytest.fixture(scope="module")
def shards() -> list[SearchIndex]:
    return [index_of(Partition(SHARDS, frozenset([s]))) for s in SHARDS]


def scores(index: SearchIndex, body: dict[str, Any], corpus: CorpusStats | None = None
           ) -> dict[int, float]:
    params = SearchParams.from_dict({**body, "limit": 1000, "showRankingScore": True})
    params.statistics = corpus
    return {h["id"]: h["_rankingScore"] for h in index.search(params)["hits"]}


QUERIES = [
    {"q": "river"},
    {"q": "stone cloud"},
    {"q": "the meadow lantern"},
    {"q": "harbor riv"},  # a prefix
    {"q": "rivr stonee"},  # typos
    {"q": "cloud", "filter": "kind = river"},
    {"q": "ember field -stone"},
    {"q": "quartz"},  # typo tolerance decided by every shard's count
    {"q": "qartzite meadow"},  # an unknown word: its closest variants, by every shard
]


@pytest.mark.parametrize("body", QUERIES)
def test_shards_with_summed_statistics_score_as_one_index(
    whole: SearchIndex, shards: list[SearchIndex], body: dict[str, Any]
) -> None:
    params = SearchParams.from_dict(body)
    corpus = add([shard.statistics(params, None) for shard in shards])
    merged: dict[int, float] = {}
    for shard in shards:
        merged.update(scores(shard, body, corpus))
    expected = scores(whole, body)
    assert expected and merged == expected


def test_shards_with_their_own_statistics_score_differently(
    whole: SearchIndex, shards: list[SearchIndex]
) -> None:
    """What the statistics round is for: without it the scores differ."""
    merged: dict[int, float] = {}
    for shard in shards:
        merged.update(scores(shard, {"q": "stone cloud"}))
    assert merged != scores(whole, {"q": "stone cloud"})


def test_typo_tolerance_follows_every_shards_count(
    whole: SearchIndex, shards: list[SearchIndex]
) -> None:
    params = SearchParams.from_dict({"q": "quartz"})
    parts = [shard.statistics(params, None) for shard in shards]
    assert all(0 < p.terms[0].occurrences < 20 for p in parts)  # each shard: not trusted
    assert add(parts).terms[0].occurrences >= 20
    alone = set().union(*(scores(shard, {"q": "quartz"}) for shard in shards))
    assert alone > set(scores(whole, {"q": "quartz"}))  # without the sum: quartx matched


def test_the_sum_counts_only_the_shards_asked(whole: SearchIndex) -> None:
    """A node holding two shards but asked for one counts that one's documents."""
    both = index_of(Partition(SHARDS, frozenset(SHARDS[:2])))
    leg = SearchParams.from_dict({"q": "river", "filter": f'_shard = "{SHARDS[0]}"'})
    one = both.statistics(leg, (SHARDS[0],))
    params = SearchParams.from_dict({"q": "river"})
    alone = index_of(Partition(SHARDS, frozenset(SHARDS[:1]))).statistics(params, None)
    assert one == alone and one.documents < 280
    assert whole.statistics(params, None).documents == 280


def test_add_sums_documents_fields_and_words() -> None:
    known, unknown = WordFacts(7, True), WordFacts(0, False, 2)
    a = CorpusStats(10, {"title": (40, 10), "body": (5, 2)},
                    (word_counts((3, 4), (3, 6), known), word_counts((0, 0), (0, 2), unknown)),
                    (known, unknown))
    closer = WordFacts(0, False, 1)
    b = CorpusStats(5, {"title": (20, 5)},
                    (word_counts((1, 1), (1, 1), known), word_counts((0, 0), (1, 3), closer)),
                    (WordFacts(1, True), closer))
    total = add([a, b])
    assert total.documents == 15 and total.fields == {"title": (60, 15), "body": (5, 2)}
    assert total.terms == (WordFacts(8, True), WordFacts(0, False, 1))
    assert total.counts(0, TRUSTED) == (4, 5)  # no typo variants: without them
    assert total.counts(0, TYPOS) == (4, 7)
    assert total.document_frequency(0, TYPOS) == 4  # documents with the word itself
    # Unknown, its closest variants one typo away: b's count; a's (two away) are not
    # variants then.
    assert total.counts(1, 1) == (1, 3)
    assert total.document_frequency(1, 1) == 1
    assert CorpusStats.from_json(total.to_json()) == total


def test_parts_from_different_queries_do_not_add() -> None:
    with pytest.raises(ValueError):
        add([CorpusStats(1, {}, ((1,) * SLOTS,)), CorpusStats(1, {}, ())])


@pytest.mark.parametrize("raw", [None, {}, {"documents": -1, "fields": {}, "words": []},
                                 {"documents": 1, "fields": {"t": [1]}, "words": []},
                                 {"documents": 1, "fields": {}, "words": [[1, 1]]},
                                 {"documents": 1, "fields": {}, "words": [[True] * 14]}])
def test_malformed_statistics_are_a_bad_request(raw: Any) -> None:
    with pytest.raises(SiftError) as caught:
        CorpusStats.from_json(raw)
    assert caught.value.code == "bad_request"


def test_statistics_for_other_words_are_refused(whole: SearchIndex) -> None:
    params = SearchParams.from_dict({"q": "river stone"})
    params.statistics = CorpusStats(280, {}, ((1,) * SLOTS,))
    with pytest.raises(SiftError) as caught:
        whole.search(params)
    assert caught.value.code == "bad_request"
