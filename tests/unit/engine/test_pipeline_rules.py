"""The pipeline's rules stage: the curation a search carries, applied between fusion and
paging, with totals, facets, score details and the ordered prefix kept right."""

from __future__ import annotations

import dataclasses
from typing import Any

from conftest import MakeIndex, ids
from sift.engine import pipeline
from sift.engine.curation import Curation, Pin, Scale
from sift.engine.query import SearchParams

DOCS = [{"id": i, "t": f"blue shirt size {i}", "n": i, "kind": "odd" if i % 2 else "even"}
        for i in range(1, 31)] + [{"id": 99, "t": "red hat", "n": 0, "kind": "hat"}]


def _search(index: Any, curation: Curation | None, **body: Any) -> dict[str, Any]:
    params = SearchParams.from_dict(body)
    return pipeline.search(index.view, dataclasses.replace(params, curation=curation))


def test_pins_count_in_totals_and_facets_and_have_no_score_details(
        make_index: MakeIndex) -> None:
    index = make_index(DOCS, filterableAttributes=["kind", "n"])
    body = {"q": "blue shirt", "limit": 3, "facets": ["kind"], "showRankingScoreDetails": True}
    plain = _search(index, None, **body)
    pinned = _search(index, Curation(pins=(Pin("99", 1),)), **body)
    assert ids(pinned) == [ids(plain)[0], 99, ids(plain)[1]]
    assert pinned["estimatedTotalHits"] == plain["estimatedTotalHits"] + 1 == 31
    assert pinned["facetDistribution"]["kind"] == {"even": 15, "hat": 1, "odd": 15}
    assert pinned["hits"][1]["_rankingScoreDetails"] == {}
    assert pinned["hits"][0]["_rankingScoreDetails"] == plain["hits"][0]["_rankingScoreDetails"]
    # A pin the filter excludes is dropped.
    filtered = _search(index, Curation(pins=(Pin("99", 0),)), q="blue shirt", filter="n > 0")
    assert 99 not in ids(filtered) and filtered["estimatedTotalHits"] == 30


def test_hides_leave_totals_and_facets_and_a_boost_reaches_past_the_page(
        make_index: MakeIndex) -> None:
    index = make_index(DOCS, filterableAttributes=["kind"])
    plain = _search(index, None, q="blue shirt", limit=2, facets=["kind"])
    last = _search(index, None, q="blue shirt", offset=29, limit=1)["hits"][0]["id"]
    hidden = _search(index, Curation(scales=(Scale(0.0, filter="kind = odd"),
                                             Scale(1000.0, ids=(str(last),)))),
                     q="blue shirt", limit=2, facets=["kind"])
    assert ids(hidden)[0] == last and ids(hidden)[0] != ids(plain)[0]
    assert all(i % 2 == 0 for i in ids(hidden))
    assert hidden["estimatedTotalHits"] == 15
    assert hidden["facetDistribution"]["kind"] == {"even": 15}


def test_a_pin_from_deep_in_the_matches_lands_on_the_first_page(
        make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    deep = _search(index, None, q="blue shirt", offset=25, limit=1)["hits"][0]["id"]
    first = _search(index, Curation(pins=(Pin(str(deep), 0),)), q="blue shirt", limit=5)
    assert ids(first)[0] == deep and len(set(ids(first))) == 5
    second = _search(index, Curation(pins=(Pin(str(deep), 0),)), q="blue shirt", offset=5,
                     limit=5)
    plain = _search(index, None, q="blue shirt", offset=4, limit=5)
    assert ids(second) == [i for i in ids(plain) if i != deep][:5]


def test_a_pin_answers_a_query_that_found_nothing(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    body = _search(index, Curation(pins=(Pin("99", 3),)), q="zzzz nothing", facets=[])
    assert ids(body) == [99] and body["estimatedTotalHits"] == 1


def test_hiding_the_first_page_by_id_brings_up_the_next_rows(make_index: MakeIndex) -> None:
    index = make_index(DOCS)
    plain = ids(_search(index, None, q="blue shirt", limit=8))
    gone = tuple(str(i) for i in plain[:3])
    hidden = _search(index, Curation(scales=(Scale(0.0, ids=gone),)), q="blue shirt", limit=5)
    assert ids(hidden) == plain[3:8]
    assert hidden["estimatedTotalHits"] == 27


def test_a_pin_from_deep_in_the_matches_keeps_its_organic_score(make_index: MakeIndex
                                                                 ) -> None:
    """A pinned document keeps the score it had where it ranked, past the page too: the
    relevance rule must not leave the proximity bonus off rows past the page
    (RankInput.page_scores_only) when search rules may pin one of them."""
    filler = " ".join(f"filler{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(200))
    docs = [{"id": i, "t": "alpha beta " * 4} for i in range(3)]
    docs += [{"id": 10 + i, "t": "alpha beta " + filler + " x" * i} for i in range(10)]
    index = make_index(docs, mode="sift")
    body = {"q": "alpha beta", "showRankingScore": True}
    organic = {h["id"]: h["_rankingScore"] for h in _search(index, None, **body)["hits"]}
    pinned = _search(index, Curation(pins=(Pin("19", 0),)), limit=2, **body)
    assert ids(pinned)[0] == 19
    assert pinned["hits"][0]["_rankingScore"] == organic[19]
