from __future__ import annotations

import pytest

from sift.errors import SiftError
from sift.semantic.template import DocumentTemplate


def test_fields_and_nested_paths() -> None:
    t = DocumentTemplate("{{doc.title}} by {{ doc.author.name }}")
    assert t.render({"title": "Dune", "author": {"name": "Herbert"}}) == "Dune by Herbert"


def test_missing_field_renders_empty_and_default_filter() -> None:
    t = DocumentTemplate("[{{doc.x}}] {{ doc.y | default: 'none' }}")
    assert t.render({}) == "[] none"


def test_if_else_and_comparison() -> None:
    t = DocumentTemplate('{% if doc.kind == "book" %}B{% else %}O{% endif %}')
    assert t.render({"kind": "book"}) == "B" and t.render({"kind": "cd"}) == "O"


def test_default_template_lists_searchable_fields_without_vectors() -> None:
    t = DocumentTemplate()
    text = t.render(
        {"title": "Dune", "secret": "x", "_vectors": {"a": [1]}, "n": None},
        lambda name: name != "secret",
    )
    assert text == "title: Dune\n"


def test_max_bytes_cuts_at_a_character_boundary() -> None:
    t = DocumentTemplate("{{doc.t}}", max_bytes=5)
    assert t.render({"t": "ééé"}) == "éé"


def test_truncatewords() -> None:
    assert DocumentTemplate("{{doc.t | truncatewords: 2}}").render({"t": "a b c"}) == "a b"


@pytest.mark.parametrize(
    "source",
    [
        "{% include 'x' %}",
        "{{ doc.__class__() }}",
        "{% for x in doc.items %}{% endfor %}",
        "{% if doc.a %}",
    ],
)
def test_unsafe_or_unknown_constructs_are_rejected(source: str) -> None:
    with pytest.raises(SiftError) as info:
        DocumentTemplate(source)
    assert info.value.code == "invalid_settings_embedders"
