"""Which rules match a search: words, empty query, time window, index, precedence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sift.errors import SiftError
from sift.rules import RuleSet, parse_patch
from sift.rules.model import merged

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def rule(uid: str, **fields: Any) -> dict[str, Any]:
    return merged(uid, None, parse_patch(fields), "2026-12-05T00:00:00Z")


def pin(doc: str, position: int = 0, index: str | None = None) -> dict[str, Any]:
    return {"pin": [{"id": doc, "position": position, "indexUid": index}]}


def uids(rules: RuleSet, q: str | None, index: str = "books", now: datetime = NOW) -> list[str]:
    return [r.uid for r in rules.matching(index, q, now)]


def test_every_word_must_be_in_the_query_case_and_accents_aside() -> None:
    rules = RuleSet([rule("r", conditions={"query": {"words": "Café Crème"}}, actions=pin("1"))])
    assert uids(rules, "creme for the CAFE?") == ["r"]
    assert uids(rules, "cafe") == [] and uids(rules, "cafeteria creme") == []


def test_empty_and_not_empty_queries() -> None:
    rules = RuleSet([
        rule("empty", conditions={"query": {"isEmpty": True}}, actions=pin("1")),
        rule("typed", conditions={"query": {"isEmpty": False}}, actions=pin("2")),
        rule("any", actions=pin("3")),
    ])
    assert uids(rules, None) == uids(rules, "  ") == ["any", "empty"]
    assert uids(rules, "x") == ["any", "typed"]


def test_time_window_bounds_are_included_and_open_ends_allowed() -> None:
    rules = RuleSet([
        rule("window", conditions={"time": {"start": "2026-12-05T12:00:00Z",
                                            "end": "2026-12-05T13:00:00+01:00"}},
             actions=pin("1")),
        rule("until", conditions={"time": {"end": "2026-12-05T11:59:59Z"}}, actions=pin("2")),
    ])
    assert uids(rules, "q") == ["window"]  # 13:00+01:00 is 12:00 UTC: the end, included
    assert uids(rules, "q", now=datetime(2026, 12, 5, 11, 0, tzinfo=UTC)) == ["until"]


def test_precedence_then_uid_and_rules_without_one_last() -> None:
    rules = RuleSet([rule("c", actions=pin("1")), rule("b", precedence=5, actions=pin("1")),
                     rule("a", precedence=5, actions=pin("1")),
                     rule("z", precedence=0, actions=pin("1"))])
    assert uids(rules, "q") == ["z", "a", "b", "c"]


def test_only_active_rules_whose_actions_reach_the_index() -> None:
    rules = RuleSet([rule("off", active=False, actions=pin("1")),
                     rule("movies", actions=pin("1", index="movies")),
                     rule("both", actions={"pin": [{"id": "1", "position": 0,
                                                    "indexUid": "movies"}],
                                           "scale": [{"weight": 2, "ids": ["1"]}]})])
    assert uids(rules, "q") == ["both"]
    assert uids(rules, "q", index="movies") == ["both", "movies"]
    curation = rules.curation("books", "q", NOW)
    assert curation.pins == () and [s.weight for s in curation.scales] == [2.0]


def test_merged_keeps_what_a_patch_does_not_name_and_null_resets() -> None:
    first = rule("r", description="d", precedence=3, actions=pin("1"))
    later = merged("r", first, parse_patch({"precedence": None, "active": None}), "t")
    assert later["description"] == "d" and later["precedence"] is None
    assert later["active"] is True and later["actions"] == first["actions"]


def test_a_filter_is_checked_for_syntax_only() -> None:
    parse_patch({"actions": {"scale": [{"weight": 1.5, "filter": "anything = 1"}]}})
    with pytest.raises(SiftError) as error:
        parse_patch({"actions": {"scale": [{"weight": 1.5, "filter": "anything ="}]}})
    assert error.value.code == "invalid_dynamic_search_rule_actions"
