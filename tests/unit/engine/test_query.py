"""SearchParams parsing: defaults and the invalid_search_* code of each field."""

from __future__ import annotations

import pytest

from sift.engine.query import SearchParams
from sift.errors import SiftError


def test_defaults() -> None:
    p = SearchParams.from_dict({})
    assert (p.q, p.offset, p.limit, p.matching_strategy) == (None, 0, 20, "last")
    assert (p.highlight_pre_tag, p.highlight_post_tag, p.crop_marker) == ("<em>", "</em>", "…")
    assert not p.paginated


def test_page_mode_and_kept_vector_fields() -> None:
    p = SearchParams.from_dict({"page": 2, "hitsPerPage": 5, "hybrid": {"semanticRatio": 0.3},
                                "vector": [1, 2.5], "retrieveVectors": True})
    assert p.paginated and (p.page, p.hits_per_page) == (2, 5)
    assert p.vector == [1.0, 2.5] and p.hybrid == {"semanticRatio": 0.3}


@pytest.mark.parametrize(("body", "code"), [
    ({"q": 1}, "invalid_search_q"),
    ({"offset": -1}, "invalid_search_offset"),
    ({"limit": "10"}, "invalid_search_limit"),
    ({"page": True}, "invalid_search_page"),
    ({"hitsPerPage": 1.5}, "invalid_search_hits_per_page"),
    ({"filter": 3}, "invalid_search_filter"),
    ({"filter": [1]}, "invalid_search_filter"),
    ({"facets": "genre"}, "invalid_search_facets"),
    ({"sort": [1]}, "invalid_search_sort"),
    ({"attributesToRetrieve": "*"}, "invalid_search_attributes_to_retrieve"),
    ({"attributesToHighlight": [None]}, "invalid_search_attributes_to_highlight"),
    ({"attributesToCrop": 1}, "invalid_search_attributes_to_crop"),
    ({"cropLength": -2}, "invalid_search_crop_length"),
    ({"cropMarker": 1}, "invalid_search_crop_marker"),
    ({"highlightPreTag": 1}, "invalid_search_highlight_pre_tag"),
    ({"highlightPostTag": []}, "invalid_search_highlight_post_tag"),
    ({"showMatchesPosition": "yes"}, "invalid_search_show_matches_position"),
    ({"showRankingScore": 1}, "invalid_search_show_ranking_score"),
    ({"showRankingScoreDetails": 0}, "invalid_search_show_ranking_score_details"),
    ({"matchingStrategy": "some"}, "invalid_search_matching_strategy"),
    ({"attributesToSearchOn": "title"}, "invalid_search_attributes_to_search_on"),
    ({"rankingScoreThreshold": 1.5}, "invalid_search_ranking_score_threshold"),
    ({"distinct": 1}, "invalid_search_distinct"),
    ({"hybrid": {"semanticRatio": 2}}, "invalid_search_semantic_ratio"),
    ({"vector": ["a"]}, "invalid_search_vector"),
    ({"retrieveVectors": "no"}, "invalid_search_retrieve_vectors"),
    ({"bogus": 1}, "bad_request"),
])
def test_each_field_has_its_error_code(body: dict, code: str) -> None:
    with pytest.raises(SiftError) as err:
        SearchParams.from_dict(body)
    assert err.value.code == code


def test_an_expansion_table_grows_term_by_term_whichever_way_it_is_added() -> None:
    """QueryWord.add takes a batch of new terms in one step: the table, its first
    entries kept for repeated terms, and the highlighted words are what adding the
    terms one at a time gives."""
    import random

    import numpy as np

    from sift.engine.expand import QueryWord

    rng = random.Random(7)
    for _ in range(200):
        batch, single = QueryWord("w", 0), QueryWord("w", 0)
        for _ in range(rng.randint(1, 5)):
            ids = [rng.randrange(30) for _ in range(rng.randint(0, 12))]
            if rng.random() < 0.5:
                ids = list(dict.fromkeys(ids))  # no repeats: the one-step case
            typos = np.array([rng.randrange(3) for _ in ids], dtype=np.int8) \
                if rng.random() < 0.5 else rng.randrange(3)
            weight = np.array([rng.random() for _ in ids]) if rng.random() < 0.5 \
                else rng.random()
            exact = rng.random() < 0.5
            words = [f"t{i}" for i in ids][: rng.randint(0, len(ids))]
            batch.add(np.array(ids, dtype=np.int64) if rng.random() < 0.5 else ids,
                      typos, exact, weight, words)
            for k, tid in enumerate(ids):
                single.add([tid], int(typos[k]) if isinstance(typos, np.ndarray) else typos,
                           exact, float(weight[k]) if isinstance(weight, np.ndarray)
                           else weight, words[k:k + 1])
        assert batch.highlight_words == single.highlight_words
        assert [a.tolist() for a in batch._table()] == [a.tolist() for a in single._table()]
