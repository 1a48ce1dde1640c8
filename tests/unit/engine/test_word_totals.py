"""Searches of a one-letter prefix, alone or as the last of several words, answered from
the word's cached totals (sift.engine.word_totals) against the same searches gathering
its occurrences: the responses must be identical, ranking scores bit for bit."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from conftest import build_index, search
from sift.engine import pipeline, word_totals
from sift.engine.curation import Curation, Scale
from sift.engine.index import SearchIndex
from sift.engine.pipeline import lexical
from sift.engine.query import SearchParams

WORDS = ["alpha", "amber", "apple", "arc", "beta", "birch", "brook", "cedar", "comet", "a",
         "ab", "delta"]


def _docs(rng: random.Random, first: int, n: int) -> list[dict[str, Any]]:
    return [{"id": i, "title": " ".join(rng.choices(WORDS, k=rng.randint(1, 6))),
             "tags": rng.sample(WORDS[:6], rng.randint(0, 3)), "rating": rng.randint(1, 5),
             "in_stock": rng.random() < 0.7}
            for i in range(first, first + n)]


def _index() -> SearchIndex:
    rng = random.Random(7)
    index = build_index(_docs(rng, 0, 300), mode="sift",
                        filterableAttributes=["tags", "rating", "in_stock"])
    index.upsert([(str(d["id"]), d) for d in _docs(rng, 300, 200)])  # a second segment
    index.delete([str(i) for i in range(0, 500, 9)])
    return index


def _answer(index: SearchIndex, q: str, **body: Any) -> dict[str, Any]:
    out = search(index, q, **{"showRankingScore": True, "showRankingScoreDetails": True,
                               "facets": ["tags", "rating"], "limit": 20, **body})
    out.pop("processingTimeMs")
    return out


BODIES = [
    {}, {"filter": "in_stock = true"}, {"filter": "rating >= 2"}, {"filter": "rating = 5"},
    {"filter": "tags = beta"}, {"offset": 5, "limit": 7}, {"matchingStrategy": "all"},
    {"filter": "rating > 9"},
]


@pytest.mark.parametrize("q", ["a", "ab", "b", "c", "d", "al", "-a b", "alpha b", "birch a",
                               "cedar comet a", "a b", "b alpha b", "brook al", "delta ab",
                               "comet brook c", "zzz a", "alpha beta birch a"])
def test_cached_totals_answer_as_the_gathered_occurrences(
        q: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_totals, "TRAILING_MIN_DOCS", 0)  # this index is small
    index = _index()
    with_totals = [_answer(index, q, **b) for b in BODIES]
    # Twice: the first builds the word's totals, the second reads them.
    assert [_answer(index, q, **b) for b in BODIES] == with_totals
    monkeypatch.setattr(lexical, "one_word_features", lambda *_: None)
    monkeypatch.setattr(lexical, "trailing_word_features", lambda *_: None)
    assert [_answer(index, q, **b) for b in BODIES] == with_totals


def test_several_words_ending_in_a_cached_letter_take_its_totals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above is not vacuous: the last word's totals are used (and its
    occurrences found for the proximity bonus) in several-word searches."""
    monkeypatch.setattr(word_totals, "TRAILING_MIN_DOCS", 0)
    index = _index()
    used: list[str] = []
    filled: list[int] = []
    trailing = word_totals.trailing_word_features

    def spy(words: list[Any], *args: Any) -> Any:
        parts = trailing(words, *args)
        if parts is not None:
            used.append(" ".join(w.text for w in words))
            fill = parts[1].fill_rows
            parts[1].fill_rows = lambda f, rows: filled.append(rows.size) or fill(f, rows)
        return parts

    monkeypatch.setattr(lexical, "trailing_word_features", spy)
    _answer(index, "alpha b", filter="in_stock = true")
    _answer(index, "cedar comet a")
    assert used == ["alpha b", "cedar comet a"]
    assert filled and all(n > 0 for n in filled)
    monkeypatch.setattr(word_totals, "TRAILING_MIN_DOCS", 501)  # more than it holds
    _answer(index, "alpha b")
    assert len(used) == 2


def test_short_dense_words_are_cached_and_selective_filters_do_not_build(
        monkeypatch: pytest.MonkeyPatch) -> None:
    index = _index()
    built: list[str] = []
    build = word_totals._build
    monkeypatch.setattr(word_totals, "_build",
                        lambda word, *a: built.append(word.text) or build(word, *a))
    _answer(index, "a", filter="rating = 5")  # keeps about a fifth: no build
    assert built == []
    _answer(index, "a")
    _answer(index, "a", filter="rating = 5")  # built: read, filtered
    _answer(index, "alpha")  # longer than two letters: gathered
    assert built == ["a"]
    index.upsert([(str(d["id"]), d) for d in _docs(random.Random(8), 900, 5)])
    _answer(index, "a")  # a new snapshot: its own totals
    assert built == ["a", "a"]


def test_facets_counted_from_the_totals_bitset_leave_out_what_rules_hide(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Facet counts read the candidates' bitset the cached totals built (Ranking.facet_bits)
    only while it describes the facet docids: a rule that hides documents drops it."""
    monkeypatch.setattr(word_totals, "TRAILING_MIN_DOCS", 0)
    index = _index()
    hide = Curation(scales=(Scale(0.0, filter="in_stock = false"),))

    def facets() -> list[Any]:
        return [pipeline.search(index.view, dataclasses.replace(
            SearchParams.from_dict({"q": q, "facets": ["tags"], **body}), curation=curation)
        )["facetDistribution"] for q in ("a", "alpha b") for curation in (None, hide)
            for body in ({}, {"rankingScoreThreshold": 0.2})]

    with_totals = facets()
    monkeypatch.setattr(lexical, "one_word_features", lambda *_: None)
    monkeypatch.setattr(lexical, "trailing_word_features", lambda *_: None)
    assert facets() == with_totals
    assert with_totals[0] != with_totals[2]  # the rule hid documents with tags
