"""One search through sift.engine.pipeline: the stage slots between fusion and paging,
what they are given, and the semantic leg's fallback to keyword search."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import MakeIndex, ids, search
from sift.engine import pipeline
from sift.engine.pipeline import Ranking, StageContext, rules, signal
from sift.engine.query import SearchParams
from sift.errors import SiftError
from sift.semantic.leg import VectorLeg
from sift.semantic.vectors import VectorIndex

DOCS = [{"id": i, "t": f"blue shirt size {i}", "n": i} for i in range(1, 7)]


def test_a_rules_stage_decides_the_order_of_the_page(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index = make_index(DOCS, filterableAttributes=["n"])
    plain = ids(search(index, "blue shirt"))

    def reverse(ranking: Ranking, context: StageContext) -> Ranking:
        return ranking.take(np.arange(ranking.docids.size)[::-1])

    monkeypatch.setattr(rules, "apply", reverse)
    reversed_hits = search(index, "blue shirt", showRankingScore=True)["hits"]
    assert [h["id"] for h in reversed_hits] == plain[::-1] != plain
    # Scores travel with their documents.
    assert [h["_rankingScore"] for h in reversed_hits] == sorted(
        h["_rankingScore"] for h in reversed_hits)


def test_the_stage_context_allows_only_what_the_filter_allows(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index = make_index(DOCS, filterableAttributes=["n"])
    seen: list[StageContext] = []

    def record(ranking: Ranking, context: StageContext) -> Ranking:
        seen.append(context)
        return ranking

    monkeypatch.setattr(signal, "apply", record)
    search(index, "  Blue   SHIRT ", filter="n > 4")
    context = seen[0]
    snap = context.snap
    allowed = {snap.ext_ids[d] for d in np.nonzero(context.allowed)[0].tolist()}
    assert allowed == {"5", "6"}
    assert context.allows(np.nonzero(snap.alive)[0]).sum() == 2
    assert context.query == "blue shirt"


def test_a_pinned_document_outside_the_matches_is_paged_where_it_is_put(
        make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index = make_index([*DOCS, {"id": 99, "t": "red hat", "n": 0}])
    plain = search(index, "blue shirt")

    def pin_first(ranking: Ranking, context: StageContext) -> Ranking:
        docid = context.snap.ext_ids.index("99")
        assert context.allows(np.array([docid]))[0]
        return dataclasses.replace(
            ranking,
            docids=np.concatenate([[docid], ranking.docids]).astype(np.uint32),
            scores=np.concatenate([[1.0], ranking.scores]),
            details=np.concatenate([[-1], ranking.details]),
            total=ranking.total + 1,
        )

    monkeypatch.setattr(rules, "apply", pin_first)
    pinned = search(index, "blue shirt", showRankingScoreDetails=True)
    assert ids(pinned) == [99, *ids(plain)]
    assert pinned["estimatedTotalHits"] == plain["estimatedTotalHits"] + 1
    assert pinned["hits"][0]["_rankingScoreDetails"] == {}


def _leg(index: object, query: object, ratio: float) -> VectorLeg:
    vectors = VectorIndex(2)
    vectors.upsert([(str(d["id"]), np.array([1.0, d["n"] / 10], np.float32)) for d in DOCS])
    return VectorLeg(vectors.view, "default", query, ratio)  # type: ignore[arg-type]


def test_a_query_the_embedder_cannot_embed_gets_the_keyword_search(
        make_index: MakeIndex) -> None:
    index = make_index(DOCS, sortableAttributes=["n"])
    params = SearchParams.from_dict({"q": "blue shirt", "sort": ["n:desc"], "limit": 4})

    def unreachable() -> np.ndarray:
        raise SiftError("the embedding service is down", "vector_embedding_error")

    keyword = pipeline.search(index.view, params)
    fallback = pipeline.search(index.view, params, _leg(index, unreachable, 0.5))
    assert ids(fallback) == ids(keyword) == [6, 5, 4, 3]
    assert fallback["semanticHitCount"] == 0
    assert "semanticHitCount" not in keyword


def test_a_semantic_search_counts_every_hit_as_semantic(make_index: MakeIndex) -> None:
    index = make_index(DOCS, filterableAttributes=["n"])
    params = SearchParams.from_dict({"q": "", "filter": "n < 4", "limit": 2})
    body = pipeline.search(index.view, params, _leg(index, np.array([1.0, 0.0]), 1.0))
    assert ids(body) == [1, 2]  # closest to (1, 0) among the filtered documents
    assert body["semanticHitCount"] == 2
    assert body["estimatedTotalHits"] == 3


def test_a_hybrid_search_stops_at_max_total_hits(make_index: MakeIndex) -> None:
    index = make_index(DOCS, pagination={"maxTotalHits": 2})
    params = SearchParams.from_dict({"q": "blue shirt", "limit": 5})
    body = pipeline.search(index.view, params, _leg(index, np.array([1.0, 0.0]), 0.5))
    assert len(body["hits"]) == body["estimatedTotalHits"] == 2


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The docids whose stored documents were read (DocTable.many), in order."""
    from sift.engine.doctable import DocTable

    read: list[int] = []
    many = DocTable.many

    def counting(self: DocTable, docids: list[int]) -> list[dict[str, object]]:
        read.extend(docids)
        return many(self, docids)

    monkeypatch.setattr(DocTable, "many", counting)
    return read


def test_named_attributes_of_a_page_are_kept_per_snapshot(
        make_index: MakeIndex, parsed: list[int]) -> None:
    docs = [{"id": i, "title": f"sun {'flower ' * i}", "tags": ["a", "b"]} for i in range(1, 5)]
    index = make_index(docs)
    first = search(index, "sun", attributesToRetrieve=["id", "title"])
    assert first["hits"] == [{"id": i, "title": docs[i - 1]["title"]} for i in ids(first)]
    assert len(parsed) == 4
    parsed.clear()
    first["hits"][0]["id"] = "changed"  # the caller's copy
    again = search(index, "sun", attributesToRetrieve=["id", "title"])
    assert parsed == []  # nothing parsed again
    assert again["hits"] == [{"id": i, "title": docs[i - 1]["title"]} for i in ids(again)]
    assert ids(again) == [hit["id"] for hit in search(index, "sun")["hits"]]
    # Every attribute (no list, or "*"), or a value that is not plain: read each time.
    for retrieve in (["*"], ["id", "tags"]):
        parsed.clear()
        search(index, "sun", attributesToRetrieve=retrieve)
        hits = search(index, "sun", attributesToRetrieve=retrieve)["hits"]
        assert len(parsed) == 8
        hits[0]["tags"].append("mine")
        assert search(index, "sun", attributesToRetrieve=retrieve)["hits"][0]["tags"] == [
            "a", "b"]
    # A new snapshot reads the documents as they are now.
    index.upsert([("1", {"id": 1, "title": "sun"})])
    later = search(index, "sun", attributesToRetrieve=["id", "title"])
    assert {"id": 1, "title": "sun"} in later["hits"]


def test_a_long_string_keeps_a_hit_out_of_the_page_cache(
        make_index: MakeIndex, parsed: list[int]) -> None:
    from sift.engine.pipeline import respond

    body = "sun " + "x" * respond.HIT_CACHE_MAX_CHARS  # a long text: kept out of the cache
    index = make_index([{"id": 1, "title": "sun", "body": body}, {"id": 2, "title": "sun"}])
    for _ in range(2):
        hits = search(index, "sun", attributesToRetrieve=["id", "body"])["hits"]
    assert sorted(parsed) == [0, 0, 1]  # internal docids: the long one read twice
    assert {"id": 1, "body": body} in hits


def test_kept_hits_are_those_of_the_page_s_own_projection(
        make_index: MakeIndex, parsed: list[int]) -> None:
    docs = [{"id": i, "title": f"sun {i}", "n": i * 10} for i in range(1, 4)]
    index = make_index(docs)
    # One document kept under one projection, asked for under another, then back.
    for retrieve in (["id"], ["title"], ["id", "n"], ["id"], ["title"]):
        hits = search(index, "sun", attributesToRetrieve=retrieve)["hits"]
        expected = [{k: docs[i - 1][k] for k in retrieve}
                    for i in ids(search(index, "sun", attributesToRetrieve=["id"]))]
        assert hits == expected


def test_a_full_hit_cache_is_emptied_and_filled_again(
        make_index: MakeIndex, parsed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    from sift.engine.pipeline import respond

    monkeypatch.setattr(respond, "HIT_CACHE_SIZE", 3)
    docs = [{"id": i, "title": f"sun {i}"} for i in range(1, 6)]
    index = make_index(docs)
    retrieve = ["id", "title"]
    first = search(index, "sun", attributesToRetrieve=retrieve, limit=2)["hits"]
    assert len(parsed) == 2
    parsed.clear()
    assert search(index, "sun", attributesToRetrieve=retrieve, limit=2)["hits"] == first
    assert parsed == []  # kept
    full = search(index, "sun", attributesToRetrieve=retrieve, limit=5)["hits"]
    assert sorted(full, key=lambda hit: hit["id"]) == docs
    assert len(parsed) == 3  # the three not kept
    assert len(index.view.snapshot.cached("hits", dict)) == 3  # emptied, then those three
