"""FieldStore behaviour on hand-picked documents: Meilisearch's documented examples."""

from __future__ import annotations

import numpy as np
import pytest
from pyroaring import BitMap

from sift.engine.fields import FieldStore
from sift.engine.filters import parse_filter


def select(store: FieldStore, expr: str | list) -> list[int]:
    return sorted(store.evaluate(parse_filter(expr)))


@pytest.fixture
def tags() -> FieldStore:
    # The ten documents of Meilisearch's IS NULL / IS EMPTY specification.
    store = FieldStore(["tags"], [])
    docs = [
        {"tags": None},
        {"tags": [None]},
        {"tags": []},
        {"tags": ["hello", "world"]},
        {"tags": [""]},
        {},
        {"tags": {}},
        {"tags": {"t1": "v1"}},
        {"tags": {"t1": ""}},
        {"tags": ""},
    ]
    store.add_many([(i + 1, doc) for i, doc in enumerate(docs)])
    return store


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("tags IS EMPTY", [3, 7, 10]),
        ("tags IS NOT EMPTY", [1, 2, 4, 5, 6, 8, 9]),
        ("tags IS NULL", [1]),
        ("tags IS NOT NULL", [2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("tags EXISTS", [1, 2, 3, 4, 5, 7, 8, 9, 10]),
        ("tags NOT EXISTS", [6]),
        ("tags EXISTS AND tags IS NOT NULL AND tags IS NOT EMPTY", [2, 4, 5, 8, 9]),
    ],
)
def test_null_empty_and_exists_follow_the_specification(
    tags: FieldStore, expr: str, expected: list[int]
) -> None:
    assert select(tags, expr) == expected


def test_nested_objects_dotted_keys_and_arrays_of_objects_are_the_same_field() -> None:
    store = FieldStore(["a"], [])
    store.add_many([(1, {"a": {"b": 1}}), (2, {"a.b": 1}), (3, {"a": [{"b": 1}]}), (4, {"a": 1})])
    assert select(store, "a.b = 1") == [1, 2, 3]
    assert select(store, "a = 1") == [4]


def test_equality_is_case_insensitive_numeric_and_array_aware() -> None:
    store = FieldStore(["genre", "year", "flag"], [])
    store.add_many(
        [
            (1, {"genre": "Horror", "year": 1999, "flag": True}),
            (2, {"genre": ["comedy", "HORROR"], "year": "1999.0"}),
            (3, {"genre": "Comédie", "year": 2005.5, "flag": False}),
        ]
    )
    assert select(store, "genre = horror") == [1, 2]
    assert select(store, "genre = comedie") == []  # accents are not folded by filters
    assert select(store, "year = 1999") == [1, 2]
    assert select(store, "year = '1999.00'") == [1, 2]
    assert select(store, "year > 2000") == [3]
    assert select(store, "flag = true") == [1]
    assert select(store, "flag = FALSE") == [3]
    assert select(store, "genre != horror") == [3]
    assert select(store, ["genre = horror", ["year < 1990", "flag = true"]]) == [1]


def test_an_array_matches_when_any_element_does() -> None:
    # Meilisearch's example: each element is compared on its own.
    store = FieldStore(["size", "colour"], [])
    store.add_many(
        [(0, {"size": [0, "small"], "colour": "blue"}), (1, {"size": 1}), (2, {"size": [2, 20]})]
    )
    assert select(store, "size = 0 OR size = 1") == [0, 1]
    assert select(store, "size = 0 AND (size = 2 OR colour = blue)") == [0]
    assert select(store, "size > 5 AND size < 5") == [2]
    assert select(store, "size = small") == [0]


def test_strings_compare_lexicographically_when_the_bound_is_not_a_number() -> None:
    store = FieldStore(["date"], [])
    store.add_many([(1, {"date": "2024-01-05"}), (2, {"date": "2023-12-31"}), (3, {"date": 5})])
    assert select(store, "date > 2024-01-01") == [1]
    assert select(store, "date 2023-01-01 TO 2023-12-31") == [2]
    assert select(store, "date STARTS WITH 2024") == [1]
    assert select(store, "date CONTAINS '-12-'") == [2]


def test_not_uses_the_universe_and_unknown_fields_match_nothing() -> None:
    store = FieldStore(["a"], [])
    store.add_many([(1, {"a": 1}), (2, {})])
    assert select(store, "missing = 1") == []
    assert select(store, "NOT missing = 1") == [1, 2]
    assert select(store, "") == [1, 2]


def test_replacing_and_removing_documents_updates_every_structure() -> None:
    store = FieldStore(["a"], ["a"])
    store.add_many([(1, {"a": "Old"}), (2, {"a": 5})])
    with pytest.raises(ValueError):
        store.add(1, {"a": "new"})  # a docid is replaced by removing it first
    store.remove(1, {"a": "Old"})
    store.add(1, {"a": "new"})
    assert select(store, "a = old") == []
    assert select(store, "a = new") == [1]
    store.remove_many([(2, {"a": 5})])
    assert select(store, "a > 1") == []
    assert select(store, "NOT a EXISTS") == []
    store.clear()
    assert select(store, "") == []


def test_facet_distribution_keeps_the_first_seen_spelling_and_sorts() -> None:
    store = FieldStore(["genre", "price"], [])
    store.add_many(
        [
            (1, {"genre": "Sci-Fi", "price": 10}),
            (2, {"genre": "sci-fi", "price": 2.5}),
            (3, {"genre": ["Drama", "sci-fi"], "price": 10.0}),
        ]
    )
    everything = BitMap([1, 2, 3])
    alpha = store.facet_distribution(everything, ["genre", "price"], 10, {})
    assert alpha == {"genre": {"Drama": 1, "Sci-Fi": 3}, "price": {"2.5": 1, "10": 2}}
    assert list(alpha["price"]) == ["2.5", "10"]  # numbers in numeric order
    by_count = store.facet_distribution(everything, ["*"], 1, {"*": "count"})
    assert by_count == {"genre": {"Sci-Fi": 3}, "price": {"10": 2}}
    mixed = store.facet_distribution(BitMap([2]), ["genre"], 10, {"genre": "count", "*": "alpha"})
    assert mixed == {"genre": {"Sci-Fi": 1}}


def test_facet_stats_cover_numeric_values_of_the_candidates_only() -> None:
    store = FieldStore(["price", "genre"], [])
    store.add_many([(1, {"price": 3, "genre": "a"}), (2, {"price": [7, "12"]}), (3, {"price": 1})])
    assert store.facet_stats(BitMap([1, 2]), ["price", "genre"]) == {
        "price": {"min": 3.0, "max": 12.0}
    }
    assert store.facet_stats(BitMap(), ["price"]) == {}


def test_facet_search_folds_case_and_accents_and_tolerates_typos() -> None:
    store = FieldStore(["genre"], [])
    store.add_many(
        [
            (1, {"genre": "Comédie"}),
            (2, {"genre": ["Comedy", "Horror"]}),
            (3, {"genre": "Science Fiction"}),
            (4, {"genre": "comedy"}),
        ]
    )
    everything = BitMap([1, 2, 3, 4])

    def search(query: str | None, **kwargs: object) -> list[dict]:
        return store.facet_search("genre", query, everything, 10, **kwargs)  # type: ignore[arg-type]

    # Alphabetical by the lowercased value's bytes, so "é" sorts after "y".
    assert search("come") == [{"value": "Comedy", "count": 2}, {"value": "Comédie", "count": 1}]
    assert search("COMÉ", sort_by="count")[0] == {"value": "Comedy", "count": 2}
    assert search("fict") == [{"value": "Science Fiction", "count": 1}]
    assert search("horor") == [{"value": "Horror", "count": 1}]
    assert search("xyz") == []
    assert len(search(None)) == 4
    assert store.facet_search("genre", "come", BitMap([4]), 10) == [{"value": "Comedy", "count": 1}]


def test_sort_keys_put_numbers_first_and_missing_last_in_both_directions() -> None:
    store = FieldStore([], ["price"])
    store.add_many(
        [
            (0, {"price": "b"}),
            (1, {"price": 5}),
            (2, {}),
            (3, {"price": [1, 9]}),
            (4, {"price": "A"}),
        ]
    )
    docids = np.array([0, 1, 2, 3, 4, 99])
    ascending = docids[np.lexsort([store.sort_keys("price", docids)])].tolist()
    descending = docids[np.lexsort([store.sort_keys("price", docids, descending=True)])].tolist()
    assert ascending == [3, 1, 4, 0, 2, 99]
    assert descending == [3, 1, 0, 4, 2, 99]


def test_geo_filters_and_distances() -> None:
    store = FieldStore(["_geo"], ["_geo"])
    store.add_many(
        [
            (1, {"_geo": {"lat": 45.4777599, "lng": 9.1967508}}),  # Milan
            (2, {"_geo": {"lat": "45.4632046", "lng": "9.1719421"}}),  # Milan, as strings
            (3, {"_geo": {"lat": 48.8566, "lng": 2.3522}}),  # Paris
            (4, {"_geo": {"lat": 10.0, "lng": 179.9}}),
            (5, {"name": "nowhere"}),
        ]
    )
    assert select(store, "_geoRadius(45.472735, 9.184019, 2000)") == [1, 2]
    assert select(store, "_geoBoundingBox([45.494181, 9.214024], [45.449484, 9.179175])") == [1]
    # A box whose right edge is west of its left edge wraps around the antimeridian.
    assert select(store, "_geoBoundingBox([11, -179], [9, 179])") == [4]
    assert select(store, "NOT _geoRadius(45.472735, 9.184019, 2000)") == [3, 4, 5]
    distances = store.geo_distance(np.array([1, 3, 5]), 48.8566, 2.3522)
    assert 600_000 < distances[0] < 700_000
    assert distances[1] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(distances[2])


def test_wildcard_and_nested_filterable_attributes() -> None:
    store = FieldStore(["meta", "attr_*"], [])
    store.add_many([(1, {"meta": {"color": "red"}, "attr_size": 3, "other": 1})])
    assert select(store, "meta.color = red") == [1]
    assert select(store, "attr_size = 3") == [1]
    assert select(store, "other = 1") == []  # not filterable, so not indexed
    assert set(store.facet_distribution(BitMap([1]), ["*"], 10, {})) == {
        "meta",
        "meta.color",
        "attr_size",
    }


def test_facet_counts_for_a_few_candidates_among_many_rows() -> None:
    """Few candidates against a large field take the candidates-side count path."""
    from collections import Counter

    from pyroaring import BitMap

    from sift.engine.fields import FieldStore

    docs = [{"tags": [f"t{i % 7}", f"t{i % 3}"], "n": [i % 5, 10 + i % 2], "one": i % 9}
            for i in range(400)]
    docs[50].pop("one")
    store = FieldStore(["tags", "n", "one"], [])
    store.add_many(list(enumerate(docs)))
    candidates = BitMap([3, 50, 51, 399])
    got = store.facet_distribution(candidates, ["tags", "n", "one"], 100, {"*": "alpha"})
    one = Counter(str(docs[d]["one"]) for d in sorted(candidates) if "one" in docs[d])
    assert got["one"] == dict(sorted(one.items(), key=lambda kv: float(kv[0])))
    tags = Counter(t for d in sorted(candidates) for t in set(docs[d]["tags"]))
    numbers = Counter(str(n) for d in sorted(candidates) for n in set(docs[d]["n"]))
    assert got["tags"] == dict(sorted(tags.items()))
    assert got["n"] == dict(sorted(numbers.items(), key=lambda kv: float(kv[0])))


def test_rows_of_a_field_nobody_reads_stay_bounded_under_sustained_writes() -> None:
    from sift.engine.fields.groups import _Rows

    rows = _Rows(np.int64)
    live: dict[int, int] = {}
    for batch in range(300):  # one chunk per batch, as the task worker writes them
        first = batch * 10
        rows.append(list(range(first, first + 10)), list(range(first, first + 10)), [False] * 10)
        live.update((d, d) for d in range(first, first + 10))
        if batch:  # replace documents written earlier: their docids die
            gone = BitMap(range(first - 10, first - 5))
            rows.delete(gone)
            for docid in gone:
                live.pop(docid)
    assert len(rows._chunks) <= 16  # one per batch before
    # Each chunk remembers only its own dead docids, never every later deletion.
    assert sum(len(chunk[3]) for chunk in rows._chunks) <= sum(c[1].size for c in rows._chunks)
    values, ids, _ = rows.compact(sort=True)
    assert sorted(ids.tolist()) == sorted(live) and values.tolist() == sorted(live.values())


def test_a_compacted_chunk_knows_exactly_the_docids_it_kept() -> None:
    from sift.engine.fields.groups import _Rows

    rows = _Rows(np.float64)
    rows.append([1.0, 2.0, 3.0], [0, 0, 1], [True] * 3)  # docid 0 has two values
    rows.append([4.0, 5.0], [2, 3], [True] * 2)
    rows.delete(BitMap([1, 3]))
    rows.append([6.0], [1], [True])  # a docid written again after its deletion
    values, ids, _ = rows.compact(sort=True)
    assert values.tolist() == [1.0, 2.0, 4.0, 6.0] and ids.tolist() == [0, 0, 2, 1]
    (_, _, _, dead, members), = rows._chunks
    assert members == BitMap([0, 1, 2]) and not dead
    rows.delete(BitMap([0]))  # deletions after the compaction find the rows
    assert rows.compact(sort=True)[1].tolist() == [2, 1]


def _views(store: FieldStore, name: str) -> list[object]:
    """Every derived view of a field a filter or a facet count reads, as built now."""
    field = store._fields[name]
    views: list[object] = [field._numeric, field._real, field._string_groups, field._merged]
    for groups in (field._real, field._string_groups):
        if groups is not None:
            views += [groups._single, groups._bits, groups._by_doc]
    return views


def test_warming_builds_every_view_filters_and_facet_counts_read() -> None:
    """After FieldStore.warm, filters and facet counts over few and many candidates build
    nothing (each view read is the one warm built) and answer as a cold store does."""
    docs = [{"tags": [f"t{i % 7}", f"t{i % 3}"], "n": [i % 5, 10 + i % 2], "one": i % 9,
             "brand": f"B{i % 4}", "stock": i % 2 == 0, "rank": i}
            for i in range(400)]
    docs[50].pop("one")
    names = ["tags", "n", "one", "brand", "stock"]
    cold, warm = FieldStore(names, ["rank"]), FieldStore(names, ["rank"])
    for store in (cold, warm):
        store.add_many(list(enumerate(docs)))
    for name in [*names, "rank", "absent"]:
        warm.warm(name)
    built = {name: _views(warm, name) for name in names}
    for name in names:
        field = warm._fields[name]
        # Single-valued fields got their value codes, multi-valued ones both layouts.
        for groups in (field._real, field._string_groups):
            assert groups is not None
            if len(groups.values):
                assert groups._single is not None
                if not groups._single.size:
                    assert groups._bits is not None and groups._by_doc is not None
    assert warm._fields["rank"]._numeric is None  # only sortable: nothing to warm
    filters = ["n < 3", "one >= 4", 'brand = "B1"', "stock = true", "tags = t2",
               "brand > B1", "one 2 TO 6"]
    few, many = BitMap([3, 50, 51, 399]), BitMap(range(0, 400, 2))
    for store in (cold, warm):
        store.answers = [select(store, f) for f in filters] + [  # type: ignore[attr-defined]
            store.facet_distribution(c, names, 100, {"*": "count"}) for c in (few, many)]
    assert warm.answers == cold.answers  # type: ignore[attr-defined]
    for name in names:
        assert all(a is b for a, b in zip(_views(warm, name), built[name], strict=True)), name


def test_single_values_tell_a_docid_listed_twice() -> None:
    from sift.engine.fields.groups import Groups

    values, offsets = np.array([1.0, 2.0]), np.array([0, 2, 4])
    single = Groups(values, offsets, np.array([0, 3, 1, 2], dtype=np.uint32))
    codes = single.single_values()
    assert codes is not None and codes.tolist() == [0, 1, 1, 0]
    assert Groups(values, offsets, np.array([0, 3, 3, 2], dtype=np.uint32)).single_values() is None
    empty = Groups(values[:0], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint32))
    assert empty.single_values() is not None


def test_a_slice_of_groups_is_the_bitmap_of_its_docids_sparse_or_dense() -> None:
    """Groups.slice sorts a few docids and sets many as bits (kernels.roaring_portable):
    either way the BitMap of the docids of the values sliced."""
    from sift.engine.fields.groups import SORT_SPAN, Groups

    rng = np.random.default_rng(7)
    n = 200_000
    values = np.round(rng.uniform(1, 500, n), 2)
    order = np.argsort(values, kind="stable")
    groups = Groups.from_sorted(values[order], order.astype(np.uint32))
    span = groups.n_words() * 64
    for low, high in ((1, 250), (100, 100.5), (499.99, 500), (1, 500)):
        start, stop = np.searchsorted(groups.values, [low, high])
        expected = BitMap(np.flatnonzero((values >= low) & (values < high)).tolist())
        sliced = groups.slice(int(start), int(stop))
        assert sliced == expected, (low, high)
        assert (len(expected) * SORT_SPAN >= span) == (high - low > 1), (low, high)
