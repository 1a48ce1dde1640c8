"""What the dashboard shows: durations, task details, documents, settings forms, key actions."""

from __future__ import annotations

import pytest

from sift.ops.keys import ACTIONS
from sift.ui import admin_views as v


@pytest.mark.parametrize(
    ("iso", "words"),
    [
        ("PT0.001918S", "2 ms"),
        ("PT0.0001S", "< 1 ms"),
        ("PT1.44S", "1.4 s"),
        ("PT3M20.2S", "3 min 20 s"),
        ("PT1H2M3S", "1 h 2 min"),
        (None, ""),
        ("not a duration", "not a duration"),
    ],
)
def test_durations_in_words(iso: str | None, words: str) -> None:
    assert v.duration(iso) == words


def test_task_details_as_text_not_python_reprs() -> None:
    details = {"filterableAttributes": ["genre", "year"], "receivedDocuments": 34006}
    assert v.task_details({"details": details}) == [
        ("Filterable attributes", "genre, year"),
        ("Received documents", "34,006"),
    ]
    failed = {"details": details, "error": {"message": "Index `x` not found."}}
    assert v.task_details(failed) == [("Error", "Index `x` not found.")]


def test_documents_as_fields_with_json_values() -> None:
    doc = {"id": 7, "name": "Lyon", "tags": ["a", "b"], "capital": False,
           "_geo": {"lat": 45.7, "lng": 4.8}, "meta": {"long": "x" * 90}}  # fmt: skip
    view = v.document_view(doc, "id")
    assert (view.id, view.title) == ("7", "Lyon")
    fields = {name: (text, structured) for name, text, structured in view.fields}
    assert fields["tags"] == ("a, b", False)
    assert fields["capital"] == ("false", False)  # JSON, not Python's False
    assert fields["_geo"] == ('{"lat":45.7,"lng":4.8}', False)
    assert fields["meta"][1] and fields["meta"][0].startswith("{\n")


def test_a_settings_group_parses_to_a_patch_and_names_the_bad_field() -> None:
    group = v.GROUPS_BY_KEY["filters"]
    form = {"filterableAttributes": "genre\n\n year ", "sortableAttributes": "",
            "distinctAttribute": " sku ", "faceting": '{"maxValuesPerFacet": 10}'}  # fmt: skip
    patch, errors = v.parse_group(group, form)
    assert errors == {}
    assert patch == {"filterableAttributes": ["genre", "year"], "sortableAttributes": None,
                     "distinctAttribute": "sku", "faceting": {"maxValuesPerFacet": 10}}  # fmt: skip
    _, errors = v.parse_group(group, {**form, "faceting": "{nope"})
    assert list(errors) == ["faceting"]
    assert v.field_of_error(group, "invalid_settings_sortable_attributes") == "sortableAttributes"
    assert v.field_of_error(group, "invalid_settings_ranking_rules") is None


def test_actions_grouped_by_resource_with_general_ones_first() -> None:
    groups = dict(v.action_groups(list(ACTIONS)))
    assert groups["General"][:2] == ["*", "search"]
    assert groups["Documents"][0] == "documents.*"
    assert sum(len(a) for a in groups.values()) == len(ACTIONS)
