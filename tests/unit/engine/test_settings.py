"""Settings defaults, validation codes and messages, PATCH semantics."""

from __future__ import annotations

import pytest

from sift.engine.settings import apply_patch, default_settings, validate_settings
from sift.errors import SiftError


def test_meilisearch_defaults_match_meilisearch() -> None:
    s = default_settings("meilisearch")
    assert s["rankingRules"] == [
        "words", "typo", "proximity", "attributeRank", "sort", "wordPosition", "exactness"
    ]
    assert s["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert s["pagination"] == {"maxTotalHits": 1000}
    assert s["faceting"] == {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}}
    assert s["searchableAttributes"] == ["*"] and s["distinctAttribute"] is None
    assert s["foreignKeys"] == [] and s["facetSearch"] is True
    assert s["chat"]["documentTemplateMaxBytes"] == 400 and s["chat"]["searchParameters"] == {}


def test_sort_facet_values_by_is_replaced_and_keeps_the_wildcard() -> None:
    s = default_settings("meilisearch")
    s = apply_patch(s, {"faceting": {"sortFacetValuesBy": {"genre": "count"}}}, "meilisearch")
    assert s["faceting"]["sortFacetValuesBy"] == {"*": "alpha", "genre": "count"}
    s = apply_patch(s, {"faceting": {"sortFacetValuesBy": {"*": "count"}}}, "meilisearch")
    assert s["faceting"]["sortFacetValuesBy"] == {"*": "count"}


def test_foreign_keys_and_chat_validate_and_merge() -> None:
    keys = [{"foreignIndexUid": "actors", "fieldName": "actors"}]
    s = apply_patch({}, {"foreignKeys": keys}, "meilisearch")
    assert s["foreignKeys"] == keys
    assert _code({"foreignKeys": [{"fieldName": "a"}]}) == "invalid_settings_foreign_keys"
    assert _code({"chat": {"documentTemplateMaxBytes": -1}}) == "invalid_settings_chat"
    # A partial patch of an index stored before `chat` existed keeps the other defaults.
    s = apply_patch({}, {"chat": {"description": "Movies"}}, "meilisearch")
    assert s["chat"]["description"] == "Movies" and s["chat"]["documentTemplateMaxBytes"] == 400


def test_sift_defaults_use_the_relevance_rule_and_validate() -> None:
    s = default_settings("sift")
    assert "relevance" in s["rankingRules"]
    validate_settings({"rankingRules": s["rankingRules"]})


def test_defaults_are_fresh_copies() -> None:
    default_settings("sift")["stopWords"].append("x")
    assert default_settings("sift")["stopWords"] == []


def _code(patch: object) -> str:
    with pytest.raises(SiftError) as err:
        validate_settings(patch)
    return err.value.code


@pytest.mark.parametrize(("patch", "code"), [
    ({"rankingRules": ["words", "bogus"]}, "invalid_settings_ranking_rules"),
    ({"rankingRules": "words"}, "invalid_settings_ranking_rules"),
    ({"searchableAttributes": [1]}, "invalid_settings_searchable_attributes"),
    ({"stopWords": "the"}, "invalid_settings_stop_words"),
    ({"synonyms": {"a": "b"}}, "invalid_settings_synonyms"),
    ({"distinctAttribute": 3}, "invalid_settings_distinct_attribute"),
    ({"typoTolerance": {"enabled": "yes"}}, "invalid_settings_typo_tolerance"),
    ({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 6, "twoTypos": 4}}},
     "invalid_settings_typo_tolerance"),
    ({"typoTolerance": {"nope": 1}}, "invalid_settings_typo_tolerance"),
    ({"pagination": {"maxTotalHits": -1}}, "invalid_settings_pagination"),
    ({"faceting": {"sortFacetValuesBy": {"*": "random"}}}, "invalid_settings_faceting"),
    ({"proximityPrecision": "byChar"}, "invalid_settings_proximity_precision"),
    ({"searchCutoffMs": "fast"}, "invalid_settings_search_cutoff_ms"),
    ({"prefixSearch": "always"}, "invalid_settings_prefix_search"),
    ({"facetSearch": 1}, "invalid_settings_facet_search"),
    ({"unknownThing": 1}, "bad_request"),
])
def test_invalid_settings_have_meilisearch_codes(patch: dict, code: str) -> None:
    assert _code(patch) == code


def test_messages_read_like_meilisearch() -> None:
    with pytest.raises(SiftError) as err:
        validate_settings({"rankingRules": ["words", "bogus"]})
    assert "`bogus` ranking rule is invalid" in err.value.message
    with pytest.raises(SiftError) as err:
        validate_settings({"nope": 1})
    assert err.value.message.startswith("Unknown field `nope`: expected one of")


def test_custom_rules_and_relevance_are_valid() -> None:
    rules = ["relevance", "price:asc", "rating:desc", "attributeRank", "wordPosition"]
    assert validate_settings({"rankingRules": rules})["rankingRules"] == rules


def test_null_resets_and_nested_objects_merge() -> None:
    current = apply_patch(default_settings("meilisearch"), {
        "stopWords": ["the"], "typoTolerance": {"minWordSizeForTypos": {"oneTypo": 4}}},
        "meilisearch")
    assert current["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 4, "twoTypos": 9}
    assert current["typoTolerance"]["enabled"] is True
    reset = apply_patch(current, {"stopWords": None, "typoTolerance": None}, "meilisearch")
    assert reset["stopWords"] == []
    assert reset["typoTolerance"] == default_settings("meilisearch")["typoTolerance"]


def test_patch_keeps_untouched_settings_and_replaces_lists() -> None:
    current = apply_patch(default_settings("sift"), {"filterableAttributes": ["a", "b"]})
    patched = apply_patch(current, {"filterableAttributes": ["c"]})
    assert patched["filterableAttributes"] == ["c"]
    assert patched["rankingRules"] == default_settings("sift")["rankingRules"]


def test_patch_rejects_merged_typo_sizes_out_of_order() -> None:
    current = apply_patch(default_settings("sift"),
                          {"typoTolerance": {"minWordSizeForTypos": {"twoTypos": 6}}})
    with pytest.raises(SiftError):
        apply_patch(current, {"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 7}}})
