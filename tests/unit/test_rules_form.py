"""The dashboard's rule form: a rule as text fields and back."""

from __future__ import annotations

import pytest

from sift.ui.rules_form import body_of, fields_of, summary

RULE = {
    "uid": "promo", "description": "Summer", "precedence": 2, "active": False,
    "conditions": {"query": {"isEmpty": None, "words": "summer sale"},
                   "time": {"start": "2026-06-01T00:00:00Z", "end": None}},
    "actions": {"pin": [{"id": "4", "position": 0, "indexUid": "books"}],
                "scale": [{"weight": 0.0, "ids": None, "filter": "stock = 0", "indexUid": None},
                          {"weight": 2.5, "ids": ["a", "b"], "filter": None,
                           "indexUid": "books"}]},
}


def test_a_rule_survives_the_form_both_ways() -> None:
    fields = fields_of(RULE)
    assert fields["pins"] == "1, 4, books"
    assert fields["scales"] == "0, *, filter: stock = 0\n2.5, books, ids: a b"
    assert fields["start"] == "2026-06-01T00:00" and fields["active"] == ""
    body = body_of(fields)
    assert body["actions"]["pin"] == RULE["actions"]["pin"]
    assert body["actions"]["scale"] == [
        {"weight": 0.0, "indexUid": None, "filter": "stock = 0"},
        {"weight": 2.5, "indexUid": "books", "ids": ["a", "b"]},
    ]
    assert body["conditions"] == {"query": {"isEmpty": None, "words": "summer sale"},
                                  "time": {"start": "2026-06-01T00:00:00Z", "end": None}}
    assert (body["precedence"], body["active"], body["description"]) == (2, False, "Summer")


def test_empty_form_is_a_rule_with_no_conditions_or_actions() -> None:
    body = body_of(fields_of(None))
    assert body["conditions"] == {"query": None, "time": None}
    assert body["actions"] == {"pin": [], "scale": []} and body["active"] is True


@pytest.mark.parametrize(("field", "text", "line"), [
    ("pins", "1, a\n0, b", "Pinned documents, line 2"),
    ("pins", "x, a", "Pinned documents, line 1"),
    ("scales", "heavy, *, ids: a", "Boosts and hides, line 1"),
    ("scales", "2, *, everything", "Boosts and hides, line 1"),
])
def test_a_line_it_cannot_read_is_named(field: str, text: str, line: str) -> None:
    with pytest.raises(ValueError, match=line):
        body_of({field: text})


def test_summary_in_words() -> None:
    when, does = summary(RULE)
    assert when == "the query has the words “summer sale”; between 2026-06-01T00:00 and any " \
                   "time UTC"
    assert does == "pin 4 at 1; hide “stock = 0” (weight 0); boost ids a b (weight 2.5)"
