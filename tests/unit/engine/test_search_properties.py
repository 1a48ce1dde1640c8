"""Property-based checks: any documents, any query — search stays well-formed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_index, search
from sift.engine.tiebreak import tie_keys

WORDS = ["apple", "apples", "banana", "cherry", "café", "東京", "naïve", "run", "running",
         "12", "x", "sunflower", "sun", "flower", "🚀"]
texts = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)
docs_strategy = st.lists(st.fixed_dictionaries({"title": texts, "body": texts}), max_size=12)
queries = st.lists(st.sampled_from([*WORDS, "appel", "bananna", "ap", "c"]), max_size=4).map(
    " ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=docs_strategy, q=queries, mode=st.sampled_from(["meilisearch", "sift"]),
       strategy=st.sampled_from(["last", "all", "frequency"]))
def test_search_is_well_formed(docs: list[dict], q: str, mode: str, strategy: str) -> None:
    index = build_index([{"id": i, **d} for i, d in enumerate(docs)], mode=mode)
    full = search(index, q, limit=100, matchingStrategy=strategy, showRankingScore=True,
                  attributesToHighlight=["*"], attributesToCrop=["body:3"],
                  showMatchesPosition=True)
    hit_ids = [h["id"] for h in full["hits"]]
    assert len(set(hit_ids)) == len(hit_ids)
    assert set(hit_ids) <= set(range(len(docs)))
    scores = [h["_rankingScore"] for h in full["hits"]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert full["estimatedTotalHits"] == len(hit_ids)
    if not q.strip():  # every document ties: by tie key
        keys = tie_keys([str(i) for i in range(len(docs))]).tolist()
        assert hit_ids == sorted(range(len(docs)), key=keys.__getitem__)
    for h in full["hits"]:
        for positions in h["_matchesPosition"].values():
            for p in positions:
                assert p["start"] >= 0 and p["length"] > 0
    page = search(index, q, offset=2, limit=3, matchingStrategy=strategy)
    assert [h["id"] for h in page["hits"]] == hit_ids[2:5]
    pages = search(index, q, page=2, hitsPerPage=2, matchingStrategy=strategy)
    assert [h["id"] for h in pages["hits"]] == hit_ids[2:4]
    assert pages["totalHits"] == len(hit_ids)
