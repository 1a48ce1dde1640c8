"""The filter parser: every operator, precedence, quoting, array form and error messages."""

from __future__ import annotations

import pytest

from sift.engine.filters import ensure_filterable, filter_attributes, parse_filter
from sift.engine.filters.tree import (
    And,
    Between,
    Compare,
    Contains,
    Equals,
    Exists,
    GeoBoundingBox,
    GeoRadius,
    In,
    IsEmpty,
    IsNull,
    MatchAll,
    Not,
    Or,
    StartsWith,
)
from sift.errors import SiftError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("genre = horror", Equals("genre", "horror")),
        ("genre != horror", Not(Equals("genre", "horror"))),
        ("year > 2000", Compare("year", ">", "2000")),
        ("year >= 2000", Compare("year", ">=", "2000")),
        ("year < 2000", Compare("year", "<", "2000")),
        ("year <= 2000", Compare("year", "<=", "2000")),
        ("year>=2000", Compare("year", ">=", "2000")),
        ("year 1990 TO 2000", Between("year", "1990", "2000")),
        ("year -5.5 to 1e3", Between("year", "-5.5", "1e3")),
        ("genre IN [horror, 'sci fi', \"drama\"]", In("genre", ("horror", "sci fi", "drama"))),
        ("genre IN[]", In("genre", ())),
        ("genre IN [a,]", In("genre", ("a",))),
        ("genre NOT IN [a, b]", Not(In("genre", ("a", "b")))),
        ("genre EXISTS", Exists("genre")),
        ("genre NOT EXISTS", Not(Exists("genre"))),
        ("genre IS NULL", IsNull("genre")),
        ("genre IS NOT NULL", Not(IsNull("genre"))),
        ("genre IS EMPTY", IsEmpty("genre")),
        ("genre IS NOT EMPTY", Not(IsEmpty("genre"))),
        ("title CONTAINS ring", Contains("title", "ring")),
        ("title NOT CONTAINS ring", Not(Contains("title", "ring"))),
        ("title STARTS WITH lord", StartsWith("title", "lord")),
        ("title NOT STARTS WITH lord", Not(StartsWith("title", "lord"))),
        ("a.b.c = 1", Equals("a.b.c", "1")),
        ("_geoRadius(45.47, 9.18, 2000)", GeoRadius(45.47, 9.18, 2000.0)),
        ("_geoRadius( -1 , 2.5 , 10 )", GeoRadius(-1.0, 2.5, 10.0)),
        (
            "_geoBoundingBox([45.49, 9.21], [45.44, 9.17])",
            GeoBoundingBox(45.49, 9.21, 45.44, 9.17),
        ),
    ],
)
def test_each_operator_parses(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("g in [a]", "g IN [a]"),
        ("g Not Exists", "g NOT EXISTS"),
        ("g is not null", "g IS NOT NULL"),
        ("g is empty", "g IS EMPTY"),
        ("y 1 to 2", "y 1 TO 2"),
        ("not g = 1 and g = 2 or g = 3", "NOT g = 1 AND g = 2 OR g = 3"),
        ("g starts with x", "g STARTS WITH x"),
    ],
)
def test_keywords_are_case_insensitive(lower: str, upper: str) -> None:
    assert parse_filter(lower) == parse_filter(upper)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    a, b, c = Equals("a", "1"), Equals("b", "2"), Equals("c", "3")
    assert parse_filter("a = 1 OR b = 2 AND c = 3") == Or((a, And((b, c))))
    assert parse_filter("a = 1 AND b = 2 OR c = 3") == Or((And((a, b)), c))
    assert parse_filter("NOT a = 1 AND b = 2") == And((Not(a), b))
    assert parse_filter("NOT NOT a = 1") == Not(Not(a))


def test_parentheses_override_precedence() -> None:
    a, b, c = Equals("a", "1"), Equals("b", "2"), Equals("c", "3")
    assert parse_filter("(a = 1 OR b = 2) AND c = 3") == And((Or((a, b)), c))
    assert parse_filter("NOT (a = 1 OR b = 2)") == Not(Or((a, b)))
    assert parse_filter("((a = 1))") == a


def test_quoted_values_and_attributes_with_escapes() -> None:
    assert parse_filter("director = 'Jordan Peele'") == Equals("director", "Jordan Peele")
    assert parse_filter('director = "Tim Burton"') == Equals("director", "Tim Burton")
    assert parse_filter(r"t = 'it\'s'") == Equals("t", "it's")
    assert parse_filter(r't = "say \"hi\""') == Equals("t", 'say "hi"')
    assert parse_filter(r"t = 'a\\b'") == Equals("t", "a\\b")
    assert parse_filter(r"t = 'C:\path'") == Equals("t", r"C:\path")
    assert parse_filter("'my field' = 'AND'") == Equals("my field", "AND")
    assert parse_filter("t = '(x = 1)'") == Equals("t", "(x = 1)")


def test_empty_filters_match_everything() -> None:
    assert parse_filter("") == MatchAll()
    assert parse_filter("   ") == MatchAll()
    assert parse_filter([]) == MatchAll()


def test_array_form_is_and_of_ors() -> None:
    a, b, c = Equals("a", "1"), Equals("b", "2"), Equals("c", "3")
    assert parse_filter(["a = 1", ["b = 2", "c = 3"]]) == And((a, Or((b, c))))
    assert parse_filter([["a = 1"]]) == a
    assert parse_filter(["a = 1 OR b = 2", "c = 3"]) == And((Or((a, b)), c))


@pytest.mark.parametrize("bad", [[1], [["a = 1", 2]], [[["a = 1"]]], 42])
def test_array_form_rejects_non_strings(bad: object) -> None:
    with pytest.raises(SiftError) as info:
        parse_filter(bad)  # type: ignore[arg-type]
    assert info.value.code == "invalid_search_filter"
    assert info.value.message.startswith("Invalid syntax for the filter parameter")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "title 'x'",
            "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, "
            "`EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, "
            "`CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, or "
            "`_geoBoundingBox` at `title 'x'`.\n1:10 title 'x'",
        ),
        (
            "title = Glass XYZ",
            "Found unexpected characters at the end of the filter: `XYZ`. You probably forgot "
            "an `OR` or an `AND` rule.\n15:18 title = Glass XYZ",
        ),
        ("title =", "Was expecting a value but instead got nothing.\n8:8 title ="),
        ("x = )", "Was expecting a value but instead got `)`.\n5:6 x = )"),
        (
            "title = 'Glass",
            "Expression `'Glass` is missing the following closing delimiter: `'`."
            "\n9:15 title = 'Glass",
        ),
        (
            "(a = 1",
            "Expression `(a = 1` is missing the following closing delimiter: `)`.\n1:7 (a = 1",
        ),
        ("x IN a", "Expected `[` after `IN` keyword.\n6:7 x IN a"),
        (
            "x IN [a",
            "Expected matching `]` after the list of field names given to `IN[`\n6:8 x IN [a",
        ),
        (
            "x IN [a b]",
            "Expected only comma-separated field names inside `IN[..]` but instead found "
            "`b]`.\n9:11 x IN [a b]",
        ),
        (
            "_geo = 1",
            "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use "
            "the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, "
            "longitude], [latitude, longitude])` built-in rules to filter on `_geo` "
            "coordinates.\n1:5 _geo = 1",
        ),
        (
            "_geoRadius(1, 2)",
            "The `_geoRadius` filter expects three arguments: "
            "`_geoRadius(latitude, longitude, radius)`.\n1:17 _geoRadius(1, 2)",
        ),
        (
            "_geoRadius(91, 2, 3)",
            "Bad latitude `91`. Latitude must be contained between -90 and 90 degrees."
            "\n1:21 _geoRadius(91, 2, 3)",
        ),
        (
            "_geoRadius(1, 181, 3)",
            "Bad longitude `181`. Longitude must be contained between -180 and 180 degrees."
            "\n1:22 _geoRadius(1, 181, 3)",
        ),
        (
            "_geoBoundingBox([1, 2])",
            "The `_geoBoundingBox` filter expects two pairs of arguments: "
            "`_geoBoundingBox([latitude, longitude], [latitude, longitude])`."
            "\n1:24 _geoBoundingBox([1, 2])",
        ),
    ],
)
def test_errors_name_the_problem_and_point_at_it(text: str, message: str) -> None:
    with pytest.raises(SiftError) as info:
        parse_filter(text)
    assert info.value.message == message
    assert info.value.code == "invalid_search_filter"


@pytest.mark.parametrize(
    "text",
    ["a = 1 AND", "NOT", "a IS foo", "a NOT b", "a STARTS b", "= 1", "a = 1 OR OR b = 2", "a 1 TO"],
)
def test_malformed_filters_are_rejected(text: str) -> None:
    with pytest.raises(SiftError) as info:
        parse_filter(text)
    assert info.value.code == "invalid_search_filter"
    # The context line repeats the whole filter after the span.
    assert info.value.message.endswith(" " + text)


def test_error_code_can_be_recoded_for_document_routes() -> None:
    with pytest.raises(SiftError) as info:
        parse_filter("a ==", error_code="invalid_document_filter")
    assert info.value.code == "invalid_document_filter"
    with pytest.raises(SiftError) as info:
        parse_filter([3], error_code="invalid_document_filter")
    assert info.value.code == "invalid_document_filter"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(SiftError) as info:
        parse_filter("(" * 500 + "a = 1" + ")" * 500)
    assert "maximum depth" in info.value.message


def test_filter_attributes_lists_every_attribute_read() -> None:
    node = parse_filter(
        ["a = 1 AND NOT b.c IN [x]", ["d EXISTS", "_geoRadius(1, 2, 3)"], "e 1 TO 2"]
    )
    assert filter_attributes(node) == {"a", "b.c", "d", "_geo", "e"}
    assert filter_attributes(parse_filter("")) == set()


def test_ensure_filterable_names_the_attribute_and_points_at_it() -> None:
    node = parse_filter("genres = a AND title = Glass")
    with pytest.raises(SiftError) as info:
        ensure_filterable(node, ["id", "genres"])
    assert info.value.message == (
        "Attribute `title` is not filterable. Available filterable attributes are: "
        "`genres, id`.\n16:21 genres = a AND title = Glass"
    )
    assert info.value.code == "invalid_search_filter"


def test_ensure_filterable_accepts_nested_and_pattern_attributes() -> None:
    ensure_filterable(parse_filter("meta.color = red AND attr_x > 1"), ["meta", "attr_*"])
    with pytest.raises(SiftError) as info:
        ensure_filterable(parse_filter("_geoRadius(1, 2, 3)"), [], "invalid_document_filter")
    assert info.value.message == (
        "Attribute `_geo` is not filterable. This index does not have configured filterable "
        "attributes.\n1:20 _geoRadius(1, 2, 3)"
    )
    assert info.value.code == "invalid_document_filter"


def test_positions_do_not_affect_equality() -> None:
    assert parse_filter("  a = 1") == parse_filter("a = 1")


def test_a_large_cached_filter_mask_is_read_only_in_a_mapping_of_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A search's filter mask outlives it in the snapshot's cache: a large one is kept out
    of malloc's arenas (an anonymous mapping), whose top the next searches' temporaries
    need; a small one stays with malloc."""
    import mmap

    import numpy as np

    from conftest import build_index
    from sift.engine import select

    index = build_index([{"id": i, "n": i} for i in range(10)], filterableAttributes=["n"])
    view = index.view
    small = select.filter_mask(view, view.snapshot, "n > 5")
    monkeypatch.setattr(select, "OWN_MAPPING_BYTES", 10)
    mask = select.filter_mask(view, view.snapshot, "n > 6")
    assert isinstance(mask.base.obj, mmap.mmap) and not mask.flags.writeable  # a memoryview
    assert mask.dtype == np.bool_ and mask.size == view.snapshot.alive.size
    assert np.flatnonzero(mask).tolist() == [7, 8, 9]
    assert select.filter_mask(view, view.snapshot, "n > 6") is mask  # cached per snapshot
    assert small.base is None and np.flatnonzero(small).tolist() == [6, 7, 8, 9]
