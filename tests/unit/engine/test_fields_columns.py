"""A batch's entries gathered a field at a time equal the per-document walk's.

BatchEntries.add_documents reads each top-level field across the batch (numpy for
number columns, each distinct string parsed once, arrays of strings flattened);
BatchEntries.add_walked is the reference, iter_entries one document at a time. Both
must give the same docids per flag and key, the same first spellings and the same
number rows, and a FieldStore built either way must answer alike.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sift.engine.fields import FieldStore
from sift.engine.fields.columns import BatchEntries

NAMES = ["a", "b", "tags", "a.x", "x.y", "x", "_geo", "n"]
PATTERNS = ["a", "b", "tags", "a.x", "x.y", "x.*", "t*", "n", "_geo", "*"]
TEXTS = ["x", "X", " x ", "Yé", "ye", "", "1", "1.0", " 10 ", "1e1", "-0", "1_000", "nan",
         "inf", "true", "TRUE", "false", "ab", "abc"]  # fmt: skip
NUMBERS = [0, -0.0, 1, 1.0, 2.5, -3, 10, 12, math.nan, math.inf, -math.inf, 2**64 + 1, -(10**30)]

texts = st.sampled_from(TEXTS)
numbers = st.sampled_from(NUMBERS)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["x", "y", "x.y", ""]), inner, max_size=2),
    ),
    max_leaves=5,
)
# Each field of a batch draws its values from one of these, so the batch's columns
# take the typed paths (numbers only, strings and booleans, arrays of strings) as
# well as the value-at-a-time one.
REGIMES = [
    numbers,
    texts,
    st.booleans(),
    st.one_of(texts, st.booleans()),
    st.lists(texts, max_size=4),
    st.lists(st.one_of(texts, st.booleans()), max_size=4),
    st.lists(scalars, max_size=4),
    st.one_of(scalars, st.lists(texts, max_size=3)),
    nested,
]


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[int], list[dict[str, Any]]]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    regimes = {name: draw(st.sampled_from(REGIMES)) for name in names}
    if "_geo" in regimes and draw(st.booleans()):
        regimes["_geo"] = st.fixed_dictionaries({"lat": numbers, "lng": numbers})
    docs = []
    for _ in range(draw(st.integers(0, 12))):
        present = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
        docs.append({name: draw(regimes[name]) for name in present})
    docids = draw(st.permutations(range(len(docs))))
    return [docid * 3 + 1 for docid in docids], docs


patterns = st.lists(st.sampled_from(PATTERNS), max_size=4, unique=True)

SETTINGS = settings(
    max_examples=int(os.environ.get("SIFT_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _gathered(batch: BatchEntries) -> dict[str, Any]:
    """Everything the store writes from a batch; number rows as a sorted multiset (the
    store sorts them by value before any read)."""
    numbers = {
        name: sorted(zip(values.tolist(), ids.tolist(), real.tolist(), strict=True),
                     key=lambda row: (row[0], row[1], row[2], math.copysign(1, row[0])))
        for name, (values, ids, real) in batch.numbers().items()
    }  # fmt: skip
    return {
        "flags": {key: sorted(ids) for key, ids in batch.flags.items() if ids},
        "strings": {name: dict(keys) for name, keys in batch.strings.items() if keys},
        "displays": {name: shown for name, shown in batch.displays.items() if shown},
        "numbers": {name: rows for name, rows in numbers.items() if rows},
    }


def _walk_each(batch: BatchEntries, docids: list[int], docs: list[dict]) -> None:
    for docid, doc in zip(docids, docs, strict=True):
        batch.add_walked(docid, doc)


@contextmanager
def _walked_per_document() -> Iterator[None]:
    """FieldStores built inside gather their batches with the reference walk."""
    with mock.patch.object(BatchEntries, "add_documents", _walk_each):
        yield


def _store(filterable: list[str], sortable: list[str], docids: list[int], docs: list[dict]
           ) -> FieldStore:
    store = FieldStore(filterable, sortable)
    half = len(docs) // 2
    store.add_many(list(zip(docids[:half], docs[:half], strict=True)))
    store.add_range(max(docids, default=0) + 1, docs[half:])
    # Replace two documents: a removal derives its keys from the document again.
    store.remove_many(list(zip(docids[:2], docs[:2], strict=True)))
    store.add_many(list(zip(docids[:2], reversed(docs[:2]), strict=False)))
    return store


def _state(store: FieldStore) -> dict[str, Any]:
    """Every field's bitmaps, spellings and live rows, and each sort's keys."""
    state: dict[str, Any] = {"all": list(store.universe), "fields": store.fields()}
    docids = np.array(list(store.universe), dtype=np.int64)
    for name in store.fields():
        field = store._fields[name]  # the state itself: what every answer reads
        numbers = field.numeric()
        state[name] = {
            "exists": list(field.exists), "null": list(field.null), "empty": list(field.empty),
            "strings": {key: list(ids) for key, ids in field.strings.items()},
            "display": dict(field.display),
            "key_counts": {key: field._key_counts[key_id]
                           for key, key_id in field._key_ids.items()} if field._key_counts else {},
            "sorted_strings": field.sorted_strings(),
            "string_groups": [(key, sorted(field.string_groups().ids[start:stop].tolist()))
                              for key, start, stop in zip(
                                  field.string_groups().values.tolist(),
                                  field.string_groups().offsets[:-1].tolist(),
                                  field.string_groups().offsets[1:].tolist(), strict=True)],
            "numbers": sorted(zip(numbers.ranks().tolist(), numbers.ids.tolist(), strict=True)),
            "values": numbers.values.tolist(),
            "real": sorted(field.real_numbers().ids.tolist()),
            "sort": [store.sort_keys(name, docids, descending).tolist()
                     for descending in (False, True)],
        }  # fmt: skip
    state["geo"] = store.geo_distance(docids, 10.0, 20.0).tolist()
    return state


@SETTINGS
@given(batch=batches(), filterable=patterns)
def test_columns_gather_what_the_walk_gathers(
    batch: tuple[list[int], list[dict[str, Any]]], filterable: list[str]
) -> None:
    docids, docs = batch
    wanted = FieldStore(filterable, [])._wanted
    columnar, walked = BatchEntries(wanted), BatchEntries(wanted)
    columnar.add_documents(docids, docs)
    _walk_each(walked, docids, docs)
    assert _gathered(columnar) == _gathered(walked)
    assert sorted(columnar.touched()) == sorted(walked.touched())


@SETTINGS
@given(batch=batches(), filterable=patterns, sortable=patterns)
def test_a_store_built_by_columns_equals_one_built_by_the_walk(
    batch: tuple[list[int], list[dict[str, Any]]], filterable: list[str], sortable: list[str]
) -> None:
    docids, docs = batch
    columnar = _store(filterable, sortable, docids, docs)
    with _walked_per_document():
        walked = _store(filterable, sortable, docids, docs)
    assert repr(_state(columnar)) == repr(_state(walked))  # repr: NaN equals NaN


def _views(store: FieldStore) -> dict[str, Any]:
    """Each field's string groups and the views built from them, array for array."""
    views: dict[str, Any] = {}
    for name in store.fields():
        groups = store._fields[name].string_groups()
        ptr, value_index = groups.by_doc()
        single = groups.single_values()
        views[name] = (groups.values.tolist(), groups.offsets.tolist(), groups.ids.tolist(),
                       ptr.tolist(), value_index.tolist(), ptr.dtype, value_index.dtype,
                       None if single is None else single.tolist(), groups.bits().tolist())
    return views


@SETTINGS
@given(batch=batches(), steps=st.lists(st.tuples(st.integers(1, 4), st.booleans(),
                                                   st.booleans(), st.booleans()),
                                         min_size=1, max_size=5))
def test_views_extended_batch_by_batch_equal_views_built_once(
    batch: tuple[list[int], list[dict[str, Any]]],
    steps: list[tuple[int, bool, bool, bool]],
) -> None:
    """Batches added (as new docids past the others, or not), with a replacement and
    warm views between them or not: the string groups a read extends by the batch's
    rows equal those the same writes give read only at the end."""
    _, docs = batch
    warmed, cold = FieldStore(["*"], []), FieldStore(["*"], [])
    start = 0
    for size, ascending, replace, warm in steps:
        part = docs[start:start + size]
        # Docids past every other one, or among the earlier batches' (none taken).
        first = 1000 + 10 * start if ascending else 5 * start
        start += size
        for store in (warmed, cold):
            store.add_range(first, part)
            if replace and part:
                store.remove_many([(first, part[0])])
                store.add_many([(first, part[-1])])
        if warm:
            for name in warmed.fields():
                warmed.warm(name)
    assert _views(warmed) == _views(cold)
